package stream

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/msiguard/msiguard/internal/kafkatest"
	"github.com/msiguard/msiguard/internal/sysmongen"
	"github.com/msiguard/msiguard/sink"
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

// producers returns the member's alerts and records producers (set by Run).
func (m *member) producers() (alerts, records *sink.Producer) {
	m.p.prodMu.Lock()
	defer m.p.prodMu.Unlock()
	return m.p.alerts, m.p.records
}

// sendBlocks reports, as an error, why prod is not stalled: a Send of a
// probe record (to probeTopic, none of the pipeline's) must wait until its
// deadline d, because the queue is full of unacknowledged records, while
// progress (how far the stage that feeds prod has consumed) stays where it
// was: the stage's own sends are blocked too.
func sendBlocks(prod *sink.Producer, probeTopic string, d time.Duration, progress func() int64) error {
	before := progress()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	err := prod.Send(ctx, kafka.Message{Topic: probeTopic, Value: []byte("probe")})
	after := progress()
	switch {
	case err == nil:
		return errors.New("a probe Send was accepted: the queue had room")
	case !errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("probe Send: %v", err)
	case after != before:
		return fmt.Errorf("consumption moved from %d to %d while the probe Send waited %v", before, after, d)
	}
	return nil
}

// commitWatch records the highest offset the group committed per partition
// of a topic, over the polls of an outage.
type commitWatch struct {
	e     *env
	topic string
	max   map[int]int64
}

func (c *commitWatch) poll() {
	got, err := c.e.committed(c.topic, c.e.parts)
	if err != nil {
		return // the next poll tells
	}
	for p, off := range got {
		if cur, ok := c.max[p]; !ok || off > cur {
			c.max[p] = off
		}
	}
}

// check fails the test if a commit went past bound.
func (c *commitWatch) check(t *testing.T, bound map[int]int64, why string) {
	t.Helper()
	c.poll()
	for p := range c.e.parts {
		if c.max[p] > bound[p] {
			t.Errorf("%s partition %d: committed up to %d during the outage, past %d: %s", c.topic, p, c.max[p], bound[p], why)
		}
	}
	t.Logf("%s committed during the outage: %v (bounds %v)", c.topic, c.max, bound)
}

// TestMatchesTopicOutageCommitsNothingUnacknowledged makes the matches
// topic refuse every write (kfake ControlKey on Produce) while records keep
// coming, in two steps. First fewer outputs than the record queue holds:
// stage A consumes them all, and its commits wait on a barrier that never
// completes. Then more: the queue fills and stage A's workers block in
// Send, shown by a probe Send to the same producer that waits until its
// deadline while the input consumed does not move, short of the records
// produced. Throughout, no input partition's committed offset passes its
// first record, written after the outage began, whose match (an attack,
// known from the generator's record kinds) cannot be acknowledged. Once
// the topic is back, every expected alert is published and the whole
// input is committed.
func TestMatchesTopicOutageCommitsNothingUnacknowledged(t *testing.T) {
	e := newEnv(t, 4, kafkatest.WithFaults())
	cfg := e.config()
	cfg.RecordQueue = 64
	matches := cfg.AlertsTopic + MatchesSuffix
	var outage atomic.Bool
	var refused atomic.Int64
	refuseProduce(e, matches, &outage, &refused)
	probe := kafkatest.UniqueName(t, "probe")
	e.c.CreateTopic(t, probe, 1)

	g := streamtest.New(streamtest.Options{Seed: 5, Hosts: 10})
	kinds := map[string]sysmongen.Kind{}
	produced := int64(0)
	produce := func(n int) {
		recs := g.Records(n)
		for _, r := range recs {
			kinds[string(r.Value)] = r.Kind
		}
		e.produce(recs)
		produced += int64(n)
	}
	m := e.start(cfg)
	produce(1500)
	e.waitAlerts(e.expected(e.placed()), 60*time.Second)
	e.waitCommitted(30 * time.Second)
	start := e.endOffsets(e.topic, e.parts)

	outage.Store(true)
	t.Log("matches topic down")
	watch := &commitWatch{e: e, topic: e.topic, max: map[int]int64{}}
	consumed := func() int64 { return m.p.Stats().RecordsConsumed }
	// 1. About 40 matches and 4 dead letters: they fit the queue.
	produce(2000)
	kafkatest.WaitFor(t, 60*time.Second, func() error {
		watch.poll()
		if n := consumed(); n != produced {
			return fmt.Errorf("stage A consumed %d of %d records", n, produced)
		}
		return nil
	})
	// 2. About 160 more outputs: the queue fills.
	produce(8000)
	// bound: per input partition, the first attack of the outage (its
	// match can never be acknowledged, nor anything the producer queues
	// after it), or the end when there is none. A dead letter before it
	// may be acknowledged: the dead-letter topic still takes writes.
	bound := e.endOffsets(e.topic, e.parts)
	for _, r := range e.placed() {
		p := int(r.Partition)
		if r.Offset >= start[p] && r.Offset < bound[p] && kinds[string(r.Value)] == sysmongen.KindAttack {
			bound[p] = r.Offset
		}
	}
	_, records := m.producers()
	kafkatest.WaitFor(t, 60*time.Second, func() error {
		watch.poll()
		if err := sendBlocks(records, probe, 300*time.Millisecond, consumed); err != nil {
			return err
		}
		if n := consumed(); n >= produced {
			return fmt.Errorf("stage A consumed all %d records: it never blocked", n)
		}
		return nil
	})
	st := m.p.Stats()
	t.Logf("stage A blocked: %d of %d records consumed, %d produce requests refused", st.RecordsConsumed, produced, refused.Load())
	if refused.Load() == 0 || st.PublishErrors == 0 {
		t.Errorf("%d produce requests refused, PublishErrors = %d during the outage", refused.Load(), st.PublishErrors)
	}
	watch.check(t, bound, "the record there has a match the broker never acknowledged")

	outage.Store(false)
	t.Logf("matches topic back after %d refused requests", refused.Load())
	produce(500)
	e.waitAlerts(e.expected(e.placed()), 90*time.Second)
	e.waitCommitted(30 * time.Second)
	m.stop(t, 25*time.Second)
}

// TestAlertsTopicOutageLosesNothing makes the alerts topic refuse every
// write (kfake ControlKey on Produce) as records keep coming, in two
// steps. First fewer alerts than the alert queue holds: stage B applies
// every match, and with a 1 s Retain the buckets are emitted and forgotten
// while their alerts wait unacknowledged, so only the barrier before each
// commit keeps the matches offset from moving. Then more: the queue fills
// and stage B's worker blocks in Send, shown by a probe Send to the
// alerts producer that waits until its deadline while stage B applies no
// match, with matches waiting in the matches topic. No alert is
// acknowledged, and the matches partition's committed offset never passes
// its end when the outage began (every later match is in an alert the
// broker refused). Once the topic is back, every expected alert is
// published. One input partition keeps each host's matches in event-time
// order, so that the short Retain never makes a late alert.
func TestAlertsTopicOutageLosesNothing(t *testing.T) {
	e := newEnv(t, 1, kafkatest.WithFaults())
	cfg := e.config()
	cfg.AlertQueue = 64
	cfg.Retain = time.Second
	matches := cfg.AlertsTopic + MatchesSuffix
	var outage atomic.Bool
	var refused atomic.Int64
	refuseProduce(e, e.alerts, &outage, &refused)
	probe := kafkatest.UniqueName(t, "probe")
	e.c.CreateTopic(t, probe, 1)

	g := streamtest.New(streamtest.Options{Seed: 3, Hosts: 10})
	m := e.start(cfg)
	e.produce(g.Records(1500))
	e.waitAlerts(e.expected(e.placed()), 60*time.Second)
	published := m.p.Stats().AlertsPublished
	// Every match so far is in a published alert; the matches topic has
	// as many partitions as the input (setup creates it so): one.
	bound := e.endOffsets(matches, e.parts)

	outage.Store(true)
	t.Log("alerts topic down")
	watch := &commitWatch{e: e, topic: matches, max: map[int]int64{}}
	// 1. About 25 alerts: they fit the queue. Wait until every match is
	// applied and every bucket emitted and forgotten.
	e.produce(g.Records(2000))
	kafkatest.WaitFor(t, 60*time.Second, func() error {
		watch.poll()
		st := m.p.Stats()
		if st.RecordsConsumed != 3500 || st.Matches != st.MatchesApplied+st.DuplicateMatch || st.OpenBuckets+st.RevisableBuckets > 0 {
			return fmt.Errorf("%d records consumed, %d of %d matches applied, %d open and %d revisable buckets",
				st.RecordsConsumed, st.MatchesApplied, st.Matches, st.OpenBuckets, st.RevisableBuckets)
		}
		return nil
	})
	// 2. About 100 more: the queue fills.
	e.produce(g.Records(8000))
	alerts, _ := m.producers()
	applied := func() int64 {
		st := m.p.Stats()
		return st.MatchesApplied + st.DuplicateMatch
	}
	kafkatest.WaitFor(t, 60*time.Second, func() error {
		watch.poll()
		if err := sendBlocks(alerts, probe, 300*time.Millisecond, applied); err != nil {
			return err
		}
		if st := m.p.Stats(); st.Matches <= st.MatchesApplied+st.DuplicateMatch {
			return fmt.Errorf("stage B applied all %d matches: it never blocked", st.Matches)
		}
		return nil
	})
	st := m.p.Stats()
	t.Logf("stage B blocked: %d of %d matches applied, %d produce requests refused", st.MatchesApplied, st.Matches, refused.Load())
	if st.AlertsPublished != published {
		t.Errorf("AlertsPublished moved from %d to %d while the topic refused every write", published, st.AlertsPublished)
	}
	if refused.Load() == 0 || st.PublishErrors == 0 {
		t.Errorf("%d produce requests refused, PublishErrors = %d during the outage", refused.Load(), st.PublishErrors)
	}
	watch.check(t, bound, "the matches there are in alerts the broker never acknowledged")

	outage.Store(false)
	t.Logf("alerts topic back after %d refused requests", refused.Load())
	e.produce(g.Records(500))
	e.waitAlerts(e.expected(e.placed()), 90*time.Second)
	e.waitCommitted(30 * time.Second)
	m.stop(t, 25*time.Second)
	t.Logf("stats: %+v", m.p.Stats())
}
