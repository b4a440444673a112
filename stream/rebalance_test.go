package stream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msiguard/msiguard/internal/kafkatest"
	"github.com/msiguard/msiguard/stream/streamtest"
)

// netSwitch dials TCP connections for one member and can cut them all at
// once, as a crash or a network partition would: the member's in-flight
// requests are lost, it cannot leave the group, and the group notices only
// after the session timeout.
type netSwitch struct {
	mu sync.Mutex
	// guarded by mu
	down  bool
	conns []net.Conn
}

var errCut = errors.New("network cut by test")

func (s *netSwitch) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		return nil, errCut
	}
	c, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		c.Close()
		return nil, errCut
	}
	s.conns = append(s.conns, c)
	return c, nil
}

func (s *netSwitch) cut() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = true
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

// crashable starts a member whose network can be cut.
func (e *env) crashable() (*member, *netSwitch) {
	sw := &netSwitch{}
	cfg := e.config()
	cfg.Cluster.Dial = sw.dial
	return e.start(cfg), sw
}

// crash cuts the member's network and abandons it: no drain reaches the
// brokers, no commit, no LeaveGroup.
func (m *member) crash(sw *netSwitch) {
	sw.cut()
	m.cancel()
}

// TestRebalanceMembersJoinLeaveCrash runs up to three members over six
// partitions while the input keeps growing: members join, one crashes
// (network cut: no drain, no commit, no LeaveGroup), one leaves cleanly,
// another joins late. At the end the alerts topic holds every expected
// alert, each alert_id's latest revision complete, repeats only identical.
func TestRebalanceMembersJoinLeaveCrash(t *testing.T) {
	e := newEnv(t, 6)
	g := streamtest.New(streamtest.Options{Seed: 2, Hosts: 12})
	chunk := func() { e.produce(g.Records(1500)) }
	// working waits until m has partitions of both topics assigned and has
	// consumed input since the call.
	working := func(name string, m *member) {
		t.Helper()
		before := m.p.Stats().RecordsConsumed
		kafkatest.WaitFor(t, 60*time.Second, func() error {
			st := m.p.Stats()
			topics := map[string]bool{}
			for _, p := range st.Partitions {
				topics[p.Topic] = true
			}
			if !topics[e.topic] || len(topics) < 2 {
				return fmt.Errorf("%s: assigned %v", name, st.Partitions)
			}
			if st.RecordsConsumed == before {
				chunk() // keep the stream flowing until it reads some
				return fmt.Errorf("%s: consumed nothing yet", name)
			}
			return nil
		})
		t.Logf("%s working: %d rebalances, partitions %v", name, m.p.Stats().Rebalances, m.p.Stats().Partitions)
	}

	m1 := e.start(e.config())
	chunk()
	working("m1", m1)
	m2, sw2 := e.crashable()
	chunk()
	working("m2", m2)
	m3 := e.start(e.config())
	chunk()
	working("m3", m3)
	chunk()
	m2.crash(sw2) // mid-stream: it has records in flight
	t.Log("m2 crashed")
	chunk()
	working("m1 after crash", m1)
	m1.stop(t, 25*time.Second)
	t.Log("m1 left")
	chunk()
	m4 := e.start(e.config())
	chunk()
	working("m4", m4)
	chunk()

	want := e.expected(e.placed())
	e.waitAlerts(want, 90*time.Second)
	e.waitCommitted(60 * time.Second)
	m3.stop(t, 25*time.Second)
	m4.stop(t, 25*time.Second)
	for i, m := range []*member{m1, m2, m3, m4} {
		t.Logf("m%d: %+v", i+1, m.p.Stats())
	}
}

// TestRestoreBetweenRetainAndTwice: a member stopped while a bucket was
// revisable does not commit the bucket's matches, so its successor replays
// them and must read back the bucket's alert however long the downtime
// was, up to RestoreLookback - Retain (issue 16, item 4). With Retain 40m
// and RestoreLookback left to its default (81m), one member publishes a
// bucket on a clock 70 minutes behind (longer than Retain, shorter than
// twice it; behind rather than ahead because Kafka 4 refuses records
// stamped more than an hour ahead); a second starts on the true clock and
// receives one more event of the same host-second. It must restore the
// alert and publish revision 2 with both events, not a second revision 1:
// with the old default lookback of 1h it did the latter.
func TestRestoreBetweenRetainAndTwice(t *testing.T) {
	e := newEnv(t, 2)
	var shift atomic.Int64
	shift.Store(int64(-70 * time.Minute))
	cfg := e.config()
	cfg.Retain = 40 * time.Minute
	cfg.now = func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }
	if d := cfg.withDefaults().RestoreLookback; d <= 2*cfg.Retain {
		t.Fatalf("default RestoreLookback %v for Retain %v", d, cfg.Retain)
	}
	at := time.Date(2025, 3, 6, 10, 0, 0, 0, time.UTC)
	e.produce([]streamtest.Record{{Value: attackRecord("WS-RETAIN-01", at.Add(100*time.Millisecond), 4100, "msiexec /q /i first.msi")}})
	m := e.start(cfg)
	e.waitAlerts(e.expected(e.placed()), 60*time.Second)
	e.waitCommitted(30 * time.Second)
	m.stop(t, 25*time.Second)

	shift.Store(0)
	e.produce([]streamtest.Record{{Value: attackRecord("WS-RETAIN-01", at.Add(600*time.Millisecond), 4200, "msiexec /q /i second.msi")}})
	m = e.start(cfg)
	want := e.expected(e.placed())
	pub := e.waitAlerts(want, 60*time.Second)
	e.waitCommitted(30 * time.Second)
	m.stop(t, 25*time.Second)
	if len(want) != 1 {
		t.Fatalf("want one bucket, the expectation has %d", len(want))
	}
	for id, recs := range pub {
		if last := recs[len(recs)-1].Alert; last.Revision != 2 || last.EventCount != 2 {
			t.Errorf("alert %s: latest is revision %d with %d events, want revision 2 with both", id, last.Revision, last.EventCount)
		}
	}
	if got := m.p.Stats().RestoredAlerts; got != 1 {
		t.Errorf("the member on the later clock restored %d alerts, want 1", got)
	}
}
