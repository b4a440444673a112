package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msiguard/msiguard/internal/kafkatest"
)

// What the tests that run msiguard as a subprocess share: the binary, the
// topics of one pipeline, starting a member with its output in a log file,
// and showing the end of that log when a test fails.

// buildBinary compiles msiguard into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go tool not found: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "msiguard")
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runTopics names the topics and group of one pipeline on a test broker.
type runTopics struct {
	c                         *kafkatest.Cluster
	topic, alerts, dlq, group string
}

// newRunTopics creates an input topic of 4 partitions, an alerts topic of
// 2 and a dead-letter topic of 1, with names unique to the test.
func newRunTopics(t *testing.T, c *kafkatest.Cluster) runTopics {
	rt := runTopics{c: c, topic: kafkatest.UniqueName(t, "sysmon"), alerts: kafkatest.UniqueName(t, "alerts"),
		dlq: kafkatest.UniqueName(t, "dlq"), group: kafkatest.UniqueName(t, "group")}
	c.CreateTopic(t, rt.topic, 4)
	c.CreateTopic(t, rt.alerts, 2)
	c.CreateTopic(t, rt.dlq, 1)
	return rt
}

// startRun starts `bin run` on rt with short timeouts (6 s session, 200 ms
// commits, 20 s shutdown, debug logs) and then extra flags, which override
// them, its standard output and error in logName. The caller waits for it.
func (rt runTopics) startRun(t *testing.T, bin, logName string, extra ...string) *exec.Cmd {
	t.Helper()
	args := append([]string{"run",
		"--brokers", strings.Join(rt.c.Addrs(), ","), "--topic", rt.topic, "--group", rt.group,
		"--alerts-topic", rt.alerts, "--dlq-topic", rt.dlq, "--commit-interval", "200ms",
		"--session-timeout", "6s", "--heartbeat-interval", "500ms", "--rebalance-timeout", "10s",
		"--shutdown-timeout", "20s", "--log-level", "debug"}, extra...)
	cmd := exec.Command(bin, args...)
	logf, err := os.Create(logName)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// logTail logs the last n lines of the log file logName.
func logTail(t *testing.T, logName string, n int) {
	t.Helper()
	b, _ := os.ReadFile(logName)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	t.Logf("%s (tail):\n%s", filepath.Base(logName), strings.Join(lines, "\n"))
}
