package detector

import (
	"reflect"
	"testing"
)

// FuzzEvaluate checks the invariants of the detector on arbitrary bytes:
// it never panics, it is deterministic, and the prefilter never rejects a
// record that the full evaluation accepts (or dead-letters).
func FuzzEvaluate(f *testing.F) {
	base := sysmonEvent()
	for _, s := range Shapes() {
		f.Add([]byte(base.build(s)))
		f.Add([]byte(base.with(func(e *ev) { e.computer = "" }).build(s)))
	}
	f.Add([]byte(`{"EventID":1,"CommandLine":"msiexec"`))
	f.Add([]byte(`<Event><System><EventID>1</EventID></System><EventData><Data Name='ParentImage'>cmd.exe</Data><Data Name='CommandLine'>msiexec &amp; x</Data></EventData></Event>`))
	f.Add([]byte(`%20msiexec`))
	d, err := New(SeedRule(), Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		pre := d.Prefilter(raw)
		if d.Prefilter(raw) != pre {
			t.Fatal("Prefilter is not deterministic")
		}
		if pre != naiveToken(string(raw), "msiexec") {
			t.Fatalf("Prefilter = %v disagrees with the plain token test", pre)
		}
		m1, ok1, err1 := d.Evaluate(raw)
		m2, ok2, err2 := d.Evaluate(raw)
		if ok1 != ok2 || !reflect.DeepEqual(m1, m2) || (err1 == nil) != (err2 == nil) ||
			(err1 != nil && err1.Error() != err2.Error()) {
			t.Fatalf("Evaluate is not deterministic: %v %v / %v %v", ok1, err1, ok2, err2)
		}
		if (ok1 || err1 != nil) && !pre {
			t.Fatalf("prefilter rejected a record that evaluation accepted: %v %v", ok1, err1)
		}
		if ok1 && (m1.Host == "" || len(m1.Values) != len(d.rule.Fields)) {
			t.Fatalf("match without host or with %d values", len(m1.Values))
		}
	})
}
