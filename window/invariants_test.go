package window

import (
	"container/list"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// checkInvariants verifies the window's internal bookkeeping: the bucket
// map, the host records, the open and revisable orders and the idle hosts
// agree.
func checkInvariants(w *Window) error {
	open, rev := listed(&w.open), listed(&w.revisable)
	if len(open)+len(rev) != len(w.buckets) {
		return fmt.Errorf("%d open and %d revisable buckets ordered, %d held", len(open), len(rev), len(w.buckets))
	}
	var prev *bucket
	for _, b := range open {
		if b.state != stateOpen || w.buckets[b.key] != b {
			return fmt.Errorf("open order: %v has state %d or is not held", bk(b), b.state)
		}
		if prev != nil && b.touch < prev.touch {
			return fmt.Errorf("open order: %v touched before its predecessor", bk(b))
		}
		if !slices.Contains(b.hs.open, b) {
			return fmt.Errorf("open bucket %v missing from its host's list", bk(b))
		}
		prev = b
	}
	nrev := make(map[*hostState]int)
	prev = nil
	for _, b := range rev {
		if b.state != stateRevisable || w.buckets[b.key] != b {
			return fmt.Errorf("revisable order: %v has state %d or is not held", bk(b), b.state)
		}
		if prev != nil && b.touch < prev.touch {
			return fmt.Errorf("revisable order: %v kept before its predecessor", bk(b))
		}
		nrev[b.hs]++
		prev = b
	}
	if len(rev) > w.cfg.RetainBuckets {
		return fmt.Errorf("revisable: %d held, cap %d", len(rev), w.cfg.RetainBuckets)
	}
	for key, b := range w.buckets {
		if b.key != key || b.hs != key.hs || w.hosts[b.hs.name] != b.hs {
			return fmt.Errorf("bucket %v filed under %v, or its host is not remembered", bk(b), key)
		}
	}
	idle := 0
	for name, hs := range w.hosts {
		if hs.name != name {
			return fmt.Errorf("host %q filed under %q", hs.name, name)
		}
		if hs.nrev != nrev[hs] {
			return fmt.Errorf("host %s: nrev %d, %d revisable buckets", name, hs.nrev, nrev[hs])
		}
		for _, b := range hs.open {
			if b.hs != hs || b.state != stateOpen {
				return fmt.Errorf("host %s: open bucket %v not open or not its own", name, bk(b))
			}
		}
		busy := len(hs.open) > 0 || hs.nrev > 0
		if busy == w.idleHosts.Contains(hs) {
			return fmt.Errorf("host %s: %d open, %d revisable, idle %v", name, len(hs.open), hs.nrev, !busy)
		}
		if !busy {
			idle++
		}
	}
	if idle != w.idleHosts.Len() || idle > w.cfg.RetainHosts {
		return fmt.Errorf("idle hosts: %d remembered, %d ordered, cap %d", idle, w.idleHosts.Len(), w.cfg.RetainHosts)
	}
	return nil
}

// listed returns the buckets of l, front first, checking that each holds
// its element.
func listed(l *list.List) []*bucket {
	var out []*bucket
	for e := l.Front(); e != nil; e = e.Next() {
		b := e.Value.(*bucket)
		if b.elem != e {
			panic(fmt.Sprintf("bucket %v does not hold its element", bk(b)))
		}
		out = append(out, b)
	}
	return out
}

// eachRevisable calls f for every revisable bucket.
func (w *Window) eachRevisable(f func(*bucket)) {
	for _, b := range listed(&w.revisable) {
		f(b)
	}
}

// Random streams with tiny bounds (a revisable bucket or two, a host or
// two remembered, short retention), random restores, flushes and clock
// jumps: the bookkeeping stays consistent after every call, and every
// alert's fields stay sorted and distinct.
func TestPropertyInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(99, 5))
	for i := range 300 {
		cfg := testConfig()
		cfg.Fields = propFields
		cfg.Backtest = rng.IntN(3) == 0
		cfg.Grace = []time.Duration{time.Millisecond, time.Second}[rng.IntN(2)]
		cfg.IdleTimeout = []time.Duration{100 * time.Millisecond, 2 * time.Second}[rng.IntN(2)]
		cfg.Retain = []time.Duration{500 * time.Millisecond, 5 * time.Second, time.Hour}[rng.IntN(3)]
		cfg.RetainBuckets = []int{1, 2, 5, 1000}[rng.IntN(4)]
		cfg.RetainHosts = []int{1, 2, 1000}[rng.IntN(3)]
		cfg.MaxSources = []int{1, 3}[rng.IntN(2)]
		events := genEvents(rng, cfg.Fields, rng.IntN(150)+1, rng.IntN(6)+1, rng.IntN(60)+1)
		steps := arrange(rng, events, arrival(rng.IntN(3)), rng.IntN(3)+1)
		w := mustNew(t, cfg)
		var r recorder
		check := func(what string, j int) {
			t.Helper()
			if err := checkInvariants(w); err != nil {
				t.Fatalf("scenario %d, after %s at step %d: %v", i, what, j, err)
			}
		}
		for j, s := range steps {
			switch rng.IntN(20) {
			case 0:
				w.Flush(r.emit)
				check("Flush", j)
			case 1:
				if len(r.alerts) > 0 {
					a := r.alerts[rng.IntN(len(r.alerts))]
					if err := w.Restore(a); err != nil {
						t.Fatal(err)
					}
					check("Restore", j)
				}
			}
			if s.advance {
				w.Advance(clk(s.now), r.emit)
				check("Advance", j)
			}
			w.Add(s.ev, clk(s.now), r.emit)
			check("Add", j)
		}
		w.Flush(r.emit)
		check("final Flush", len(steps))
		for _, a := range r.alerts {
			for _, f := range a.Fields {
				for k := 1; k < len(f.Values); k++ {
					if f.Values[k-1] >= f.Values[k] {
						t.Fatalf("scenario %d: field %s not sorted and distinct: %q", i, f.Name, f.Values)
					}
				}
			}
		}
	}
}

// bk names a bucket in failure messages.
func bk(b *bucket) string { return fmt.Sprintf("{%s %d late=%v}", b.hs.name, b.key.sec, b.key.late) }
