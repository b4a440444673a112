package detector

import (
	"strings"
	"testing"

	"github.com/msiguard/msiguard/internal/corpus"
)

// TestNearMiss: an XML Sysmon process creation that mentions msiexec but
// lacks the literal "<EventID>1<" is reported as a near miss, whatever its
// parent; the golden case synthetic-xml line 7 (<EventID Qualifiers="">,
// the oracle says nomatch) is one. Expectations follow NearMiss's doc.
func TestNearMiss(t *testing.T) {
	golden := corpus.Lines(t, "testdata/golden/synthetic-xml/input.xml.txt")[6]
	if !strings.Contains(string(golden), "<EventID Qualifiers=''>1</EventID>") {
		t.Fatalf("synthetic-xml line 7 is not the Qualifiers case: %.200s", golden)
	}
	xml := sysmonEvent().build(ShapeXML)
	tests := []struct {
		name string
		raw  string
		near NearMiss
	}{
		{"golden synthetic-xml line 7", string(golden), NearMissEventIDLiteral},
		{"Qualifiers attribute", strings.Replace(xml, "<EventID>1</EventID>", `<EventID Qualifiers="">1</EventID>`, 1), NearMissEventIDLiteral},
		{"Qualifiers, explorer parent", strings.Replace(strings.Replace(xml, "<EventID>1</EventID>", `<EventID Qualifiers="">1</EventID>`, 1), `System32\cmd.exe`, `explorer.exe`, 1), NearMissEventIDLiteral},
		{"Qualifiers, no computer", strings.Replace(strings.Replace(xml, "<EventID>1</EventID>", `<EventID Qualifiers="">1</EventID>`, 1), "<Computer>WKS-001.corp.example</Computer>", "", 1), NearMissEventIDLiteral},
		{"CDATA event id", strings.Replace(xml, "<EventID>1</EventID>", `<EventID><![CDATA[1]]></EventID>`, 1), NearMissEventIDLiteral},
		{"Qualifiers on event 10", strings.Replace(xml, "<EventID>1</EventID>", `<EventID Qualifiers="">10</EventID>`, 1), ""},
		{"Qualifiers on the Security channel", strings.Replace(strings.Replace(strings.ReplaceAll(xml, "Microsoft-Windows-Sysmon", "Microsoft-Windows-Security-Auditing"), "<EventID>1</EventID>", `<EventID Qualifiers="">1</EventID>`, 1), "Microsoft-Windows-Security-Auditing/Operational", "Security", 1), ""},
		{"Qualifiers without the term", strings.ReplaceAll(strings.Replace(xml, "<EventID>1</EventID>", `<EventID Qualifiers="">1</EventID>`, 1), "msiexec", "notepad"), ""},
		{"the literal in lower case", strings.Replace(xml, "<EventID>1</EventID>", `<EventID Qualifiers="">1</EventID><!--<eventid>1<-->`, 1), ""},
		{"a plain match", xml, ""},
		{"JSON with an EventID object", sysmonEvent().with(func(e *ev) { e.eventID = map[string]any{"#text": "1", "@Qualifiers": ""} }).build(ShapeEVTXMap), ""},
	}
	d := mustSeed(t)
	for _, tt := range tests {
		m, ok, near, err := d.EvaluateNearMiss([]byte(tt.raw))
		if err != nil || near != tt.near {
			t.Errorf("%s: near miss %q, error %v; want %q", tt.name, near, err, tt.near)
		}
		if near != "" && (ok || m.Host != "") {
			t.Errorf("%s: a near miss is not a match", tt.name)
		}
		m2, ok2, err2 := d.Evaluate([]byte(tt.raw))
		if ok2 != ok || m2.Host != m.Host || (err2 == nil) != (err == nil) {
			t.Errorf("%s: Evaluate = %v, %v; EvaluateNearMiss = %v, %v", tt.name, ok2, err2, ok, err)
		}
	}
	if len(NearMisses()) != 1 || NearMisses()[0] != "event_id_literal" {
		t.Errorf("NearMisses() = %q", NearMisses())
	}
}
