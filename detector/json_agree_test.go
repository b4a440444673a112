package detector

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJSONReadersAgree compares the production scanner (evalJSON) with the
// gjson-based reference reader on every JSON record the tests have: the
// generated edge cases in all shapes, the golden corpora and the real
// non-matching corpus. Both must read the same record or the same error.
func TestJSONReadersAgree(t *testing.T) {
	var records []string
	base := sysmonEvent()
	for _, s := range Shapes() {
		if s == ShapeXML {
			continue
		}
		records = append(records, base.build(s),
			base.with(func(e *ev) { e.computer = ""; e.utcTime = "" }).build(s),
			base.with(func(e *ev) { e.eventID = "1"; e.data["ProcessId"] = 42 }).build(s))
	}
	files, _ := filepath.Glob("testdata/golden/*/input.jsonl")
	files = append(files, corpusPath)
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			records = append(records, sc.Text())
		}
		fh.Close()
	}
	if len(records) < 30 {
		t.Fatalf("only %d records to compare", len(records))
	}
	for i, raw := range records {
		for _, shape := range append(Shapes(), ShapeAuto) {
			if shape == ShapeXML {
				continue
			}
			var fast, ref record
			buf := make([]byte, 0, 64)
			errFast := evalJSON(raw, shape, &fast, &buf)
			errRef := evalJSONReference(raw, shape, &ref)
			if (errFast == nil) != (errRef == nil) || (errFast != nil && errFast.Reason != errRef.Reason) {
				t.Fatalf("record %d, shape %v: scanner error %v, reference error %v\n%s", i, shape, errFast, errRef, clipRecord(raw))
			}
			if errFast == nil && fast != ref {
				t.Fatalf("record %d, shape %v: readers disagree\nscanner:   %+v\nreference: %+v\n%s", i, shape, fast, ref, clipRecord(raw))
			}
		}
	}
	t.Logf("%d records agree in every shape", len(records))
}

func clipRecord(s string) string {
	if len(s) > 600 {
		return s[:600] + "..."
	}
	return strings.TrimSpace(s)
}
