package backtest

import (
	"strings"
	"testing"
)

// A python-evtx rendering of a matching process creation writes
// <EventID Qualifiers="">1</EventID>: Splunk's literal "<EventID>1<" finds
// nothing, so there is no alert (rule-semantics.md), and the summary says
// why instead of leaving the user with zero alerts and no reason.
func TestNearMissesInSummary(t *testing.T) {
	golden := string(readFile(t, "../detector/testdata/golden/synthetic-xml/input.xml.txt"))
	line := strings.Split(golden, "\n")[1] // the oracle's line 2: a match
	if !strings.Contains(line, "<EventID>1</EventID>") {
		t.Fatalf("line 2 of synthetic-xml is not the expected event 1 record: %.80s", line)
	}
	near := strings.Replace(line, "<EventID>1</EventID>", `<EventID Qualifiers="">1</EventID>`, 1)
	r := runFiles(t, Config{}, [2]string{"near.xml", line + "\n" + near + "\n"})
	if r.sum.Matches != 1 || r.sum.NearMisses["event_id_literal"] != 1 {
		t.Fatalf("matches %d, near misses %v; want 1 and event_id_literal 1", r.sum.Matches, r.sum.NearMisses)
	}
	var b strings.Builder
	if err := r.sum.WriteText(&b); err != nil || !strings.Contains(b.String(), "1 near misses") {
		t.Errorf("summary does not report the near miss (%v):\n%s", err, b.String())
	}
}
