package stream

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/msiguard/msiguard/internal/kafkatest"
	"github.com/msiguard/msiguard/stream/streamtest"
)

// refuseProduce makes the kfake broker answer every produce request to
// topic with NOT_ENOUGH_REPLICAS (a transient error) while on is true.
func refuseProduce(e *env, topic string, on *atomic.Bool, refused *atomic.Int64) {
	fake := e.c.Fake()
	fake.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		pr := req.(*kmsg.ProduceRequest)
		hit := false
		for _, t := range pr.Topics {
			hit = hit || t.Topic == topic
		}
		if !on.Load() || !hit {
			return nil, nil, false
		}
		refused.Add(1)
		resp := kafkatest.RefuseProduce(pr, kerr.NotEnoughReplicas.Code)
		return resp, nil, true
	})
}

// TestAlertsTopicOutageLosesNothing makes the alerts topic refuse every
// write for a while (kfake ControlKey on Produce) as records keep coming:
// the pipeline retries, its alert queue stays within its bound (window
// goroutines block, matches wait in Kafka), nothing is committed past
// unacknowledged alerts, and once the topic is back every expected alert
// is published.
func TestAlertsTopicOutageLosesNothing(t *testing.T) {
	e := newEnv(t, 4)
	if e.c.Real() {
		t.Skip("fault injection needs the in-process kfake broker")
	}
	var outage atomic.Bool
	var refused atomic.Int64
	refuseProduce(e, e.alerts, &outage, &refused)

	g := streamtest.New(streamtest.Options{Seed: 3, Hosts: 10})
	cfg := e.config()
	cfg.AlertQueue = 8
	m := e.start(cfg)
	e.produce(g.Records(1500))
	e.waitAlerts(e.expected(e.placed()), 60*time.Second)
	published := m.p.Stats().AlertsPublished

	outage.Store(true)
	t.Log("alerts topic down")
	e.produce(g.Records(3000))
	maxPending := int64(0)
	kafkatest.WaitFor(t, 60*time.Second, func() error {
		m.p.prodMu.Lock()
		pending := m.p.alerts.Stats().Pending
		m.p.prodMu.Unlock()
		maxPending = max(maxPending, pending)
		if n := refused.Load(); n < 7 || maxPending < int64(cfg.AlertQueue) {
			return fmt.Errorf("%d produce requests refused, alert queue at most %d", n, maxPending)
		}
		return nil
	})
	st := m.p.Stats()
	if st.AlertsPublished != published {
		t.Errorf("AlertsPublished moved from %d to %d while the topic refused every write", published, st.AlertsPublished)
	}
	if st.PublishErrors == 0 {
		t.Error("PublishErrors = 0 during the outage")
	}
	if maxPending > int64(cfg.AlertQueue) {
		t.Errorf("alert queue held %d records, bound is %d", maxPending, cfg.AlertQueue)
	}
	outage.Store(false)
	t.Logf("alerts topic back after %d refused requests", refused.Load())
	e.produce(g.Records(500))

	e.waitAlerts(e.expected(e.placed()), 90*time.Second)
	e.waitCommitted(30 * time.Second)
	m.stop(t, 25*time.Second)
	t.Logf("stats: %+v", m.p.Stats())
}
