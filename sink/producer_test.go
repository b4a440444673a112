package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msiguard/msiguard/kafkaio"

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

	p, err := NewProducer(Config{Cluster: &kafkaio.Cluster{Brokers: c.Addrs()}, Name: "test", Queue: 16, RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond}, topic)
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
	// The queue bound holds against a broker that refuses everything: 16
	// records wait, the 17th Send blocks until its context ends.
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	failures.Store(1 << 30)
	for range 16 {
		if err := p.Send(ctx, kafka.Message{Key: []byte("stalled"), Value: []byte("0")}); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	err = p.Send(short, kafka.Message{Key: []byte("stalled"), Value: []byte("1")})
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the 17th Send to a stalled broker returned %v, want it blocked until its deadline", err)
	}
	failures.Store(0)
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Acked != keys*revs+16 || st.Pending != 0 || st.Errors == 0 {
		t.Errorf("stats after flush = %+v, want %d acked, 0 pending, some errors", st, keys*revs+16)
	}
	// Read everything back: per key, values 0..revs-1 in order; the
	// sixteen stalled records, never the blocked one.
	next := map[string]int{}
	var stalled []int
	for _, m := range readAll(t, c, topic, 3) {
		v, _ := strconv.Atoi(string(m.Value))
		if string(m.Key) == "stalled" {
			stalled = append(stalled, v)
			continue
		}
		if v != next[string(m.Key)] {
			t.Errorf("key %s: got revision %d, want %d", m.Key, v, next[string(m.Key)])
		}
		next[string(m.Key)] = v + 1
	}
	for k := range keys {
		if got := next[fmt.Sprint("k", k)]; got != revs {
			t.Errorf("key k%d: %d records, want %d", k, got, revs)
		}
	}
	if !slices.Equal(stalled, make([]int, 16)) {
		t.Errorf("key stalled: values %v, want sixteen 0s and never the blocked 1", stalled)
	}
}

// TestProducerFatal: an error no retry fixes stops the producer: Failed
// closes at once, without anyone waiting on a flush; Flush and Err then
// report a *kafkaio.FatalError that names the topic.
func TestProducerFatal(t *testing.T) {
	c := kafkatest.Start(t, kafkatest.WithFaults())
	topic := kafkatest.UniqueName(t, "out")
	c.CreateTopic(t, topic, 1)
	fake := c.Fake()
	fake.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		return kafkatest.RefuseProduce(req.(*kmsg.ProduceRequest), kerr.TopicAuthorizationFailed.Code), nil, true
	})
	p, err := NewProducer(Config{Cluster: &kafkaio.Cluster{Brokers: c.Addrs()}, Name: "test"}, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	if err := p.Send(context.Background(), kafka.Message{Value: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Failed():
	case <-time.After(10 * time.Second):
		t.Fatal("Failed not closed 10 s after a fatal error")
	}
	err = p.Flush(context.Background())
	var fe *kafkaio.FatalError
	if !errors.As(err, &fe) || !errors.As(p.Err(), &fe) {
		t.Fatalf("Flush = %v, Err = %v; want a *kafkaio.FatalError", err, p.Err())
	}
	if !strings.Contains(p.Err().Error(), topic) {
		t.Errorf("Err = %v, want it to name topic %s", p.Err(), topic)
	}
}

func TestClusterValidateAndMask(t *testing.T) {
	c := kafkaio.Cluster{Brokers: []string{"k:9092"}, SASL: kafkaio.SASL{Mechanism: kafkaio.SASLSCRAMSHA512, Username: "u", Password: "hunter2"}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if s := c.SASL.String(); s == "" || strings.Contains(s, "hunter2") {
		t.Errorf("SASL.String() = %q shows the password", s)
	}
	for _, bad := range []kafkaio.Cluster{
		{},
		{Brokers: []string{"nohostport"}},
		{Brokers: []string{"k:1"}, SASL: kafkaio.SASL{Mechanism: "kerberos", Username: "u", Password: "p"}},
		{Brokers: []string{"k:1"}, SASL: kafkaio.SASL{Username: "u"}},
	} {
		if err := bad.Validate(); !errors.Is(err, kafkaio.ErrConfig) {
			t.Errorf("Validate(%+v) = %v, want kafkaio.ErrConfig", bad, err)
		}
	}
}

// readAll returns the records of every partition of topic, in offset order
// per partition, partitions in order.
func readAll(t *testing.T, c *kafkatest.Cluster, topic string, partitions int) []kafka.Message {
	t.Helper()
	ctx := context.Background()
	var out []kafka.Message
	for part := range partitions {
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
			out = append(out, m)
		}
		lc.Close()
	}
	return out
}

// A record too large for its topic, whether the producer knows the limit
// (MaxRecordBytes) or only the broker does, is replaced in its place by
// what Reject returns; the records around it are written, in order, and a
// barrier behind them completes.
func TestProducerReject(t *testing.T) {
	for _, known := range []bool{true, false} {
		t.Run(fmt.Sprintf("limit-known=%v", known), func(t *testing.T) {
			c := kafkatest.Start(t)
			topic, dlq := kafkatest.UniqueName(t, "out"), kafkatest.UniqueName(t, "dlq")
			c.CreateTopicWith(t, topic, 1, map[string]string{"max.message.bytes": "4000"})
			c.CreateTopic(t, dlq, 1)
			var rejected []error
			cfg := Config{Cluster: &kafkaio.Cluster{Brokers: c.Addrs()}, Name: "test", Linger: 50 * time.Millisecond,
				Reject: func(m kafka.Message, err error) (kafka.Message, error) {
					rejected = append(rejected, err)
					return kafka.Message{Topic: dlq, Key: m.Key, Value: m.Value[:10]}, nil
				}}
			if known {
				cfg.MaxRecordBytes = map[string]int{topic: 4000}
			}
			p, err := NewProducer(cfg, topic)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close(context.Background())
			ctx := context.Background()
			for i, size := range []int{10, 10_000, 20, 30, 50_000, 40} {
				v := strings.Repeat(strconv.Itoa(i), size)
				if err := p.Send(ctx, kafka.Message{Key: []byte("k"), Value: []byte(v)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.Flush(ctx); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			var got []string
			for _, m := range readAll(t, c, topic, 1) {
				got = append(got, fmt.Sprintf("%c%d", m.Value[0], len(m.Value)))
			}
			if want := []string{"010", "220", "330", "540"}; !slices.Equal(got, want) {
				t.Errorf("topic holds %v, want %v", got, want)
			}
			var dead []string
			for _, m := range readAll(t, c, dlq, 1) {
				dead = append(dead, string(m.Value))
			}
			if want := []string{"1111111111", "4444444444"}; !slices.Equal(dead, want) || len(rejected) != 2 {
				t.Errorf("dead letters %v, rejections %v", dead, rejected)
			}
			for _, err := range rejected {
				if !kafkaio.IsRecordError(err) {
					t.Errorf("rejection %v is not a record error", err)
				}
			}
			if st := p.Stats(); st.Acked != 6 || st.Pending != 0 {
				t.Errorf("stats %+v, want 6 acknowledged", st)
			}
		})
	}
}

// testFence is a Fence a test opens and closes.
type testFence struct{ closed atomic.Bool }

func (f *testFence) Valid() error {
	if f.closed.Load() {
		return errors.New("closed by the test")
	}
	return nil
}

// Records are written while the fence holds; once it does not, neither new
// records nor the retries of a call that was failing when it closed reach
// the topic, and barriers say so; a new fence opens the way again.
func TestProducerFence(t *testing.T) {
	c := kafkatest.Start(t, kafkatest.WithFaults())
	topic := kafkatest.UniqueName(t, "out")
	c.CreateTopic(t, topic, 1)
	var failures atomic.Int64
	failProduce(c, topic, &failures)
	p, err := NewProducer(Config{Cluster: &kafkaio.Cluster{Brokers: c.Addrs()}, Name: "test", RetryMin: 20 * time.Millisecond, RetryMax: 40 * time.Millisecond}, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	ctx := context.Background()
	f := &testFence{}
	p.SetFence(f)
	send := func(v string) {
		if err := p.Send(ctx, kafka.Message{Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	send("before")
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("Flush with the fence open: %v", err)
	}
	// A call that fails, retried while the fence closes.
	failures.Store(1 << 30)
	send("in flight")
	kafkatest.WaitFor(t, 5*time.Second, func() error {
		if p.Stats().Errors == 0 {
			return errors.New("no failed call yet")
		}
		return nil
	})
	f.closed.Store(true)
	kafkatest.WaitFor(t, 5*time.Second, func() error {
		if p.Stats().Fenced == 0 {
			return errors.New("the failing call's retry was not dropped yet")
		}
		return nil
	})
	failures.Store(0)
	send("after")
	if err := p.Flush(ctx); !errors.Is(err, ErrFenced) {
		t.Fatalf("Flush after the fence closed = %v, want ErrFenced", err)
	}
	p.SetFence(&testFence{})
	send("new generation")
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("Flush with a new fence: %v", err)
	}
	var got []string
	for _, m := range readAll(t, c, topic, 1) {
		got = append(got, string(m.Value))
	}
	if want := []string{"before", "new generation"}; !slices.Equal(got, want) || p.Stats().Fenced != 2 {
		t.Errorf("topic holds %q, %d fenced; want %q and 2", got, p.Stats().Fenced, want)
	}
}

// With room in the queue Send queues the record even when its context is
// already done: it never blocks then, so the context has no say (a select
// over both would pick the done context about half the time).
func TestSendWithRoomIgnoresDoneContext(t *testing.T) {
	c := kafkatest.Start(t)
	topic := kafkatest.UniqueName(t, "out")
	c.CreateTopic(t, topic, 1)
	p, err := NewProducer(Config{Cluster: &kafkaio.Cluster{Brokers: c.Addrs()}, Name: "test", Queue: 1000}, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 200 {
		if err := p.Send(done, kafka.Message{Value: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatalf("Send %d with room and a done context: %v", i, err)
		}
	}
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(readAll(t, c, topic, 1)); n != 200 {
		t.Errorf("%d records written, want 200", n)
	}
}

// TestRetryWarningIsBrief: kafka-go fails a call with one error per
// record, the same one mostly; the retry warning names the count and the
// cause once instead of repeating it per record (a 250-record call made
// a 30 KB log line).
func TestRetryWarningIsBrief(t *testing.T) {
	c := kafkatest.Start(t, kafkatest.WithFaults())
	topic := kafkatest.UniqueName(t, "out")
	c.CreateTopic(t, topic, 1)
	var failures atomic.Int64
	failures.Store(1)
	failProduce(c, topic, &failures)
	var logs bytes.Buffer // written before the retry that Flush waits for
	p, err := NewProducer(Config{Cluster: &kafkaio.Cluster{Brokers: c.Addrs()}, Name: "test", RetryMin: 10 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	ctx := context.Background()
	const n = 40
	for i := range n {
		if err := p.Send(ctx, kafka.Message{Key: []byte("k"), Value: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	want := fmt.Sprintf("%d of %d records not written", n, n)
	if !strings.Contains(out, "produce failed, retrying") || !strings.Contains(out, want) {
		t.Fatalf("log lacks a retry warning saying %q:\n%s", want, out)
	}
	if k := strings.Count(out, kafka.LeaderNotAvailable.Error()); k != 1 {
		t.Errorf("the cause appears %d times in the log, want once:\n%s", k, out)
	}
}
