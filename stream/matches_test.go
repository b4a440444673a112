package stream

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/sink"
)

// TestMatchesWorkerSafeAndCopies drives stage B's bookkeeping without a
// broker, on a hand-driven clock: copies of a match (same input position,
// or below the input partition's floor) are skipped; the commit position is
// the first matches offset still held by an open or revisable bucket; once
// more than 1024 entries of the commit log are behind it the log is
// compacted; once more than 1024 input positions are remembered those
// below their partition's floor are forgotten (the floor still skips their
// copies); and when no bucket holds anything the position is the next
// matches offset to process. Every expected value is derived by hand in
// the comments from the offsets and times fed in.
func TestMatchesWorkerSafeAndCopies(t *testing.T) {
	const (
		idle   = time.Second
		retain = 10 * time.Second
		// Event time of the first matches, and the seed rule's first field.
		t0sec = 1_741_255_200
	)
	clock := time.Unix(1_800_000_000, 0)
	p := &Pipeline{
		cfg: Config{
			Topic: "in", AlertsTopic: "alerts", DLQTopic: "dlq", Logger: slog.New(slog.DiscardHandler),
			IdleTimeout: idle, Retain: retain, now: func() time.Time { return clock },
		}.withDefaults(),
		log:   slog.New(slog.DiscardHandler),
		parts: newPartStats(),
	}
	// The window emits alerts as buckets close: they go to a producer
	// whose broker never answers, so they stay queued (unacknowledged),
	// which is all this test needs of them.
	alerts, err := sink.NewProducer(sink.Config{Cluster: &kafkaio.Cluster{Brokers: []string{"127.0.0.1:1"}}, Name: "test", Logger: slog.New(slog.DiscardHandler)}, "alerts")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		alerts.Close(ctx)
	})
	p.alerts = alerts
	p.setRules(p.cfg.Rules)
	w, err := p.newMatchesWorker(kafka.PartitionAssignment{ID: 0, Offset: 0}, &offsets{committable: map[tp]int64{}, committed: map[tp]int64{}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.sendCtx = context.Background() // run sets it
	vals := make([]string, len(p.rules[0].Program.Outputs()))
	vals[0] = `CORP\alice`
	mo := int64(0) // the next matches offset
	add := func(host string, ip int32, io, floor int64, evTime int64) {
		t.Helper()
		b := appendMatch(nil, &matchRecord{RuleID: p.rules[0].Rule.ID, Topic: "in", Partition: ip, Offset: io, Floor: floor, Time: evTime, Host: host, Values: vals})
		if err := w.process(mo, b); err != nil {
			t.Fatal(err)
		}
		mo++
	}
	at := func(sec int64, ms int64) int64 { return sec*1e9 + ms*1e6 }

	// 1. Copies. Matches offsets 0-4.
	add("A", 0, 10, 0, at(t0sec, 0))
	add("B", 1, 5, 0, at(t0sec, 0))
	add("A", 0, 10, 0, at(t0sec, 0)) // the same input record again: a copy
	add("C", 0, 3, 11, at(t0sec, 0)) // below its partition's floor (11): a copy
	add("C", 0, 12, 11, at(t0sec, 0))
	if w.dups != 2 || w.applied != 3 {
		t.Errorf("applied %d, copies %d; want 3 and 2", w.applied, w.dups)
	}
	if got := w.safe(); got != 0 {
		t.Errorf("safe() = %d, want 0: the bucket of matches offset 0 (A, input 0/10) is open", got)
	}
	if w.pos != 5 {
		t.Errorf("pos = %d, want 5", w.pos)
	}
	if got := w.windows[0].SafePositions(); len(got) != 2 {
		t.Errorf("window safe positions = %v, want input partitions 0 and 1", got)
	}

	// 2. 1500 matches (matches offsets 5-1504) of input partition 2,
	// offsets 0-1499, hosts H0-H9 in turn, 10 ms of event time apart: 15 s
	// of event time, so each host closes its earlier seconds as it goes.
	for i := range int64(1500) {
		add("H"+string(rune('0'+i%10)), 2, i, 0, at(t0sec+1, 10*i))
	}
	if w.applied != 1503 || len(w.seen) != 1503 {
		t.Fatalf("applied %d, %d positions seen; want 1503 and 1503", w.applied, len(w.seen))
	}

	// 3. The clock passes the idle timeout; a match of host Z (matches
	// offset 1505, input 3/0) makes the window close every idle bucket:
	// all of steps 1 and 2 are now revisable, stamped with this clock.
	clock = clock.Add(idle + time.Millisecond)
	add("Z", 3, 0, 0, at(t0sec+100, 0))
	if got := w.safe(); got != 0 {
		t.Errorf("safe() = %d after the idle timeout, want 0: A's revisable bucket still holds input 0/10", got)
	}

	// 4. Retain passes too; a second match of Z (matches offset 1506,
	// input 2/1500, in Z's open bucket) carries the floor 1000 of input
	// partition 2. Every bucket of steps 1-2 is forgotten; only Z's open
	// bucket is left, holding input 3/0 and 2/1500.
	clock = clock.Add(retain + time.Millisecond)
	add("Z", 2, 1500, 1000, at(t0sec+100, 500))
	if st := w.windows[0].Stats(); st.Open != 1 || st.Revisable != 0 {
		t.Fatalf("window holds %d open and %d revisable buckets, want 1 and 0", st.Open, st.Revisable)
	}
	// The commit log has 1505 entries: matches offsets 0, 1, 4 (2 and 3
	// were copies), 5-1504, 1505 and 1506. safe() passes those of input
	// partitions 0 and 1 (no bucket left) and of input 2/0-1499 (below
	// Z's 2/1500): 1503 entries; the entry of matches offset 1505 (input
	// 3/0, held) is the first needed. head 1503 > 1024 and > half of the
	// 1505 entries: the log is compacted to the entries of 1505 and 1506.
	if got := w.safe(); got != 1505 {
		t.Errorf("safe() = %d, want 1505: the first match Z's open bucket holds", got)
	}
	if w.head != 0 || len(w.log) != 2 || w.log[0].mo != 1505 || w.log[1].mo != 1506 {
		t.Errorf("commit log after safe(): head %d of %d entries (first %v), want head 0 of 2 entries, those of matches offsets 1505 and 1506", w.head, len(w.log), w.log[0])
	}
	// 1505 positions seen > 1024: those below their partition's floor go:
	// input 0/10 (floor 11) and input 2/0-999 (floor 1000). Left: 0/12,
	// 1/5, 2/1000-1500 (501) and 3/0 = 504.
	if len(w.seen) != 504 {
		t.Errorf("%d positions seen after pruning, want 504", len(w.seen))
	}
	for _, k := range []inPos{{"in", 0, 10}, {"in", 2, 0}, {"in", 2, 999}} {
		if _, ok := w.seen[seenKey{0, k}]; ok {
			t.Errorf("position %v below its floor is still remembered", k)
		}
	}
	for _, k := range []inPos{{"in", 0, 12}, {"in", 1, 5}, {"in", 2, 1000}, {"in", 2, 1500}, {"in", 3, 0}} {
		if _, ok := w.seen[seenKey{0, k}]; !ok {
			t.Errorf("position %v at or above its floor was forgotten", k)
		}
	}
	// Copies are still skipped: 2/5 by the floor now, 2/1200 by seen.
	applied, dups := w.applied, w.dups
	add("H5", 2, 5, 0, at(t0sec+1, 50))
	add("H0", 2, 1200, 0, at(t0sec+1, 12000))
	if w.applied != applied || w.dups != dups+2 {
		t.Errorf("copies of 2/5 and 2/1200: applied +%d, copies +%d; want +0 and +2", w.applied-applied, w.dups-dups)
	}

	// 5. Z's bucket closes (idle) and is forgotten (retain), as the run
	// loop's ticks do: no bucket is left, every log entry is passed, and
	// safe() is the next matches offset to process, 1509 (1507 and 1508
	// were the copies).
	clock = clock.Add(idle + time.Millisecond)
	w.windows[0].Advance(clock, w.emit)
	clock = clock.Add(retain + time.Millisecond)
	w.windows[0].Advance(clock, w.emit)
	if st := w.windows[0].Stats(); st.Open != 0 || st.Revisable != 0 {
		t.Fatalf("window holds %d open and %d revisable buckets, want none", st.Open, st.Revisable)
	}
	if got := w.safe(); got != 1509 || w.pos != 1509 {
		t.Errorf("safe() = %d (pos %d) with no bucket left, want 1509", got, w.pos)
	}
	if w.head != len(w.log) {
		t.Errorf("commit log: head %d of %d entries, want every entry passed", w.head, len(w.log))
	}
	if w.emitErr != nil {
		t.Errorf("emitting: %v", w.emitErr)
	}
}
