package detector

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/msiguard/msiguard/internal/corpus"
)

// TestGolden runs each corpus in testdata/golden/<case>/ — real records from
// shared/datasets/real, records derived from them in the shapes no public
// recording here has, and synthetic edge cases — through the detector and
// compares every line with want.jsonl. want.jsonl is written by an
// independent Python implementation of the rule (scripts/oracle/oracle.py),
// never by this code; see testdata/README.md.
func TestGolden(t *testing.T) {
	for _, gc := range corpus.GoldenCases(t, "testdata/golden") {
		t.Run(gc.Name, func(t *testing.T) {
			d := termVariant(t, gc.Term)
			lines := corpus.Lines(t, gc.Input)
			want := corpus.Lines(t, gc.Want)
			if len(want) != len(lines) {
				t.Fatalf("%d input lines, %d expected results", len(lines), len(want))
			}
			matches := 0
			for i, line := range lines {
				got := goldenResult(d, i+1, line)
				if got["result"] == "match" {
					matches++
				}
				var w map[string]any
				if err := json.Unmarshal(want[i], &w); err != nil {
					t.Fatalf("want line %d: %v", i+1, err)
				}
				gotJSON, _ := json.Marshal(got)
				var g map[string]any
				json.Unmarshal(gotJSON, &g)
				if !reflect.DeepEqual(g, w) {
					t.Errorf("line %d:\n got %s\nwant %s", i+1, gotJSON, want[i])
				}
			}
			t.Logf("%d records, %d matches", len(lines), matches)
		})
	}
}

// goldenResult renders one evaluation in the oracle's format.
func goldenResult(d *Detector, line int, raw []byte) map[string]any {
	m, ok, err := d.Evaluate(raw)
	out := map[string]any{"line": line}
	var de *Error
	switch {
	case errors.As(err, &de):
		out["result"] = "error"
		out["reason"] = string(de.Reason)
	case err != nil:
		out["result"] = "error"
		out["reason"] = err.Error()
	case !ok:
		out["result"] = "nomatch"
	default:
		out["result"] = "match"
		out["shape"] = m.Shape.String()
		out["host"] = m.Host
		out["time"] = time.Unix(0, m.Time).UTC().Format("2006-01-02T15:04:05.000000000Z")
		fields := map[string]string{}
		for i, name := range outputs(d) {
			if m.Values[i] != "" {
				fields[name] = m.Values[i]
			}
		}
		out["fields"] = fields
	}
	return out
}

// TestOracleFile compares the detector with the oracle's output over any
// file, for checks too large to commit (BENCHMARKS.md, section Detector):
//
//	python3 scripts/oracle/oracle.py FILE --term exe -o WANT
//	MSIGUARD_ORACLE_INPUT=FILE MSIGUARD_ORACLE_WANT=WANT MSIGUARD_ORACLE_TERM=exe go test -run TestOracleFile ./detector/
func TestOracleFile(t *testing.T) {
	input, wantPath := os.Getenv("MSIGUARD_ORACLE_INPUT"), os.Getenv("MSIGUARD_ORACLE_WANT")
	if input == "" || wantPath == "" {
		t.Skip("set MSIGUARD_ORACLE_INPUT and MSIGUARD_ORACLE_WANT")
	}
	d := termVariant(t, os.Getenv("MSIGUARD_ORACLE_TERM"))
	lines, want := corpus.Lines(t, input), corpus.Lines(t, wantPath)
	if len(lines) != len(want) {
		t.Fatalf("%d input lines, %d expected results", len(lines), len(want))
	}
	matches, bad := 0, 0
	for i, line := range lines {
		got := goldenResult(d, i+1, line)
		if got["result"] == "match" {
			matches++
		}
		gotJSON, _ := json.Marshal(got)
		var g, w map[string]any
		json.Unmarshal(gotJSON, &g)
		if err := json.Unmarshal(want[i], &w); err != nil {
			t.Fatalf("want line %d: %v", i+1, err)
		}
		if !reflect.DeepEqual(g, w) {
			if bad++; bad <= 10 {
				t.Errorf("line %d:\n got %s\nwant %s", i+1, gotJSON, want[i])
			}
		}
	}
	t.Logf("%d records, %d matches, %d disagreements", len(lines), matches, bad)
}

// termVariant is the seed rule, or, for a term other than msiexec, the seed
// rule with TERM(term) for its TERM(msiexec) OR "msiexec.exe" (the -exe
// golden cases reach field extraction with records that do not mention
// msiexec, as their rule.json says).
func termVariant(t testing.TB, term string) *Detector {
	t.Helper()
	if term == "" || term == "msiexec" {
		return mustSeed(t)
	}
	return seedVariant(t, Options{}, seedTerm, "TERM("+term+")")
}
