package stream

import (
	"errors"
	"testing"
	"time"
)

// A lease holds while heartbeats come within the session timeout; once a
// gap reaches it the lease is lost for good, even if a heartbeat is
// accepted afterwards (the coordinator may have handed the partitions on
// in the gap), and once the coordinator disowns the member.
func TestLease(t *testing.T) {
	t0 := time.Unix(1_900_000_000, 0)
	l := newLease(6*time.Second, t0)
	l.renew(t0.Add(5 * time.Second))
	if err := l.validAt(t0.Add(10 * time.Second)); err != nil {
		t.Fatalf("renewed 5 s ago: %v", err)
	}
	// A freeze: the next heartbeat is sent 7 s after the last one.
	l.renew(t0.Add(12 * time.Second))
	if err := l.validAt(t0.Add(12 * time.Second)); !errors.Is(err, ErrZombie) {
		t.Fatalf("after a 7 s gap: %v, want ErrZombie", err)
	}
	l2 := newLease(6*time.Second, t0)
	if err := l2.validAt(t0.Add(6 * time.Second)); !errors.Is(err, ErrZombie) {
		t.Fatalf("6 s without a heartbeat: %v, want ErrZombie", err)
	}
	l2.renew(t0.Add(6500 * time.Millisecond))
	if err := l2.validAt(t0.Add(6500 * time.Millisecond)); !errors.Is(err, ErrZombie) {
		t.Fatalf("a lapsed lease came back: %v", err)
	}
	l3 := newLease(6*time.Second, t0)
	l3.lose(errors.New("unknown member"))
	if err := l3.validAt(t0); !errors.Is(err, ErrZombie) {
		t.Fatalf("disowned: %v", err)
	}
	var none *lease
	if none.Valid() != nil {
		t.Fatal("a nil lease does not hold")
	}
}
