package stream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/kafkaio"
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
// revision of each alert whose host belongs to it, and the end offset of
// each alerts partition it read to (where tailAlerts goes on). It reads the
// alerts partitions in parallel, each up to its end at the time of the
// call.
func (p *Pipeline) restore(ctx context.Context, mParts []kafka.PartitionAssignment) (map[int][]*window.Alert, map[int]int64, error) {
	start := time.Now()
	mine := map[int]bool{}
	for _, a := range mParts {
		mine[a.ID] = true
	}
	parts, err := p.partitions(ctx, p.cfg.AlertsTopic)
	if err != nil {
		return nil, nil, err
	}
	since := p.cfg.now().Add(-p.cfg.RestoreLookback)
	var (
		mu     sync.Mutex
		latest = map[string]*window.Alert{}
		ends   = map[int]int64{}
		read   int
		bad    int
		errs   = make([]error, len(parts))
		wg     sync.WaitGroup
	)
	for i, part := range parts {
		wg.Go(func() {
			var n, nbad int
			end, err := p.readAlerts(ctx, part, since, func(a *window.Alert, ok bool) {
				n++
				switch {
				case !ok:
					nbad++
				case !p.knowsRule(a.RuleID) || !mine[matchesPartition(a.Host, p.matchesPartitions)]:
				default:
					mu.Lock()
					if prev, ok := latest[a.AlertID]; !ok || a.Revision >= prev.Revision {
						latest[a.AlertID] = a
					}
					mu.Unlock()
				}
			})
			mu.Lock()
			defer mu.Unlock()
			read, bad, ends[part], errs[i] = read+n, bad+nbad, end, err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
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
	return out, ends, nil
}

// readAlerts reads alerts partition part from the first record at or after
// since to its end at the time of the call, calling fn with each record
// decoded (ok false for one that is not an alert), and returns that end.
func (p *Pipeline) readAlerts(ctx context.Context, part int, since time.Time, fn func(a *window.Alert, ok bool)) (int64, error) {
	f := p.newFetcher(p.cfg.AlertsTopic, part, kafka.FirstOffset, 100*time.Millisecond)
	defer f.Close()
	from, to, err := f.Bounds(ctx, since)
	if err != nil {
		return 0, err
	}
	f.SetOffset(from)
	for f.Offset() < to {
		err := f.Fetch(ctx, values(func(offset int64, value []byte) error {
			if offset >= to {
				return nil
			}
			a := new(window.Alert)
			err := a.UnmarshalJSON(value)
			fn(a, err == nil)
			return nil
		}))
		if err != nil {
			return 0, fmt.Errorf("reading back the alerts topic %s: %w", p.cfg.AlertsTopic, err)
		}
		if hw := f.HighWatermark(); hw >= 0 && f.Offset() >= hw {
			break // nothing more to read (compacted or aborted tail)
		}
	}
	return to, nil
}

// tailAlerts reads every alerts partition on from ends (where restore
// stopped) until ctx is done, and hands each alert of this rule whose host
// belongs to one of heal's matches partitions to that partition's channel:
// the matches worker compares it with its window (window.Heal), so that a
// stale record written after its own (by a member that stalled past its
// session and came back) is followed by the complete one again.
func (p *Pipeline) tailAlerts(ctx context.Context, ends map[int]int64, heal map[int]chan *window.Alert) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for part, from := range ends {
		wg.Go(func() {
			f := p.newFetcher(p.cfg.AlertsTopic, part, from, p.cfg.FetchMaxWait)
			defer f.Close()
			for ctx.Err() == nil {
				err := f.Fetch(ctx, values(func(offset int64, value []byte) error {
					a := new(window.Alert)
					if a.UnmarshalJSON(value) != nil || !p.knowsRule(a.RuleID) {
						return nil
					}
					ch := heal[matchesPartition(a.Host, p.matchesPartitions)]
					if ch == nil {
						return nil
					}
					select {
					case ch <- a:
						return nil
					case <-ctx.Done():
						return ctx.Err()
					}
				}))
				if err != nil && ctx.Err() == nil {
					p.log.Warn("reading the alerts topic for stale records failed; healing stops for this generation", "topic", p.cfg.AlertsTopic, "partition", part, "err", err)
					return
				}
			}
		})
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
		return nil, fmt.Errorf("topic %s: %w", topic, kafkaio.Classify(t.Error))
	}
	ids := make([]int, len(t.Partitions))
	for i, pt := range t.Partitions {
		ids[i] = pt.ID
	}
	return ids, nil
}

// knowsRule reports whether the pipeline runs the rule id.
func (p *Pipeline) knowsRule(id string) bool {
	_, ok := p.ruleIndex[id]
	return ok
}
