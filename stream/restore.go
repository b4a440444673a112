package stream

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
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

// alertsPartition is one partition of one alerts topic.
type alertsPartition struct {
	topic string
	part  int
}

// restore reads the alerts published in the last RestoreLookback back from
// every alerts topic and returns, per assigned matches partition, the
// latest revision of each alert whose host belongs to it, and the end
// offset of each alerts partition it read to (where tailAlerts goes on). It
// reads the partitions in parallel, each up to its end at the time of the
// call, and keeps from each topic only the alerts of the rules routed to it
// (Config.RuleAlertsTopics).
func (p *Pipeline) restore(ctx context.Context, mParts []kafka.PartitionAssignment) (map[int][]*window.Alert, map[alertsPartition]int64, error) {
	start := time.Now()
	mine := map[int]bool{}
	for _, a := range mParts {
		mine[a.ID] = true
	}
	var parts []alertsPartition
	for _, t := range p.cfg.alertsTopics() {
		ids, err := p.partitions(ctx, t)
		if err != nil {
			return nil, nil, err
		}
		for _, id := range ids {
			parts = append(parts, alertsPartition{t, id})
		}
	}
	since := p.cfg.now().Add(-p.cfg.RestoreLookback)
	var (
		mu     sync.Mutex
		latest = map[string]*window.Alert{}
		ends   = map[alertsPartition]int64{}
		read   int
		bad    = map[string]int{}
		errs   = make([]error, len(parts))
		wg     sync.WaitGroup
	)
	for i, ap := range parts {
		wg.Go(func() {
			var n, nbad int
			end, err := p.readAlerts(ctx, ap, since, func(a *window.Alert, ok bool) {
				n++
				switch {
				case !ok:
					nbad++
				case !p.ownsAlert(ap.topic, a) || !mine[matchesPartition(a.Host, p.matchesPartitions)]:
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
			read, ends[ap], errs[i] = read+n, end, err
			bad[ap.topic] += nbad
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
	for _, t := range slices.Sorted(maps.Keys(bad)) {
		if bad[t] > 0 {
			p.log.Warn("alerts topic holds records that are not alerts; ignored", "topic", t, "count", bad[t])
		}
	}
	p.log.Info("alerts restored", "read", read, "restored", len(latest), "since", since.UTC().Format(time.RFC3339), "took", time.Since(start).Round(time.Millisecond).String())
	return out, ends, nil
}

// ownsAlert reports whether a, read from topic, is one this pipeline keeps:
// an alert of a rule it runs, from the topic that rule's alerts go to (an
// alert of a rule since routed elsewhere is history, not state).
func (p *Pipeline) ownsAlert(topic string, a *window.Alert) bool {
	return p.knowsRule(a.RuleID) && p.cfg.alertsTopicOf(a.RuleID) == topic
}

// readAlerts reads alerts partition ap from the first record at or after
// since to its end at the time of the call, calling fn with each record
// decoded (ok false for one that is not an alert), and returns that end.
func (p *Pipeline) readAlerts(ctx context.Context, ap alertsPartition, since time.Time, fn func(a *window.Alert, ok bool)) (int64, error) {
	f := p.newFetcher(ap.topic, ap.part, kafka.FirstOffset, 100*time.Millisecond)
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
			return 0, fmt.Errorf("reading back the alerts topic %s: %w", ap.topic, err)
		}
		if hw := f.HighWatermark(); hw >= 0 && f.Offset() >= hw {
			break // nothing more to read (compacted or aborted tail)
		}
	}
	return to, nil
}

// tailAlerts reads every alerts partition on from ends (where restore
// stopped) until ctx is done, and hands each alert it owns (ownsAlert)
// whose host belongs to one of heal's matches partitions to that
// partition's channel: the matches worker compares it with its window
// (window.Heal), so that a stale record written after its own (by a member
// that stalled past its session and came back) is followed by the complete
// one again.
func (p *Pipeline) tailAlerts(ctx context.Context, ends map[alertsPartition]int64, heal map[int]chan *window.Alert) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for ap, from := range ends {
		wg.Go(func() {
			f := p.newFetcher(ap.topic, ap.part, from, p.cfg.FetchMaxWait)
			defer f.Close()
			for ctx.Err() == nil {
				err := f.Fetch(ctx, values(func(offset int64, value []byte) error {
					a := new(window.Alert)
					if a.UnmarshalJSON(value) != nil || !p.ownsAlert(ap.topic, a) {
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
					p.log.Warn("reading the alerts topic for stale records failed; healing stops for this generation", "topic", ap.topic, "partition", ap.part, "err", err)
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
