package main

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/internal/kafkatest"
)

// startCLI starts the binary with args, its standard error in a buffer
// the test can poll; the cleanup stops it with SIGTERM and waits.
func startCLI(t *testing.T, args ...string) *syncBuffer {
	t.Helper()
	cmd := exec.Command(cliBinary(t), args...)
	var errb syncBuffer
	cmd.Stderr, cmd.Stdout = &errb, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := waitExit(cmd, 40*time.Second); errors.Is(err, errStillRunning) {
			t.Errorf("msiguard %s: %v of SIGTERM", args[0], err)
		}
	})
	return &errb
}

// TestRunWarnsNotCompacted: run against an alerts topic created without
// cleanup.policy=compact logs one warning saying how to set it; against a
// compacted one, none.
func TestRunWarnsNotCompacted(t *testing.T) {
	c := kafkatest.Start(t)
	if c.SASL() != nil || c.TLSConfig() != nil {
		t.Skip("plaintext broker needed")
	}
	input, dlq := kafkatest.UniqueName(t, "sysmon"), kafkatest.UniqueName(t, "dlq")
	plainAlerts, compactAlerts := kafkatest.UniqueName(t, "alerts"), kafkatest.UniqueName(t, "calerts")
	c.CreateTopic(t, input, 1)
	c.CreateTopic(t, dlq, 1)
	c.CreateTopic(t, plainAlerts, 1)
	resp, err := c.Client(t).CreateTopics(context.Background(), &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: compactAlerts, NumPartitions: 1, ReplicationFactor: 1,
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}},
	}}})
	if err == nil {
		err = resp.Errors[compactAlerts]
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		alerts string
		warn   bool
	}{{plainAlerts, true}, {compactAlerts, false}} {
		t.Run(tc.alerts, func(t *testing.T) {
			errb := startCLI(t, "run", "--brokers", strings.Join(c.Addrs(), ","), "--topic", input, "--group", kafkatest.UniqueName(t, "g"),
				"--alerts-topic", tc.alerts, "--dlq-topic", dlq, "--metrics-addr", "", "--log-level", "debug")
			kafkatest.WaitFor(t, 30*time.Second, func() error {
				if !strings.Contains(errb.String(), "pipeline started") {
					return errString("no \"pipeline started\" yet:\n" + errb.String())
				}
				return nil
			})
			log := errb.String()
			warned := strings.Contains(log, "the alerts topic is not compacted") && strings.Contains(log, "cleanup.policy=compact")
			if warned != tc.warn || strings.Contains(log, "cannot tell whether the alerts topic is compacted") {
				t.Errorf("alerts topic %s: warned %v, want %v:\n%s", tc.alerts, warned, tc.warn, log)
			}
		})
	}
}

type errString string

func (e errString) Error() string { return string(e) }
