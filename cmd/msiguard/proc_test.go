package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/msiguard/msiguard/internal/kafkatest"
)

// What the tests that run msiguard as a subprocess share: the binary, the
// topics of one pipeline, starting a member with its output in a log file,
// and showing the end of that log when a test fails.

// errStillRunning is what waitExit and returned say of a command that
// did not end in time.
var errStillRunning = errors.New("still running")

// returned waits up to d for the result of a command run in-process (its
// goroutine sends it on done): its error, or errStillRunning.
func returned(done <-chan error, d time.Duration) error {
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return fmt.Errorf("%w after %v", errStillRunning, d)
	}
}

// printedAddr waits up to d for an in-process command's output to match
// re and returns the first submatch, the address it printed. It fails the
// test if the command returns first (its result is put back on done).
func printedAddr(t *testing.T, d time.Duration, done chan error, out *syncBuffer, re *regexp.Regexp) string {
	t.Helper()
	var addr string
	kafkatest.WaitFor(t, d, func() error {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("returned before printing an address: %v\n%s", err, out.String())
		default:
		}
		m := re.FindStringSubmatch(out.String())
		if m == nil {
			return errors.New("no address printed yet")
		}
		addr = m[1]
		return nil
	})
	return addr
}

// waitExit waits up to d for the started cmd to exit and returns Wait's
// error; past d it kills and reaps the process and returns errStillRunning.
func waitExit(cmd *exec.Cmd, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	err := returned(done, d)
	if errors.Is(err, errStillRunning) {
		cmd.Process.Kill()
		<-done
	}
	return err
}

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

// TestWaitExit covers the path the other tests take only when msiguard
// hangs: past the deadline the process is killed and reaped.
func TestWaitExit(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skipf("no sleep command: %v", err)
	}
	if err := waitExit(cmd, 50*time.Millisecond); !errors.Is(err, errStillRunning) {
		t.Fatalf("waitExit(sleep 60) = %v, want errStillRunning", err)
	}
	if cmd.ProcessState == nil {
		t.Fatal("the killed process was not reaped")
	}
	ok := exec.Command("true")
	if err := ok.Start(); err != nil {
		t.Skip(err)
	}
	if err := waitExit(ok, time.Minute); err != nil {
		t.Fatalf("waitExit(true) = %v, want nil", err)
	}
}
