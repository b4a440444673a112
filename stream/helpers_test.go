package stream

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/kafkatest"
	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/stream/streamtest"
	"github.com/msiguard/msiguard/window"
)

// env is one test's broker and topics.
type env struct {
	t                         *testing.T
	c                         *kafkatest.Cluster
	topic, alerts, dlq, group string
	parts                     int
	// members counts the pipelines started, to name them m1, m2, ... in
	// their log lines.
	members int
}

func newEnv(t *testing.T, parts int, opts ...kafkatest.Option) *env {
	t.Helper()
	return newEnvWith(t, parts, nil, opts...)
}

// newEnvWith is newEnv with configs for the input topic.
func newEnvWith(t *testing.T, parts int, inputConfigs map[string]string, opts ...kafkatest.Option) *env {
	t.Helper()
	c := kafkatest.Start(t, opts...)
	e := &env{
		t: t, c: c, parts: parts,
		topic:  kafkatest.UniqueName(t, "sysmon"),
		alerts: kafkatest.UniqueName(t, "alerts"),
		dlq:    kafkatest.UniqueName(t, "dlq"),
		group:  kafkatest.UniqueName(t, "group"),
	}
	c.CreateTopicWith(t, e.topic, parts, inputConfigs)
	c.CreateTopic(t, e.alerts, 2)
	c.CreateTopic(t, e.dlq, 1)
	return e
}

// config returns a pipeline configuration with timeouts short enough for
// tests.
func (e *env) config() Config {
	return Config{
		Cluster:           kafkaio.Cluster{Brokers: e.c.Addrs(), TLS: e.c.TLSConfig()},
		Topic:             e.topic,
		Group:             e.group,
		AlertsTopic:       e.alerts,
		DLQTopic:          e.dlq,
		IdleTimeout:       time.Second,
		CommitInterval:    200 * time.Millisecond,
		SessionTimeout:    6 * time.Second,
		HeartbeatInterval: 500 * time.Millisecond,
		RebalanceTimeout:  10 * time.Second,
		ShutdownTimeout:   20 * time.Second,
		FetchMaxWait:      200 * time.Millisecond,
		Logger:            kafkatest.Logger(e.t),
	}
}

// member is a running pipeline.
type member struct {
	p      *Pipeline
	cancel context.CancelFunc
	done   chan error
}

func (e *env) start(cfg Config) *member {
	e.t.Helper()
	// All members log through the same t.Log: tag each one's lines.
	e.members++
	if cfg.Logger != nil {
		cfg.Logger = cfg.Logger.With("member", fmt.Sprintf("m%d", e.members))
	}
	p, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{p: p, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- p.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		select {
		case <-m.done:
		case <-time.After(40 * time.Second):
			e.t.Error("pipeline did not stop")
		}
	})
	return m
}

// stop cancels the member and waits for Run to return; it fails the test
// unless Run returns nil within the shutdown timeout.
func (m *member) stop(t *testing.T, within time.Duration) {
	t.Helper()
	m.cancel()
	select {
	case err := <-m.done:
		m.done <- err // for Cleanup
		if err != nil {
			t.Fatalf("Run returned %v after cancel, want nil", err)
		}
	case <-time.After(within):
		t.Fatalf("Run did not return within %v of cancel", within)
	}
}

// produce writes recs to the input topic, spread over its partitions
// without keys, and returns them with their positions.
func (e *env) produce(recs []streamtest.Record) {
	e.t.Helper()
	w := &kafka.Writer{
		Addr:         kafka.TCP(e.c.Addrs()...),
		Topic:        e.topic,
		Balancer:     &kafka.RoundRobin{},
		BatchTimeout: time.Millisecond,
		BatchSize:    500,
		RequiredAcks: kafka.RequireAll,
		Transport:    e.c.Transport(e.t),
	}
	defer w.Close()
	msgs := make([]kafka.Message, len(recs))
	for i, r := range recs {
		msgs[i] = kafka.Message{Value: r.Value}
	}
	kafkatest.Produce(e.t, w, msgs)
}

// placed reads the input topic back with positions.
func (e *env) placed() []streamtest.Placed {
	e.t.Helper()
	out, err := streamtest.ReadPlaced(context.Background(), e.c.Dialer(), e.c.Addrs()[0], e.topic)
	if err != nil {
		e.t.Fatalf("reading input back: %v", err)
	}
	return out
}

func (e *env) expected(recs []streamtest.Placed) map[string]*window.Alert {
	return streamtest.Expect(detector.Seed(), recs, 0)
}

// waitAlerts polls the alerts topic until it holds exactly the expected
// alerts (streamtest.Check finds nothing), failing after timeout.
func (e *env) waitAlerts(want map[string]*window.Alert, timeout time.Duration) map[string][]streamtest.Published {
	e.t.Helper()
	return e.waitAlertsBy(want, timeout, func(pub map[string][]streamtest.Published) []string {
		return streamtest.Check(pub, want)
	})
}

// waitAlertsBy is waitAlerts with check in place of streamtest.Check.
func (e *env) waitAlertsBy(want map[string]*window.Alert, timeout time.Duration, check func(map[string][]streamtest.Published) []string) map[string][]streamtest.Published {
	e.t.Helper()
	return e.waitTopicAlerts(e.alerts, want, timeout, check)
}

// waitTopicAlerts is waitAlertsBy on the alerts topic topic.
func (e *env) waitTopicAlerts(topic string, want map[string]*window.Alert, timeout time.Duration, check func(map[string][]streamtest.Published) []string) map[string][]streamtest.Published {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var problems []string
	for {
		pub, err := streamtest.ReadAlerts(context.Background(), e.c.Dialer(), e.c.Addrs()[0], topic)
		if err == nil {
			problems = check(pub)
			if len(problems) == 0 {
				return pub
			}
		} else {
			problems = []string{err.Error()}
		}
		if time.Now().After(deadline) {
			if len(problems) > 20 {
				problems = append(problems[:20], fmt.Sprintf("... and %d more", len(problems)-20))
			}
			e.t.Fatalf("alerts topic %s not as expected after %v (%d expected alerts):\n%s", topic, timeout, len(want), strings.Join(problems, "\n"))
		}
		<-tick.C
	}
}

// committed returns the group's committed offsets for topic.
func (e *env) committed(topic string, parts int) (map[int]int64, error) {
	cl := e.c.Client(e.t)
	ps := make([]int, parts)
	for i := range ps {
		ps[i] = i
	}
	resp, err := cl.OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{GroupID: e.group, Topics: map[string][]int{topic: ps}})
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			return nil, p.Error
		}
		out[p.Partition] = p.CommittedOffset
	}
	return out, nil
}

// endOffsets returns the end offset of each partition of topic.
func (e *env) endOffsets(topic string, parts int) map[int]int64 {
	e.t.Helper()
	cl := e.c.Client(e.t)
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for p := range parts {
		req.Topics[topic] = append(req.Topics[topic], kafka.LastOffsetOf(p))
	}
	resp, err := cl.ListOffsets(context.Background(), req)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[topic] {
		out[p.Partition] = p.LastOffset
	}
	return out
}

// waitCommitted polls until the group has committed the end of every input
// partition.
func (e *env) waitCommitted(timeout time.Duration) {
	e.t.Helper()
	end := e.endOffsets(e.topic, e.parts)
	kafkatest.WaitFor(e.t, timeout, func() error {
		got, err := e.committed(e.topic, e.parts)
		if err != nil {
			return err
		}
		for p, off := range end {
			if got[p] != off {
				return fmt.Errorf("partition %d committed %d, end %d", p, got[p], off)
			}
		}
		return nil
	})
}
