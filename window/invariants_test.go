package window

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// checkInvariants verifies the window's internal bookkeeping: the open
// list, the host records, the revisable LRU and the idle-host list agree.
func checkInvariants(w *Window) error {
	open := 0
	var prev *bucket
	for b := w.idleHead; b != nil; b = b.next {
		open++
		if b.prev != prev {
			return fmt.Errorf("open list: broken back link at %v", bk(b))
		}
		if b.state != stateOpen {
			return fmt.Errorf("open list: %v has state %d", bk(b), b.state)
		}
		if prev != nil && b.touch < prev.touch {
			return fmt.Errorf("open list: %v touched before its predecessor", bk(b))
		}
		if w.hosts[b.hs.host] != b.hs {
			return fmt.Errorf("open bucket %v: host record not in the map", bk(b))
		}
		found := false
		for _, c := range b.hs.open {
			found = found || c == b
		}
		if !found {
			return fmt.Errorf("open bucket %v missing from its host's list", bk(b))
		}
		prev = b
	}
	if prev != w.idleTail || open != w.open {
		return fmt.Errorf("open list: %d linked, %d counted", open, w.open)
	}
	nrev := make(map[*hostState]int)
	maxRev := make(map[*hostState]int64)
	total := 0
	for _, id := range w.revisable.Keys() {
		hs, _ := w.revisable.Peek(id)
		if hs.id != id || w.hosts[hs.host] != hs {
			return fmt.Errorf("revisable host %d (%s): id %d, or not in the map", id, hs.host, hs.id)
		}
		if hs.nrev == 0 || hs.rev[hs.head].b == nil {
			return fmt.Errorf("revisable host %s: %d buckets, oldest %v", hs.host, hs.nrev, hs.rev[hs.head].b)
		}
		var last int64
		for i, e := range hs.rev {
			b := e.b
			if b == nil {
				continue
			}
			if e.kept != b.touch {
				return fmt.Errorf("revisable host %s: %v kept at %d by the list, %d by the bucket", hs.host, bk(b), e.kept, b.touch)
			}
			if i < hs.head || int(b.revAt) != i || b.hs != hs || b.state != stateRevisable {
				return fmt.Errorf("revisable host %s: slot %d (head %d) holds %v at %d, state %d", hs.host, i, hs.head, bk(b), b.revAt, b.state)
			}
			if b.touch < last {
				return fmt.Errorf("revisable host %s: %v kept before its predecessor", hs.host, bk(b))
			}
			if hs.revIdx != nil && hs.revIdx[revSlot{b.sec, b.late}] != b {
				return fmt.Errorf("revisable host %s: %v not indexed", hs.host, bk(b))
			}
			last = b.touch
			nrev[hs]++
			maxRev[hs] = max(maxRev[hs], b.sec)
		}
		if hs.revIdx != nil && len(hs.revIdx) != nrev[hs] {
			return fmt.Errorf("revisable host %s: %d indexed, %d held", hs.host, len(hs.revIdx), nrev[hs])
		}
		total += nrev[hs]
	}
	if total != w.nrev || total > w.cfg.RetainBuckets {
		return fmt.Errorf("revisable: %d held, %d counted, cap %d", total, w.nrev, w.cfg.RetainBuckets)
	}
	idle := 0
	for name, hs := range w.hosts {
		if hs.host != name {
			return fmt.Errorf("host %q filed under %q", hs.host, name)
		}
		if hs.nrev != nrev[hs] {
			return fmt.Errorf("host %s: nrev %d, %d revisable buckets", name, hs.nrev, nrev[hs])
		}
		if hs.nrev > 0 && hs.maxRev < maxRev[hs] {
			return fmt.Errorf("host %s: maxRev %d below %d", name, hs.maxRev, maxRev[hs])
		}
		if hs.nrev == 0 && (hs.maxRev != math.MinInt64 || len(hs.rev) != 0) {
			return fmt.Errorf("host %s: no revisable bucket, maxRev %d, %d slots", name, hs.maxRev, len(hs.rev))
		}
		for _, b := range hs.open {
			if b.hs != hs || b.state != stateOpen {
				return fmt.Errorf("host %s: open bucket %v not open or not its own", name, bk(b))
			}
		}
		busy := len(hs.open) > 0 || hs.nrev > 0
		if busy == hs.linked {
			return fmt.Errorf("host %s: %d open, %d revisable, linked %v", name, len(hs.open), hs.nrev, hs.linked)
		}
		if hs.linked {
			idle++
		}
	}
	n := 0
	for hs := w.idleHostsHead; hs != nil; hs = hs.next {
		n++
		if w.hosts[hs.host] != hs {
			return fmt.Errorf("idle host %s not in the map", hs.host)
		}
	}
	if n != idle || n != w.idleHosts || n > w.cfg.RetainHosts {
		return fmt.Errorf("idle hosts: %d linked, %d flagged, %d counted, cap %d", n, idle, w.idleHosts, w.cfg.RetainHosts)
	}
	return nil
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
func bk(b *bucket) string { return fmt.Sprintf("{%s %d late=%v}", b.hs.host, b.sec, b.late) }
