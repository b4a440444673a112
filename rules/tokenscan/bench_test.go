package tokenscan

import (
	"fmt"
	"testing"

	"github.com/coregx/ahocorasick"

	"github.com/msiguard/msiguard/rules/segment"
)

// Benchmarks over detector/testdata/nomatch-corpus.jsonl (1 531 real
// records, 3.1 MB), one call per record as the pipeline makes them:
//
//	go test -run '^$' -bench . -count 5 ./rules/tokenscan/
//
// BenchmarkScan: this package with 1, 10 and 100 rules (one token each,
// lolbins[:n]), as New chooses (one token: its own memchr scan; 10 and 100:
// the one pass); BenchmarkScanOnePass: the one pass for all three; BenchmarkPatternOne: one segment.Pattern, the seed
// rule's scan today; BenchmarkPatternOne: segment.Pattern for msiexec (the
// detector's algorithm, for a single token); BenchmarkAhoCorasick:
// github.com/coregx/ahocorasick over the same 100 tokens, which needs the
// record lower-cased into a buffer first (it has no case-insensitive mode)
// and, to find every bounded token, FindAllOverlapping, which allocates.

func benchLines(b *testing.B) ([][]byte, int64) {
	lines := nomatchCorpus(b)
	var n int64
	for _, l := range lines {
		n += int64(len(l))
	}
	return lines, n
}

func BenchmarkScan(b *testing.B) { benchScan(b, false) }

// BenchmarkScanOnePass forces the one pass for every rule count, to show
// its cost does not grow with the number of rules.
func BenchmarkScanOnePass(b *testing.B) { benchScan(b, true) }

func benchScan(b *testing.B, onePass bool) {
	lines, total := benchLines(b)
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			s, err := New(single(lolbins[:n]...))
			if err != nil {
				b.Fatal(err)
			}
			if onePass {
				s = s.onePass()
			}
			h := s.NewHits()
			hits := 0
			b.SetBytes(total)
			b.ReportAllocs()
			for b.Loop() {
				for _, l := range lines {
					s.Scan(l, h)
					if h.any {
						hits++
					}
				}
			}
			b.ReportMetric(float64(hits)/float64(b.N), "records-with-tokens/op")
		})
	}
}

func BenchmarkPatternOne(b *testing.B) {
	lines, total := benchLines(b)
	p := segment.NewPattern("msiexec", segment.Any, segment.Any)
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			p.Match(l)
		}
	}
}

func BenchmarkAhoCorasick(b *testing.B) {
	lines, total := benchLines(b)
	for _, n := range []int{1, 100} {
		ac, err := ahocorasick.NewBuilder().AddStrings(lolbins[:n]).Build()
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 0, 1<<20)
		lower := func(l []byte) []byte {
			buf = buf[:0]
			for _, c := range l {
				buf = append(buf, segment.Lower(c))
			}
			return buf
		}
		b.Run(fmt.Sprintf("IsMatch/tokens=%d", n), func(b *testing.B) {
			b.SetBytes(total)
			b.ReportAllocs()
			for b.Loop() {
				for _, l := range lines {
					ac.IsMatch(lower(l))
				}
			}
		})
		b.Run(fmt.Sprintf("FindAllOverlapping/tokens=%d", n), func(b *testing.B) {
			b.SetBytes(total)
			b.ReportAllocs()
			for b.Loop() {
				for _, l := range lines {
					for _, m := range ac.FindAllOverlapping(lower(l)) {
						_ = segment.LeftBounded(buf, m.Start) && segment.RightBounded(buf, m.End)
					}
				}
			}
		})
	}
}
