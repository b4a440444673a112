package kafkatest_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/msiguard/msiguard/internal/kafkatest"
)

// TestFakeFaultInjection shows kfake's ControlKey: the first Produce request
// is answered NOT_LEADER_FOR_PARTITION for every partition, and kafka.Writer
// retries it (MaxAttempts) until the write lands.
func TestFakeFaultInjection(t *testing.T) {
	c := kafkatest.Start(t, kafkatest.WithFaults())
	topic := kafkatest.UniqueName(t, "fault")
	c.CreateTopic(t, topic, 1)

	var injected atomic.Int32
	c.Fake().ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		preq := req.(*kmsg.ProduceRequest)
		resp := kafkatest.RefuseProduce(preq, kerr.NotLeaderForPartition.Code)
		injected.Add(1)
		return resp, nil, true // handled: this control function is now dropped
	})

	w := &kafka.Writer{
		Addr:            kafka.TCP(c.Addrs()...),
		Topic:           topic,
		RequiredAcks:    kafka.RequireAll,
		WriteBackoffMin: 10 * time.Millisecond,
		WriteBackoffMax: 50 * time.Millisecond,
		Transport:       c.Transport(t),
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("after one retry")}); err != nil {
		t.Fatalf("WriteMessages: %v", err)
	}
	if injected.Load() != 1 {
		t.Fatalf("the fault was injected %d times, want 1", injected.Load())
	}
	if st := w.Stats(); st.Retries < 1 {
		t.Errorf("writer stats: %d retries, want at least 1", st.Retries)
	}
}
