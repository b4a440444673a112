package streamtest

import (
	"context"

	"github.com/segmentio/kafka-go"
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
