package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/metrics"
	"github.com/msiguard/msiguard/rules"
	"github.com/msiguard/msiguard/stream"
	"github.com/msiguard/msiguard/window"
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

  # The rules of a directory (catalog YAML files) instead of the seed rule, reloaded on SIGHUP:
  msiguard run --brokers kafka1:9092 --topic sysmon --rules /etc/msiguard/rules

  # Only Winlogbeat records on the topic, JSON logs for a collector:
  msiguard run --brokers kafka1:9092 --topic winlogbeat --shape winlogbeat --log-format json

Topics: --topic, --alerts-topic (compacted: cleanup.policy=compact) and --dlq-topic
must exist. --matches-topic (default <alerts-topic>.matches) is created at startup
with the input topic's partition count; do not add partitions to it while msiguard runs.

Prefer --sasl-password-file or MSIGUARD_SASL_PASSWORD to --sasl-password, which
other users can see in ps.

SIGTERM or SIGINT drains: windows are flushed, alerts and matches acknowledged,
offsets committed, the group left; then msiguard exits 0 (1 if the drain did not
finish within --shutdown-timeout: nothing is lost, uncommitted records are read
again on restart).

SIGHUP reloads the rules (--rule, --rules, --macros read again); with
--rules-poll, so does a change in what those files compile to. A rule that
does not load or compile is logged with its file, line and column and the
running rules stay (msiguard_rule_reload_failures_total; still ready). A
changed rule set is switched to as on a restart: drain, rejoin, restore; alerts
carry their rule's version in the msiguard-rule-version header.
`

// maxSourcesUsage is --max-sources' help in run, backtest and demo.
const maxSourcesUsage = "list at most this many sources (input positions) in an alert; the rest are counted in sources_omitted"

// runFlags holds the values of msiguard run's flags.
type runFlags struct {
	connFlags
	topic, group, alerts, dlq, matches, shape                           string
	grace, idle, retain, lookback, commit, shutdown, session, heartbeat time.Duration
	rebalance                                                           time.Duration
	retainBuckets, maxSources                                           int
	capFlags
	ruleFlags
	logFlags
	metricsAddr string
	ruleTopics  ruleTopics
	// lookbackSet: --restore-lookback was given (flag or environment);
	// otherwise the pipeline's default, which grows with --retain, applies.
	lookbackSet bool
	rulesPoll   time.Duration
}

var runHelp = cmdHelp{
	name: "run",
	intro: `Usage: msiguard run --brokers HOST:PORT[,...] --topic TOPIC [flags]

Consumes raw Sysmon records through a consumer group, runs the rule on each,
and publishes one alert per (host, second) to the alerts topic; records that
cannot be evaluated go to the dead-letter topic. Flags:`,
	examples: runExamples,
}

func newRunFlagSet(f *runFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("msiguard run", flag.ContinueOnError)
	f.connFlags.register(fs)
	fs.StringVar(&f.topic, "topic", "", "input topic of raw Sysmon records (required)")
	fs.StringVar(&f.group, "group", "msiguard", "consumer group id; every instance of one deployment uses the same")
	fs.StringVar(&f.alerts, "alerts-topic", "msiguard.alerts", "alerts topic (should be compacted), keyed by alert_id")
	fs.StringVar(&f.dlq, "dlq-topic", "msiguard.dlq", "dead-letter topic for records that cannot be evaluated or grouped")
	fs.Var(&f.ruleTopics, "rule-alerts-topic", "`RULE_ID=TOPIC`: send that rule's alerts to TOPIC instead of --alerts-topic (repeatable; comma-separated in the environment); the topic must exist, compacted like --alerts-topic")
	fs.StringVar(&f.matches, "matches-topic", "", "internal topic of matches keyed by host (default <alerts-topic>.matches)")
	fs.StringVar(&f.shape, "shape", "auto", "record shape: auto, "+shapeNames(", "))
	fs.DurationVar(&f.grace, "grace", window.DefaultGrace, "emit a host's alert once that host's own events are this far past its second (rarely what happens first: a host seldom matches twice within seconds, see --idle-timeout)")
	fs.DurationVar(&f.idle, "idle-timeout", window.DefaultIdleTimeout, "emit a bucket that received nothing for this long, by the wall clock: in practice what sets alert latency (median about this plus half a second)")
	fs.DurationVar(&f.retain, "retain", window.DefaultRetain, "how long an emitted alert stays revisable by late events, at least")
	fs.IntVar(&f.retainBuckets, "retain-buckets", window.DefaultRetainBuckets, "at most this many emitted alerts stay revisable per matches partition, about 1.7 KB each: the memory cap (beyond it the oldest are forgotten early and a later event for one becomes a late alert)")
	fs.IntVar(&f.maxSources, "max-sources", window.DefaultMaxSources, maxSourcesUsage)
	f.capFlags.register(fs)
	f.ruleFlags.register(fs)
	fs.DurationVar(&f.rulesPoll, "rules-poll", 0, "also reload the rules, as SIGHUP does, when what the --rule, --rules and --macros files compile to changes, checking this often (0: only on SIGHUP)")
	fs.DurationVar(&f.lookback, "restore-lookback", stream.DefaultRestoreLookback, "how far back to read published alerts at startup and after rebalances: a member down for up to this less --retain resumes without republishing; must exceed twice --retain")
	fs.DurationVar(&f.commit, "commit-interval", stream.DefaultCommitInterval, "how often offsets are committed")
	fs.DurationVar(&f.shutdown, "shutdown-timeout", stream.DefaultShutdownTimeout, "bound on the drain after SIGTERM/SIGINT")
	fs.DurationVar(&f.session, "session-timeout", stream.DefaultSessionTimeout, "consumer group session timeout: a crashed instance's partitions move after it")
	fs.DurationVar(&f.heartbeat, "heartbeat-interval", stream.DefaultHeartbeatInterval, "consumer group heartbeat interval")
	fs.DurationVar(&f.rebalance, "rebalance-timeout", stream.DefaultRebalanceTimeout, "consumer group rebalance timeout; the drain on revocation takes at most half")
	f.logFlags.register(fs, "info")
	fs.StringVar(&f.metricsAddr, "metrics-addr", metrics.DefaultAddr, "serve /metrics (Prometheus), /healthz and /readyz on this host:port ('' to disable; 0.0.0.0:9108 in a container)")
	return fs
}

// shapeNames lists the record shapes, joined by sep.
func shapeNames(sep string) string {
	var names []string
	for _, s := range detector.Shapes() {
		names = append(names, s.String())
	}
	return strings.Join(names, sep)
}

// parseRunFlags parses args, then fills every flag not given on the command
// line from its environment variable.
func parseRunFlags(args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) (f *runFlags, err error) {
	f = &runFlags{}
	fs := newRunFlagSet(f)
	defer func() {
		if err != nil {
			f, err = nil, reportUsage(stderr, fs, &runHelp, lookupEnv, err)
		}
	}()
	given, fromEnv, err := parseFlags(fs, &runHelp, args, lookupEnv, stdout)
	if err != nil {
		return nil, err
	}
	f.lookbackSet = given["restore-lookback"] || fromEnv["restore-lookback"]
	if f.rulesPoll < 0 {
		return nil, fmt.Errorf("%w: --rules-poll %v is negative (0 reloads only on SIGHUP)", errUsage, f.rulesPoll)
	}
	if _, err := f.logger(io.Discard); err != nil {
		return nil, err // a bad --log-level, reported in the --log-format asked for
	}
	if err := positiveFlags(fs, "grace", "idle-timeout", "retain", "retain-buckets", "max-sources", "restore-lookback", "commit-interval",
		"shutdown-timeout", "session-timeout", "heartbeat-interval", "rebalance-timeout"); err != nil {
		return nil, err
	}
	if err := f.capFlags.positive(fs); err != nil {
		return nil, err
	}
	return f, nil
}

// runCommand is msiguard run.
func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseRunFlags(args, nil, stdout, stderr)
	if err != nil {
		return err
	}
	log, err := f.logger(stderr)
	if err != nil {
		return err
	}
	log.Info("msiguard run", "build", readBuildInfo())
	p, rs, err := f.pipeline(log)
	if err != nil {
		return reportFatal(log, f.logFormat, "msiguard run failed", err)
	}
	stopMetrics, err := serveMetrics(ctx, f.metricsAddr, p, log)
	if err != nil {
		return reportFatal(log, f.logFormat, "msiguard run failed", err)
	}
	defer stopMetrics()
	defer reloadRules(p, rs, f.compile, f.rulesPoll, log)()
	err = p.Run(ctx) // logs the effective configuration, secrets masked
	st := p.Stats()
	counts := []any{"records", st.RecordsConsumed, "matches", st.Matches, "alerts", st.Alerts,
		"revisions", st.Revisions, "alerts_published", st.AlertsPublished, "dead_letters", st.DeadLetters}
	if err != nil && strings.EqualFold(f.logFormat, "json") {
		// One ERROR record instead of "stopped": the reason, then the counts.
		return reportFatal(log, f.logFormat, "msiguard run failed", err, counts...)
	}
	log.Info("msiguard run stopped", counts...)
	return err
}

// reloadRules reloads the rules (compile: the --rule, --rules and --macros
// files read again) on every SIGHUP and, when poll is positive, whenever
// what they compile to (each rule's id and version, or the error) has
// changed from running, the rules p started with, and stayed the same for
// two checks in a row (so that a file caught half-written or between a
// removal and a rename is not reloaded), until the returned stop is called.
// A reload that fails is logged and counted by the pipeline once per
// change; the running rules stay. Each check is logged at debug level.
func reloadRules(p *stream.Pipeline, running []*rules.Compiled, compile func() ([]*rules.Compiled, error), poll time.Duration, log *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	var tick <-chan time.Time
	stopTick := func() {}
	if poll > 0 {
		t := time.NewTicker(poll)
		tick, stopTick = t.C, t.Stop
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		last := rulesFingerprint(running, nil) // what was last loaded or refused
		seen := last                           // what the previous check found
		reload := func(rs []*rules.Compiled, err error) {
			select {
			case <-done:
				return // stopping: Run has returned
			default:
			}
			last = rulesFingerprint(rs, err)
			p.Reload(func() ([]*rules.Compiled, error) { return rs, err }) // logs what it did
		}
		for {
			select {
			case <-hup:
				log.Info("SIGHUP: reloading the rules")
				reload(compile())
			case <-tick:
				rs, err := compile()
				fp := rulesFingerprint(rs, err)
				log.Debug("rule files checked", "changed", fp != last, "settled", fp == seen)
				if fp != last && fp == seen {
					log.Info("the rule files changed: reloading the rules")
					reload(rs, err)
				}
				seen = fp
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		stopTick()
		close(done)
		<-finished
	}
}

// rulesFingerprint identifies what the rule files compile to: each rule's
// id and version in order, or the error.
func rulesFingerprint(rs []*rules.Compiled, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.Rule.ID + "@" + r.Version() + "\n")
	}
	return b.String()
}

// pipeline builds the pipeline the flags describe.
func (f *runFlags) pipeline(log *slog.Logger) (*stream.Pipeline, []*rules.Compiled, error) {
	cfg, err := f.config(log)
	if err != nil {
		return nil, nil, err
	}
	p, err := stream.New(cfg)
	if err != nil {
		if errors.Is(err, stream.ErrConfig) {
			return nil, nil, fmt.Errorf("%w: %w", errUsage, err)
		}
		return nil, nil, err
	}
	return p, cfg.Rules, nil
}

// logFlags are the --log-level and --log-format flags of run and demo.
type logFlags struct{ logLevel, logFormat string }

// register declares the flags on fs, with defaultLevel for --log-level.
func (l *logFlags) register(fs *flag.FlagSet, defaultLevel string) {
	fs.StringVar(&l.logLevel, "log-level", defaultLevel, "log level: debug, info, warn or error")
	fs.StringVar(&l.logFormat, "log-format", "text", "log format: text or json")
}

// logger returns the logger the flags ask for, writing to w.
func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	return newLogger(w, l.logLevel, l.logFormat)
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
		return stream.Config{}, fmt.Errorf("%w: --shape: %w", errUsage, err)
	}
	cluster, err := f.cluster(log)
	if err != nil {
		return stream.Config{}, err
	}
	rs, err := f.compile()
	if err != nil {
		return stream.Config{}, err
	}
	return stream.Config{
		Rules:   rs,
		Cluster: *cluster,
		Topic:   f.topic, Group: f.group, AlertsTopic: f.alerts, DLQTopic: f.dlq, MatchesTopic: f.matches,
		RuleAlertsTopics: f.ruleTopics,
		Shape:            shape,
		Grace:            f.grace, IdleTimeout: f.idle, Retain: f.retain, RestoreLookback: f.restoreLookback(),
		RetainBuckets: f.retainBuckets, MaxSources: f.maxSources,
		MaxValues: f.maxValues, MaxAlertBytes: int(f.maxAlertBytes), WindowMemory: int64(f.windowMemory),
		Limits: f.limits(), DeadLetterBytes: int(f.deadLetterBytes),
		CommitInterval: f.commit, ShutdownTimeout: f.shutdown,
		SessionTimeout: f.session, HeartbeatInterval: f.heartbeat, RebalanceTimeout: f.rebalance,
		Logger: log,
	}, nil
}

// restoreLookback is --restore-lookback when given, else 0 for the
// pipeline's default (stream.Config.RestoreLookback).
func (f *runFlags) restoreLookback() time.Duration {
	if f.lookbackSet {
		return f.lookback
	}
	return 0
}
