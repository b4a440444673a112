package rules_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/msiguard/msiguard/internal/corpus"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/rules"
)

// TestSeedRuleSelectsAsDetector compiles the seed rule from its YAML file
// and checks, on every record of detector/testdata/golden/*/input.* and of
// the no-match corpus, that it selects exactly the records detector.Evaluate
// selects and the oracle's want.jsonl expects (a match, or a match that
// cannot be grouped: missing_host, bad_time), and that every output field
// of a match has the detector's value. The -exe cases run the seed rule
// with TERM(exe) for TERM(msiexec) OR "msiexec.exe", as their rule.json
// does for the detector, so that real records reach field extraction.
//
// Records the detector cannot parse (malformed, unknown_shape) have no
// fields to compare; they are counted, and must not be selected by the
// rule when this test's own parser cannot read them either.
func TestSeedRuleSelectsAsDetector(t *testing.T) {
	seed, err := rules.LoadFile("24143.44553.yml")
	if err != nil {
		t.Fatal(err)
	}
	progs := map[string]*rules.Compiled{}
	for _, term := range []string{"msiexec", "exe"} {
		r := seed.Clone()
		if term != "msiexec" {
			r.Logic = strings.Replace(r.Logic, `TERM(msiexec) OR "msiexec.exe"`, "TERM("+term+")", 1)
			r.File = "seed-with-term-" + term
			r = reparse(t, r)
		}
		c, err := rules.Compile(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		progs[term] = c
	}
	// The detector runs the same compiled rules: what this test checks is
	// that its record readers feed them what this test's own plain reader
	// does, and that both agree with the oracle.
	dets := map[string]*detector.Detector{}
	for term, c := range progs {
		d, err := detector.New([]*rules.Compiled{c}, detector.Options{})
		if err != nil {
			t.Fatal(err)
		}
		dets[term] = d
	}

	cases := append(corpus.GoldenCases(t, "../detector/testdata/golden"),
		corpus.Golden{Name: "nomatch-corpus", Term: "msiexec", Input: "../detector/testdata/nomatch-corpus.jsonl"})

	var total, selected, unparsed int
	for _, cs := range cases {
		t.Run(cs.Name, func(t *testing.T) {
			c, d := progs[cs.Term], dets[cs.Term]
			outs := c.Program.Outputs()
			lines := corpus.Lines(t, cs.Input)
			var want [][]byte
			if cs.Want != "" {
				want = corpus.Lines(t, cs.Want)
			}
			for i, line := range lines {
				total++
				m, ok, err := d.Evaluate(line)
				var derr *detector.Error
				reason := ""
				if errors.As(err, &derr) {
					reason = string(derr.Reason)
				}
				rec, perr := parsePlain(line)
				if perr != nil {
					rec = plainRecord{}
				}
				got := c.Program.Match(line, rec)
				if reason == string(detector.ReasonMalformed) || reason == string(detector.ReasonUnknownShape) {
					unparsed++
					if got && perr != nil {
						t.Errorf("line %d: selected a record neither parser can read", i+1)
					}
					continue
				}
				detSel := ok || reason == string(detector.ReasonMissingHost) || reason == string(detector.ReasonBadTime)
				if got != detSel {
					t.Errorf("line %d: rule selects %v, detector %v (%v)\n%s", i+1, got, detSel, err, line)
					continue
				}
				if want != nil {
					var w struct{ Result, Reason string }
					json.Unmarshal(want[i], &w)
					oracleSel := w.Result == "match" || w.Reason == "missing_host" || w.Reason == "bad_time"
					if got != oracleSel {
						t.Errorf("line %d: rule selects %v, oracle %s", i+1, got, want[i])
					}
				}
				if !got {
					continue
				}
				selected++
				if !ok {
					continue // selected, but the detector could not group it
				}
				detFields := d.Rules()[0].Program.Outputs()
				for oi, name := range outs {
					v, _ := c.Program.OutputValue(oi, rec)
					di := slices.Index(detFields, name)
					if di < 0 {
						t.Fatalf("output %s unknown to the detector", name)
					}
					if v != m.Values[di] {
						t.Errorf("line %d: %s = %q, detector %q", i+1, name, v, m.Values[di])
					}
				}
			}
		})
	}
	t.Logf("%d records, %d selected, %d unparseable", total, selected, unparsed)
	if selected < 300 {
		t.Errorf("only %d records selected: the comparison exercises too little", selected)
	}
}

// reparse round-trips a rule whose Logic was edited in code through its
// YAML form, so that it compiles with positions.
func reparse(t *testing.T, r *rules.Rule) *rules.Rule {
	t.Helper()
	body, _ := json.Marshal(r.Logic) // a JSON string is a YAML double-quoted scalar
	src := "id: '" + r.ID + "'\nlogic_format: Splunk\nlogic: " + string(body) + "\n"
	out, err := rules.Parse(r.File, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	out.Title, out.TechniqueIDs = r.Title, r.TechniqueIDs
	return out
}
