package main

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDevBrokerServesGenAndBacktest starts msiguard dev-broker on a free
// port, reads the address it prints, writes records to its sysmon topic
// with msiguard gen and reads them back with msiguard backtest --topic:
// msiguard's own clients work against it, with the default topics.
func TestDevBrokerServesGenAndBacktest(t *testing.T) {
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev-broker", "--listen", "127.0.0.1:0"}, &stdout, &stderr)
	}()
	addrRE := regexp.MustCompile(`Kafka protocol on (127\.0\.0\.1:[0-9]+)`)
	addr := printedAddr(t, 10*time.Second, done, &stdout, addrRE)
	for _, want := range []string{"FOR DEVELOPMENT ONLY", "sysmon:6", "msiguard.alerts:3:compact", "msiguard.dlq:1"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("dev-broker output lacks %q:\n%s", want, stdout.String())
		}
	}

	_, genErr, err := genRun(t, "--brokers", addr, "--topic", "sysmon", "--count", "3000", "--attack-rate", "0.01", "--seed", "2")
	if err != nil {
		t.Fatalf("gen against dev-broker: %v\n%s", err, genErr)
	}
	if n, err := genAcked(genErr); err != nil || n != 3000 {
		t.Fatalf("gen acknowledged %d (%v):\n%s", n, err, genErr)
	}
	var out, errb syncBuffer
	if err := run(context.Background(), []string{"backtest", "--brokers", addr, "--topic", "sysmon", "--out", "-"}, &out, &errb); err != nil {
		t.Fatalf("backtest --topic against dev-broker: %v\n%s", err, errb.String())
	}
	if alerts := strings.Count(out.String(), `"alert_id"`); alerts == 0 {
		t.Errorf("backtest found no alert in 3000 records with 1%% attacks:\n%s", errb.String())
	}

	cancel()
	if err := returned(done, 10*time.Second); err != nil {
		t.Errorf("dev-broker after cancel: %v, want nil", err)
	}
}

func TestDevBrokerUsage(t *testing.T) {
	var out syncBuffer
	if err := run(context.Background(), []string{"dev-broker", "--help"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--listen", "--topics", "development only", "Apache Kafka"} {
		if !strings.Contains(strings.ToLower(out.String()), strings.ToLower(want)) {
			t.Errorf("dev-broker --help lacks %q", want)
		}
	}
	for _, args := range [][]string{{"--topics", "a:x"}, {"--listen", "nope"}, {"--retention-bytes", "lots"}, {"extra"}} {
		if err := run(context.Background(), append([]string{"dev-broker"}, args...), &out, &out); !errors.Is(err, errUsage) {
			t.Errorf("dev-broker %v = %v, want a usage error", args, err)
		}
	}
}
