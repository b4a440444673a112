package tokenscan

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/msiguard/msiguard/internal/corpus"

	"github.com/msiguard/msiguard/rules/segment"
	"github.com/msiguard/msiguard/rules/spl"
)

func single(tokens ...string) []spl.Prefilter {
	out := make([]spl.Prefilter, len(tokens))
	for i, t := range tokens {
		out[i] = spl.Prefilter{Clauses: [][]string{{t}}}
	}
	return out
}

// TestAgreesWithPattern checks that the one-pass scan finds exactly the
// tokens that segment.Pattern (the detector's test) finds one by one.
func TestAgreesWithPattern(t *testing.T) {
	toks := []string{"msiexec", "exe", "20msiexec", "a", "cmd", "x1", "msi"}
	s, err := New(single(toks...))
	if err != nil {
		t.Fatal(err)
	}
	pats := make([]segment.Pattern, len(toks))
	for i, tok := range toks {
		pats[i] = segment.NewPattern(tok, segment.Any, segment.Any)
	}
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte("msiexcMSIEXC%20%3b%2F\\/._-=\" <>:aAx1d\xc3")
	few, err := New(single(toks[:3]...))
	if err != nil {
		t.Fatal(err)
	}
	scanners := []*Scanner{s, s.onePass(), few, few.onePass()}
	if s.pats != nil || few.pats == nil {
		t.Fatal("strategy thresholds changed")
	}
	h := s.NewHits()
	check := func(rec []byte) {
		t.Helper()
		for _, sc := range scanners {
			sc.Scan(rec, h)
			for i := range sc.tokens {
				if got, want := h.Has(i), pats[i].Match(rec); got != want {
					t.Fatalf("%q: token %q found %v, Pattern %v", rec, toks[i], got, want)
				}
			}
		}
	}
	for range 200000 {
		rec := make([]byte, r.IntN(30))
		for i := range rec {
			rec[i] = alphabet[r.IntN(len(alphabet))]
		}
		check(rec)
	}
	for _, l := range nomatchCorpus(t) {
		check(l)
	}
}

func TestConditions(t *testing.T) {
	s, err := New([]spl.Prefilter{
		{Clauses: [][]string{{"msiexec"}}},
		{Clauses: [][]string{{"rundll32"}, {"javascript", "vbscript"}}},
		{},
		{Clauses: [][]string{{"certutil"}, {"urlcache"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := s.NewHits()
	tests := []struct {
		raw  string
		want []int
	}{
		{"nothing here", []int{2}},
		{`C:\Windows\msiexec.exe`, []int{0, 2}},
		{"rundll32.exe javascript:x", []int{1, 2}},
		{"rundll32.exe", []int{2}},
		{"certutil -urlcache -f", []int{2, 3}},
		{"MSIEXEC VBScript RunDll32 CertUtil", []int{0, 1, 2}},
	}
	for _, tt := range tests {
		s.Scan([]byte(tt.raw), h)
		if got := h.Rules(nil); !slices.Equal(got, tt.want) {
			t.Errorf("%q: rules %v, want %v", tt.raw, got, tt.want)
		}
	}
	for _, bad := range []string{"", "a.b", "Msi"} {
		if _, err := New(single(bad)); err == nil {
			t.Errorf("token %q accepted", bad)
		}
	}
}

func TestScanAllocs(t *testing.T) {
	s, err := New(single(lolbins...))
	if err != nil {
		t.Fatal(err)
	}
	h := s.NewHits()
	lines := nomatchCorpus(t)
	if n := testing.AllocsPerRun(5, func() {
		for _, l := range lines {
			s.Scan(l, h)
		}
	}); n != 0 {
		t.Errorf("Scan allocates %v times per pass", n)
	}
}

func nomatchCorpus(t testing.TB) [][]byte {
	return corpus.Lines(t, "../../detector/testdata/nomatch-corpus.jsonl")
}

// lolbins are 100 tokens the catalog's rules look for: Windows binaries
// abused by attackers (the LOLBAS project's list), the seed's msiexec first.
var lolbins = []string{
	"msiexec", "rundll32", "regsvr32", "mshta", "certutil", "bitsadmin", "wmic", "cscript", "wscript", "schtasks",
	"powershell", "pwsh", "cmstp", "installutil", "regasm", "regsvcs", "msbuild", "odbcconf", "forfiles", "pcalua",
	"mavinject", "msdt", "control", "presentationhost", "bash", "hh", "ieexec", "infdefaultinstall", "msconfig", "msxsl",
	"replace", "rpcping", "runscripthelper", "sc", "scriptrunner", "syncappvpublishingserver", "verclsid", "wab", "xwizard", "atbroker",
	"esentutl", "expand", "extrac32", "findstr", "ftp", "gpscript", "makecab", "mmc", "netsh", "print",
	"reg", "regedit", "regini", "register", "rasautou", "diskshadow", "dnscmd", "dfsvc", "desktopimgdownldr", "cmdkey",
	"cmdl32", "configsecuritypolicy", "conhost", "csc", "certreq", "appinstaller", "wuauclt", "at", "bginfo", "cdb",
	"coregen", "csi", "dnx", "dotnet", "dump64", "dxcap", "excel", "fsi", "msaccess", "msdeploy",
	"mspub", "ntdsutil", "procdump", "rcsi", "remote", "sqldumper", "sqlps", "sqltoolsps", "squirrel", "te",
	"tracker", "update", "vsjitdebugger", "winword", "wsl", "adplus", "agentexecutor", "appvlp", "bcp", "vssadmin",
}

// TestAny checks Any against Scan's rule list, on scanners whose result
// fits the stack (a few rules, with and without an unconditional one) and
// one that does not (every lolbin, more than 64 rules and tokens).
func TestAny(t *testing.T) {
	many := single(lolbins...)
	for len(many) <= 64 {
		many = append(many, single(lolbins...)...)
	}
	recs := [][]byte{[]byte("nothing here"), []byte(`C:\Windows\msiexec.exe`), []byte("rundll32.exe javascript:x"),
		[]byte("rundll32.exe"), []byte("certutil -urlcache -f"), []byte("zzzz forfiles zzzz")}
	recs = append(recs, nomatchCorpus(t)...)
	for name, pfs := range map[string][]spl.Prefilter{
		"conditions": {{Clauses: [][]string{{"msiexec"}}}, {Clauses: [][]string{{"rundll32"}, {"javascript", "vbscript"}}},
			{Clauses: [][]string{{"certutil"}, {"urlcache"}}}},
		"with an unconditional rule": {{Clauses: [][]string{{"msiexec"}}}, {}},
		"one token":                  {{Clauses: [][]string{{"msiexec"}}}},
		"one token, two rules":       {{Clauses: [][]string{{"msiexec"}}}, {Clauses: [][]string{{"msiexec"}, {"msiexec"}}}},
		"two tokens":                 {{Clauses: [][]string{{"msiexec"}}}, {Clauses: [][]string{{"rundll32"}}}},
		"more than 64 rules":         many,
	} {
		s, err := New(pfs)
		if err != nil {
			t.Fatal(err)
		}
		h := s.NewHits()
		some := 0
		for _, rec := range recs {
			s.Scan(rec, h)
			want := len(h.Rules(nil)) > 0
			if want {
				some++
			}
			if got := s.Any(rec, nil); got != want {
				t.Errorf("%s: Any(%.40q) = %v, Scan found rules %v", name, rec, got, h.Rules(nil))
			}
			if got := s.onePass().Any(rec, nil); got != want {
				t.Errorf("%s, one pass: Any(%.40q) = %v, Scan found rules %v", name, rec, got, h.Rules(nil))
			}
		}
		if some == 0 || some == len(recs) && name != "with an unconditional rule" {
			t.Errorf("%s: %d of %d records hit: the cases do not tell true from false", name, some, len(recs))
		}
	}
	s, _ := New(single(lolbins[:10]...))
	if n := testing.AllocsPerRun(5, func() { s.Any(recs[1], nil) }); n != 0 {
		t.Errorf("Any allocates %v times with 10 rules", n)
	}
	s, _ = New(many)
	scratch := s.NewHits()
	if n := testing.AllocsPerRun(5, func() { s.Any(recs[1], scratch) }); !s.Large() || n != 0 {
		t.Errorf("Any with a scratch Hits allocates %v times with %d rules (Large %v)", n, len(many), s.Large())
	}
}
