package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/metrics"
	"github.com/msiguard/msiguard/sink"
	"github.com/msiguard/msiguard/stream"
)

const runExamples = `Examples:

  # Plaintext brokers, the default topic names:
  msiguard run --brokers kafka1:9092,kafka2:9092 --topic sysmon \
      --group msiguard --alerts-topic msiguard.alerts --dlq-topic msiguard.dlq

  # The same from the environment (a flag given on the command line wins):
  MSIGUARD_BROKERS=kafka1:9092 MSIGUARD_TOPIC=sysmon msiguard run

  # TLS with a private CA and SCRAM credentials, the password in a file:
  msiguard run --brokers kafka.example.com:9093 --topic sysmon \
      --tls --tls-ca /etc/msiguard/ca.pem \
      --sasl-mechanism scram-sha-512 --sasl-username msiguard \
      --sasl-password-file /run/secrets/kafka-password

  # Only Winlogbeat records on the topic, JSON logs for a collector:
  msiguard run --brokers kafka1:9092 --topic winlogbeat --shape winlogbeat --log-format json

Topics: --topic, --alerts-topic (compacted: cleanup.policy=compact) and --dlq-topic
must exist. --matches-topic (default <alerts-topic>.matches) is created at startup
with the input topic's partition count; do not add partitions to it while msiguard runs.

Every flag has an environment variable: MSIGUARD_ and the flag name in upper case
with '-' as '_' (--idle-timeout is MSIGUARD_IDLE_TIMEOUT). A flag given on the
command line overrides its variable. Prefer --sasl-password-file or
MSIGUARD_SASL_PASSWORD to --sasl-password, which other users can see in ps.

SIGTERM or SIGINT drains: windows are flushed, alerts and matches acknowledged,
offsets committed, the group left; then msiguard exits 0 (1 if the drain did not
finish within --shutdown-timeout: nothing is lost, uncommitted records are read
again on restart).
`

// runFlags holds the values of msiguard run's flags.
type runFlags struct {
	brokers, topic, group, alerts, dlq, matches, shape                  string
	grace, idle, retain, lookback, commit, shutdown, session, heartbeat time.Duration
	rebalance                                                           time.Duration
	tls, tlsInsecure                                                    bool
	tlsCA, tlsCert, tlsKey, tlsServerName                               string
	saslMechanism, saslUser, saslPassword, saslPasswordFile             string
	logLevel, logFormat                                                 string
	metricsAddr                                                         string
}

func newRunFlagSet(f *runFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("msiguard run", flag.ContinueOnError)
	fs.StringVar(&f.brokers, "brokers", "", "Kafka bootstrap brokers, host:port[,host:port...] (required)")
	fs.StringVar(&f.topic, "topic", "", "input topic of raw Sysmon records (required)")
	fs.StringVar(&f.group, "group", "msiguard", "consumer group id; every instance of one deployment uses the same")
	fs.StringVar(&f.alerts, "alerts-topic", "msiguard.alerts", "alerts topic (should be compacted), keyed by alert_id")
	fs.StringVar(&f.dlq, "dlq-topic", "msiguard.dlq", "dead-letter topic for records that cannot be evaluated or grouped")
	fs.StringVar(&f.matches, "matches-topic", "", "internal topic of matches keyed by host (default <alerts-topic>.matches)")
	fs.StringVar(&f.shape, "shape", "auto", "record shape: auto, "+runShapeNames())
	fs.DurationVar(&f.grace, "grace", 0, "how far a host's event time must pass a second before its alert is emitted (default 2s)")
	fs.DurationVar(&f.idle, "idle-timeout", 0, "emit a bucket that received nothing for this long, by the wall clock (default 5s)")
	fs.DurationVar(&f.retain, "retain", 0, "how long an emitted alert stays revisable by late events (default 10m)")
	fs.DurationVar(&f.lookback, "restore-lookback", 0, "how far back to read published alerts at startup and after rebalances (default 1h; must exceed --retain)")
	fs.DurationVar(&f.commit, "commit-interval", 0, "how often offsets are committed (default 1s)")
	fs.DurationVar(&f.shutdown, "shutdown-timeout", 0, "bound on the drain after SIGTERM/SIGINT (default 30s)")
	fs.DurationVar(&f.session, "session-timeout", 0, "consumer group session timeout: a crashed instance's partitions move after it (default 10s)")
	fs.DurationVar(&f.heartbeat, "heartbeat-interval", 0, "consumer group heartbeat interval (default 1s)")
	fs.DurationVar(&f.rebalance, "rebalance-timeout", 0, "consumer group rebalance timeout; the drain on revocation takes at most half (default 30s)")
	fs.BoolVar(&f.tls, "tls", false, "connect to the brokers with TLS (implied by the other --tls-* flags)")
	fs.StringVar(&f.tlsCA, "tls-ca", "", "PEM file of CA certificates to trust (default: the system's)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM client certificate, for brokers that require one (with --tls-key)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&f.tlsServerName, "tls-server-name", "", "name to verify in the broker certificates (default: the host in --brokers)")
	fs.BoolVar(&f.tlsInsecure, "tls-insecure-skip-verify", false, "do not verify the broker certificates (testing only)")
	fs.StringVar(&f.saslMechanism, "sasl-mechanism", "", "SASL mechanism: plain, scram-sha-256 or scram-sha-512 (default: no SASL)")
	fs.StringVar(&f.saslUser, "sasl-username", "", "SASL username")
	fs.StringVar(&f.saslPassword, "sasl-password", "", "SASL password (visible in ps: prefer --sasl-password-file or MSIGUARD_SASL_PASSWORD)")
	fs.StringVar(&f.saslPasswordFile, "sasl-password-file", "", "file holding the SASL password (a trailing newline is ignored)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.metricsAddr, "metrics-addr", metrics.DefaultAddr, "serve /metrics (Prometheus), /healthz and /readyz on this host:port ('' to disable; 0.0.0.0:9108 in a container)")
	return fs
}

func runShapeNames() string {
	var names []string
	for _, s := range detector.Shapes() {
		names = append(names, s.String())
	}
	return strings.Join(names, ", ")
}

// envVar returns the environment variable of a flag.
func envVar(flagName string) string {
	return "MSIGUARD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseRunFlags parses args, then fills every flag not given on the command
// line from its environment variable.
func parseRunFlags(args []string, lookupEnv func(string) (string, bool), stdout io.Writer) (*runFlags, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	f := &runFlags{}
	fs := newRunFlagSet(f)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			runUsage(stdout, fs)
			return nil, flag.ErrHelp
		}
		return nil, fmt.Errorf("%w: %v (see msiguard run --help)", errUsage, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q (flags start with --; see msiguard run --help)", errUsage, fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	var err error
	fs.VisitAll(func(fl *flag.Flag) {
		if err != nil || given[fl.Name] {
			return
		}
		name := envVar(fl.Name)
		v, ok := lookupEnv(name)
		if !ok {
			return
		}
		if e := fs.Set(fl.Name, v); e != nil {
			shown := v
			if strings.Contains(fl.Name, "password") {
				shown = "(masked)"
			}
			err = fmt.Errorf("%w: %s=%s is not a valid value for --%s: %v", errUsage, name, shown, fl.Name, e)
		}
	})
	return f, err
}

func runUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "Usage: msiguard run --brokers HOST:PORT[,...] --topic TOPIC [flags]")
	fmt.Fprintln(w, "\nConsumes raw Sysmon records through a consumer group, runs the rule on each,")
	fmt.Fprintln(w, "and publishes one alert per (host, second) to the alerts topic; records that")
	fmt.Fprintln(w, "cannot be evaluated go to the dead-letter topic. Flags:")
	var lines []string
	fs.VisitAll(func(fl *flag.Flag) {
		def := ""
		if fl.DefValue != "" && fl.DefValue != "0s" && fl.DefValue != "false" {
			def = fmt.Sprintf(" (default %q)", fl.DefValue)
		}
		lines = append(lines, fmt.Sprintf("  --%s  [%s]\n      %s%s", fl.Name, envVar(fl.Name), fl.Usage, def))
	})
	sort.Strings(lines)
	fmt.Fprintln(w, strings.Join(lines, "\n"))
	fmt.Fprintln(w)
	fmt.Fprint(w, runExamples)
}

// runCommand is msiguard run.
func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseRunFlags(args, nil, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	log.Info("msiguard run", "build", readBuildInfo())
	cfg, err := f.config(log)
	if err != nil {
		return err
	}
	p, err := stream.New(cfg)
	if err != nil {
		if errors.Is(err, stream.ErrConfig) {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		return err
	}
	stopMetrics, err := serveMetrics(ctx, f.metricsAddr, p, log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	err = p.Run(ctx) // logs the effective configuration, secrets masked
	st := p.Stats()
	log.Info("msiguard run stopped", "records", st.RecordsConsumed, "matches", st.Matches, "alerts", st.Alerts,
		"revisions", st.Revisions, "alerts_published", st.AlertsPublished, "dead_letters", st.DeadLetters)
	return err
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("%w: --log-level %q: use debug, info, warn or error", errUsage, level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("%w: --log-format %q: use text or json", errUsage, format)
}

// config turns the flags into a stream.Config, reading the files they name.
func (f *runFlags) config(log *slog.Logger) (stream.Config, error) {
	shape, err := detector.ParseShape(f.shape)
	if err != nil {
		return stream.Config{}, fmt.Errorf("%w: --shape: %v", errUsage, err)
	}
	var brokers []string
	for _, b := range strings.Split(f.brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			brokers = append(brokers, b)
		}
	}
	cfg := stream.Config{
		Cluster: sink.Cluster{
			Brokers: brokers,
			SASL:    sink.SASL{Mechanism: strings.ToLower(f.saslMechanism), Username: f.saslUser},
		},
		Topic: f.topic, Group: f.group, AlertsTopic: f.alerts, DLQTopic: f.dlq, MatchesTopic: f.matches,
		Shape: shape,
		Grace: f.grace, IdleTimeout: f.idle, Retain: f.retain, RestoreLookback: f.lookback,
		CommitInterval: f.commit, ShutdownTimeout: f.shutdown,
		SessionTimeout: f.session, HeartbeatInterval: f.heartbeat, RebalanceTimeout: f.rebalance,
		Logger: log,
	}
	switch {
	case f.saslPasswordFile != "":
		b, err := os.ReadFile(f.saslPasswordFile)
		if err != nil {
			return cfg, fmt.Errorf("%w: --sasl-password-file: %v", errUsage, err)
		}
		cfg.Cluster.SASL.Password = strings.TrimRight(string(b), "\r\n")
		if f.saslPassword != "" {
			return cfg, fmt.Errorf("%w: give the SASL password once: --sasl-password-file or --sasl-password (MSIGUARD_SASL_PASSWORD)", errUsage)
		}
	case f.saslPassword != "":
		cfg.Cluster.SASL.Password = f.saslPassword
	}
	if f.tls || f.tlsCA != "" || f.tlsCert != "" || f.tlsKey != "" || f.tlsInsecure || f.tlsServerName != "" {
		tc, err := f.tlsConfig()
		if err != nil {
			return cfg, err
		}
		cfg.Cluster.TLS = tc
		if f.tlsInsecure {
			log.Warn("TLS certificate verification is disabled (--tls-insecure-skip-verify): use it for testing only")
		}
	} else if cfg.Cluster.SASL.Mechanism != "" {
		log.Warn("SASL without TLS: credentials and records cross the network in clear text; add --tls")
	}
	return cfg, nil
}

func (f *runFlags) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.tlsServerName, InsecureSkipVerify: f.tlsInsecure}
	if f.tlsCA != "" {
		pem, err := os.ReadFile(f.tlsCA)
		if err != nil {
			return nil, fmt.Errorf("%w: --tls-ca: %v", errUsage, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: --tls-ca %s holds no PEM certificate", errUsage, f.tlsCA)
		}
		tc.RootCAs = pool
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return nil, fmt.Errorf("%w: --tls-cert and --tls-key go together", errUsage)
	}
	if f.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("%w: --tls-cert/--tls-key: %v", errUsage, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
