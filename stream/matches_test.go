package stream

import (
	"log/slog"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/detector"
)

// TestMatchesWorkerSafeAndCopies drives stage B's bookkeeping without a
// broker: copies of a match (same input position, or below the input
// partition's floor) are skipped, and the commit position is the first
// matches offset still held by a bucket.
func TestMatchesWorkerSafeAndCopies(t *testing.T) {
	p := &Pipeline{
		cfg:   Config{Topic: "in", AlertsTopic: "alerts", DLQTopic: "dlq", Logger: slog.New(slog.DiscardHandler)}.withDefaults(),
		rule:  detector.SeedRule(),
		log:   slog.New(slog.DiscardHandler),
		parts: newPartStats(),
	}
	w, err := p.newMatchesWorker(kafka.PartitionAssignment{ID: 0, Offset: 0}, &offsets{committable: map[tp]int64{}, committed: map[tp]int64{}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]string, len(p.rule.Fields))
	vals[0] = `CORP\alice`
	add := func(mo int64, host string, ip int32, io, floor int64) {
		t.Helper()
		b := appendMatch(nil, &matchRecord{Topic: "in", Partition: ip, Offset: io, Floor: floor, Time: 1_741_255_200_000_000_000, Host: host, Values: vals})
		if err := w.process(mo, b); err != nil {
			t.Fatal(err)
		}
	}
	add(0, "A", 0, 10, 0)
	add(1, "B", 1, 5, 0)
	add(2, "A", 0, 10, 0) // the same input record again: a copy
	add(3, "C", 0, 3, 11) // below its partition's floor: a copy
	add(4, "C", 0, 12, 11)
	if w.dups != 2 || w.applied != 3 {
		t.Errorf("applied %d, copies %d; want 3 and 2", w.applied, w.dups)
	}
	if got := w.safe(); got != 0 {
		t.Errorf("safe() = %d, want 0: the bucket of offset 0 is open", got)
	}
	if w.pos != 5 {
		t.Errorf("pos = %d, want 5", w.pos)
	}
	if got := w.w.SafePositions(); len(got) != 2 {
		t.Errorf("window safe positions = %v, want input partitions 0 and 1", got)
	}
}
