package streamtest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/msiguard/msiguard/window"
)

func published(alerts ...*window.Alert) map[string][]Published {
	pub := map[string][]Published{}
	for _, a := range alerts {
		pub[a.AlertID] = append(pub[a.AlertID], Published{Alert: a, Value: a.AppendJSON(nil),
			Revision: strconv.Itoa(a.Revision), RuleID: a.RuleID})
	}
	return pub
}

func alert(id string, late bool, first, last int64, offsets []int64, procs ...string) *window.Alert {
	a := &window.Alert{AlertID: id, RuleID: "r", Host: "H", Time: 100, Late: late, Revision: 1,
		EventCount: len(offsets), FirstSeen: first, LastSeen: last,
		Fields: []window.Field{{Name: "process", Values: procs}}}
	for _, o := range offsets {
		a.Sources = append(a.Sources, window.Source{Topic: "t", Offset: o})
	}
	return a
}

// CheckMerged accepts a bucket split between its on-time alert and a late
// one when together they hold its events, and reports what is missing or
// extra otherwise.
func TestCheckMerged(t *testing.T) {
	want := map[string]*window.Alert{"A": alert("A", false, 1, 3, []int64{1, 2, 3}, "p1", "p2")}
	onTime := alert("A", false, 1, 2, []int64{1, 2}, "p1")
	lateOK := alert("L", true, 3, 3, []int64{3}, "p2")
	tests := []struct {
		name     string
		pub      map[string][]Published
		problem  string
		wantLate int
	}{
		{"whole on time", published(want["A"]), "", 0},
		{"split", published(onTime, lateOK), "", 1},
		{"late event missing", published(onTime), "differs", 0},
		{"late value missing", published(onTime, alert("L", true, 3, 3, []int64{3}, "p1")), "differs", 1},
		{"on-time alert missing", published(lateOK), "missing", 1},
		{"other bucket", published(want["A"], &window.Alert{AlertID: "X", RuleID: "r", Host: "H", Time: 7, Revision: 1, EventCount: 1}), "unexpected", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems, late := CheckMerged(tt.pub, want)
			joined := strings.Join(problems, "\n")
			if tt.problem == "" && len(problems) > 0 || tt.problem != "" && !strings.Contains(joined, tt.problem) {
				t.Errorf("problems %q, want one containing %q", joined, tt.problem)
			}
			if late != tt.wantLate {
				t.Errorf("late = %d, want %d", late, tt.wantLate)
			}
		})
	}
}
