package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/msiguard/msiguard/backtest"
	"github.com/msiguard/msiguard/internal/kafkatest"
)

// TestBacktestCLICompressed: the binary replays the golden corpus
// compressed by the zstd, xz and bzip2 tools (backtest/testdata) into the
// same alert bytes as the plain file, from a file and from standard input;
// random bytes exit 1 with a sentence saying the file is not text, where
// they once gave "0 alerts" and exit 0.
func TestBacktestCLICompressed(t *testing.T) {
	plain := mustRead(t, goldenInput)
	in := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(in, plain, 0o644); err != nil {
		t.Fatal(err)
	}
	ref := runCLI(t, time.Minute, nil, nil, "backtest", "--input", in)
	refStdin := runCLI(t, time.Minute, nil, plain, "backtest", "--input", "-")
	if ref.code != 0 || strings.Count(ref.stdout, "\n") < 5 || refStdin.code != 0 {
		t.Fatalf("plain corpus: exit %d, %d alert lines\n%s", ref.code, strings.Count(ref.stdout, "\n"), ref.stderr)
	}
	for _, name := range []string{"input.jsonl.zst", "input.jsonl.xz", "input.jsonl.bz2"} {
		data := mustRead(t, filepath.Join("../../backtest/testdata/compressed", name))
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got := runCLI(t, time.Minute, nil, nil, "backtest", "--input", in)
		if got.code != 0 || got.stdout != ref.stdout {
			t.Errorf("%s: exit %d, alerts differ from the plain file's (%d vs %d bytes)\n%s", name, got.code, len(got.stdout), len(ref.stdout), got.stderr)
		}
		got = runCLI(t, time.Minute, nil, data, "backtest", "--input", "-", "--quiet")
		if got.code != 0 || got.stdout != refStdin.stdout {
			t.Errorf("%s on standard input: exit %d, alerts differ", name, got.code)
		}
	}

	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 10<<20)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	if err := os.WriteFile(in, random, 0o644); err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, time.Minute, nil, nil, "backtest", "--input", in)
	if got.code != 1 || !strings.Contains(got.stderr, "not a text file") || got.stdout != "" {
		t.Errorf("10 MB of random bytes: exit %d, stdout %d bytes, stderr:\n%s", got.code, len(got.stdout), got.stderr)
	}
}

// TestBacktestCLIPartialOutput: a truncated .gz makes the binary exit 1
// with --out left as it was, the alerts of the records before the damage
// in --out.partial (a subset, by alert_id, of a complete run's), the
// summary file saying failed with the error, and stderr saying where the
// partial result is.
func TestBacktestCLIPartialOutput(t *testing.T) {
	dir := t.TempDir()
	gz := filepath.Join(dir, "big.jsonl.gz")
	if r := runCLI(t, time.Minute, nil, nil, "gen", "--out", gz, "--count", "30000", "--seed", "3", "--attack-rate", "0.01", "--quiet"); r.code != 0 {
		t.Fatalf("gen: exit %d\n%s", r.code, r.stderr)
	}
	full := runCLI(t, time.Minute, nil, nil, "backtest", "--input", gz, "--quiet")
	data := mustRead(t, gz)
	cut := filepath.Join(dir, "cut.jsonl.gz")
	if err := os.WriteFile(cut, data[:len(data)*6/10], 0o644); err != nil {
		t.Fatal(err)
	}
	out, sumFile := filepath.Join(dir, "alerts.jsonl"), filepath.Join(dir, "summary.json")
	if err := os.WriteFile(out, []byte("the last results\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, time.Minute, nil, nil, "backtest", "--input", cut, "--out", out, "--summary-json", sumFile)
	if r.code != 1 || !strings.Contains(r.stderr, "unexpected EOF") || !strings.Contains(r.stderr, out+".partial") || !strings.Contains(r.stderr, "FAILED") {
		t.Errorf("truncated gzip: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if got := string(mustRead(t, out)); got != "the last results\n" {
		t.Errorf("--out was changed to %q", got)
	}
	fullIDs := map[string]bool{}
	for _, a := range alertIDs(t, full.stdout) {
		fullIDs[a] = true
	}
	partial := alertIDs(t, string(mustRead(t, out+".partial")))
	if len(partial) == 0 || len(partial) >= len(fullIDs) {
		t.Errorf("%d alerts in the partial file, %d in a complete run", len(partial), len(fullIDs))
	}
	for _, id := range partial {
		if !fullIDs[id] {
			t.Errorf("partial alert %s is not in the complete run", id)
		}
	}
	var sum backtest.Summary
	if err := json.Unmarshal(mustRead(t, sumFile), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Status != "failed" || !strings.Contains(sum.Error, "unexpected EOF") || sum.Records == 0 {
		t.Errorf("summary: status %q error %q records %d", sum.Status, sum.Error, sum.Records)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// TestBacktestCLIInterrupt: SIGINT while the input is still arriving
// makes the binary say "interrupted", not "context canceled", exit 1,
// leave --out as it was and write a summary with status interrupted.
func TestBacktestCLIInterrupt(t *testing.T) {
	dir := t.TempDir()
	out, sumFile := filepath.Join(dir, "alerts.jsonl"), filepath.Join(dir, "summary.json")
	if err := os.WriteFile(out, []byte("the last results\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cliBinary(t), "backtest", "--input", "-", "--out", out, "--summary-json", sumFile)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A write of more than a pipe's buffer returns once the process reads
	// standard input, so its signal handler is installed by then.
	if _, err := stdin.Write(bytes.Repeat(mustRead(t, goldenInput), 20)); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(os.Interrupt)
	if err = waitExit(cmd, 30*time.Second); errors.Is(err, errStillRunning) {
		t.Fatalf("%v of SIGINT\n%s", err, errb.String())
	}
	stdin.Close()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("exit: %v, want status 1", err)
	}
	if s := errb.String(); !strings.Contains(s, "msiguard: backtest: interrupted") || strings.Contains(s, "context canceled") {
		t.Errorf("stderr:\n%s", s)
	}
	if got := string(mustRead(t, out)); got != "the last results\n" {
		t.Errorf("--out was changed to %q", got)
	}
	var sum backtest.Summary
	if err := json.Unmarshal(mustRead(t, sumFile), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Status != "interrupted" {
		t.Errorf("summary status %q, want interrupted", sum.Status)
	}
}

// alertIDs returns the alert_id of each alert line.
func alertIDs(t *testing.T, lines string) []string {
	t.Helper()
	var ids []string
	for _, l := range strings.Split(strings.TrimSpace(lines), "\n") {
		if l == "" {
			continue
		}
		var a struct {
			ID string `json:"alert_id"`
		}
		if err := json.Unmarshal([]byte(l), &a); err != nil || a.ID == "" {
			t.Fatalf("not an alert line: %.100s (%v)", l, err)
		}
		ids = append(ids, a.ID)
	}
	return ids
}

// TestBacktestCLIEmptyRange: a topic range that holds no record (--from
// after the newest record, or an empty topic) warns on standard error
// and still exits 0; a range with records does not warn.
func TestBacktestCLIEmptyRange(t *testing.T) {
	c := kafkatest.Start(t)
	if c.SASL() != nil || c.TLSConfig() != nil {
		t.Skip("plaintext broker needed")
	}
	full, empty := kafkatest.UniqueName(t, "sysmon"), kafkatest.UniqueName(t, "empty")
	c.CreateTopic(t, full, 2)
	c.CreateTopic(t, empty, 1)
	brokers := strings.Join(c.Addrs(), ",")
	if r := runCLI(t, time.Minute, nil, nil, "gen", "--brokers", brokers, "--topic", full, "--count", "500", "--quiet"); r.code != 0 {
		t.Fatalf("gen: exit %d\n%s", r.code, r.stderr)
	}
	future := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	for _, tc := range []struct {
		args []string
		warn bool
	}{
		{[]string{"--topic", full, "--from", future}, true},
		{[]string{"--topic", empty}, true},
		{[]string{"--topic", full}, false},
	} {
		r := runCLI(t, time.Minute, nil, nil, append([]string{"backtest", "--brokers", brokers}, tc.args...)...)
		warned := strings.Contains(r.stderr, "WARNING: topic") && strings.Contains(r.stderr, "holds no records")
		if r.code != 0 || warned != tc.warn {
			t.Errorf("%q: exit %d, warned %v (want %v):\n%s", tc.args, r.code, warned, tc.warn, r.stderr)
		}
	}
}
