package backtest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/msiguard/msiguard/window"
)

// Change kinds.
const (
	ChangeAdded   = "added"   // the bucket alerts with the new rules only
	ChangeRemoved = "removed" // the bucket alerts with the old rules only
	ChangeAltered = "altered" // both alert, with other values or counts
)

// A Change is how one alert (one rule's bucket: an alert_id) differs
// between two backtests of the same input: one with the rules in use, one
// with their change.
type Change struct {
	Change  string `json:"change"` // ChangeAdded, ChangeRemoved or ChangeAltered
	AlertID string `json:"alert_id"`
	RuleID  string `json:"rule_id"`
	Host    string `json:"host"`
	Time    int64  `json:"_time"`
	Late    bool   `json:"late"`
	// EventCount is the alert's event_count before and after (0 where it
	// does not exist).
	EventCount [2]int `json:"event_count"`
	// Fields lists, by field name in order, the values only the new alert
	// has (added) and only the old one has (removed). For an added or a
	// removed alert, all its values.
	Fields []FieldChange `json:"fields,omitempty"`
	// Old and New are the alerts compared (nil where absent); not written.
	Old *window.Alert `json:"-"`
	New *window.Alert `json:"-"`
}

// A FieldChange is one field's values that differ.
type FieldChange struct {
	Name    string   `json:"name"`
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
}

// RuleTotals counts one rule's alerts in a Comparison.
type RuleTotals struct {
	RuleID string `json:"rule_id"`
	// Old and New count the rule's alerts in each backtest.
	Old int `json:"before"`
	New int `json:"after"`
	// Unchanged alerts are equal in their values, event counts and first
	// and last event times.
	Unchanged int `json:"unchanged"`
	Added     int `json:"added"`
	Removed   int `json:"removed"`
	Altered   int `json:"altered"`
}

// A Comparison is the difference between two backtests of one input.
type Comparison struct {
	// Changes are sorted by rule id, _time, host, late, alert_id.
	Changes []Change
	// Totals has one entry per rule id of either side, sorted.
	Totals []RuleTotals
}

// Compare returns how the alerts of a backtest with changed rules (new)
// differ from those of the rules in use (old), alert by alert: an alert_id
// hashes the rule id, host and bucket, so a rule keeps its alerts' ids
// across edits as long as it keeps its id. Each side must hold every
// alert_id once (a backtest's final alerts). The alerts are compared on
// their field values, event count and first and last event times; their
// sources, revisions and caps markers are not compared.
func Compare(old, new []*window.Alert) Comparison {
	type pair struct{ old, new *window.Alert }
	byID := map[string]*pair{}
	for _, a := range old {
		byID[a.AlertID] = &pair{old: a}
	}
	for _, a := range new {
		if p, ok := byID[a.AlertID]; ok {
			p.new = a
		} else {
			byID[a.AlertID] = &pair{new: a}
		}
	}
	totals := map[string]*RuleTotals{}
	total := func(id string) *RuleTotals {
		t := totals[id]
		if t == nil {
			t = &RuleTotals{RuleID: id}
			totals[id] = t
		}
		return t
	}
	var c Comparison
	for id, p := range byID {
		a := cmp.Or(p.new, p.old)
		t := total(a.RuleID)
		ch := Change{AlertID: id, RuleID: a.RuleID, Host: a.Host, Time: a.Time, Late: a.Late, Old: p.old, New: p.new}
		switch {
		case p.old == nil:
			t.New++
			t.Added++
			ch.Change = ChangeAdded
		case p.new == nil:
			t.Old++
			t.Removed++
			ch.Change = ChangeRemoved
		default:
			t.Old++
			t.New++
			ch.Change = ChangeAltered
		}
		if p.old != nil {
			ch.EventCount[0] = p.old.EventCount
		}
		if p.new != nil {
			ch.EventCount[1] = p.new.EventCount
		}
		ch.Fields = fieldChanges(p.old, p.new)
		if ch.Change == ChangeAltered {
			if len(ch.Fields) == 0 && ch.EventCount[0] == ch.EventCount[1] &&
				p.old.FirstSeen == p.new.FirstSeen && p.old.LastSeen == p.new.LastSeen {
				t.Unchanged++
				continue
			}
			t.Altered++
		}
		c.Changes = append(c.Changes, ch)
	}
	slices.SortFunc(c.Changes, func(x, y Change) int {
		return cmp.Or(strings.Compare(x.RuleID, y.RuleID), cmp.Compare(x.Time, y.Time), strings.Compare(x.Host, y.Host),
			boolCompare(x.Late, y.Late), strings.Compare(x.AlertID, y.AlertID))
	})
	for _, t := range totals {
		c.Totals = append(c.Totals, *t)
	}
	slices.SortFunc(c.Totals, func(x, y RuleTotals) int { return strings.Compare(x.RuleID, y.RuleID) })
	return c
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// fieldChanges lists the values of new's fields that old lacks and the
// reverse, by field name; either alert may be nil.
func fieldChanges(old, new *window.Alert) []FieldChange {
	vals := func(a *window.Alert) map[string][]string {
		m := map[string][]string{}
		if a != nil {
			for _, f := range a.Fields {
				m[f.Name] = f.Values
			}
		}
		return m
	}
	o, n := vals(old), vals(new)
	names := map[string]bool{}
	for k := range o {
		names[k] = true
	}
	for k := range n {
		names[k] = true
	}
	var out []FieldChange
	for _, name := range slices.Sorted(maps.Keys(names)) {
		fc := FieldChange{Name: name, Added: minus(n[name], o[name]), Removed: minus(o[name], n[name])}
		if len(fc.Added)+len(fc.Removed) > 0 {
			out = append(out, fc)
		}
	}
	return out
}

// minus returns the values of a not in b, in a's order.
func minus(a, b []string) []string {
	var out []string
	for _, v := range a {
		if !slices.Contains(b, v) {
			out = append(out, v)
		}
	}
	return out
}

// WriteJSON writes the changes as JSON lines, then one line of totals per
// rule ({"totals": {...}}).
func (c *Comparison) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range c.Changes {
		if err := enc.Encode(&c.Changes[i]); err != nil {
			return err
		}
	}
	for _, t := range c.Totals {
		if err := enc.Encode(struct {
			Totals RuleTotals `json:"totals"`
		}{t}); err != nil {
			return err
		}
	}
	return nil
}

// WriteText writes a summary for a person: per rule, the counts, then up to
// max changes (all when max < 0), one line each with the fields changed.
func (c *Comparison) WriteText(w io.Writer, max int) error {
	var b strings.Builder
	for _, t := range c.Totals {
		fmt.Fprintf(&b, "compare: rule %s: %d alerts before, %d after: %d unchanged, %d added, %d removed, %d altered\n",
			t.RuleID, t.Old, t.New, t.Unchanged, t.Added, t.Removed, t.Altered)
	}
	for i, ch := range c.Changes {
		if max >= 0 && i == max {
			fmt.Fprintf(&b, "compare: ... and %d more changes (see --compare-out)\n", len(c.Changes)-max)
			break
		}
		late := ""
		if ch.Late {
			late = " (late)"
		}
		fmt.Fprintf(&b, "compare: %-7s %s %s@%d%s events %d -> %d", ch.Change, ch.RuleID, ch.Host, ch.Time, late, ch.EventCount[0], ch.EventCount[1])
		if ch.Change == ChangeAltered {
			for _, f := range ch.Fields {
				fmt.Fprintf(&b, "; %s +%d -%d", f.Name, len(f.Added), len(f.Removed))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
