package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/msiguard/msiguard/stream"
)

// flagCommands lists every command that takes flags, with its flag set.
var flagCommands = []struct {
	name  string
	flags func() *flag.FlagSet
	help  *cmdHelp
}{
	{"run", func() *flag.FlagSet { return newRunFlagSet(&runFlags{}) }, &runHelp},
	{"backtest", func() *flag.FlagSet { return newBacktestFlagSet(&backtestFlags{}) }, &backtestHelp},
	{"gen", func() *flag.FlagSet { return newGenFlagSet(&genFlags{}) }, &genHelp},
	{"demo", func() *flag.FlagSet { return newDemoFlagSet(&demoFlags{}) }, &demoHelp},
	{"dev-broker", func() *flag.FlagSet { return newDevBrokerFlagSet(&devBrokerFlags{}) }, &devBrokerHelp},
	{"healthcheck", func() *flag.FlagSet { return newHealthcheckFlagSet(&healthcheckFlags{}) }, &healthcheckHelp},
}

func envLookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

// TestHelpListsEveryVariable: each command's --help, on standard output,
// lists every flag with its MSIGUARD_ variable, and keeps its examples.
func TestHelpListsEveryVariable(t *testing.T) {
	for _, c := range flagCommands {
		var out, errb bytes.Buffer
		if err := run(context.Background(), []string{c.name, "--help"}, &out, &errb); err != nil {
			t.Fatalf("%s --help: %v", c.name, err)
		}
		help := out.String()
		n := 0
		c.flags().VisitAll(func(fl *flag.Flag) {
			n++
			env := envVar(fl.Name)
			switch {
			case c.name == "backtest" && fl.Name == "alerts-topic":
				env = "command line only" // see TestBacktestEnvDestinations
			case fl.Name == "out" || fl.Name == "partitions" || c.name == "healthcheck":
				env = "MSIGUARD_" + strings.ToUpper(strings.ReplaceAll(c.name, "-", "_")) + "_" + strings.ToUpper(fl.Name) // see TestScopedEnv
			}
			if want := fmt.Sprintf("  --%s  [%s]\n", fl.Name, env); !strings.Contains(help, want) {
				t.Errorf("%s --help lacks %q", c.name, want)
			}
		})
		if n == 0 || !strings.Contains(help, "Examples:") || !strings.Contains(help, "msiguard "+c.name) {
			t.Errorf("%s --help: %d flags, no examples?\n%s", c.name, n, help)
		}
		if strings.Contains(help, "`") {
			t.Errorf("%s --help shows a back-quoted placeholder:\n%s", c.name, help)
		}
	}
}

// TestConnFlagsEverywhere: the commands that reach Kafka take every
// connection flag.
func TestConnFlagsEverywhere(t *testing.T) {
	want := flag.NewFlagSet("conn", flag.ContinueOnError)
	new(connFlags).register(want)
	for _, c := range flagCommands[:3] {
		fs := c.flags()
		want.VisitAll(func(fl *flag.Flag) {
			if got := fs.Lookup(fl.Name); got == nil || got.Usage != fl.Usage {
				t.Errorf("%s: --%s missing or worded differently", c.name, fl.Name)
			}
		})
	}
}

// TestEnvFillsUnsetFlags: for each command a variable sets a flag not on
// the command line, and a flag on the command line wins over its variable.
func TestEnvFillsUnsetFlags(t *testing.T) {
	t.Run("run", func(t *testing.T) {
		env := map[string]string{"MSIGUARD_GROUP": "g-env", "MSIGUARD_TOPIC": "t-env", "MSIGUARD_TLS_SERVER_NAME": "kafka.example", "MSIGUARD_METRICS_ADDR": ""}
		f, err := parseRunFlags([]string{"--topic", "t-flag"}, envLookup(env), io.Discard, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if f.group != "g-env" || f.topic != "t-flag" || f.tlsServerName != "kafka.example" || f.metricsAddr != "" {
			t.Errorf("group %q topic %q tls-server-name %q metrics-addr %q", f.group, f.topic, f.tlsServerName, f.metricsAddr)
		}
	})
	t.Run("backtest", func(t *testing.T) {
		env := map[string]string{"MSIGUARD_WORKERS": "3", "MSIGUARD_SHAPE": "xml", "MSIGUARD_SASL_PASSWORD": "pw", "MSIGUARD_TLS_CERT": "c.pem",
			"MSIGUARD_TLS_KEY": "k.pem", "MSIGUARD_GRACE": "7s", "MSIGUARD_QUIET": "true", "MSIGUARD_INPUT": "env.jsonl"}
		f, err := parseBacktestFlags([]string{"--shape", "flat"}, envLookup(env), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if f.workers != 3 || f.shape != "flat" || f.saslPassword != "pw" || f.tlsCert != "c.pem" || f.tlsKey != "k.pem" ||
			f.grace != 7*time.Second || !f.quiet || len(f.inputs) != 1 || f.inputs[0] != "env.jsonl" {
			t.Errorf("flags = %+v", f)
		}
		f, err = parseBacktestFlags([]string{"--input", "flag.jsonl"}, envLookup(env), io.Discard)
		if err != nil || len(f.inputs) != 1 || f.inputs[0] != "flag.jsonl" {
			t.Errorf("--input on the command line: inputs %v, %v", f.inputs, err)
		}
	})
	t.Run("gen", func(t *testing.T) {
		env := map[string]string{"MSIGUARD_HOSTS": "9", "MSIGUARD_SEED": "3", "MSIGUARD_TLS_KEY": "k.pem"}
		f, err := parseGenFlags([]string{"--seed", "4"}, envLookup(env), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if f.hosts != 9 || f.seed != 4 || f.tlsKey != "k.pem" || !f.fromEnv["hosts"] || f.fromEnv["seed"] {
			t.Errorf("hosts %d seed %d tls-key %q fromEnv %v", f.hosts, f.seed, f.tlsKey, f.fromEnv)
		}
	})
	t.Run("demo", func(t *testing.T) {
		env := map[string]string{"MSIGUARD_RATE": "50", "MSIGUARD_HOSTS": "7", "MSIGUARD_METRICS_ADDR": "127.0.0.1:9999"}
		f, err := parseDemoFlags([]string{"--hosts", "8"}, envLookup(env), io.Discard, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if f.rate != 50 || f.hosts != 8 || f.metricsAddr != "127.0.0.1:9999" || f.metricsAddrGiven {
			t.Errorf("flags = %+v (an address from the environment may fall back to a free port)", f)
		}
	})
	t.Run("dev-broker", func(t *testing.T) {
		env := map[string]string{"MSIGUARD_TOPICS": "a:1", "MSIGUARD_LISTEN": "127.0.0.1:1", "MSIGUARD_RETENTION_BYTES": "1MiB"}
		f, err := parseDevBrokerFlags([]string{"--listen", "127.0.0.1:0"}, envLookup(env), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if f.topics != "a:1" || f.listen != "127.0.0.1:0" || f.retention != "1MiB" {
			t.Errorf("flags = %+v", f)
		}
	})
}

// TestEnvBadValue: a value a flag rejects, from its variable, is a usage
// error that names the variable.
func TestEnvBadValue(t *testing.T) {
	for _, tc := range []struct{ cmd, name string }{
		{"run", "MSIGUARD_TLS"}, {"run", "MSIGUARD_SESSION_TIMEOUT"},
		{"backtest", "MSIGUARD_WORKERS"}, {"backtest", "MSIGUARD_TLS_INSECURE_SKIP_VERIFY"},
		{"gen", "MSIGUARD_COUNT"}, {"gen", "MSIGUARD_TLS"},
		{"demo", "MSIGUARD_DURATION"}, {"demo", "MSIGUARD_JSON"},
		{"dev-broker", "MSIGUARD_DEV_BROKER_PARTITIONS"},
	} {
		lookup := envLookup(map[string]string{tc.name: "lots"})
		var err error
		switch tc.cmd {
		case "run":
			_, err = parseRunFlags(nil, lookup, io.Discard, io.Discard)
		case "backtest":
			_, err = parseBacktestFlags(nil, lookup, io.Discard)
		case "gen":
			_, err = parseGenFlags(nil, lookup, io.Discard)
		case "demo":
			_, err = parseDemoFlags(nil, lookup, io.Discard, io.Discard)
		case "dev-broker":
			_, err = parseDevBrokerFlags(nil, lookup, io.Discard)
		}
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.name+"=lots") {
			t.Errorf("%s with %s=lots: %v, want a usage error naming the variable", tc.cmd, tc.name, err)
		}
	}
}

// rejectValue is a flag that takes no value.
type rejectValue struct{}

func (rejectValue) String() string     { return "" }
func (rejectValue) Set(v string) error { return errors.New("no") }

// TestEnvBadValueMasksPasswords: the error about a password's variable
// does not show its value, nor do the connection errors.
func TestEnvBadValueMasksPasswords(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Var(rejectValue{}, "sasl-password", "")
	_, _, err := parseFlags(fs, &cmdHelp{name: "x"}, nil, envLookup(map[string]string{"MSIGUARD_SASL_PASSWORD": "hunter2"}), io.Discard)
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "MSIGUARD_SASL_PASSWORD=(masked)") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("err = %v, want a usage error naming the variable without its value", err)
	}

	for _, c := range []*connFlags{
		{brokers: "k:9092", saslPassword: "hunter2"},                                   // no mechanism
		{brokers: "k:9092", saslMechanism: "md5", saslPassword: "hunter2"},             // unknown mechanism
		{brokers: "k:9092", saslMechanism: "plain", saslPassword: "hunter2"},           // no username
		{brokers: "k", saslMechanism: "plain", saslUser: "u", saslPassword: "hunter2"}, // bad broker
		{brokers: "k:9092", saslPassword: "hunter2", saslPasswordFile: "/nonexistent"},
	} {
		if _, err := c.cluster(nil); !errors.Is(err, errUsage) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("cluster(%+v) = %v", *c, err)
		}
	}
	t.Setenv("MSIGUARD_SASL_PASSWORD", "hunter2")
	t.Setenv("MSIGUARD_BROKERS", "k:9092")
	err = runBacktest(context.Background(), []string{"--topic", "t", "--sasl-mechanism", "plain"}, strings.NewReader(""), io.Discard, io.Discard)
	if !errors.Is(err, errUsage) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("backtest: %v", err)
	}
}

// TestConnFlagsCluster: the connection flags make the same cluster in
// every command, with the password from a file and TLS implied.
func TestConnFlagsCluster(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--brokers", "a:1, b:2", "--sasl-mechanism", "SCRAM-SHA-512", "--sasl-username", "u", "--sasl-password-file", pw, "--tls-server-name", "kafka.example"}
	rf, err := parseRunFlags(append(args, "--topic", "t"), envLookup(nil), io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	bf, err := parseBacktestFlags(append(args, "--topic", "t"), envLookup(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	gf, err := parseGenFlags(append(args, "--topic", "t"), envLookup(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*connFlags{&rf.connFlags, &bf.connFlags, &gf.connFlags} {
		cl, err := c.cluster(nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(cl.Brokers) != 2 || cl.Brokers[1] != "b:2" || cl.SASL.Mechanism != "scram-sha-512" || cl.SASL.Password != "s3cret" ||
			cl.TLS == nil || cl.TLS.ServerName != "kafka.example" {
			t.Errorf("cluster = %+v", cl)
		}
	}
	for _, tc := range []struct {
		c    connFlags
		want string
	}{
		{connFlags{brokers: "k:9092", tlsCert: "c.pem"}, "--tls-cert and --tls-key go together"},
		{connFlags{brokers: "k:9092", tlsCert: "/nonexistent.pem", tlsKey: "/nonexistent.key"}, "--tls-cert/--tls-key"},
		{connFlags{brokers: "k:9092", tlsCA: pw}, "holds no PEM certificate"},
		{connFlags{brokers: "k:9092", saslPassword: "x", saslPasswordFile: pw}, "give the SASL password once"},
		{connFlags{}, "--brokers"},
	} {
		if _, err := tc.c.cluster(nil); !errors.Is(err, errUsage) || !strings.Contains(operatorMessage(err), tc.want) {
			t.Errorf("cluster(%+v) = %v, want a usage error about %q", tc.c, err, tc.want)
		}
	}
}

// TestBacktestEnvDestinations: variables shared with run and gen do not
// take backtest somewhere the command line did not say.
func TestBacktestEnvDestinations(t *testing.T) {
	env := map[string]string{"MSIGUARD_TOPIC": "sysmon", "MSIGUARD_FROM": "2025-03-06T10:00:00Z", "MSIGUARD_ALERTS_TOPIC": "msiguard.alerts"}
	f, err := parseBacktestFlags([]string{"--input", "x.jsonl"}, envLookup(env), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// MSIGUARD_ALERTS_TOPIC names run's live alerts topic: backtest never
	// reads it, so its alerts cannot overwrite live ones by accident.
	if f.topic != "" || f.from != "" || f.out != "-" || f.alertsTopic != "" {
		t.Errorf("topic %q from %q out %q alerts-topic %q: want the file, alerts on standard output only", f.topic, f.from, f.out, f.alertsTopic)
	}
	f, err = parseBacktestFlags([]string{"--input", "x.jsonl", "--alerts-topic", "a"}, envLookup(nil), io.Discard)
	if err != nil || f.out != "" {
		t.Errorf("--alerts-topic without --out: out %q, %v; want the topic only", f.out, err)
	}

	// MSIGUARD_BACKTEST_OUT naming the input: backtest does not truncate it.
	in := filepath.Join(t.TempDir(), "records.jsonl")
	data := mustRead(t, goldenInput)
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MSIGUARD_BACKTEST_OUT", in)
	err = runBacktest(context.Background(), []string{"--input", in, "--quiet"}, strings.NewReader(""), io.Discard, io.Discard)
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "would overwrite --input") {
		t.Errorf("MSIGUARD_BACKTEST_OUT naming the input: %v", err)
	}
	if got := mustRead(t, in); !bytes.Equal(got, data) {
		t.Error("the input was overwritten")
	}
}

// TestRuleAlertsTopicFlag: --rule-alerts-topic ID=TOPIC repeats, its
// variable takes a comma-separated list, the routes reach the pipeline's
// Config, and a value without "=" or a rule routed to two topics is a
// usage error naming the flag.
func TestRuleAlertsTopicFlag(t *testing.T) {
	f, err := parseRunFlags([]string{"--topic", "t", "--rule-alerts-topic", "a.1=alerts.a", "--rule-alerts-topic", "b.2=alerts.b"}, envLookup(nil), io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a.1": "alerts.a", "b.2": "alerts.b"}
	if !maps.Equal(f.ruleTopics, want) {
		t.Errorf("flags: %v, want %v", f.ruleTopics, want)
	}
	f, err = parseRunFlags([]string{"--brokers", "k:9092", "--topic", "t"}, envLookup(map[string]string{"MSIGUARD_RULE_ALERTS_TOPIC": "a.1=alerts.a, b.2=alerts.b"}), io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(f.ruleTopics, want) {
		t.Errorf("environment: %v, want %v", f.ruleTopics, want)
	}
	cfg, err := f.config(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(cfg.RuleAlertsTopics, want) {
		t.Errorf("Config.RuleAlertsTopics = %v, want %v", cfg.RuleAlertsTopics, want)
	}
	for _, args := range [][]string{
		{"--rule-alerts-topic", "alerts.a"},
		{"--rule-alerts-topic", "a.1=alerts.a", "--rule-alerts-topic", "a.1=alerts.b"},
	} {
		_, err := parseRunFlags(append([]string{"--topic", "t"}, args...), envLookup(nil), io.Discard, io.Discard)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "--rule-alerts-topic") {
			t.Errorf("%q: err = %v, want a usage error naming --rule-alerts-topic", args, err)
		}
	}
}

// TestRestoreLookbackDefault: without --restore-lookback run leaves the
// lookback to the pipeline, whose default grows with --retain; given (flag
// or environment), it is passed as it is.
func TestRestoreLookbackDefault(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want time.Duration
	}{
		{[]string{"--retain", "40m"}, nil, 0},
		{[]string{"--retain", "40m", "--restore-lookback", "90m"}, nil, 90 * time.Minute},
		{[]string{"--retain", "40m"}, map[string]string{"MSIGUARD_RESTORE_LOOKBACK": "2h"}, 2 * time.Hour},
	} {
		f, err := parseRunFlags(append([]string{"--brokers", "k:9092", "--topic", "t"}, tc.args...), envLookup(tc.env), io.Discard, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := f.config(slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.RestoreLookback != tc.want {
			t.Errorf("%q %v: RestoreLookback %v, want %v", tc.args, tc.env, cfg.RestoreLookback, tc.want)
		}
	}
}

// TestRestoreLookbackHelp: run's help and its error for a lookback of 0
// give the default as the rule the pipeline applies
// (stream.Config.withDefaults), not the 1h the flag holds, and the rule's
// figures are the pipeline's constants.
func TestRestoreLookbackHelp(t *testing.T) {
	if stream.DefaultRestoreLookback != time.Hour || stream.RestoreSlack != time.Minute {
		t.Fatalf("the pipeline's lookback is max(%v, 2 x retain + %v): update dependentDefaults", stream.DefaultRestoreLookback, stream.RestoreSlack)
	}
	var help strings.Builder
	printUsage(&help, newRunFlagSet(&runFlags{}), &runHelp)
	_, line, _ := strings.Cut(help.String(), "--restore-lookback  ")
	line, _, _ = strings.Cut(line, "\n  --")
	const want = "(default 1h or twice --retain plus 1m, whichever is longer)"
	if !strings.Contains(line, want) || strings.Contains(line, "1h0m0s") {
		t.Errorf("--restore-lookback help: %q", line)
	}
	_, err := parseRunFlags([]string{"--brokers", "k:9092", "--topic", "t", "--restore-lookback", "0"}, envLookup(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--restore-lookback 0s: must be positive "+want) {
		t.Errorf("--restore-lookback 0: %v", err)
	}
}
