package kafkaio

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/msiguard/msiguard/internal/settings"
	"github.com/segmentio/kafka-go"
)

// Defaults applied by NewRangeReader to zero RangeConfig fields.
const (
	DefaultRangeFetchBytes = 8 << 20
	DefaultRangePrefetch   = 2
	DefaultRangeMaxWait    = 250 * time.Millisecond
	DefaultRangeRetries    = 5
)

// RangeConfig configures a RangeReader.
type RangeConfig struct {
	// Cluster says how to reach the brokers. Required.
	Cluster Cluster
	// Topic is the topic to read. Required.
	Topic string
	// From selects each partition's start offset: the first record whose
	// timestamp is at or after From (Kafka ListOffsets by timestamp). The
	// zero From starts at each partition's first offset.
	From time.Time
	// To selects each partition's end offset (exclusive): the first record
	// whose timestamp is at or after To. The zero To, or a To later than
	// every record, ends at the high watermark read when NewRangeReader ran,
	// so records produced during the read are not read.
	To time.Time
	// Partitions restricts the read to these partitions. Default: all.
	Partitions []int
	// Ranges, when set, are read as given (another reader's Ranges: two
	// reads of the same records); From, To and Partitions are ignored.
	Ranges []Range
	// FetchBytes caps one fetch response. Default 8 MiB.
	FetchBytes int
	// Prefetch is the number of fetched batches buffered per partition
	// ahead of Next. Default 2.
	Prefetch int
	// MaxWait bounds how long the broker holds a fetch that has no data
	// yet. Default 250ms.
	MaxWait time.Duration
	// Retries is how many times in a row a partition's fetch is retried
	// after a retriable error (leader moved, connection lost) before Next
	// returns the error. Default 5.
	Retries int
}

// Range is the offset range [Start, End) of one partition.
type Range struct {
	Partition int
	Start     int64
	End       int64
}

// RangeReader reads a fixed offset range of every partition of a topic
// without joining a consumer group: it commits nothing, and a group's
// offsets stay as they are. NewRangeReader resolves the ranges; Next reads
// them, partition by partition, in offset order. A background fetcher per
// partition, started by its first Next, reads ahead.
//
// Next may be called from several goroutines for different partitions,
// not concurrently for the same one. Close stops the fetchers and waits
// for them.
type RangeReader struct {
	cfg    RangeConfig
	dialer *kafka.Dialer
	ranges []Range

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu guards parts' lazily started fetchers.
	mu    sync.Mutex
	parts map[int]*rangePart
}

type rangePart struct {
	r       Range
	batches chan rangeBatch
	started bool
	err     error // the final error, returned again by later Next calls
}

type rangeBatch struct {
	recs []Record
	err  error // terminal: io.EOF at the end of the range
}

// NewRangeReader validates cfg, asks the brokers for the topic's partitions
// and their offsets at From and To (or the high watermark), and returns a
// reader for those ranges. It reads no records.
func NewRangeReader(ctx context.Context, cfg RangeConfig) (*RangeReader, error) {
	if cfg.Topic == "" {
		return nil, &FieldError{Field: "Topic", Problem: "is empty"}
	}
	if !cfg.From.IsZero() && !cfg.To.IsZero() && !cfg.From.Before(cfg.To) {
		return nil, &FieldError{Field: "From", Problem: fmt.Sprintf("%s is not before To (%s)", cfg.From.Format(time.RFC3339), cfg.To.Format(time.RFC3339)), Related: []string{"To"}}
	}
	if cfg.Ranges != nil {
		cfg.From, cfg.To, cfg.Partitions = time.Time{}, time.Time{}, nil
	}
	if name, v, neg := settings.Negative("FetchBytes", cfg.FetchBytes, "Prefetch", cfg.Prefetch, "MaxWait", cfg.MaxWait, "Retries", cfg.Retries); neg {
		return nil, &FieldError{Field: name, Problem: fmt.Sprintf("%v is negative; use 0 for the default", v)}
	}
	cfg.FetchBytes = cmp.Or(cfg.FetchBytes, DefaultRangeFetchBytes)
	cfg.Prefetch = cmp.Or(cfg.Prefetch, DefaultRangePrefetch)
	cfg.MaxWait = cmp.Or(cfg.MaxWait, DefaultRangeMaxWait)
	cfg.Retries = cmp.Or(cfg.Retries, DefaultRangeRetries)
	dialer, transport, err := cfg.Cluster.Clients()
	if err != nil {
		return nil, err
	}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: cfg.Cluster.Addr(), Transport: transport, Timeout: 30 * time.Second}

	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{cfg.Topic}})
	if err != nil {
		return nil, Classify(fmt.Errorf("reading metadata of topic %s: %w", cfg.Topic, err))
	}
	var parts []int
	for _, t := range meta.Topics {
		if t.Name != cfg.Topic {
			continue
		}
		if t.Error != nil {
			return nil, Classify(fmt.Errorf("topic %s: %w", cfg.Topic, t.Error))
		}
		for _, p := range t.Partitions {
			if len(cfg.Partitions) == 0 || slices.Contains(cfg.Partitions, p.ID) {
				parts = append(parts, p.ID)
			}
		}
	}
	if len(parts) == 0 {
		return nil, &FieldError{Field: "Topic", Problem: fmt.Sprintf("%s has no partitions to read (does it exist? are the Partitions right?)", cfg.Topic), Related: []string{"Partitions"}}
	}
	slices.Sort(parts)
	if cfg.Ranges != nil {
		r := &RangeReader{cfg: cfg, dialer: dialer, parts: make(map[int]*rangePart, len(cfg.Ranges))}
		for _, rg := range cfg.Ranges {
			if !slices.Contains(parts, rg.Partition) || rg.Start < 0 || rg.End < rg.Start {
				return nil, &FieldError{Field: "Ranges", Problem: fmt.Sprintf("partition %d [%d, %d) is not a range of %s", rg.Partition, rg.Start, rg.End, cfg.Topic)}
			}
			r.ranges = append(r.ranges, rg)
			r.parts[rg.Partition] = &rangePart{r: rg, batches: make(chan rangeBatch, cfg.Prefetch)}
		}
		r.ctx, r.cancel = context.WithCancel(context.Background())
		return r, nil
	}

	// One request per kind of offset: kafka-go keys timestamp answers by
	// offset, so two timestamps of a partition in one request would mix.
	first, err := listOffsets(ctx, client, cfg.Topic, parts, func(p int) kafka.OffsetRequest { return kafka.FirstOffsetOf(p) })
	if err != nil {
		return nil, err
	}
	last, err := listOffsets(ctx, client, cfg.Topic, parts, func(p int) kafka.OffsetRequest { return kafka.LastOffsetOf(p) })
	if err != nil {
		return nil, err
	}
	start, end := first, last
	if !cfg.From.IsZero() {
		if start, err = listOffsets(ctx, client, cfg.Topic, parts, func(p int) kafka.OffsetRequest { return kafka.TimeOffsetOf(p, cfg.From) }); err != nil {
			return nil, err
		}
	}
	if !cfg.To.IsZero() {
		if end, err = listOffsets(ctx, client, cfg.Topic, parts, func(p int) kafka.OffsetRequest { return kafka.TimeOffsetOf(p, cfg.To) }); err != nil {
			return nil, err
		}
	}
	r := &RangeReader{cfg: cfg, dialer: dialer, parts: make(map[int]*rangePart, len(parts))}
	for _, p := range parts {
		s, e := start[p], end[p]
		if s < 0 { // no record at or after From
			s = last[p]
		}
		if e < 0 || e > last[p] { // no record at or after To
			e = last[p]
		}
		s = max(s, first[p])
		e = max(e, s)
		rg := Range{Partition: p, Start: s, End: e}
		r.ranges = append(r.ranges, rg)
		r.parts[p] = &rangePart{r: rg, batches: make(chan rangeBatch, cfg.Prefetch)}
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// listOffsets asks for one offset per partition and returns them by
// partition (-1 where the broker has none, as for a timestamp after the
// last record).
func listOffsets(ctx context.Context, client *kafka.Client, topic string, parts []int, req func(int) kafka.OffsetRequest) (map[int]int64, error) {
	reqs := make([]kafka.OffsetRequest, len(parts))
	for i, p := range parts {
		reqs[i] = req(p)
	}
	res, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, Classify(fmt.Errorf("listing offsets of topic %s: %w", topic, err))
	}
	out := make(map[int]int64, len(parts))
	for _, po := range res.Topics[topic] {
		if po.Error != nil {
			return nil, Classify(fmt.Errorf("listing offsets of %s/%d: %w", topic, po.Partition, po.Error))
		}
		switch reqs[0].Timestamp {
		case kafka.FirstOffset:
			out[po.Partition] = po.FirstOffset
		case kafka.LastOffset:
			out[po.Partition] = po.LastOffset
		default:
			out[po.Partition] = -1
			for off := range po.Offsets {
				out[po.Partition] = off
			}
		}
	}
	for _, p := range parts {
		if _, ok := out[p]; !ok {
			return nil, fmt.Errorf("listing offsets of topic %s: no answer for partition %d", topic, p)
		}
	}
	return out, nil
}

// Topic returns the topic read.
func (r *RangeReader) Topic() string { return r.cfg.Topic }

// Ranges returns the range of each partition, by partition.
func (r *RangeReader) Ranges() []Range { return slices.Clone(r.ranges) }

// ErrUnknownPartition is returned by Next for a partition not in Ranges.
var ErrUnknownPartition = errors.New("kafkaio: partition not in the range")

// Next returns the next records of partition p, in offset order, at least
// one. It returns io.EOF once the range's end is reached; any other error
// is final for that partition (the fetcher has given up retrying).
func (r *RangeReader) Next(ctx context.Context, p int) ([]Record, error) {
	r.mu.Lock()
	rp := r.parts[p]
	if rp == nil {
		r.mu.Unlock()
		return nil, fmt.Errorf("%w: %d", ErrUnknownPartition, p)
	}
	if !rp.started {
		rp.started = true
		r.wg.Go(func() { r.fetch(rp) })
	}
	r.mu.Unlock()
	if rp.err != nil {
		return nil, rp.err
	}
	select {
	case b, ok := <-rp.batches:
		if !ok {
			return nil, io.EOF
		}
		if b.err != nil {
			rp.err = b.err
			return nil, b.err
		}
		return b.recs, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-r.ctx.Done():
		return nil, errors.New("kafkaio: range reader closed")
	}
}

// Close stops the fetchers and waits for them.
func (r *RangeReader) Close() error {
	r.cancel()
	r.wg.Wait()
	return nil
}

// errRangeEnd stops a Fetch at the end of the range.
var errRangeEnd = errors.New("end of the range")

// fetch reads one partition's range into rp.batches and closes it at the
// end. On a final error it delivers the error and stops.
func (r *RangeReader) fetch(rp *rangePart) {
	defer close(rp.batches)
	ctx := r.ctx
	end := rp.r.End
	f := NewFetcher(FetcherConfig{
		Dialer: r.dialer, Brokers: r.cfg.Cluster.Brokers, Topic: r.cfg.Topic, Partition: rp.r.Partition,
		Offset: rp.r.Start, MaxBytes: r.cfg.FetchBytes, MaxWait: r.cfg.MaxWait, Messages: true,
		Retries: r.cfg.Retries, StrictRange: true,
	})
	defer f.Close()
	for f.Offset() < end {
		var recs []Record
		err := f.Fetch(ctx, func(rec Record) error {
			if rec.Offset >= end {
				return errRangeEnd
			}
			recs = append(recs, rec)
			return nil
		})
		if len(recs) > 0 {
			select {
			case rp.batches <- rangeBatch{recs: recs}:
			case <-ctx.Done():
				return
			}
		}
		switch {
		case errors.Is(err, errRangeEnd):
			return
		case err != nil:
			if ctx.Err() == nil {
				select {
				case rp.batches <- rangeBatch{err: fmt.Errorf("reading %s/%d: %w", r.cfg.Topic, rp.r.Partition, err)}:
				case <-ctx.Done():
				}
			}
			return
		}
	}
}
