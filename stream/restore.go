package stream

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/sink"
	"github.com/msiguard/msiguard/window"
)

// matchesPartition returns the matches partition of a host: the partition
// the matches writer's balancer (kafka.Hash, FNV-1a of the key) picks.
func matchesPartition(host string, n int) int {
	parts := make([]int, n)
	for i := range parts {
		parts[i] = i
	}
	return (&kafka.Hash{}).Balance(kafka.Message{Key: []byte(host)}, parts...)
}

// restore reads the alerts published in the last RestoreLookback back from
// the alerts topic and returns, per assigned matches partition, the latest
// revision of each alert whose host belongs to it. It reads every alerts
// partition up to its end at the time of the call.
func (p *Pipeline) restore(ctx context.Context, mParts []kafka.PartitionAssignment) (map[int][]*window.Alert, error) {
	start := time.Now()
	mine := map[int]bool{}
	for _, a := range mParts {
		mine[a.ID] = true
	}
	parts, err := p.partitions(ctx, p.cfg.AlertsTopic)
	if err != nil {
		return nil, err
	}
	since := p.cfg.now().Add(-p.cfg.RestoreLookback)
	latest := map[string]*window.Alert{}
	read, bad := 0, 0
	for _, part := range parts {
		f := newFetcher(p.dialer, p.cfg.Cluster.Brokers, p.cfg.AlertsTopic, part, kafka.FirstOffset,
			p.cfg.FetchMaxBytes, 100*time.Millisecond, p.log)
		from, to, err := f.bounds(ctx, since)
		if err != nil {
			f.close()
			return nil, err
		}
		f.offset = from
		for f.offset < to {
			err := f.fetch(ctx, func(offset int64, value []byte) error {
				if offset >= to {
					return nil
				}
				read++
				a := new(window.Alert)
				if err := a.UnmarshalJSON(value); err != nil {
					bad++
					return nil
				}
				if a.RuleID != p.rule.ID || !mine[matchesPartition(a.Host, p.matchesPartitions)] {
					return nil
				}
				if prev, ok := latest[a.AlertID]; !ok || a.Revision >= prev.Revision {
					latest[a.AlertID] = a
				}
				return nil
			})
			if err != nil {
				f.close()
				return nil, fmt.Errorf("reading back the alerts topic %s: %w", p.cfg.AlertsTopic, err)
			}
			if f.hw >= 0 && f.offset >= f.hw {
				break // nothing more to read (compacted or aborted tail)
			}
		}
		f.close()
	}
	out := map[int][]*window.Alert{}
	for _, a := range latest {
		mp := matchesPartition(a.Host, p.matchesPartitions)
		out[mp] = append(out[mp], a)
	}
	p.c.restored.Add(int64(len(latest)))
	if bad > 0 {
		p.log.Warn("alerts topic holds records that are not alerts; ignored", "topic", p.cfg.AlertsTopic, "count", bad)
	}
	p.log.Info("alerts restored", "read", read, "restored", len(latest), "since", since.UTC().Format(time.RFC3339), "took", time.Since(start).Round(time.Millisecond).String())
	return out, nil
}

// bounds returns the first offset with a timestamp at or after since and
// the end offset of the partition.
func (f *fetcher) bounds(ctx context.Context, since time.Time) (from, to int64, err error) {
	for {
		if f.conn == nil {
			if err := f.connect(ctx); err != nil {
				if err := f.retry(ctx, err); err != nil {
					return 0, 0, err
				}
				continue
			}
		}
		to, err = f.conn.ReadLastOffset()
		if err == nil {
			from, err = f.conn.ReadOffset(since)
		}
		if err == nil {
			if from < 0 || from > to {
				from = to
			}
			return from, to, nil
		}
		f.close()
		if err := f.retry(ctx, err); err != nil {
			return 0, 0, err
		}
	}
}

// partitions returns the partition ids of topic.
func (p *Pipeline) partitions(ctx context.Context, topic string) ([]int, error) {
	md, err := p.metadata(ctx, topic)
	if err != nil {
		return nil, err
	}
	t := md[topic]
	if t.Error != nil {
		return nil, fmt.Errorf("topic %s: %w", topic, sink.Classify(t.Error))
	}
	ids := make([]int, len(t.Partitions))
	for i, pt := range t.Partitions {
		ids[i] = pt.ID
	}
	return ids, nil
}
