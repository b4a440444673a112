package segment

import (
	"strings"
	"testing"

	"github.com/msiguard/msiguard/internal/corpus"
)

// TestMatchWorkIsLinear counts Match's work on hostile 1 MB and 4 MB
// records: every byte is handed to bytes.IndexByte at most once per case of
// the anchor (at most 2n bytes) and each anchor is checked at most once (at
// most the count of x and X bytes), so the cost is linear in n. The answer
// must also be the plain token test's.
func TestMatchWorkIsLinear(t *testing.T) {
	p := NewPattern("msiexec", Any, Any)
	for _, n := range []int{1 << 20, 4 << 20} {
		for _, h := range corpus.Hostile(n) {
			var w work
			b := []byte(h.Raw)
			got := p.walk(b, &w)
			anchors := strings.Count(h.Raw, "x") + strings.Count(h.Raw, "X")
			if w.searched > 2*len(b) || w.checks > anchors {
				t.Errorf("%s, %d bytes: %d bytes searched, %d checks; want at most %d and %d",
					h.Name, len(b), w.searched, w.checks, 2*len(b), anchors)
			}
			if got != corpus.PlainToken(h.Raw, "msiexec") {
				t.Errorf("%s: Match = %v, plain token test = %v", h.Name, got, !got)
			}
		}
	}
}

// FuzzMatch compares Match with the plain token definition and checks the
// bounds of its work on every input.
func FuzzMatch(f *testing.F) {
	for _, s := range []string{"msiexec", " MsiExec.exe ", "xmsiexec", "%20msiexec", "%2cMSIEXEC)", "msiexecx", `\nmsiexec`, "xXxXmsiexec."} {
		f.Add([]byte(s))
	}
	p := NewPattern("msiexec", Any, Any)
	f.Fuzz(func(t *testing.T, raw []byte) {
		var w work
		got := p.walk(raw, &w)
		if want := corpus.PlainToken(string(raw), "msiexec"); got != want || p.Match(raw) != want {
			t.Fatalf("Match(%q) = %v, plain token test %v", raw, got, want)
		}
		anchors := strings.Count(string(raw), "x") + strings.Count(string(raw), "X")
		if w.searched > 2*len(raw) || w.checks > anchors {
			t.Fatalf("%q: %d bytes searched, %d checks", raw, w.searched, w.checks)
		}
	})
}
