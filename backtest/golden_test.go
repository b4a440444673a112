package backtest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/corpus"
	"github.com/msiguard/msiguard/internal/ruletest"
	"github.com/msiguard/msiguard/rules"
	"github.com/msiguard/msiguard/window"
)

// expectedAlert is an alert as an independent batch computation over the
// oracle's per-line results gives it: all matches of one (host, second),
// every field's distinct non-empty values sorted bytewise.
type expectedAlert struct {
	Host        string
	Sec         int64
	Count       int
	First, Last int64
	Fields      map[string][]string
}

type key struct {
	host string
	sec  int64
}

// wantLine is one line of detector/testdata/golden/*/want.jsonl, written
// by scripts/oracle/oracle.py (an independent Python implementation).
type wantLine struct {
	Line   int64             `json:"line"`
	Result string            `json:"result"`
	Reason string            `json:"reason"`
	Host   string            `json:"host"`
	Time   string            `json:"time"`
	Fields map[string]string `json:"fields"`
}

// groupOracle groups the oracle's matches per (host, floor second): the
// Splunk `bin span=1s | stats values(*) as * by _time, host` of the rule,
// computed in one batch.
func groupOracle(t *testing.T, want []wantLine) map[key]*expectedAlert {
	t.Helper()
	out := map[key]*expectedAlert{}
	for _, w := range want {
		if w.Result != "match" {
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, w.Time)
		if err != nil {
			t.Fatalf("oracle time %q: %v", w.Time, err)
		}
		ns := ts.UnixNano()
		sec := ns / 1e9
		if ns < 0 && ns%1e9 != 0 {
			sec--
		}
		k := key{w.Host, sec}
		a := out[k]
		if a == nil {
			a = &expectedAlert{Host: w.Host, Sec: sec, First: ns, Last: ns, Fields: map[string][]string{}}
			out[k] = a
		}
		a.Count++
		a.First, a.Last = min(a.First, ns), max(a.Last, ns)
		for name, v := range w.Fields {
			if v != "" && !slices.Contains(a.Fields[name], v) {
				a.Fields[name] = append(a.Fields[name], v)
			}
		}
	}
	for _, a := range out {
		for _, vs := range a.Fields {
			slices.Sort(vs)
		}
	}
	return out
}

// mergeAlerts folds a run's alerts per (host, second), adding a bucket's
// late alerts to its on-time one, so that the result can be compared with
// the batch computation whatever was late.
func mergeAlerts(as []*window.Alert) map[key]*expectedAlert {
	out := map[key]*expectedAlert{}
	for _, a := range as {
		k := key{a.Host, a.Time}
		e := out[k]
		if e == nil {
			e = &expectedAlert{Host: a.Host, Sec: a.Time, First: a.FirstSeen, Last: a.LastSeen, Fields: map[string][]string{}}
			out[k] = e
		}
		e.Count += a.EventCount
		e.First, e.Last = min(e.First, a.FirstSeen), max(e.Last, a.LastSeen)
		for _, f := range a.Fields {
			for _, v := range f.Values {
				if !slices.Contains(e.Fields[f.Name], v) {
					e.Fields[f.Name] = append(e.Fields[f.Name], v)
				}
			}
		}
	}
	for _, a := range out {
		for _, vs := range a.Fields {
			slices.Sort(vs)
		}
	}
	return out
}

func diffExpected(t *testing.T, got, want map[key]*expectedAlert) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("missing alert for host %q second %d (%d events)", k.host, k.sec, w.Count)
			continue
		}
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		if string(gj) != string(wj) {
			t.Errorf("alert %q %d:\n got %s\nwant %s", k.host, k.sec, gj, wj)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected alert for host %q second %d", k.host, k.sec)
		}
	}
}

// TestGoldenDetectorCases replays every corpus of detector/testdata/golden
// (real records of every shape, records derived from them, synthetic edge
// cases) as a file, and checks the alerts against an independent batch
// grouping of the oracle's expected matches, and the dead letters against
// the oracle's expected errors, line by line. Each case runs with the rule
// its rule.json names (the `exe` variants give the real recordings many
// matches), through the engine API: the CLI has no rule override.
func TestGoldenDetectorCases(t *testing.T) {
	for _, gc := range corpus.GoldenCases(t, "../detector/testdata/golden") {
		t.Run(gc.Name, func(t *testing.T) {
			d, err := detector.New([]*rules.Compiled{ruletest.Term(t, gc.Term)}, detector.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var want []wantLine
			for _, line := range splitLines(readFile(t, gc.Want)) {
				var w wantLine
				if err := json.Unmarshal(line, &w); err != nil {
					t.Fatal(err)
				}
				want = append(want, w)
			}
			expected := groupOracle(t, want)
			data := string(readFile(t, gc.Input))

			// Default window settings: late alerts may split a bucket; their
			// union must be the batch answer.
			r := runFiles(t, Config{Detector: d}, [2]string{"input", data})
			diffExpected(t, mergeAlerts(r.alerts(t)), expected)

			// A retention longer than the data's time span: nothing is late,
			// each (host, second) is exactly one alert.
			long := runFiles(t, Config{Detector: d, Window: window.Config{Retain: 1 << 62, RetainBuckets: 1 << 20}}, [2]string{"input", data})
			as := long.alerts(t)
			if len(as) != len(expected) {
				t.Errorf("with a long retention: %d alerts, want %d (one per host and second)", len(as), len(expected))
			}
			for _, a := range as {
				if a.Late || a.Revision < 1 {
					t.Errorf("alert %s: late=%v revision=%d", a.AlertID, a.Late, a.Revision)
				}
				if a.AlertID != window.AlertID(d.Rules()[0].Rule.ID, a.Host, a.Time) {
					t.Errorf("alert %s is not the on-time id of %q %d", a.AlertID, a.Host, a.Time)
				}
			}
			checkSorted(t, as)

			// Dead letters: one per oracle error, same line, same reason.
			var wantDL []string
			matches := 0
			for _, w := range want {
				switch w.Result {
				case "error":
					wantDL = append(wantDL, fmt.Sprintf("input:%d:%s", w.Line, w.Reason))
				case "match":
					matches++
				}
			}
			var gotDL []string
			for _, dl := range r.deadLetters(t) {
				gotDL = append(gotDL, fmt.Sprintf("%s:%d:%s", dl.File, dl.Line, dl.Reason))
			}
			if strings.Join(gotDL, "\n") != strings.Join(wantDL, "\n") {
				t.Errorf("dead letters:\n got %q\nwant %q", gotDL, wantDL)
			}
			if r.sum.Matches != int64(matches) || r.sum.Records != int64(len(want)) || r.sum.DeadLettersTotal != int64(len(wantDL)) {
				t.Errorf("summary: %d records %d matches %d dead letters, want %d %d %d",
					r.sum.Records, r.sum.Matches, r.sum.DeadLettersTotal, len(want), matches, len(wantDL))
			}
			t.Logf("%d records, %d matches, %d alerts, %d dead letters", len(want), matches, len(expected), len(wantDL))
		})
	}
}

// checkSorted verifies the final output's order: (_time, host), on-time
// first, and each alert_id once.
func checkSorted(t *testing.T, as []*window.Alert) {
	t.Helper()
	seen := map[string]bool{}
	for i, a := range as {
		if seen[a.AlertID] {
			t.Errorf("alert_id %s appears twice", a.AlertID)
		}
		seen[a.AlertID] = true
		if i > 0 && compareAlerts(as[i-1], a) >= 0 {
			t.Errorf("alerts %d and %d out of order: (%d %q) then (%d %q)", i-1, i, as[i-1].Time, as[i-1].Host, a.Time, a.Host)
		}
	}
}
