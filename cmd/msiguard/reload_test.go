package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/msiguard/msiguard/internal/kafkatest"
)

// TestRunSIGHUP runs the binary with --rules DIR and sends it SIGHUP
// twice: with a rule file that does not compile in the directory, the
// reload is refused with the file's position and the process goes on;
// with the file replaced by a valid rule, the rules are reloaded. SIGTERM
// then stops it with exit 0.
func TestRunSIGHUP(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, "../../rules/24143.44553.yml", filepath.Join(dir, "24143.44553.yml"))
	cmd, logName, waitLog := startRulesRun(t, "--rules", dir)
	waitLog("partitions assigned", 1)

	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("id: 'x.1'\ntitle: bad\nlogic_format: Splunk\nlogic: 'EventCode=1 | eval x=1'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog("rule reload refused", 1)
	if b, _ := os.ReadFile(logName); !strings.Contains(string(b), "bad.yml:4:") {
		t.Errorf("the refusal does not name bad.yml's line:\n%s", b)
	}

	os.Remove(bad)
	copyFile(t, "../../rules/testdata/noise/net-teams.yml", filepath.Join(dir, "net-teams.yml"))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog("rules reloaded", 1)
	waitLog("partitions assigned", 2)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		b, _ := os.ReadFile(logName)
		t.Fatalf("after SIGTERM: %v\n%s", err, b)
	}
}

// startRulesRun starts msiguard run with args against a fresh broker and
// topics, its output in the returned log file; waitLog(what, n) waits until
// what appears n times in it.
func startRulesRun(t *testing.T, args ...string) (cmd *exec.Cmd, logName string, waitLog func(what string, n int)) {
	t.Helper()
	bin := cliBinary(t)
	c := kafkatest.Start(t)
	topic, alerts, dlq := kafkatest.UniqueName(t, "sysmon"), kafkatest.UniqueName(t, "alerts"), kafkatest.UniqueName(t, "dlq")
	c.CreateTopic(t, topic, 2)
	c.CreateTopic(t, alerts, 1)
	c.CreateTopic(t, dlq, 1)
	logName = filepath.Join(t.TempDir(), "run.log")
	logf, err := os.Create(logName)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	cmd = exec.Command(bin, append([]string{"run", "--brokers", strings.Join(c.Addrs(), ","), "--topic", topic, "--group", kafkatest.UniqueName(t, "group"),
		"--alerts-topic", alerts, "--dlq-topic", dlq,
		"--session-timeout", "6s", "--heartbeat-interval", "500ms", "--rebalance-timeout", "10s", "--metrics-addr", ""}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitLog = func(what string, n int) {
		t.Helper()
		kafkatest.WaitFor(t, 60*time.Second, func() error {
			b, _ := os.ReadFile(logName)
			if got := strings.Count(string(b), what); got < n {
				return fmt.Errorf("%q appears %d times in the log, want %d:\n%s", what, got, n, b)
			}
			return nil
		})
	}
	return cmd, logName, waitLog
}

// TestRunRulesPoll: with --rules-poll, msiguard run reloads when what the
// rule files compile to changes, without a signal. A rule file that does
// not compile is refused once, not at every check while it stays broken
// (the test lets several checks pass, counted by their debug lines);
// replacing it with a good rule switches the rule set.
func TestRunRulesPoll(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, "../../rules/24143.44553.yml", filepath.Join(dir, "24143.44553.yml"))
	cmd, logName, waitLog := startRulesRun(t, "--rules", dir, "--rules-poll", "50ms", "--log-level", "debug")
	waitLog("partitions assigned", 1)
	const checked = "rule files checked"
	moreChecks := func(n int) {
		t.Helper()
		b, _ := os.ReadFile(logName)
		waitLog(checked, strings.Count(string(b), checked)+n)
	}

	// Each change is one rename, so that no check sees a half-written file:
	// the broken file appears; a good one joins it (the same error: no new
	// reload); the broken one goes.
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad+".tmp", []byte("id: 'x.1'\ntitle: bad\nlogic_format: Splunk\nlogic: 'EventCode=1 | eval x=1'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(bad+".tmp", bad); err != nil {
		t.Fatal(err)
	}
	waitLog("rule reload refused", 1)
	moreChecks(4)
	good := filepath.Join(dir, "net-teams.yml")
	copyFile(t, "../../rules/testdata/noise/net-teams.yml", good+".tmp")
	if err := os.Rename(good+".tmp", good); err != nil {
		t.Fatal(err)
	}
	moreChecks(4)
	if err := os.Remove(bad); err != nil {
		t.Fatal(err)
	}
	waitLog("rules reloaded", 1)
	waitLog("partitions assigned", 2)
	moreChecks(4)
	b, _ := os.ReadFile(logName)
	if n := strings.Count(string(b), "msg=\"rule reload refused;"); n != 1 {
		t.Errorf("the broken rule file was refused %d times, want once:\n%s", n, b)
	}
	if n := strings.Count(string(b), "the rule files changed"); n != 2 {
		t.Errorf("%d reloads for the rule files' changes, want 2 (the broken file, the good one):\n%s", n, b)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
