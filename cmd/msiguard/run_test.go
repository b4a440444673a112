package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestRunHelpShowsExamplesAndEnv(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"run", "--help"}, &out, &errb); err != nil {
		t.Fatalf("run --help: %v", err)
	}
	for _, want := range []string{"Examples:", "msiguard run --brokers", "MSIGUARD_BROKERS", "MSIGUARD_SASL_PASSWORD", "--sasl-password-file", "--tls-ca", "--shutdown-timeout"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"frobnicate"}, &out, &errb)
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "frobnicate") {
		t.Fatalf("err = %v, want a usage error naming the command", err)
	}
}

// TestEnvAndFlags checks that every flag reads its MSIGUARD_ variable and
// that a flag on the command line wins over it.
func TestEnvAndFlags(t *testing.T) {
	env := map[string]string{
		"MSIGUARD_BROKERS":        "a:1,b:2",
		"MSIGUARD_TOPIC":          "from-env",
		"MSIGUARD_GRACE":          "3s",
		"MSIGUARD_SASL_MECHANISM": "scram-sha-256",
		"MSIGUARD_SASL_USERNAME":  "u",
		"MSIGUARD_SASL_PASSWORD":  "secret",
		"MSIGUARD_TLS":            "true",
		"MSIGUARD_RETAIN_BUCKETS": "5000",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	f, err := parseRunFlags([]string{"--topic", "from-flag"}, lookup, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if f.brokers != "a:1,b:2" || f.topic != "from-flag" || f.grace != 3*time.Second || f.saslPassword != "secret" || !f.tls {
		t.Errorf("flags = %+v", f)
	}
	var logs bytes.Buffer
	log, _ := newLogger(&logs, "info", "text")
	cfg, err := f.config(log)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Cluster.Brokers) != 2 || cfg.Cluster.TLS == nil || cfg.Cluster.SASL.Password != "secret" {
		t.Errorf("config = %+v", cfg.Cluster)
	}
	if cfg.RetainBuckets != 5000 {
		t.Errorf("RetainBuckets = %d, want 5000 from MSIGUARD_RETAIN_BUCKETS", cfg.RetainBuckets)
	}
	log.Info("effective", "config", cfg)
	if strings.Contains(logs.String(), "secret") {
		t.Errorf("the logged configuration shows the password: %s", logs.String())
	}
}

func TestConfigErrorsSayWhatToFix(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, nil, "--brokers"},
		{[]string{"--brokers", "k:9092"}, nil, "--topic"},
		{[]string{"--brokers", "k"}, nil, "host:port"},
		{[]string{"--brokers", "k:9092", "--topic", "t", "--shape", "csv"}, nil, "unknown shape"},
		{[]string{"--brokers", "k:9092", "--topic", "t", "--sasl-mechanism", "gssapi"}, nil, "scram-sha-512"},
		{[]string{"--brokers", "k:9092", "--topic", "t", "--sasl-mechanism", "plain", "--sasl-username", "u"}, nil, "password"},
		{[]string{"--brokers", "k:9092", "--topic", "t", "--retain", "2h", "--restore-lookback", "3h"}, nil, "--restore-lookback"},
		{[]string{"--brokers", "k:9092", "--topic", "t", "--retain-buckets", "-1"}, nil, "--retain-buckets"},
		{[]string{"--brokers", "k:9092", "--topic", "t", "--alerts-topic", "t"}, nil, "each must be its own topic"},
		{[]string{"--brokers", "k:9092", "--topic", "t"}, map[string]string{"MSIGUARD_IDLE_TIMEOUT": "soon"}, "MSIGUARD_IDLE_TIMEOUT"},
		{[]string{"--brokers", "k:9092", "--topic", "t", "--tls-ca", "/nonexistent.pem"}, nil, "--tls-ca"},
		{[]string{"--brokers", "k:9092", "--topic", "t", "--log-format", "xml"}, nil, "--log-format"},
	} {
		lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
		err := func() error {
			f, err := parseRunFlags(tc.args, lookup, nil, io.Discard)
			if err != nil {
				return err
			}
			var errb bytes.Buffer
			log, err := f.logger(&errb)
			if err != nil {
				return err
			}
			cfg, err := f.config(log)
			if err != nil {
				return err
			}
			return cfg.Validate()
		}()
		if err == nil || !strings.Contains(operatorMessage(err), tc.want) {
			t.Errorf("args %v env %v: err = %v, want it to mention %q", tc.args, tc.env, operatorMessage(err), tc.want)
		}
	}
}
