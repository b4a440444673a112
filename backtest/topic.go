package backtest

import (
	"container/heap"
	"context"
	"errors"
	"io"
	"time"
)

// RecordSource is what RunTopic reads: fixed offset ranges of a topic's
// partitions (backtest/topicsource adapts a Kafka topic's). The engine
// knows nothing of Kafka: it imports no Kafka client.
type RecordSource interface {
	Topic() string
	Ranges() []Range
	// Next returns the next records of partition p in offset order, or
	// io.EOF after the last.
	Next(ctx context.Context, p int) ([]Record, error)
}

// Range is the offset range [Start, End) of one partition.
type Range struct {
	Partition int
	Start     int64
	End       int64
}

// Record is one record of a range. Its Value belongs to the engine once
// Next returns it.
type Record struct {
	Partition int
	Offset    int64
	// Time is the record's timestamp; the merge of partitions orders by it.
	Time  time.Time
	Value []byte
}

// RunTopic replays the ranges of src and returns the summary.
//
// Partitions are read concurrently and merged into one sequence ordered by
// (record timestamp, partition, offset), a merge that keeps each
// partition's own order. The order depends only on what the topic holds,
// so a replay of the same range gives the same output, and it follows the
// order in which the records were produced, as a live consumer sees them.
func (e *Engine) RunTopic(ctx context.Context, src RecordSource) (Summary, error) {
	sum := newSummary()
	if err := e.start(); err != nil {
		sum.setStatus(ctx, err)
		return sum, err
	}
	sum.Topic = src.Topic()
	var total int64
	for _, r := range src.Ranges() {
		sum.Partitions = append(sum.Partitions, PartitionRange(r))
		total += r.End - r.Start
	}
	e.offTotal.Store(total)
	if total == 0 {
		e.offTotal.Store(-1)
		e.inTotal.Store(0)
	}
	err := e.execute(ctx, &sum, func(p *pipeline, todo chan<- *block) error {
		return e.merge(p, src, todo)
	})
	sum.InputBytes = sum.Bytes
	return sum, err
}

// cursor is one partition's place in the merge.
type cursor struct {
	partition int
	start     int64
	recs      []Record
	i         int
}

func (c *cursor) head() *Record { return &c.recs[c.i] }

type cursorHeap []*cursor

func (h cursorHeap) Len() int { return len(h) }
func (h cursorHeap) Less(i, j int) bool {
	a, b := h[i].head(), h[j].head()
	if c := a.Time.Compare(b.Time); c != 0 {
		return c < 0
	}
	return h[i].partition < h[j].partition
}
func (h cursorHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)   { *h = append(*h, x.(*cursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// merge reads every partition and sends the merged records in batches.
func (e *Engine) merge(p *pipeline, src RecordSource, todo chan<- *block) error {
	ctx := p.ctx
	var h cursorHeap
	// refill loads a cursor's next records; false at the partition's end.
	refill := func(c *cursor) (bool, error) {
		for {
			recs, err := src.Next(ctx, c.partition)
			if errors.Is(err, io.EOF) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			if len(recs) > 0 {
				c.recs, c.i = recs, 0
				return true, nil
			}
		}
	}
	ranges := src.Ranges()
	// Ask every partition first, so that their fetchers run together.
	type first struct {
		ok  bool
		err error
	}
	results := make([]chan first, len(ranges))
	for i, r := range ranges {
		results[i] = make(chan first, 1)
		c := &cursor{partition: r.Partition, start: r.Start}
		go func() {
			ok, err := refill(c)
			results[i] <- first{ok, err}
		}()
		h = append(h, c)
	}
	var live cursorHeap
	var errs []error
	for i, c := range h {
		f := <-results[i]
		if f.err != nil {
			errs = append(errs, f.err)
			continue
		}
		if f.ok {
			live = append(live, c)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	h = live
	heap.Init(&h)

	topic := src.Topic()
	var seq int64
	b := &block{topic: topic}
	var size int
	flush := func() bool {
		if len(b.recs) == 0 {
			return true
		}
		b.seq = seq
		seq++
		if !p.send(todo, b) {
			return false
		}
		b, size = &block{topic: topic}, 0
		return true
	}
	for len(h) > 0 {
		c := h[0]
		r := *c.head()
		b.recs = append(b.recs, r)
		size += len(r.Value)
		e.offDone.Add(1)
		if c.i++; c.i == len(c.recs) {
			ok, err := refill(c)
			if err != nil {
				return err
			}
			if !ok {
				heap.Pop(&h)
			} else {
				heap.Fix(&h, 0)
			}
		} else {
			heap.Fix(&h, 0)
		}
		if len(b.recs) >= e.cfg.BatchRecords || size >= e.cfg.BlockSize {
			if !flush() {
				return nil
			}
		}
	}
	flush()
	return nil
}

// scanRecords evaluates each record of a topic batch that passes the
// prefilter.
func (e *Engine) scanRecords(b *block) {
	d := e.det
	for i := range b.recs {
		v := b.recs[i].Value
		b.size += int64(len(v))
		if d.Prefilter(v) {
			b.evaluate(d, v, int64(i))
		}
	}
	b.lines = int64(len(b.recs))
}
