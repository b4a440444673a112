package backtest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/ruletest"
	"github.com/msiguard/msiguard/internal/sysmongen"
	"github.com/msiguard/msiguard/rules"
	"github.com/msiguard/msiguard/window"
)

// TestManyRulesOnePass runs the seed rule and the repository's test rules
// (ruletest.Catalog: events 1, 3, 7, 11, 13 and 22, spans of a second and
// a minute) together over the real recordings (the archives unpacked) and
// a generated stream of every shape, and checks the output against each
// rule run alone: one pass over many rules must write exactly the union of
// the alert lines the rules write one by one, byte for byte, sorted as
// one run sorts. The seed rule's lines are therefore the seed-only run's.
func TestManyRulesOnePass(t *testing.T) {
	cs := ruletest.Catalog(t)
	inputs := realInputs(t)
	gen := generatedLines(t, sysmongen.Config{Seed: 11, Hosts: 40, AttackRate: 0.01}, 20_000)
	inputs = append(inputs, [2]string{"generated", gen})

	alerted := map[string]int{}
	for _, in := range inputs {
		all := runFiles(t, Config{Detector: mustDetector(t, cs...)}, in)
		var union []*window.Alert
		var unionLines []string
		for _, c := range cs {
			alone := runFiles(t, Config{Detector: mustDetector(t, c)}, in)
			for _, a := range alone.alerts(t) {
				if a.RuleID != c.Rule.ID {
					t.Fatalf("%s: rule %s alone wrote an alert of %s", in[0], c.Rule.ID, a.RuleID)
				}
				alerted[c.Rule.ID]++
				union = append(union, a)
			}
			unionLines = append(unionLines, linesOf(alone.out)...)
		}
		got := linesOf(all.out)
		if !slices.Equal(sorted(got), sorted(unionLines)) {
			t.Errorf("%s: %d alert lines in one pass, the rules alone write %d; they differ", in[0], len(got), len(unionLines))
		}
		// The one-pass order is (_time, host, on-time first, alert_id).
		slices.SortStableFunc(union, compareAlerts)
		var want []string
		for _, a := range union {
			want = append(want, string(a.AppendJSON(nil)))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: one pass writes its alerts in another order than (_time, host, late, alert_id)", in[0])
		}
		if all.sum.Records != countLines(in[1]) {
			t.Errorf("%s: %d records read, want %d", in[0], all.sum.Records, countLines(in[1]))
		}
	}
	t.Logf("alerts per rule over %d inputs: %v", len(inputs), alerted)
	if n := len(alerted); n < 4 {
		t.Errorf("only %d of %d rules alerted on the inputs (%v): the test proves little", n, len(cs), slices.Sorted(maps.Keys(alerted)))
	}
}

func mustDetector(t testing.TB, cs ...*rules.Compiled) *detector.Detector {
	t.Helper()
	d, err := detector.New(cs, detector.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func linesOf(b []byte) []string {
	var out []string
	for _, l := range splitLines(b) {
		out = append(out, string(l))
	}
	return out
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

func countLines(s string) int64 {
	n := int64(strings.Count(s, "\n"))
	if s != "" && !strings.HasSuffix(s, "\n") {
		n++
	}
	return n
}

// realInputs returns every recording of shared/datasets/real, the zip and
// tar.gz archives unpacked (their JSON members concatenated), the gzip
// file decompressed, as (name, content) inputs.
func realInputs(t *testing.T) [][2]string {
	t.Helper()
	dir := realDatasetDir(t)
	names, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for _, p := range names {
		name := filepath.Base(p)
		var content []byte
		switch {
		case strings.HasSuffix(name, ".zip"):
			zr, err := zip.OpenReader(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range zr.File {
				if strings.HasSuffix(f.Name, ".json") {
					r, err := f.Open()
					if err != nil {
						t.Fatal(err)
					}
					content = appendLines(content, readAllOf(t, r))
					r.Close()
				}
			}
			zr.Close()
		case strings.HasSuffix(name, ".tar.gz"):
			tr := tar.NewReader(gunzip(t, p))
			for {
				h, err := tr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if h.Typeflag == tar.TypeReg && strings.HasSuffix(h.Name, ".json") && !strings.HasPrefix(filepath.Base(h.Name), "._") {
					content = appendLines(content, readAllOf(t, tr))
				}
			}
		case strings.HasSuffix(name, ".jsonl.gz"):
			content = readAllOf(t, gunzip(t, p))
		case strings.HasSuffix(name, ".jsonl"):
			content = readFile(t, p)
		default:
			continue
		}
		if len(content) == 0 {
			t.Fatalf("%s holds no JSON records", name)
		}
		out = append(out, [2]string{name, string(content)})
	}
	if len(out) < 6 {
		t.Fatalf("%d recordings read from %s, want the 6 of PROVENANCE.md", len(out), dir)
	}
	return out
}

// appendLines appends b to dst as whole lines.
func appendLines(dst, b []byte) []byte {
	dst = append(dst, b...)
	if len(dst) > 0 && dst[len(dst)-1] != '\n' {
		dst = append(dst, '\n')
	}
	return dst
}

// gunzip opens the gzip file p for reading; it is closed with the test.
func gunzip(t *testing.T, p string) io.Reader {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return zr
}

func readAllOf(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// generatedLines returns n records of a sysmongen stream, one per line.
func generatedLines(t *testing.T, cfg sysmongen.Config, n int) string {
	t.Helper()
	g, err := sysmongen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for range n {
		b.Write(g.Next(nil))
		b.WriteByte('\n')
	}
	return b.String()
}
