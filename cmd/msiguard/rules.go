package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

const rulesUsage = `Usage: msiguard rules explain [--macros FILE] [FILE|DIR ...]
       msiguard rules check   [--macros FILE] [FILE|DIR ...]

explain compiles each rule file (a directory: its *.yml and *.yaml files, except
macros.yml) and prints what the compiled rule does: its prefilter tokens, event
constraints, raw-text terms, field filters, output fields and grouping. With no
file it explains the built-in seed rule. check only compiles, printing one line
per rule, and fails with every problem's file:line:column.

--macros FILE adds macros to the built-in get_endpoint_data and
get_endpoint_data_sysmon (a YAML mapping name: {definition: SPL}).

Examples:
  msiguard rules explain rules/24143.44553.yml
  msiguard rules check --macros my-macros.yml rules/
`

// rulesCommand is `msiguard rules explain|check`.
func rulesCommand(_ context.Context, args []string, stdout, _ io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: msiguard rules needs explain or check (see msiguard rules --help)", errUsage)
	}
	sub := args[0]
	if sub == "-h" || sub == "--help" || sub == "help" {
		fmt.Fprint(stdout, rulesUsage)
		return nil
	}
	if sub != "explain" && sub != "check" {
		return fmt.Errorf("%w: unknown rules command %q: use explain or check", errUsage, sub)
	}
	fs := flag.NewFlagSet("msiguard rules "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	macrosFile := fs.String("macros", "", "a macros file to add to the built-in macros")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, rulesUsage)
			return nil
		}
		return fmt.Errorf("%w: %v (see msiguard rules --help)", errUsage, err)
	}
	compiled, err := (&ruleFlags{rulePaths: fs.Args(), macrosFile: *macrosFile}).compile()
	if err != nil {
		return err
	}
	for i, c := range compiled {
		if sub == "check" {
			fmt.Fprintf(stdout, "ok %s %s (%s)\n", c.Rule.ID, c.Rule.File, c.Rule.Title)
			continue
		}
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := c.Explain(stdout); err != nil {
			return err
		}
	}
	return nil
}
