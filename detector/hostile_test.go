package detector

import (
	"strings"
	"testing"
)

// hostileRecords are records built to make the prefilter (and, for those
// holding the token, evaluation) work hard, of about n bytes each
// (issue 14 item 6).
func hostileRecords(n int) []struct{ name, raw string } {
	fill := func(unit string) string { return strings.Repeat(unit, n/len(unit)+1)[:n] }
	jsonRecord := `{"EventID":1,"Computer":"WS01","UtcTime":"2025-01-02 03:04:05.678","ParentImage":"C:\\Windows\\System32\\cmd.exe","CommandLine":"` + fill("msiexec ") + `"}`
	xmlRecord := `<Event><System><EventID>1</EventID><Computer>WS01</Computer></System><EventData><Data Name='UtcTime'>2025-01-02 03:04:05.678</Data><Data Name='ParentImage'>C:\Windows\System32\cmd.exe</Data><Data Name='CommandLine'>` + fill("msiexec &amp; ") + `</Data></EventData></Event>`
	return []struct{ name, raw string }{
		{"msiexec-spaced", fill("msiexec ")},
		{"msiexecmsiexec", fill("msiexec")},
		{"MSIEXECMSIEXEC", fill("MSIEXEC")},
		{"xXxX", fill("xX")},
		{"xxxx", fill("x")},
		{"xmsiexec", fill("xmsiexec ")},
		{"pct41msiexec", fill("%41msiexec")},
		{"no-anchor", fill("a")},
		{"json-match", jsonRecord},
		{"xml-match", xmlRecord},
	}
}

// TestPrefilterWorkIsLinear counts the prefilter's work on hostile 1 MB and
// 4 MB records: every byte is handed to bytes.IndexByte at most once per
// anchor case (at most 2n bytes) and each anchor is checked at most once
// (at most the count of x and X bytes), so the cost is linear in n. The
// answer must also be the plain token test's.
func TestPrefilterWorkIsLinear(t *testing.T) {
	d := mustSeed(t)
	for _, n := range []int{1 << 20, 4 << 20} {
		for _, h := range hostileRecords(n) {
			var w scanWork
			b := []byte(h.raw)
			got := d.term.walk(b, &w)
			anchors := strings.Count(h.raw, "x") + strings.Count(h.raw, "X")
			if w.searched > 2*len(b) || w.checks > anchors {
				t.Errorf("%s, %d bytes: %d bytes searched, %d checks; want at most %d and %d",
					h.name, len(b), w.searched, w.checks, 2*len(b), anchors)
			}
			if got != d.Prefilter(b) || got != naiveToken(h.raw, "msiexec") {
				t.Errorf("%s: walk = %v, Prefilter = %v, plain token test = %v", h.name, got, d.Prefilter(b), naiveToken(h.raw, "msiexec"))
			}
		}
	}
}

// BenchmarkHostile times the prefilter and the whole evaluation on the
// hostile records at 1 MB and 4 MB: MB/s that stays flat from 1 MB to 4 MB
// is a cost linear in the size.
func BenchmarkHostile(b *testing.B) {
	d := mustSeed(b)
	for _, size := range []struct {
		name string
		n    int
	}{{"1MB", 1 << 20}, {"4MB", 4 << 20}} {
		for _, h := range hostileRecords(size.n) {
			raw := []byte(h.raw)
			b.Run("prefilter/"+h.name+"/"+size.name, func(b *testing.B) {
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					d.Prefilter(raw)
				}
			})
			b.Run("evaluate/"+h.name+"/"+size.name, func(b *testing.B) {
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					d.Evaluate(raw)
				}
			})
		}
	}
}

// FuzzPrefilter compares the prefilter with the plain token definition
// (Splunk breakers, prefilter.go) and checks the bounds of its work on
// every input.
func FuzzPrefilter(f *testing.F) {
	for _, s := range []string{"msiexec", " MsiExec.exe ", "xmsiexec", "%20msiexec", "%2cMSIEXEC)", "msiexecx", `\nmsiexec`, "xXxXmsiexec."} {
		f.Add([]byte(s))
	}
	d := mustSeed(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		var w scanWork
		got := d.term.walk(raw, &w)
		if want := naiveToken(string(raw), "msiexec"); got != want || d.Prefilter(raw) != want {
			t.Fatalf("Prefilter(%q) = %v, plain token test %v", raw, got, want)
		}
		anchors := strings.Count(string(raw), "x") + strings.Count(string(raw), "X")
		if w.searched > 2*len(raw) || w.checks > anchors {
			t.Fatalf("%q: %d bytes searched, %d checks", raw, w.searched, w.checks)
		}
	})
}
