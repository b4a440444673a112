package stream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/msiguard/msiguard/internal/kafkatest"
	"github.com/msiguard/msiguard/stream/streamtest"
	"github.com/msiguard/msiguard/window"
)

// TestReadyTailAndEmissionDelays follows one member through its life:
// Ready is an ErrNotReady before Run and becomes nil once the group has
// settled; TailAlerts sees every alert the pipeline publishes; the
// emission delay histogram has one observation per first emission, all
// within the test's duration (the stream's event time is now); after the
// shutdown Ready is an ErrNotReady again.
func TestReadyTailAndEmissionDelays(t *testing.T) {
	e := newEnv(t, 2)
	cfg := e.config()
	idle, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := idle.Ready(); !errors.Is(err, ErrNotReady) {
		t.Fatalf("Ready before Run = %v, want ErrNotReady", err)
	}
	began := time.Now()
	m := e.start(cfg)
	kafkatest.WaitFor(t, 30*time.Second, m.p.Ready)

	ctx, cancel := context.WithCancel(context.Background())
	var (
		mu   sync.Mutex
		seen = map[string]int{} // alert_id -> highest revision
	)
	tailDone := make(chan error, 1)
	go func() {
		tailDone <- TailAlerts(ctx, TailConfig{Cluster: cfg.Cluster, Topic: e.alerts, FromStart: true, Logger: cfg.Logger},
			func(a TailedAlert) error {
				mu.Lock()
				seen[a.Alert.AlertID] = max(seen[a.Alert.AlertID], a.Alert.Revision)
				mu.Unlock()
				return nil
			})
	}()

	g := streamtest.New(streamtest.Options{Seed: 3, Hosts: 6, Start: time.Now().UTC().Truncate(time.Second)})
	e.produce(g.Records(1500))
	want := e.expected(e.placed())
	if len(want) < 5 {
		t.Fatalf("only %d expected alerts", len(want))
	}
	pub := e.waitAlerts(want, 60*time.Second)
	kafkatest.WaitFor(t, 30*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		for id, p := range pub {
			if seen[id] != p[len(p)-1].Alert.Revision {
				return fmt.Errorf("tail saw revision %d of %s, published %d", seen[id], id, p[len(p)-1].Alert.Revision)
			}
		}
		return nil
	})
	cancel()
	if err := <-tailDone; err != nil {
		t.Errorf("TailAlerts returned %v after cancel, want nil", err)
	}

	st := m.p.Stats()
	h := m.p.EmissionDelays()
	if want := uint64(st.Alerts - st.LateAlerts); h.Count != want || want == 0 {
		t.Errorf("emission delays counted %d alerts, want %d (Alerts - LateAlerts)", h.Count, want)
	}
	limit := time.Since(began).Seconds() + 1
	if h.Sum <= 0 || h.Sum > float64(h.Count)*limit {
		t.Errorf("emission delay sum %.3fs over %d alerts: not within the %.1fs the test ran", h.Sum, h.Count, limit)
	}
	for i := 1; i < len(h.Counts); i++ {
		if h.Counts[i] < h.Counts[i-1] {
			t.Errorf("bucket counts %v are not cumulative", h.Counts)
		}
	}
	m.stop(t, 25*time.Second)
	if err := m.p.Ready(); !errors.Is(err, ErrNotReady) {
		t.Errorf("Ready after shutdown = %v, want ErrNotReady", err)
	}
}

func TestEmissionDelayBuckets(t *testing.T) {
	var d delays
	base := time.Unix(1000, 0)
	for _, tc := range []struct {
		a   window.Alert
		now time.Time
	}{
		{window.Alert{Time: 999, Revision: 1}, base.Add(100 * time.Millisecond)},  // 0.1s
		{window.Alert{Time: 999, Revision: 1}, base.Add(2 * time.Second)},         // 2s, bound inclusive
		{window.Alert{Time: 999, Revision: 1}, base.Add(2 * time.Hour)},           // above every bound
		{window.Alert{Time: 1005, Revision: 1}, base},                             // future bucket: 0
		{window.Alert{Time: 999, Revision: 2}, base.Add(time.Second)},             // revision: ignored
		{window.Alert{Time: 999, Revision: 1, Late: true}, base.Add(time.Second)}, // late: ignored
	} {
		d.observeAlert(&tc.a, tc.now)
	}
	p := &Pipeline{}
	for i := range d.counts {
		p.delays.counts[i].Store(d.counts[i].Load())
	}
	p.delays.sumNs.Store(d.sumNs.Load())
	h := p.EmissionDelays()
	if h.Count != 4 {
		t.Errorf("Count = %d, want 4", h.Count)
	}
	at := func(bound float64) uint64 {
		for i, b := range h.Bounds {
			if b == bound {
				return h.Counts[i]
			}
		}
		t.Fatalf("no bound %v", bound)
		return 0
	}
	if got := at(0.25); got != 2 {
		t.Errorf("<=0.25s: %d, want 2", got)
	}
	if got := at(2); got != 3 {
		t.Errorf("<=2s: %d, want 3", got)
	}
	if got := at(3600); got != 3 {
		t.Errorf("<=3600s: %d, want 3", got)
	}
	if want := 0.1 + 2 + 7200; h.Sum < want-1e-6 || h.Sum > want+1e-6 {
		t.Errorf("Sum = %v, want %v", h.Sum, want)
	}
}
