package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/msiguard/msiguard/internal/devbroker"
)

// defaultDevTopics are the topics msiguard run uses by default, so that
// `msiguard run --brokers 127.0.0.1:9092 --topic sysmon` works at once.
const defaultDevTopics = "sysmon:6,msiguard.alerts:3:compact,msiguard.dlq:1"

const devBrokerExamples = `Examples:

  # A broker with msiguard's default topics, then the generator and msiguard:
  msiguard dev-broker
  msiguard gen --brokers 127.0.0.1:9092 --topic sysmon --rate 2000      # another terminal
  msiguard run --brokers 127.0.0.1:9092 --topic sysmon                  # a third one

  # Reachable from containers or other machines (advertise a name they resolve):
  msiguard dev-broker --listen 0.0.0.0:9092 --advertise myhost.example:9092

For development only: the broker is franz-go's kfake, in this process. It keeps
records in memory (each topic partition bounded by --retention-bytes), loses
everything on exit, has one node, no replication and no authentication. Use
Apache Kafka (docker-compose.yml) for anything else.
`

var devBrokerHelp = cmdHelp{
	name: "dev-broker",
	// See cmdHelp.scoped: another command has a flag of the same name
	// that means something else.
	scoped: []string{"partitions"},
	intro: `Usage: msiguard dev-broker [--listen HOST:PORT] [--topics NAME[:PARTITIONS][:compact],...]

Runs an in-process Kafka broker (franz-go's kfake) with msiguard's topics, for
trying msiguard and other Kafka clients without Docker or Java. Development only. Flags:`,
	examples: devBrokerExamples,
}

// devBrokerFlags holds the values of msiguard dev-broker's flags.
type devBrokerFlags struct {
	listen, advertise, topics string
	partitions                int
	retention, logLevel       string
	logRequests               bool
}

func newDevBrokerFlagSet(f *devBrokerFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("msiguard dev-broker", flag.ContinueOnError)
	fs.StringVar(&f.listen, "listen", devbroker.DefaultListen, "address to listen on, `host:port` (port 0: a free port)")
	fs.StringVar(&f.advertise, "advertise", "", "`host:port` clients are told to connect to (default: the --listen address, 127.0.0.1 for 0.0.0.0)")
	fs.StringVar(&f.topics, "topics", defaultDevTopics, "topics to create, comma-separated `NAME[:PARTITIONS][:compact]`")
	fs.IntVar(&f.partitions, "partitions", devbroker.DefaultPartitions, "partitions of topics given without a count and of topics clients create")
	fs.StringVar(&f.retention, "retention-bytes", "256MiB", "bound on each partition of --topics (oldest records dropped), e.g. 64MiB; 0 for none")
	fs.StringVar(&f.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	fs.BoolVar(&f.logRequests, "log-requests", false, "log every Kafka request the broker serves, at debug level (implies --log-level debug)")
	return fs
}

// parseDevBrokerFlags parses args, then fills every flag not given on the
// command line from its environment variable.
func parseDevBrokerFlags(args []string, lookupEnv func(string) (string, bool), stdout io.Writer) (*devBrokerFlags, error) {
	f := &devBrokerFlags{}
	if _, _, err := parseFlags(newDevBrokerFlagSet(f), &devBrokerHelp, args, lookupEnv, stdout); err != nil {
		return nil, err
	}
	return f, nil
}

// devBrokerCommand is msiguard dev-broker.
func devBrokerCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseDevBrokerFlags(args, nil, stdout)
	if err != nil {
		return err
	}
	tl, err := devbroker.ParseTopics(f.topics)
	if err != nil {
		return fmt.Errorf("%w: --topics: %w", errUsage, err)
	}
	var retBytes int64 = -1
	if r := strings.TrimSpace(f.retention); r != "0" && r != "" {
		if retBytes, err = parseSize(r); err != nil {
			return fmt.Errorf("%w: --retention-bytes: %w", errUsage, err)
		}
	}
	level := f.logLevel
	if f.logRequests {
		level = "debug"
	}
	log, err := newLogger(stderr, level, "text")
	if err != nil {
		return err
	}
	b, err := devbroker.Start(devbroker.Config{
		Listen: f.listen, Advertise: f.advertise, Topics: tl, Partitions: f.partitions,
		RetentionBytes: retBytes, Logger: log, LogRequests: f.logRequests,
	})
	if err != nil {
		if errors.Is(err, devbroker.ErrConfig) {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		return err
	}
	defer b.Close()

	fmt.Fprintf(stdout, "dev-broker: Kafka protocol on %s (in-process kfake; FOR DEVELOPMENT ONLY: in memory, lost on exit)\n", b.Addr())
	if host, _, _ := net.SplitHostPort(f.listen); !isLoopback(host) {
		fmt.Fprintf(stdout, "dev-broker: WARNING: listening on %s without authentication: anyone who can reach it can read and write every topic\n", f.listen)
	}
	var names []string
	for _, t := range tl {
		names = append(names, t.String())
	}
	fmt.Fprintf(stdout, "dev-broker: topics %s (others are created on first use with %d partitions)\n", strings.Join(names, ", "), f.partitions)
	fmt.Fprintf(stdout, "dev-broker: try  msiguard gen --brokers %s --topic sysmon --rate 2000\n", b.Addr())
	fmt.Fprintf(stdout, "dev-broker:      msiguard run --brokers %s --topic sysmon\n", b.Addr())
	fmt.Fprintln(stdout, "dev-broker: Ctrl-C stops it")
	if f, ok := stdout.(*os.File); ok {
		f.Sync()
	}
	<-ctx.Done()
	fmt.Fprintln(stdout, "dev-broker: stopped")
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
