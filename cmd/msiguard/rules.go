package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/msiguard/msiguard/rules"
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
	macros := rules.DefaultMacros()
	if *macrosFile != "" {
		m, err := rules.LoadMacros(*macrosFile)
		if err != nil {
			return err
		}
		macros = macros.With(m)
	}
	var rs []*rules.Rule
	for _, path := range fs.Args() {
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		if st.IsDir() {
			d, err := rules.LoadDir(path)
			if err != nil {
				return err
			}
			rs = append(rs, d...)
			continue
		}
		r, err := rules.LoadFile(path)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	if len(rs) == 0 {
		rs = []*rules.Rule{rules.Default()}
	}
	compiled, err := rules.CompileAll(rs, macros)
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
