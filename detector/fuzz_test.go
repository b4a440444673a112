package detector

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/msiguard/msiguard/internal/corpus"
)

// FuzzEvaluate checks the invariants of the detector on arbitrary bytes:
// it never panics, it is deterministic, and the prefilter never rejects a
// record that evaluation accepts (checkPrefilterSound).
func FuzzEvaluate(f *testing.F) {
	base := sysmonEvent()
	for _, s := range Shapes() {
		f.Add([]byte(base.build(s)))
		f.Add([]byte(base.with(func(e *ev) { e.computer = "" }).build(s)))
	}
	f.Add([]byte(`{"EventID":1,"CommandLine":"msiexec"`))
	f.Add([]byte(`<Event><System><EventID>1</EventID></System><EventData><Data Name='ParentImage'>cmd.exe</Data><Data Name='CommandLine'>msiexec &amp; x</Data></EventData></Event>`))
	f.Add([]byte(`%20msiexec`))
	d, err := NewDefault(Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		pre := d.Prefilter(raw)
		if d.Prefilter(raw) != pre {
			t.Fatal("Prefilter is not deterministic")
		}
		m1, ok1, n1, err1 := d.EvaluateNearMiss(raw)
		m2, ok2, n2, err2 := d.EvaluateNearMiss(raw)
		if ok1 != ok2 || n1 != n2 || !reflect.DeepEqual(m1, m2) || (err1 == nil) != (err2 == nil) ||
			(err1 != nil && err1.Error() != err2.Error()) {
			t.Fatalf("Evaluate is not deterministic: %v %v / %v %v", ok1, err1, ok2, err2)
		}
		if err := checkPrefilterSound(d, raw); err != nil {
			t.Fatal(err)
		}
		if ok1 && (m1.Host == "" || len(m1.Values) != len(d.rules[0].Program.Outputs())) {
			t.Fatalf("match without host or with %d values", len(m1.Values))
		}
	})
}

// checkPrefilterSound compares Evaluate with the evaluation that skips the
// prefilter (evaluate), gated by the plain token test instead: when the
// record holds the term as a token, Evaluate must give exactly what the
// unfiltered evaluation gives (so the prefilter never rejects a record the
// evaluation accepts, dead-letters or calls a near miss); when it does
// not, Evaluate must give nothing.
func checkPrefilterSound(d *Detector, raw []byte) error {
	m, ok, near, err := d.EvaluateNearMiss(raw)
	const term = "msiexec" // the seed rule's prefilter token
	token := corpus.PlainToken(string(raw), term)
	if !token {
		if ok || near != "" || err != nil {
			return fmt.Errorf("no %s token, yet Evaluate = %v, %q, %v", term, ok, near, err)
		}
		return nil
	}
	ums, unear, uerr := d.evaluate(raw, nil, func(int) bool { return true })
	uok := len(ums) > 0
	var um Match
	if uok {
		um, unear = ums[0], ""
	}
	if uerr == nil && err != nil || uerr != nil && (err == nil || err.Error() != uerr.Error()) ||
		uok != ok || unear != near || !reflect.DeepEqual(um, m) {
		return fmt.Errorf("the prefilter changed the verdict: Evaluate = %v, %q, %v; without it = %v, %q, %v",
			ok, near, err, uok, unear, uerr)
	}
	return nil
}

// TestPrefilterPropertyCanFail shows that checkPrefilterSound catches a
// prefilter that rejects what evaluation accepts.
func TestPrefilterPropertyCanFail(t *testing.T) {
	raw := []byte(sysmonEvent().build(ShapeFlat))
	d := mustSeed(t)
	if err := checkPrefilterSound(d, raw); err != nil {
		t.Fatalf("the real prefilter: %v", err)
	}
	// The seed rule's evaluation behind a prefilter of a token the record
	// does not hold.
	other := seedVariant(t, Options{}, seedTerm, "TERM(qqqq)")
	broken := &Detector{rules: d.rules, scanner: other.scanner, limits: d.limits, ids: d.ids}
	broken.hits.New = func() any { return other.scanner.NewHits() }
	if err := checkPrefilterSound(broken, raw); err == nil {
		t.Fatal("a prefilter that rejects every record passed the property")
	}
}
