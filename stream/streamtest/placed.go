package streamtest

import (
	"context"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/detector"
)

// ReadPlaced reads topic whole (ReadTopic), each record with where it is:
// the input Expect takes.
func ReadPlaced(ctx context.Context, dialer *kafka.Dialer, broker, topic string) ([]Placed, error) {
	msgs, err := ReadTopic(ctx, dialer, broker, topic)
	if err != nil {
		return nil, err
	}
	out := make([]Placed, len(msgs))
	for i, m := range msgs {
		out[i] = Placed{Value: m.Value, Topic: m.Topic, Partition: int32(m.Partition), Offset: m.Offset}
	}
	return out, nil
}

// SeedDetector returns the seed rule's detector, which says what the
// pipeline must publish (Expect) and dead-letter.
func SeedDetector(t testing.TB) *detector.Detector {
	t.Helper()
	d, err := detector.NewDefault(detector.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}
