package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/sink"
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
	Cluster sink.Cluster
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

// Record is one Kafka record of a range. Its slices belong to the caller.
type Record struct {
	Partition int
	Offset    int64
	// Time is the record's timestamp (producer or broker time, as the topic
	// is configured).
	Time  time.Time
	Key   []byte
	Value []byte
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
		return nil, fmt.Errorf("%w: no topic: set --topic", sink.ErrConfig)
	}
	if !cfg.From.IsZero() && !cfg.To.IsZero() && !cfg.From.Before(cfg.To) {
		return nil, fmt.Errorf("%w: --from %s is not before --to %s", sink.ErrConfig, cfg.From.Format(time.RFC3339), cfg.To.Format(time.RFC3339))
	}
	if cfg.FetchBytes < 0 || cfg.Prefetch < 0 || cfg.MaxWait < 0 || cfg.Retries < 0 {
		return nil, fmt.Errorf("%w: FetchBytes, Prefetch, MaxWait and Retries must not be negative", sink.ErrConfig)
	}
	if cfg.FetchBytes == 0 {
		cfg.FetchBytes = DefaultRangeFetchBytes
	}
	if cfg.Prefetch == 0 {
		cfg.Prefetch = DefaultRangePrefetch
	}
	if cfg.MaxWait == 0 {
		cfg.MaxWait = DefaultRangeMaxWait
	}
	if cfg.Retries == 0 {
		cfg.Retries = DefaultRangeRetries
	}
	dialer, err := cfg.Cluster.Dialer()
	if err != nil {
		return nil, err
	}
	transport, err := cfg.Cluster.Transport()
	if err != nil {
		return nil, err
	}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: cfg.Cluster.Addr(), Transport: transport, Timeout: 30 * time.Second}

	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{cfg.Topic}})
	if err != nil {
		return nil, sink.Classify(fmt.Errorf("reading metadata of topic %s: %w", cfg.Topic, err))
	}
	var parts []int
	for _, t := range meta.Topics {
		if t.Name != cfg.Topic {
			continue
		}
		if t.Error != nil {
			return nil, sink.Classify(fmt.Errorf("topic %s: %w", cfg.Topic, t.Error))
		}
		for _, p := range t.Partitions {
			if len(cfg.Partitions) == 0 || slices.Contains(cfg.Partitions, p.ID) {
				parts = append(parts, p.ID)
			}
		}
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("topic %s has no partitions to read (does it exist? --partitions right?)", cfg.Topic)
	}
	slices.Sort(parts)

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
		return nil, sink.Classify(fmt.Errorf("listing offsets of topic %s: %w", topic, err))
	}
	out := make(map[int]int64, len(parts))
	for _, po := range res.Topics[topic] {
		if po.Error != nil {
			return nil, sink.Classify(fmt.Errorf("listing offsets of %s/%d: %w", topic, po.Partition, po.Error))
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
var ErrUnknownPartition = errors.New("stream: partition not in the range")

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
		return nil, errors.New("stream: range reader closed")
	}
}

// Close stops the fetchers and waits for them.
func (r *RangeReader) Close() error {
	r.cancel()
	r.wg.Wait()
	return nil
}

// fetch reads one partition's range into rp.batches and closes it at the
// end. On a final error it delivers the error and stops.
func (r *RangeReader) fetch(rp *rangePart) {
	defer close(rp.batches)
	ctx := r.ctx
	off, end := rp.r.Start, rp.r.End
	var conn *kafka.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	failures, empties := 0, 0
	for off < end {
		if conn == nil {
			c, err := r.dial(ctx, rp.r.Partition)
			if err != nil {
				if r.retry(ctx, rp, &failures, err) {
					continue
				}
				return
			}
			conn = c
		}
		recs, next, hw, err := r.fetchOnce(conn, off, end)
		if len(recs) > 0 {
			failures = 0
			off = next
			select {
			case rp.batches <- rangeBatch{recs: recs}:
			case <-ctx.Done():
				return
			}
		}
		if err != nil {
			conn.Close()
			conn = nil
			if !r.retry(ctx, rp, &failures, err) {
				return
			}
		}
		if len(recs) == 0 && err == nil {
			switch {
			case next > off:
				off = next // the first record at or after off is at or past end
			case hw > off:
				// An empty answer below the high watermark. After three in
				// a row, the offsets from off on hold nothing this client
				// returns (compacted away, transaction markers): skip them.
				if empties++; empties >= 3 {
					off, empties = min(hw, end), 0
				}
			}
		} else {
			empties = 0
		}
	}
}

// retry counts a failure and waits before the next attempt; false (after
// delivering the error) when the failures are final.
func (r *RangeReader) retry(ctx context.Context, rp *rangePart, failures *int, err error) bool {
	*failures++
	err = sink.Classify(err)
	if ctx.Err() != nil {
		return false
	}
	if sink.IsFatal(err) || *failures > r.cfg.Retries || errors.Is(err, kafka.OffsetOutOfRange) {
		if errors.Is(err, kafka.OffsetOutOfRange) {
			err = fmt.Errorf("%w: records of the range were deleted while reading (retention); start later with --from", err)
		}
		err = fmt.Errorf("reading %s/%d: %w", r.cfg.Topic, rp.r.Partition, err)
		select {
		case rp.batches <- rangeBatch{err: err}:
		case <-ctx.Done():
		}
		return false
	}
	t := time.NewTimer(time.Duration(*failures) * 100 * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (r *RangeReader) dial(ctx context.Context, partition int) (*kafka.Conn, error) {
	var errs []error
	for _, b := range r.cfg.Cluster.Brokers {
		c, err := r.dialer.DialLeader(ctx, "tcp", b, r.cfg.Topic, partition)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if sink.IsFatal(err) {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// fetchOnce reads one fetch response starting at off and returns its
// records below end, the offset to read next and the partition's high
// watermark.
func (r *RangeReader) fetchOnce(conn *kafka.Conn, off, end int64) ([]Record, int64, int64, error) {
	if _, err := conn.Seek(off, kafka.SeekAbsolute|kafka.SeekDontCheck); err != nil {
		return nil, off, -1, err
	}
	conn.SetReadDeadline(time.Now().Add(r.cfg.MaxWait + 30*time.Second))
	batch := conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: r.cfg.FetchBytes, MaxWait: r.cfg.MaxWait})
	var recs []Record
	next := off
	for {
		m, err := batch.ReadMessage()
		if err != nil {
			break
		}
		if m.Offset < off {
			continue // the start of a compressed batch before off
		}
		if m.Offset >= end {
			next = end
			break
		}
		recs = append(recs, Record{Partition: m.Partition, Offset: m.Offset, Time: m.Time, Key: m.Key, Value: m.Value})
		next = m.Offset + 1
	}
	hw := batch.HighWaterMark()
	err := batch.Close()
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return recs, next, hw, err
}
