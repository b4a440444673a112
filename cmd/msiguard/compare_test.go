package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/msiguard/msiguard/backtest"
	"github.com/msiguard/msiguard/window"
)

// TestBacktestCompareCLI runs `backtest --compare` over a generated file
// and checks its JSON lines against two plain backtests of the same file
// (the seed rule, then --rule tuned-generated.yml) compared by backtest.Compare, its
// text against the totals, and its refusals.
func TestBacktestCompareCLI(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	// explorer.exe added to the parents, WS-FIN-* and parent cmd.exe excluded.
	tuned := "../../rules/testdata/tuned-generated.yml"
	if r := runCLI(t, time.Minute, nil, nil, "gen", "--out", in, "--count", "30000", "--seed", "8", "--attack-rate", "0.01", "--decoy-rate", "0.02", "--quiet"); r.code != 0 {
		t.Fatalf("gen: exit %d\n%s", r.code, r.stderr)
	}
	cmpOut, newOut := filepath.Join(dir, "cmp.jsonl"), filepath.Join(dir, "new.jsonl")
	r := runCLI(t, time.Minute, nil, nil, "backtest", "--input", in, "--compare", tuned, "--compare-out", cmpOut, "--out", newOut)
	if r.code != 0 {
		t.Fatalf("backtest --compare: exit %d\n%s", r.code, r.stderr)
	}
	old := runCLI(t, time.Minute, nil, nil, "backtest", "--input", in, "--quiet")
	cur := runCLI(t, time.Minute, nil, nil, "backtest", "--input", in, "--rule", tuned, "--quiet")
	if old.code != 0 || cur.code != 0 {
		t.Fatalf("plain backtests: exit %d and %d", old.code, cur.code)
	}
	if got := string(mustRead(t, newOut)); got != cur.stdout {
		t.Errorf("--out under --compare differs from the changed rule's own backtest (%d vs %d bytes)", len(got), len(cur.stdout))
	}
	c := backtest.Compare(parseAlerts(t, old.stdout), parseAlerts(t, cur.stdout))
	var want bytes.Buffer
	if err := c.WriteJSON(&want); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, cmpOut); !bytes.Equal(got, want.Bytes()) {
		t.Errorf("--compare-out differs from Compare of the two backtests:\n got %.300s\nwant %.300s", got, want.Bytes())
	}
	tot := c.Totals[0]
	if tot.Added == 0 || tot.Removed == 0 || tot.Altered == 0 {
		t.Errorf("the tuning shows no added, removed or altered alerts: %+v", tot)
	}
	line := "compare: rule 24143.44553: "
	if !strings.Contains(r.stdout, line) || !strings.Contains(r.stdout, " added, ") {
		t.Errorf("standard output lacks the totals line:\n%.500s", r.stdout)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--input", "-", "--compare", tuned}, "standard input can be read once"},
		{[]string{"--input", in, "--compare", tuned, "--out", "-"}, "standard output has the comparison"},
		{[]string{"--input", in, "--compare", tuned, "--emit-revisions"}, "does not combine with --emit-revisions"},
		{[]string{"--input", in, "--compare-out", cmpOut}, "--compare-out needs --compare"},
		{[]string{"--input", in, "--compare", filepath.Join(dir, "missing.yml")}, "missing.yml"},
	} {
		r := runCLI(t, time.Minute, nil, nil, append([]string{"backtest"}, tc.args...)...)
		if r.code != 2 && r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr lacks %q:\n%s", tc.args, r.code, tc.want, r.stderr)
		}
	}
}

func parseAlerts(t *testing.T, lines string) []*window.Alert {
	t.Helper()
	var out []*window.Alert
	for _, l := range strings.Split(strings.TrimSpace(lines), "\n") {
		if l == "" {
			continue
		}
		a := new(window.Alert)
		if err := a.UnmarshalJSON([]byte(l)); err != nil {
			t.Fatalf("alert %q: %v", l, err)
		}
		out = append(out, a)
	}
	return out
}
