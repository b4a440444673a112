package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/segmentio/kafka-go"
)

// Defaults applied by NewFetcher to zero FetcherConfig fields.
const (
	DefaultFetchMaxBytes = 4 << 20
	DefaultFetchMaxWait  = 500 * time.Millisecond
)

// maxBufferBytes caps the read buffer a Fetcher keeps in value mode; a
// larger record (up to whatever the broker's max.message.bytes allows) is
// read into memory of its own, once.
const maxBufferBytes = 4 << 20

// ErrRecordsDeleted is wrapped by the error a StrictRange Fetcher returns
// when the records it was to read were deleted (by retention) first.
var ErrRecordsDeleted = errors.New("records were deleted while they were read")

// FetcherConfig configures a Fetcher.
type FetcherConfig struct {
	// Dialer connects to the brokers (Cluster.Dialer). Required.
	Dialer *kafka.Dialer
	// Brokers are tried in order to find the partition's leader. Required.
	Brokers []string
	// Topic and Partition name the partition read. Topic is required.
	Topic     string
	Partition int
	// Offset is the first offset to read, or kafka.FirstOffset or
	// kafka.LastOffset, resolved at the first connection.
	Offset int64
	// MaxBytes caps one fetch response (the broker still returns a first
	// record batch larger than it). Default DefaultFetchMaxBytes.
	MaxBytes int
	// MaxWait is how long the broker may hold a fetch for data to arrive.
	// Default DefaultFetchMaxWait.
	MaxWait time.Duration
	// Messages delivers whole records (key, headers, timestamp), each in
	// memory of its own. Otherwise only offsets and values are read, into
	// one reused buffer, allocating nothing per record.
	Messages bool
	// Retries is how many attempts in a row may fail with a transient error
	// before Fetch returns it; 0 retries for as long as it takes.
	Retries int
	// StrictRange makes an offset outside the partition (records deleted by
	// retention, or an offset past its end) an error, for readers of a
	// fixed range; otherwise the Fetcher moves to the partition's first
	// (or last) offset with a warning, as a live consumer should.
	StrictRange bool
	// Logger receives warnings (retries, skipped offsets). Default
	// slog.Default().
	Logger *slog.Logger
}

// Record is one record a Fetcher delivers. In value mode only Offset and
// Value are set, and Value is valid only during the callback; in Messages
// mode every field is set and the slices belong to the callback.
type Record struct {
	Partition int
	Offset    int64
	// Time is the record's timestamp (the producer's or the broker's, as
	// the topic is configured).
	Time    time.Time
	Key     []byte
	Value   []byte
	Headers []kafka.Header
}

// Fetcher reads one partition in batches over a connection to its leader
// (kafka-go Conn.ReadBatch: one fetch request returns up to MaxBytes of
// records, read as they are decoded). It reconnects after leader moves and
// network errors, with jittered exponential backoff (100ms to 5s). It is
// msiguard's one fetch loop: the pipeline's partitions, the restore and
// tail of the alerts topic, and the backtest's topic ranges all read
// through it. A Fetcher is used by one goroutine.
type Fetcher struct {
	cfg FetcherConfig

	// offset is the next offset to read (symbolic until resolved);
	// resolved is the offset a symbolic start resolved to, -1 before.
	offset, resolved int64

	conn    *kafka.Conn
	buf     []byte // value mode's read buffer, grown for large records
	whole   bool   // read the next record whole (see Fetch)
	backoff time.Duration
	fails   int   // transient failures in a row
	empties int   // empty answers in a row below the high watermark
	hw      int64 // high watermark of the last fetch, -1 before
}

// NewFetcher returns a Fetcher for cfg with defaults applied. It does not
// connect.
func NewFetcher(cfg FetcherConfig) *Fetcher {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultFetchMaxBytes
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultFetchMaxWait
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Fetcher{cfg: cfg, offset: cfg.Offset, resolved: -1, hw: -1}
}

// Offset returns the next offset to read (kafka.FirstOffset or
// kafka.LastOffset until the first connection resolves it).
func (f *Fetcher) Offset() int64 { return f.offset }

// SetOffset makes off the next offset to read.
func (f *Fetcher) SetOffset(off int64) { f.offset = off }

// Resolved returns the offset a symbolic start offset resolved to, or -1.
func (f *Fetcher) Resolved() int64 { return f.resolved }

// HighWatermark returns the partition's high watermark as of the last
// fetch, or -1 before one.
func (f *Fetcher) HighWatermark() int64 { return f.hw }

// Lag is the records between the high watermark and the next offset, or
// -1 when unknown.
func (f *Fetcher) Lag() int64 {
	if f.hw < 0 || f.offset < 0 {
		return -1
	}
	return max(f.hw-f.offset, 0)
}

// Close closes the connection, if any. The Fetcher may be used again.
func (f *Fetcher) Close() {
	if f.conn != nil {
		f.conn.Close()
		f.conn = nil
	}
}

// connect dials the partition's leader and resolves a symbolic offset.
func (f *Fetcher) connect(ctx context.Context) error {
	var err error
	for _, b := range f.cfg.Brokers {
		var c *kafka.Conn
		c, err = f.cfg.Dialer.DialLeader(ctx, "tcp", b, f.cfg.Topic, f.cfg.Partition)
		if err == nil {
			f.conn = c
			break
		}
		if IsFatal(err) || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("connecting to the leader of %s/%d: %w", f.cfg.Topic, f.cfg.Partition, err)
	}
	if f.offset < 0 {
		var off int64
		if f.offset == kafka.LastOffset {
			off, err = f.conn.ReadLastOffset()
		} else {
			off, err = f.conn.ReadFirstOffset()
		}
		if err != nil {
			f.Close()
			return fmt.Errorf("reading the start offset of %s/%d: %w", f.cfg.Topic, f.cfg.Partition, err)
		}
		f.offset, f.resolved = off, off
	}
	return nil
}

// Bounds returns the first offset whose record's timestamp is at or after
// since (the end when there is none) and the partition's end offset.
func (f *Fetcher) Bounds(ctx context.Context, since time.Time) (from, to int64, err error) {
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
		f.Close()
		if err := f.retry(ctx, err); err != nil {
			return 0, 0, err
		}
	}
}

// Fetch reads one batch and calls fn for each record, in offset order
// (see Record for what it may keep). The offset advances past each record
// fn accepts. It returns ctx.Err() once ctx is done, a *FatalError for
// errors no retry fixes, a transient error once Retries attempts in a row
// have failed, fn's error, and nil otherwise: transient errors are waited
// out within the call, so an empty fetch is also a nil return.
func (f *Fetcher) Fetch(ctx context.Context, fn func(Record) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if f.conn == nil {
		if err := f.connect(ctx); err != nil {
			return f.retry(ctx, err)
		}
	}
	if f.buf == nil && !f.cfg.Messages {
		f.buf = make([]byte, 1<<20)
	}
	conn := f.conn
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	conn.SetReadDeadline(time.Now().Add(f.cfg.MaxWait + 30*time.Second))
	if _, err := conn.Seek(f.offset, kafka.SeekAbsolute|kafka.SeekDontCheck); err != nil {
		f.Close()
		return f.retry(ctx, err)
	}
	start := f.offset
	batch := conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: f.cfg.MaxBytes, MaxWait: f.cfg.MaxWait})
	var fnErr error
	for {
		r := Record{Partition: f.cfg.Partition}
		if f.cfg.Messages || f.whole {
			// Whole messages; or, in value mode, a record larger than
			// the buffer may grow, read into memory of its own once.
			m, err := batch.ReadMessage()
			if err != nil {
				break
			}
			r.Offset, r.Time, r.Key, r.Value, r.Headers = m.Offset, m.Time, m.Key, m.Value, m.Headers
		} else {
			n, err := batch.Read(f.buf)
			if err != nil {
				break
			}
			r.Offset, r.Value = batch.Offset()-1, f.buf[:n]
		}
		if r.Offset < f.offset {
			continue // a compressed batch can start before the offset asked
		}
		f.whole = false
		if fnErr = fn(r); fnErr != nil {
			break
		}
		f.offset = r.Offset + 1
	}
	f.hw = batch.HighWaterMark()
	err := batch.Close()
	if fnErr != nil {
		f.Close()
		return fnErr
	}
	if off, _ := conn.Offset(); err == nil && off > f.offset {
		f.offset = off // past records removed by compaction at the batch's end
	}
	switch {
	case err == nil || errors.Is(err, kafka.RequestTimedOut) || errors.Is(err, io.EOF):
		// RequestTimedOut: MaxWait passed with nothing to read.
		f.backoff, f.fails = 0, 0
		f.skipEmpty(start)
		return nil
	case errors.Is(err, io.ErrShortBuffer):
		// The next record does not fit: grow the buffer up to
		// maxBufferBytes, and read a larger record whole.
		if len(f.buf) < maxBufferBytes {
			f.buf = make([]byte, 2*len(f.buf))
		} else {
			f.whole = true
		}
		return nil
	case ctx.Err() != nil:
		f.Close()
		return ctx.Err()
	case errors.Is(err, kafka.OffsetOutOfRange):
		return f.outOfRange(ctx, err)
	}
	f.Close()
	return f.retry(ctx, err)
}

// skipEmpty moves past offsets below the high watermark that answer
// nothing this client returns (records compacted away, transaction
// markers): after three empty answers in a row from the same offset.
func (f *Fetcher) skipEmpty(start int64) {
	if f.offset != start || f.hw <= f.offset {
		f.empties = 0
		return
	}
	if f.empties++; f.empties >= 3 {
		f.cfg.Logger.Warn("offsets return no records: skipping them", "topic", f.cfg.Topic, "partition", f.cfg.Partition, "from", f.offset, "to", f.hw)
		f.offset, f.empties = f.hw, 0
	}
}

// outOfRange moves the offset into the partition's range (records below
// the first offset were deleted by retention before they were read), or,
// with StrictRange, returns the error.
func (f *Fetcher) outOfRange(ctx context.Context, cause error) error {
	if f.cfg.StrictRange {
		f.Close()
		return fmt.Errorf("%w: %s/%d at offset %d (%v)", ErrRecordsDeleted, f.cfg.Topic, f.cfg.Partition, f.offset, cause)
	}
	first, last, err := f.conn.ReadOffsets()
	if err != nil {
		f.Close()
		return f.retry(ctx, err)
	}
	switch {
	case f.offset < first:
		f.cfg.Logger.Warn("offset out of range: records were deleted by retention before being read; skipping them",
			"topic", f.cfg.Topic, "partition", f.cfg.Partition, "offset", f.offset, "first", first)
		f.offset = first
	case f.offset > last:
		f.cfg.Logger.Warn("offset beyond the end of the partition; restarting at its end",
			"topic", f.cfg.Topic, "partition", f.cfg.Partition, "offset", f.offset, "end", last)
		f.offset = last
	}
	return nil
}

// retry classifies err: fatal errors are returned, and transient ones once
// Retries attempts in a row have failed; otherwise they are logged (when
// the backoff has grown to a second) and waited out with jittered
// exponential backoff, bounded by ctx.
func (f *Fetcher) retry(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if c := Classify(err); IsFatal(c) {
		return c
	}
	if f.fails++; f.cfg.Retries > 0 && f.fails > f.cfg.Retries {
		return fmt.Errorf("reading %s/%d: %d attempts failed: %w", f.cfg.Topic, f.cfg.Partition, f.fails, err)
	}
	f.backoff = min(max(2*f.backoff, 100*time.Millisecond), 5*time.Second)
	if f.backoff >= time.Second {
		f.cfg.Logger.Warn("fetch failed, retrying", "topic", f.cfg.Topic, "partition", f.cfg.Partition, "err", err, "backoff", f.backoff)
	}
	t := time.NewTimer(f.backoff/2 + rand.N(f.backoff/2+1))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
