package window

import (
	"testing"
	"time"
)

// Heal, record by record: an alert the window emitted changes nothing; a
// stale one (lower revision, fewer events) that follows the complete one
// makes the window emit its latest revision again, identical; one holding
// more is merged, and the next revision holds the union.
func TestHeal(t *testing.T) {
	w := mustNew(t, testConfig())
	var r recorder
	w.Add(ev("H", ts(0, 1), 1, "a", "cmd.exe", ""), clk(0), r.emit)
	w.Add(ev("H", ts(0, 2), 2, "b", "cmd.exe", ""), clk(0), r.emit)
	w.Flush(r.emit)
	own := r.take()[0]
	if w.Heal(own, r.emit) || len(r.alerts) != 0 {
		t.Fatalf("healing with its own alert emitted %d", len(r.alerts))
	}
	stale := own.Clone()
	stale.EventCount = 1
	setValues(stale, "process", "a")
	if !w.Heal(stale, r.emit) {
		t.Fatal("a stale alert after the complete one was not healed")
	}
	got := r.take()
	if len(got) != 1 || got[0].Revision != own.Revision || got[0].EventCount != 2 || sameContent(got[0], own) != "" {
		t.Fatalf("healed with %+v, want an identical copy of %+v", got, own)
	}
	more := own.Clone()
	more.Revision, more.EventCount = 1, 3
	setValues(more, "process", "a", "b", "c")
	more.Sources = append(more.Sources, Source{Topic: "sysmon", Offset: 99})
	if !w.Heal(more, r.emit) {
		t.Fatal("an alert holding more was not merged")
	}
	// The merged bucket equals the alert, which is now the latest record:
	// nothing to publish until a new event comes.
	w.Advance(clk(time.Minute), r.emit)
	if got := r.take(); len(got) != 0 {
		t.Fatalf("after the merge: %+v", got)
	}
	w.Add(ev("H", ts(0, 3), 3, "d", "cmd.exe", ""), clk(time.Minute), r.emit)
	w.Flush(r.emit)
	got = r.take()
	if len(got) != 1 || got[0].Revision != 2 || got[0].EventCount != 4 || len(got[0].Values("process")) != 4 {
		t.Fatalf("the next revision after the merge: %+v", *got[0])
	}
	if s := w.Stats(); s.Healed != 1 {
		t.Errorf("Healed = %d, want 1", s.Healed)
	}
	// A bucket the window does not hold is left to its owner.
	other := own.Clone()
	other.Host = "OTHER"
	if w.Heal(other, r.emit) {
		t.Error("healed a bucket of another host")
	}
}

// setValues replaces the values of a's field name.
func setValues(a *Alert, name string, vals ...string) {
	for i := range a.Fields {
		if a.Fields[i].Name == name {
			a.Fields[i].Values = vals
		}
	}
}
