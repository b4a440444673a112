package stream

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/kafkaio"
)

// Dead-letter headers.
const (
	HeaderReason          = "msiguard-reason"
	HeaderSourceTopic     = "msiguard-source-topic"
	HeaderSourcePartition = "msiguard-source-partition"
	HeaderSourceOffset    = "msiguard-source-offset"
	HeaderError           = "msiguard-error"
)

// Alert headers.
const (
	HeaderRuleID   = "msiguard-rule-id"
	HeaderRevision = "msiguard-revision"
	// HeaderRuleVersion is a short hash of the rule's compiled form
	// (rules.Compiled.Version): alerts of an edited rule carry another.
	HeaderRuleVersion = "msiguard-rule-version"
)

// inputWorker is stage A for one input partition: it fetches batches,
// evaluates every record, sends matches (keyed by host) to the matches
// topic and dead letters to the DLQ, and makes an offset committable once
// the brokers have acknowledged everything produced from the records
// below it.
type inputWorker struct {
	p    *Pipeline
	part int
	key  tp
	f    *kafkaio.Fetcher
	o    *offsets

	// pos is the next offset to process: every record below it is done.
	pos int64
	// floor is the last committable offset (all output below acknowledged).
	floor int64
	// started: where a restart would read from is known (partStats.start).
	started bool
	// lease is the generation's (see lease): a drain without it discards.
	lease *lease
	// dirty: records were sent since the last barrier.
	dirty bool
	commitMarker
	ctx context.Context // for Send during run

	// per-batch counters, added to the pipeline's after each fetch
	consumed, hits, matches, truncated int64
	near                               [4]int64
	dead                               [8]int64
	mr                                 matchRecord
	found                              []detector.Match // EvaluateAll's, reused
}

func (p *Pipeline) newInputWorker(a kafka.PartitionAssignment, o *offsets, l *lease) *inputWorker {
	w := &inputWorker{
		p: p, part: a.ID, o: o, lease: l,
		key: tp{p.cfg.Topic, a.ID},
		f:   p.newFetcher(p.cfg.Topic, a.ID, a.Offset, p.cfg.FetchMaxWait),
		pos: a.Offset,
	}
	if a.Offset >= 0 {
		w.floor, w.started = a.Offset, true
		p.parts.setStart(w.key, a.Offset)
	}
	return w
}

// run consumes until end is done, then drains within drain. It returns
// whether the drain committed everything processed, and a fatal error.
func (w *inputWorker) run(end, drain context.Context) (clean bool, err error) {
	defer w.f.Close()
	w.ctx = end
	w.lastMark = time.Now()
	for end.Err() == nil {
		err := w.f.Fetch(end, values(w.process))
		w.flushCounters()
		if !w.started && w.f.Resolved() >= 0 {
			// The start offset was symbolic: a restart reads from there.
			w.started = true
			w.p.parts.setStart(w.key, w.f.Resolved())
		}
		if w.pos < 0 && w.f.Offset() >= 0 {
			// Nothing below the resolved start exists.
			w.pos, w.floor = w.f.Offset(), w.f.Offset()
		}
		w.p.parts.setLag(w.key, w.f.Lag(), w.f.HighWatermark())
		if err != nil && end.Err() == nil {
			return false, err
		}
		w.maybeCommit(end)
	}
	if err := w.drain(drain); err != nil {
		w.p.log.Warn("partition drain incomplete", "topic", w.key.topic, "partition", w.part, "reason", err)
		return false, nil
	}
	return true, nil
}

func (w *inputWorker) process(offset int64, value []byte) error {
	w.consumed++
	if !w.p.det.Prefilter(value) {
		w.pos = offset + 1
		return nil
	}
	w.hits++
	matches, near, err := w.p.det.EvaluateAll(value, w.found[:0])
	w.found = matches
	if near != "" {
		w.near[nearIndex(near)]++
	}
	if err != nil {
		if err := w.deadLetter(offset, value, err); err != nil {
			return err
		}
	}
	// One match per rule that selects the record, each keyed by host.
	for _, match := range matches {
		w.mr = matchRecord{
			RuleID: w.p.rules[match.Rule].Rule.ID,
			Topic:  w.p.cfg.Topic, Partition: int32(w.part), Offset: offset, Floor: w.floor,
			Time: match.Time, Host: match.Host, Values: match.Values,
		}
		msg := kafka.Message{
			Topic: w.p.cfg.MatchesTopic,
			Key:   []byte(match.Host),
			Value: appendMatch(make([]byte, 0, 64+len(w.mr.RuleID)+len(match.Host)+16*len(match.Values)), &w.mr),
		}
		if err := w.p.records.Send(w.ctx, msg); err != nil {
			return err
		}
		w.matches++
		w.truncated += int64(match.Truncated)
		w.dirty = true
	}
	w.pos = offset + 1
	return nil
}

// deadLetter sends the record's dead letter (see Pipeline.deadLetter),
// keyed by its position.
func (w *inputWorker) deadLetter(offset int64, value []byte, err error) error {
	reason := detector.Reason("unknown")
	detail := err.Error()
	var de *detector.Error
	if errors.As(err, &de) {
		reason, detail = de.Reason, de.Detail
	}
	part := int32(w.part)
	msg := w.p.deadLetter(sourceKey(w.p.cfg.Topic, part, offset), value, reason, detail, sourceHeaders(w.p.cfg.Topic, part, offset)...)
	if err := w.p.records.Send(w.ctx, msg); err != nil {
		return err
	}
	w.dead[reasonIndex(reason)]++
	w.dirty = true
	return nil
}

func (w *inputWorker) flushCounters() {
	c := &w.p.c
	flushCount(&c.consumed, &w.consumed)
	flushCount(&c.hits, &w.hits)
	flushCount(&c.matches, &w.matches)
	flushCount(&c.truncatedValues, &w.truncated)
	for i := range w.near {
		flushCount(&c.nearMisses[i], &w.near[i])
	}
	for i := range w.dead {
		flushCount(&c.deadLetters[i], &w.dead[i])
	}
}

// flushCount adds a worker's local count *n to the shared counter c and
// zeroes it; a zero count costs no atomic operation.
func flushCount(c *atomic.Int64, n *int64) {
	if *n != 0 {
		c.Add(*n)
		*n = 0
	}
}

// commitAt makes off committable: every record below it is processed and
// its output acknowledged.
func (w *inputWorker) commitAt(off int64) {
	if off < 0 {
		return
	}
	w.floor = off
	w.o.set(w.key, off)
}

// maybeCommit completes a pending barrier and, every CommitInterval,
// starts a new one (or commits directly when nothing was produced).
func (w *inputWorker) maybeCommit(ctx context.Context) {
	if !w.due(time.Now(), w.p.cfg.CommitInterval, w.commitAt) {
		return
	}
	if !w.dirty {
		w.commitAt(w.pos)
		return
	}
	ch, err := w.p.records.Barrier(ctx)
	if err != nil {
		return
	}
	w.pending = &pendingCommit{off: w.pos, ch: ch}
	w.dirty = false
}

// drain waits for everything produced to be acknowledged and makes the
// position committable. It returns why it could not, or nil.
func (w *inputWorker) drain(ctx context.Context) error {
	if w.broken != nil {
		return w.broken
	}
	if err := w.lease.Valid(); err != nil {
		return err
	}
	if w.pending == nil && !w.dirty {
		w.commitAt(w.pos)
		return nil
	}
	if err := finalBarrier(ctx, w.p.records); err != nil {
		return err
	}
	w.commitAt(w.pos)
	return nil
}

// newFetcher returns the pipeline's fetcher of one partition, in value mode.
func (p *Pipeline) newFetcher(topic string, partition int, offset int64, maxWait time.Duration) *kafkaio.Fetcher {
	return kafkaio.NewFetcher(kafkaio.FetcherConfig{
		Dialer: p.dialer, Brokers: p.cfg.Cluster.Brokers, Topic: topic, Partition: partition, Offset: offset,
		MaxBytes: p.cfg.FetchMaxBytes, MaxWait: maxWait, Logger: p.log,
	})
}

// values adapts fn to a Fetcher's callback in value mode.
func values(fn func(offset int64, value []byte) error) func(kafkaio.Record) error {
	return func(r kafkaio.Record) error { return fn(r.Offset, r.Value) }
}
