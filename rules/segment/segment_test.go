package segment

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/msiguard/msiguard/internal/corpus"
)

// TestAgreesWithPlainDefinition pins the breaker table and boundary rule
// to the plain token definition: every byte on either side of the token,
// random records over an alphabet dense in breakers, %XX sequences and
// case changes, and every real record of the detector's test data.
func TestAgreesWithPlainDefinition(t *testing.T) {
	p := NewPattern("msiexec", Any, Any)
	check := func(rec []byte) {
		t.Helper()
		if got, want := p.Match(rec), corpus.PlainToken(string(rec), "msiexec"); got != want {
			t.Fatalf("%q: Pattern.Match = %v, the plain token test = %v", rec, got, want)
		}
	}
	for c := 0; c < 256; c++ {
		for _, rec := range [][]byte{
			append(append([]byte("a"), byte(c)), "msiexec"...),
			append([]byte("msiexec"), byte(c), 'b'),
			append(append([]byte("%2"), byte(c)), "MsiExec"...),
		} {
			check(rec)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("msiexcMSIEXC%20%3b%2F\\/._-=\" <>:xX0aZ\xc3\x82")
	for range 200000 {
		n := r.IntN(24)
		rec := make([]byte, 0, n+7)
		for range n {
			if r.IntN(8) == 0 {
				rec = append(rec, "msiexec"...)
				continue
			}
			rec = append(rec, alphabet[r.IntN(len(alphabet))])
		}
		check(rec)
	}
	files, _ := filepath.Glob("../../detector/testdata/golden/*/input.*")
	files = append(files, "../../detector/testdata/nomatch-corpus.jsonl")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			check(sc.Bytes())
		}
	}
}

// TestPatterns checks the bounds against examples derived from
// rule-semantics.md item 2 and Splunk's Search Manual ("Event segmentation
// and searching": major segments are broken into minor segments; TERM()
// matches a term that contains minor breakers when it is bounded by major
// breakers).
func TestPatterns(t *testing.T) {
	tests := []struct {
		text        string
		left, right Bound
		raw         string
		want        bool
	}{
		{"msiexec", Any, Any, `C:\Windows\System32\msiexec.exe`, true},
		{"msiexec", Any, Any, `MsiExec.exe -Embedding`, true},
		{"msiexec", Any, Any, `msiexecutor.exe`, false},
		{"msiexec", Any, Any, `xmsiexec.exe`, false},
		{"msiexec", Any, Any, `x %20msiexec`, true},
		// TERM(EventCode=1): a major segment or a prefix of one.
		{"eventcode=1", Major, Any, "LogName=Sysmon\nEventCode=1\n", true},
		{"eventcode=1", Major, Any, "EventCode=10", false},
		{"eventcode=1", Major, Any, "xEventCode=1", false},
		{"eventcode=1", Major, Any, "a.EventCode=1", false},
		{"eventcode=1", Major, Any, "EventCode=1.5", true},
		// Quoted phrases holding breakers.
		{"<eventid>1<", Free, Free, "<EventID>1</EventID>", true},
		{"<eventid>1<", Free, Free, "<EventID>10</EventID>", false},
		{"msiexec.exe", Any, Any, `"cmd" /c MSIEXEC.EXE /i`, true},
		{"msiexec.exe", Any, Any, `xmsiexec.exe`, false},
		{"msiexec.exe", Any, Any, `msiexec.exef`, false},
		{"user not found", Any, Any, "error: User Not Found.", true},
		{"user not found", Any, Any, "user not founder", false},
		// A trailing wildcard: left-bounded only.
		{"msi", Any, Free, `C:\x\MsiExec.exe`, true},
		{"msi", Any, Free, `xmsiexec`, false},
	}
	for _, tt := range tests {
		p := NewPattern(tt.text, tt.left, tt.right)
		if got := p.Match([]byte(tt.raw)); got != tt.want {
			t.Errorf("NewPattern(%q, %d, %d).Match(%q) = %v, want %v", tt.text, tt.left, tt.right, tt.raw, got, tt.want)
		}
	}
}

func TestSegments(t *testing.T) {
	got := Segments("<EventID>1<")
	if len(got) != 2 || got[0] != "eventid" || got[1] != "1" {
		t.Errorf("Segments = %q, want [eventid 1]", got)
	}
}

func TestMatchAllocs(t *testing.T) {
	p := NewPattern("msiexec", Any, Any)
	rec := []byte(`{"Image":"C:\\Windows\\msiexec.exe"}`)
	if n := testing.AllocsPerRun(100, func() { p.Match(rec) }); n != 0 {
		t.Errorf("Match allocates %v times", n)
	}
}
