package window

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

type arrival int

const (
	inOrder   arrival = iota // sorted by event time
	bounded                  // event time plus a random delay of up to a few seconds
	unbounded                // any order
)

func (a arrival) String() string { return [...]string{"in-order", "bounded", "unbounded"}[a] }

// step is one input step: an event with the caller's clock reading when it
// arrives, possibly preceded by a clock tick.
type step struct {
	ev      Event
	now     time.Duration
	advance bool // call Advance(now) before adding ev
}

// genEvents returns n random events over hosts and secs seconds, in event
// time order, with no sources yet.
func genEvents(rng *rand.Rand, fields []string, n, hosts, secs int) []Event {
	events := make([]Event, n)
	for i := range events {
		e := Event{
			Host:   fmt.Sprintf("WKS-%03d.corp.example", rng.IntN(hosts)),
			Time:   ts(int64(rng.IntN(secs)), int64(rng.IntN(1000))),
			Values: make([]string, len(fields)),
		}
		if rng.IntN(4) == 0 {
			e.Time += int64(rng.IntN(1e6)) // sub-millisecond digits
		}
		for j := range fields {
			// Field j is present with probability 1/(j+1): the last
			// fields are often absent from a whole bucket.
			if rng.IntN(j+1) == 0 {
				e.Values[j] = fmt.Sprintf("%s-%d", fields[j], rng.IntN(5))
			}
		}
		events[i] = e
	}
	slices.SortStableFunc(events, func(a, b Event) int { return cmp.Compare(a.Time, b.Time) })
	return events
}

// arrange orders events for arrival, splits them across parts partitions
// (offsets in arrival order per partition) and gives each a clock reading.
func arrange(rng *rand.Rand, events []Event, order arrival, parts int) []step {
	events = slices.Clone(events)
	switch order {
	case bounded:
		maxDelay := int64(rng.IntN(8)+1) * 1e9
		keys := make(map[*Event]int64, len(events))
		for i := range events {
			keys[&events[i]] = events[i].Time + rng.Int64N(maxDelay)
		}
		type kv struct {
			e Event
			k int64
		}
		tmp := make([]kv, len(events))
		for i := range events {
			tmp[i] = kv{events[i], keys[&events[i]]}
		}
		slices.SortStableFunc(tmp, func(a, b kv) int { return cmp.Compare(a.k, b.k) })
		for i := range tmp {
			events[i] = tmp[i].e
		}
	case unbounded:
		rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	}
	next := make([]int64, parts)
	maxStep := []time.Duration{time.Millisecond, 200 * time.Millisecond, 2 * time.Second}[rng.IntN(3)]
	var now time.Duration
	steps := make([]step, len(events))
	for i, e := range events {
		p := rng.IntN(parts)
		e.Source = Source{Topic: "sysmon", Partition: int32(p), Offset: next[p]}
		next[p]++
		now += time.Duration(rng.Int64N(int64(maxStep)))
		s := step{ev: e}
		if rng.IntN(10) == 0 {
			now += time.Duration(rng.Int64N(int64(10 * time.Second)))
			s.advance = true
		}
		s.now = now
		steps[i] = s
	}
	return steps
}

func randomEvents(seed uint64, n, hosts, secs int) []Event {
	rng := rand.New(rand.NewPCG(seed, 1))
	var out []Event
	for _, s := range arrange(rng, genEvents(rng, testFields, n, hosts, secs), bounded, 2) {
		out = append(out, s.ev)
	}
	return out
}

// run feeds steps to w and flushes at the end.
func run(w *Window, steps []step, r *recorder) {
	for _, s := range steps {
		if s.advance {
			w.Advance(clk(s.now), r.emit)
		}
		w.Add(s.ev, clk(s.now), r.emit)
	}
	w.Flush(r.emit)
}

var propFields = []string{"process", "parent_process_name", "user", "process_id", "process_hash"}

// For random event sets, arrival orders and partition splits, the latest
// revision of every alert equals the batch computation over the same
// events; revisions only ever add; with retention too small for the delays,
// the on-time and late alerts of a bucket together hold exactly its events.
func TestPropertyBatchEquivalence(t *testing.T) {
	rng := rand.New(rand.NewPCG(2025, 3))
	const scenarios = 400
	exactChecked, lateSeen := 0, 0
	for i := range scenarios {
		cfg := testConfig()
		cfg.Fields = propFields
		cfg.Backtest = rng.IntN(2) == 0
		cfg.Grace = []time.Duration{time.Millisecond, 500 * time.Millisecond, 2 * time.Second}[rng.IntN(3)]
		cfg.IdleTimeout = []time.Duration{100 * time.Millisecond, time.Second, 5 * time.Second}[rng.IntN(3)]
		cfg.MaxSources = []int{3, 100}[rng.IntN(2)]
		exact := rng.IntN(2) == 0
		if exact {
			cfg.Retain = 24 * time.Hour
		} else {
			cfg.Retain = []time.Duration{time.Second, 10 * time.Second}[rng.IntN(2)]
			cfg.RetainBuckets = []int{1, 3, 1000}[rng.IntN(3)]
		}
		order := arrival(rng.IntN(3))
		events := genEvents(rng, cfg.Fields, rng.IntN(200)+1, rng.IntN(6)+1, rng.IntN(30)+1)
		steps := arrange(rng, events, order, rng.IntN(3)+1)
		name := fmt.Sprintf("#%d %s backtest=%v exact=%v", i, order, cfg.Backtest, exact)

		w := mustNew(t, cfg)
		var r recorder
		run(w, steps, &r)
		var fed []Event
		for _, s := range steps {
			fed = append(fed, s.ev)
		}
		want := batch(cfg.Fields, fed)
		stats := w.Stats()
		if exact && stats.LateEvents != 0 {
			t.Fatalf("%s: %d late events with a 24h retention", name, stats.LateEvents)
		}
		if stats.LateEvents > 0 {
			lateSeen++
		}
		checkRevisions(t, name, r.alerts)
		checkAgainstBatch(t, name, cfg, r.alerts, want)
		if stats.LateEvents == 0 {
			exactChecked++
		}
		if stats.Open != 0 {
			t.Fatalf("%s: %d buckets open after Flush", name, stats.Open)
		}
	}
	if exactChecked < scenarios/3 || lateSeen < scenarios/20 {
		t.Errorf("weak coverage: %d exact scenarios, %d with late events", exactChecked, lateSeen)
	}
}

// checkRevisions: per alert_id, revisions are 1, 2, 3... in emission order,
// each holding every value and more events than the one before.
func checkRevisions(t *testing.T, name string, alerts []*Alert) {
	t.Helper()
	prev := make(map[string]*Alert)
	for _, a := range alerts {
		p := prev[a.AlertID]
		wantRev := 1
		if p != nil {
			wantRev = p.Revision + 1
			if !covers(a, p) {
				t.Fatalf("%s: alert %s revision %d lost values of revision %d", name, a.AlertID, a.Revision, p.Revision)
			}
			if a.EventCount <= p.EventCount || a.FirstSeen > p.FirstSeen || a.LastSeen < p.LastSeen {
				t.Fatalf("%s: alert %s revision %d does not extend revision %d", name, a.AlertID, a.Revision, p.Revision)
			}
		}
		if a.Revision != wantRev {
			t.Fatalf("%s: alert %s revision %d, want %d", name, a.AlertID, a.Revision, wantRev)
		}
		prev[a.AlertID] = a
		if len(prev)%8 != 1 {
			continue // a JSON round trip for a sample of alerts is enough
		}
		var back Alert
		if err := back.UnmarshalJSON(a.AppendJSON(nil)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := sameContent(&back, a); d != "" || back.AlertID != a.AlertID || back.Revision != a.Revision {
			t.Fatalf("%s: JSON round trip: %s", name, d)
		}
	}
}

// checkAgainstBatch: per (host, second), the latest on-time alert plus the
// latest of each late alert hold exactly the batch group; with no late
// alert, the on-time alert equals it.
func checkAgainstBatch(t *testing.T, name string, cfg Config, alerts []*Alert, want map[[2]string]*group) {
	t.Helper()
	got := make(map[[2]string][]*Alert)
	for _, a := range latest(alerts) {
		k := [2]string{a.Host, fmt.Sprint(a.Time)}
		got[k] = append(got[k], a)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d (host, second) groups alerted, want %d", name, len(got), len(want))
	}
	for k, g := range want {
		list := got[k]
		onTime := 0
		union := make(map[string][]string)
		count := 0
		first, last := list[0].FirstSeen, list[0].LastSeen
		for _, a := range list {
			if !a.Late {
				onTime++
				if a.AlertID != AlertID(cfg.RuleID, g.host, g.sec) {
					t.Fatalf("%s: %v: alert_id %s", name, k, a.AlertID)
				}
			}
			for _, f := range a.Fields {
				for _, v := range f.Values {
					if !slices.Contains(union[f.Name], v) {
						union[f.Name] = append(union[f.Name], v)
					}
				}
			}
			count += a.EventCount
			first, last = min(first, a.FirstSeen), max(last, a.LastSeen)
			if len(a.Sources) != min(a.EventCount, cfg.MaxSources) || a.SourcesOmitted != a.EventCount-len(a.Sources) {
				t.Fatalf("%s: %v: %d sources, %d omitted, %d events", name, k, len(a.Sources), a.SourcesOmitted, a.EventCount)
			}
		}
		for _, vs := range union {
			slices.Sort(vs)
		}
		if onTime > 1 {
			t.Fatalf("%s: %v: %d on-time alert ids", name, k, onTime)
		}
		if !equalFields(union, g.fields) || count != g.count || first != g.first || last != g.last {
			t.Fatalf("%s: %v: got fields %v count %d first %d last %d\nwant fields %v count %d first %d last %d",
				name, k, union, count, first, last, g.fields, g.count, g.first, g.last)
		}
		if len(list) == 1 && !list[0].Late {
			a := list[0]
			if !equalFields(fieldMap(a), g.fields) {
				t.Fatalf("%s: %v: fields %v, want %v", name, k, fieldMap(a), g.fields)
			}
			if g.count <= cfg.MaxSources && !slices.Equal(sortedSources(a.Sources), sortedSources(g.sources)) {
				t.Fatalf("%s: %v: sources %v, want %v", name, k, a.Sources, g.sources)
			}
		}
	}
}
