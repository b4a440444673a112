// Command msiguard runs the Suspicious Parent Process for msiexec.exe rule
// over Kafka. Subcommands live in their own files; each is one line in the
// commands table below.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand: its name, a one-line summary for the usage
// text, and the function that runs it with the arguments after its name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists the subcommands, in the order the usage text shows them.
var commands = []command{
	{"run", "consume Sysmon events from a consumer group and publish alerts", runCommand},
	{"demo", "run everything in one process: broker, generator, pipeline; print alerts as they come", demoCommand},
	{"backtest", "replay Sysmon events from files or a topic range and write the alerts", backtestCommand},
	{"rules", "check rule files and explain what each compiled rule does", rulesCommand},
	{"gen", "generate realistic Sysmon records to a file or a topic (tests, demos, load)", genCommand},
	{"dev-broker", "run an in-process Kafka broker for development (no Docker, no Java)", devBrokerCommand},
	{"healthcheck", "ask a running msiguard whether it is ready (/readyz); exit 0 or 1, for containers", healthcheckCommand},
	{"version", "print the version, VCS revision, Go and Kafka library versions", versionCommand},
}

// errUsage marks errors caused by the command line; main exits 2 for them.
var errUsage = errors.New("usage error")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err == nil {
		return
	}
	var logged *loggedError
	if !errors.As(err, &logged) {
		fmt.Fprintln(os.Stderr, "msiguard:", operatorMessage(err))
	}
	os.Exit(exitStatus(err))
}

// run dispatches to the subcommand named by args[0].
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) >= 1 && (args[0] == "--version" || args[0] == "-version"):
		args = append([]string{"version"}, args[1:]...)
	case len(args) == 2 && args[0] == "help" && args[1] != "help":
		args = []string{args[1], "--help"} // msiguard help run
	case len(args) > 2 && args[0] == "help":
		usage(stderr)
		return fmt.Errorf("%w: msiguard help takes one command name", errUsage)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return fmt.Errorf("%w: no command given", errUsage)
		}
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], stdout, stderr)
			if errors.Is(err, flag.ErrHelp) {
				return nil // the command printed its help
			}
			return err
		}
	}
	usage(stderr)
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "msiguard runs the Suspicious Parent Process for msiexec.exe rule (T1218.007) over Kafka.")
	fmt.Fprintln(w, "\nUsage: msiguard <command> [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'msiguard help <command>' or 'msiguard <command> --help' for a command's flags")
	fmt.Fprintln(w, "and examples, 'msiguard --version' for the version.")
}
