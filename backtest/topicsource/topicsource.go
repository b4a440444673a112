// Package topicsource adapts a Kafka topic's offset ranges
// (kafkaio.RangeReader) to the backtest engine's RecordSource, so that the
// engine itself imports no Kafka client. It imports backtest and kafkaio.
package topicsource

import (
	"context"

	"github.com/msiguard/msiguard/backtest"
	"github.com/msiguard/msiguard/kafkaio"
)

// Source is a backtest.RecordSource over a RangeReader.
type Source struct {
	r *kafkaio.RangeReader
}

// New returns a Source reading r. Closing r stays the caller's job.
func New(r *kafkaio.RangeReader) *Source { return &Source{r: r} }

// Topic returns the topic read.
func (s *Source) Topic() string { return s.r.Topic() }

// Ranges returns the range of each partition.
func (s *Source) Ranges() []backtest.Range {
	var out []backtest.Range
	for _, r := range s.r.Ranges() {
		out = append(out, backtest.Range{Partition: r.Partition, Start: r.Start, End: r.End})
	}
	return out
}

// Next returns the next records of partition p (see kafkaio.RangeReader.Next).
func (s *Source) Next(ctx context.Context, p int) ([]backtest.Record, error) {
	recs, err := s.r.Next(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]backtest.Record, len(recs))
	for i, r := range recs {
		out[i] = backtest.Record{Partition: r.Partition, Offset: r.Offset, Time: r.Time, Value: r.Value}
	}
	return out, nil
}
