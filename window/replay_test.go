package window

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// commitPositions is what a caller commits: per partition it has read,
// the safe position if the window holds one, else the position after the
// last event it added.
func commitPositions(t *testing.T, w *Window, consumed map[Partition]int64) map[Partition]int64 {
	t.Helper()
	safe := w.SafePositions()
	out := make(map[Partition]int64, len(consumed))
	for p, next := range consumed {
		if s, ok := safe[p]; ok {
			out[p] = s
		} else {
			out[p] = next
		}
	}
	for p := range safe {
		if _, ok := consumed[p]; !ok {
			t.Fatalf("safe position for unread partition %v", p)
		}
	}
	return out
}

// Feed a window, commit its safe positions at some point, "crash" later
// (no Flush), then start a fresh window: restore every published alert,
// replay every partition from the committed position, go on with the rest
// of the input. The alerts published before the crash and after the
// restart end up, per alert_id, equal to those of an uninterrupted run; the
// restarted window never re-emits what was already published, and emits
// nothing at all for alerts that were already complete.
func TestCrashReplay(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	const scenarios = 400
	checked, restoredAny, absorbedAny := 0, 0, 0
	for i := range scenarios {
		cfg := testConfig()
		cfg.Fields = propFields
		cfg.Grace = []time.Duration{time.Millisecond, 2 * time.Second}[rng.IntN(2)]
		cfg.IdleTimeout = []time.Duration{100 * time.Millisecond, time.Second, 5 * time.Second}[rng.IntN(3)]
		cfg.Retain = []time.Duration{2 * time.Second, 30 * time.Second, time.Hour}[rng.IntN(3)]
		cfg.MaxSources = []int{3, 100}[rng.IntN(2)]
		order := arrival(rng.IntN(2)) // in-order or bounded delays
		events := genEvents(rng, cfg.Fields, rng.IntN(150)+1, rng.IntN(5)+1, rng.IntN(20)+1)
		steps := arrange(rng, events, order, rng.IntN(3)+1)
		name := fmt.Sprintf("#%d %s", i, order)

		whole := mustNew(t, cfg)
		var rw recorder
		run(whole, steps, &rw)
		if whole.Stats().LateEvents > 0 {
			continue // late alerts depend on timing; covered elsewhere
		}
		checked++

		crash := rng.IntN(len(steps) + 1)
		commitAt := rng.IntN(crash + 1)
		before := mustNew(t, cfg)
		var rb recorder
		consumed := make(map[Partition]int64)
		var committed map[Partition]int64
		for j, s := range steps[:crash] {
			if j == commitAt {
				committed = commitPositions(t, before, consumed)
			}
			if s.advance {
				before.Advance(clk(s.now), rb.emit)
			}
			before.Add(s.ev, clk(s.now), rb.emit)
			p, pos := s.ev.Source.position()
			consumed[p] = pos + 1
		}
		if commitAt == crash {
			committed = commitPositions(t, before, consumed)
		}

		after := mustNew(t, cfg)
		published := latest(rb.alerts)
		for _, a := range published {
			if err := after.Restore(a); err != nil {
				t.Fatalf("%s: Restore: %v", name, err)
			}
		}
		var ra recorder
		var crashNow time.Duration
		if crash > 0 {
			crashNow = steps[crash-1].now
		}
		for j, s := range steps {
			p, pos := s.ev.Source.position()
			if pos < committed[p] { // absent: never committed, read from 0
				continue
			}
			now := s.now
			if j < crash {
				now = crashNow // the replay runs fast
			} else if s.advance {
				after.Advance(clk(now), ra.emit)
			}
			after.Add(s.ev, clk(now), ra.emit)
		}
		after.Flush(ra.emit)
		if len(published) > 0 {
			restoredAny++
		}
		if after.Stats().RestoreAbsorbed > 0 {
			absorbedAny++
		}

		want := latest(rw.alerts)
		got := latest(rb.alerts, ra.alerts)
		if len(got) != len(want) {
			t.Fatalf("%s (crash %d, commit %d): %d alert ids, want %d", name, crash, commitAt, len(got), len(want))
		}
		for id, w := range want {
			g, ok := got[id]
			if !ok {
				t.Fatalf("%s: alert %s missing after restart", name, id)
			}
			if d := sameContent(g, w); d != "" {
				t.Fatalf("%s (crash %d, commit %d): alert %s differs from the uninterrupted run: %s", name, crash, commitAt, id, d)
			}
		}
		seen := make(map[string]bool)
		for _, a := range ra.alerts {
			p, ok := published[a.AlertID]
			if !ok || seen[a.AlertID] {
				continue
			}
			seen[a.AlertID] = true
			if a.Revision != p.Revision+1 {
				t.Fatalf("%s: alert %s re-emitted as revision %d after published revision %d", name, a.AlertID, a.Revision, p.Revision)
			}
			if sameContent(a, p) == "" {
				t.Fatalf("%s: alert %s re-emitted unchanged", name, a.AlertID)
			}
			if sameContent(p, want[a.AlertID]) == "" {
				t.Fatalf("%s: alert %s was published complete, yet re-emitted", name, a.AlertID)
			}
		}
	}
	t.Logf("checked %d restored %d absorbed %d", checked, restoredAny, absorbedAny)
	if checked < scenarios/2 || restoredAny < scenarios/4 || absorbedAny < scenarios/10 {
		t.Errorf("weak coverage: %d checked, %d with restored alerts, %d absorbing replays", checked, restoredAny, absorbedAny)
	}
}
