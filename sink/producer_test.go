package sink

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/msiguard/msiguard/internal/kafkatest"
)

// failProduce answers produce requests to topic with a transient error
// while *n > 0, decrementing it.
func failProduce(c *kafkatest.Cluster, topic string, n *atomic.Int64) {
	fake := c.Fake()
	fake.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		pr := req.(*kmsg.ProduceRequest)
		if len(pr.Topics) == 0 || pr.Topics[0].Topic != topic || n.Add(-1) < 0 {
			return nil, nil, false
		}
		resp := kafkatest.RefuseProduce(pr, kerr.LeaderNotAvailable.Code)
		return resp, nil, true
	})
}

// TestProducerOrderAndBarrier: records sent while the broker refuses writes
// are retried, none is lost, revisions of one key land in Send order, and a
// barrier completes only once everything before it is acknowledged.
func TestProducerOrderAndBarrier(t *testing.T) {
	c := kafkatest.Start(t, kafkatest.WithFaults())
	topic := kafkatest.UniqueName(t, "out")
	c.CreateTopic(t, topic, 3)
	var failures atomic.Int64
	failures.Store(5)
	failProduce(c, topic, &failures)

	p, err := NewProducer(Config{Cluster: &Cluster{Brokers: c.Addrs()}, Name: "test", Queue: 16, RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond}, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	ctx := context.Background()
	const keys, revs = 10, 20
	for r := range revs {
		for k := range keys {
			if err := p.Send(ctx, kafka.Message{Key: []byte(fmt.Sprint("k", k)), Value: []byte(strconv.Itoa(r))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := p.Stats().Pending; got > 16 {
		t.Errorf("Pending = %d beyond the queue bound 16", got)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Acked != keys*revs || st.Pending != 0 || st.Errors == 0 {
		t.Errorf("stats after flush = %+v, want %d acked, 0 pending, some errors", st, keys*revs)
	}
	// Read everything back: per key, values 0..revs-1 in order.
	next := map[string]int{}
	conn, err := kafka.DialLeader(ctx, "tcp", c.Addrs()[0], topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	for part := range 3 {
		lc, err := kafka.DialLeader(ctx, "tcp", c.Addrs()[0], topic, part)
		if err != nil {
			t.Fatal(err)
		}
		last, _ := lc.ReadLastOffset()
		lc.Seek(0, kafka.SeekAbsolute)
		for off := int64(0); off < last; off++ {
			lc.SetReadDeadline(time.Now().Add(5 * time.Second))
			m, err := lc.ReadMessage(1 << 20)
			if err != nil {
				t.Fatal(err)
			}
			v, _ := strconv.Atoi(string(m.Value))
			if v != next[string(m.Key)] {
				t.Errorf("key %s: got revision %d, want %d", m.Key, v, next[string(m.Key)])
			}
			next[string(m.Key)] = v + 1
		}
		lc.Close()
	}
	for k := range keys {
		if got := next[fmt.Sprint("k", k)]; got != revs {
			t.Errorf("key k%d: %d records, want %d", k, got, revs)
		}
	}
}

// TestProducerFatal: an error no retry fixes stops the producer with a
// *FatalError and fails pending barriers.
func TestProducerFatal(t *testing.T) {
	c := kafkatest.Start(t, kafkatest.WithFaults())
	topic := kafkatest.UniqueName(t, "out")
	c.CreateTopic(t, topic, 1)
	fake := c.Fake()
	fake.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		pr := req.(*kmsg.ProduceRequest)
		resp := kafkatest.RefuseProduce(pr, kerr.TopicAuthorizationFailed.Code)
		return resp, nil, true
	})
	p, err := NewProducer(Config{Cluster: &Cluster{Brokers: c.Addrs()}, Name: "test"}, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	if err := p.Send(context.Background(), kafka.Message{Value: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	err = p.Flush(context.Background())
	var fe *FatalError
	if !errors.As(err, &fe) || !errors.As(p.Err(), &fe) {
		t.Fatalf("Flush = %v, Err = %v; want a *FatalError", err, p.Err())
	}
	t.Log(err)
}

func TestClusterValidateAndMask(t *testing.T) {
	c := Cluster{Brokers: []string{"k:9092"}, SASL: SASL{Mechanism: SASLSCRAMSHA512, Username: "u", Password: "hunter2"}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if s := c.SASL.String(); s == "" || strings.Contains(s, "hunter2") {
		t.Errorf("SASL.String() = %q shows the password", s)
	}
	for _, bad := range []Cluster{
		{},
		{Brokers: []string{"nohostport"}},
		{Brokers: []string{"k:1"}, SASL: SASL{Mechanism: "kerberos", Username: "u", Password: "p"}},
		{Brokers: []string{"k:1"}, SASL: SASL{Username: "u"}},
	} {
		if err := bad.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("Validate(%+v) = %v, want ErrConfig", bad, err)
		}
	}
}
