package detector

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/msiguard/msiguard/internal/corpus"
)

// corpusPath holds real non-matching Sysmon records from six shippers (see
// testdata/README.md), one per line.
var corpusPath = envOr("MSIGUARD_CORPUS", "testdata/nomatch-corpus.jsonl")

func loadCorpus(b *testing.B) (lines [][]byte, total int64) {
	b.Helper()
	if _, err := os.Stat(corpusPath); err != nil {
		b.Skipf("corpus missing: %v", err)
	}
	lines = corpus.Lines(b, corpusPath)
	for _, l := range lines {
		total += int64(len(l))
	}
	return lines, total
}

// BenchmarkPrefilter runs the prefilter over every record of the real
// non-matching corpus; bytes/s is the figure that matters.
func BenchmarkPrefilter(b *testing.B) {
	d := mustSeed(b)
	benchCorpus(b, func(l []byte) { d.Prefilter(l) })
}

// BenchmarkEvaluateCorpus is the detector's cost on the real stream: the
// prefilter for all records plus full evaluation of the few hits.
func BenchmarkEvaluateCorpus(b *testing.B) {
	d := mustSeed(b)
	benchCorpus(b, func(l []byte) { d.Evaluate(l) })
}

// benchCorpus times each on every record of the non-matching corpus.
func benchCorpus(b *testing.B, each func([]byte)) {
	lines, total := loadCorpus(b)
	b.SetBytes(total)
	b.ReportAllocs()
	cpu := startCPU(b)
	for b.Loop() {
		for _, l := range lines {
			each(l)
		}
	}
	cpu.report(b)
	b.ReportMetric(float64(len(lines)), "records/op")
}

// BenchmarkEvaluateMatch evaluates one matching record per shape with
// Evaluate, as the pipeline and backtests do: prefilter, validation, shape
// detection, extraction, the rule, host, time and the Match's own copy of
// its values.
func BenchmarkEvaluateMatch(b *testing.B) {
	d := mustSeed(b)
	for _, shape := range Shapes() {
		raw := []byte(sysmonEvent().build(shape))
		b.Run(shape.String(), func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			cpu := startCPU(b)
			for b.Loop() {
				if _, ok, err := d.Evaluate(raw); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
			cpu.report(b)
		})
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// BenchmarkXMLReaders compares the two XML readers on the matching XML
// record: readXML (the fast scanner, which reads it) and readXMLStd
// (encoding/xml, the verdict for everything the fast scanner leaves).
// "hit1pct" is the detector's cost per record of a stream of real XML
// renderings (testdata/golden/derived-xml-seed) in which 1% of records hit
// the prefilter: the prefilter on 100 records plus one read, per op, so
// ns/op divided by 100 is the cost per record.
func BenchmarkXMLReaders(b *testing.B) {
	d := mustSeed(b)
	hit := []byte(sysmonEvent().build(ShapeXML))
	var misses [][]byte
	var missBytes int64
	for len(misses) < 99 {
		for _, l := range corpus.Lines(b, "testdata/golden/derived-xml-seed/input.xml.txt") {
			if len(misses) < 99 && !d.Prefilter(l) {
				misses = append(misses, l)
				missBytes += int64(len(l))
			}
		}
	}
	readers := []struct {
		name string
		read func(s string, raw []byte, r *record) *Error
	}{
		{"fast", readXML},
		{"encoding-xml", func(_ string, raw []byte, r *record) *Error { return readXMLStd(raw, r) }},
	}
	for _, rd := range readers {
		b.Run("match/"+rd.name, func(b *testing.B) {
			b.SetBytes(int64(len(hit)))
			b.ReportAllocs()
			s := string(hit)
			for b.Loop() {
				var r record
				if err := rd.read(s, hit, &r); err != nil || r.data[fParentImage] == "" {
					b.Fatal(err)
				}
			}
		})
		b.Run("hit1pct/"+rd.name, func(b *testing.B) {
			b.SetBytes(missBytes + int64(len(hit)))
			b.ReportAllocs()
			for b.Loop() {
				for _, l := range misses {
					if d.Prefilter(l) {
						b.Fatal("a miss hits")
					}
				}
				if d.Prefilter(hit) {
					var r record
					if err := rd.read(string(hit), hit, &r); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkJSONRead splits the reading of one matching JSON record per
// shape: "check" is checkJSON (gjson.ValidBytes after counting brackets),
// "encoding-json-valid" the iterative alternative to it (json.Valid),
// "walk" the gjson walk alone (readJSON), "check+walk" what Evaluate does.
// gjson has no walk that validates as it goes: the choice is which
// validator runs before the walk. "flat+message" is the flat record with
// an unused 1.2 KB Message member of escaped text, as NXLog and OTRF
// exports carry one: what an unused member costs.
func BenchmarkJSONRead(b *testing.B) {
	type input struct {
		name string
		raw  []byte
	}
	var inputs []input
	for _, shape := range Shapes() {
		if shape != ShapeXML {
			inputs = append(inputs, input{shape.String(), []byte(sysmonEvent().build(shape))})
		}
	}
	flat := sysmonEvent().build(ShapeFlat)
	message := `{"Message":"` + strings.Repeat(`Image: C:\\Windows\\System32\\msiexec.exe\r\n`, 30) + `",`
	inputs = append(inputs, input{"flat+message", []byte(message + flat[1:])})
	for _, in := range inputs {
		raw := in.raw
		s := string(raw)
		steps := []struct {
			name string
			run  func()
		}{
			{"check", func() { _ = checkJSON(raw, ShapeAuto) }},
			{"encoding-json-valid", func() { _ = json.Valid(raw) }},
			{"walk", func() { var r record; _ = readJSON(s, ShapeAuto, &r) }},
			{"check+walk", func() {
				var r record
				if checkJSON(raw, ShapeAuto) == nil {
					_ = readJSON(s, ShapeAuto, &r)
				}
			}},
		}
		for _, st := range steps {
			b.Run(in.name+"/"+st.name, func(b *testing.B) {
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					st.run()
				}
			})
		}
	}
}
