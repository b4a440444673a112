package detector

import (
	"testing"

	"github.com/msiguard/msiguard/internal/corpus"
)

// hostileRecords are records built to make the prefilter (and, for those
// holding the token, evaluation) work hard, of about n bytes each
// (issue 14 item 6).
func hostileRecords(n int) []corpus.Record {
	jsonRecord := `{"EventID":1,"Computer":"WS01","UtcTime":"2025-01-02 03:04:05.678","ParentImage":"C:\\Windows\\System32\\cmd.exe","CommandLine":"` + corpus.Fill("msiexec ", n) + `"}`
	xmlRecord := `<Event><System><EventID>1</EventID><Computer>WS01</Computer></System><EventData><Data Name='UtcTime'>2025-01-02 03:04:05.678</Data><Data Name='ParentImage'>C:\Windows\System32\cmd.exe</Data><Data Name='CommandLine'>` + corpus.Fill("msiexec &amp; ", n) + `</Data></EventData></Event>`
	return append(corpus.Hostile(n), corpus.Record{Name: "json-match", Raw: jsonRecord}, corpus.Record{Name: "xml-match", Raw: xmlRecord})
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
			raw := []byte(h.Raw)
			b.Run("prefilter/"+h.Name+"/"+size.name, func(b *testing.B) {
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					d.Prefilter(raw)
				}
			})
			b.Run("evaluate/"+h.Name+"/"+size.name, func(b *testing.B) {
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					d.Evaluate(raw)
				}
			})
		}
	}
}

// FuzzPrefilter compares the detector's prefilter with the plain token
// definition (Splunk breakers, rule-semantics.md); rules/segment's
// FuzzMatch also bounds its work.
func FuzzPrefilter(f *testing.F) {
	for _, s := range []string{"msiexec", " MsiExec.exe ", "xmsiexec", "%20msiexec", "%2cMSIEXEC)", "msiexecx", `\nmsiexec`, "xXxXmsiexec."} {
		f.Add([]byte(s))
	}
	d := mustSeed(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		if got, want := d.Prefilter(raw), corpus.PlainToken(string(raw), "msiexec"); got != want {
			t.Fatalf("Prefilter(%q) = %v, plain token test %v", raw, got, want)
		}
	})
}
