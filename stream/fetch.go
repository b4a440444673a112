package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/sink"
)

// fetcher reads one partition in batches over a connection to its leader
// (kafka-go Conn.ReadBatch: one fetch request returns up to MaxBytes of
// records, read as they are decoded). It reconnects after leader moves and
// network errors with backoff. It is used by one goroutine.
type fetcher struct {
	dialer    *kafka.Dialer
	brokers   []string
	topic     string
	partition int
	// offset is the next offset to read; FirstOffset or LastOffset until
	// resolved, to resolved.
	offset, resolved int64
	maxBytes         int
	maxWait          time.Duration
	log              *slog.Logger

	conn    *kafka.Conn
	buf     []byte // read buffer, grown for large records
	whole   bool   // read the next record whole (see fetch)
	backoff time.Duration
	hw      int64 // high watermark seen in the last fetch, -1 before
}

func newFetcher(dialer *kafka.Dialer, brokers []string, topic string, partition int, offset int64, maxBytes int, maxWait time.Duration, log *slog.Logger) *fetcher {
	return &fetcher{
		dialer: dialer, brokers: brokers, topic: topic, partition: partition, offset: offset,
		maxBytes: maxBytes, maxWait: maxWait, log: log, hw: -1, resolved: -1,
	}
}

func (f *fetcher) close() {
	if f.conn != nil {
		f.conn.Close()
		f.conn = nil
	}
}

// connect dials the partition's leader and resolves a symbolic offset.
func (f *fetcher) connect(ctx context.Context) error {
	var err error
	for _, b := range f.brokers {
		var c *kafka.Conn
		c, err = f.dialer.DialLeader(ctx, "tcp", b, f.topic, f.partition)
		if err == nil {
			f.conn = c
			break
		}
		if sink.IsFatal(err) || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("connecting to the leader of %s/%d: %w", f.topic, f.partition, err)
	}
	if f.offset < 0 {
		var off int64
		if f.offset == kafka.LastOffset {
			off, err = f.conn.ReadLastOffset()
		} else {
			off, err = f.conn.ReadFirstOffset()
		}
		if err != nil {
			f.close()
			return fmt.Errorf("reading the start offset of %s/%d: %w", f.topic, f.partition, err)
		}
		f.offset, f.resolved = off, off
	}
	return nil
}

// fetch reads one batch and calls fn for each record, in offset order,
// with the record's offset and value; value is only valid during the call
// (records are read into one reused buffer, so the hot path allocates
// nothing per record). The offset advances past each record fn accepts. It
// returns ctx.Err() once ctx is done, a *sink.FatalError for errors no
// retry fixes, fn's error, and nil otherwise: transient errors are retried
// after a backoff within the call, so an empty fetch is also a nil return.
func (f *fetcher) fetch(ctx context.Context, fn func(offset int64, value []byte) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if f.conn == nil {
		if err := f.connect(ctx); err != nil {
			return f.retry(ctx, err)
		}
	}
	if f.buf == nil {
		f.buf = make([]byte, 1<<20)
	}
	conn := f.conn
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	conn.SetReadDeadline(time.Now().Add(f.maxWait + 30*time.Second))
	if _, err := conn.Seek(f.offset, kafka.SeekAbsolute|kafka.SeekDontCheck); err != nil {
		f.close()
		return f.retry(ctx, err)
	}
	batch := conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: f.maxBytes, MaxWait: f.maxWait})
	var fnErr error
	for {
		var off int64
		var value []byte
		if f.whole {
			// The record at f.offset is larger than the buffer may grow:
			// read it into memory of its own, once.
			m, err := batch.ReadMessage()
			if err != nil {
				break
			}
			off, value = m.Offset, m.Value
		} else {
			n, err := batch.Read(f.buf)
			if err != nil {
				break
			}
			off, value = batch.Offset()-1, f.buf[:n]
		}
		if off < f.offset {
			continue // a compressed batch can start before the offset asked
		}
		f.whole = false
		if fnErr = fn(off, value); fnErr != nil {
			break
		}
		f.offset = off + 1
	}
	f.hw = batch.HighWaterMark()
	err := batch.Close()
	if fnErr != nil {
		f.close()
		return fnErr
	}
	if off, _ := conn.Offset(); err == nil && off > f.offset {
		f.offset = off // past records removed by compaction at the batch's end
	}
	switch {
	case err == nil || errors.Is(err, kafka.RequestTimedOut):
		// RequestTimedOut: MaxWait passed with nothing to read.
		f.backoff = 0
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
		f.close()
		return ctx.Err()
	case errors.Is(err, kafka.OffsetOutOfRange):
		return f.outOfRange(ctx)
	}
	f.close()
	return f.retry(ctx, err)
}

// maxBufferBytes caps the read buffer a fetcher keeps; a larger record
// (up to whatever the broker's max.message.bytes allows) is read into
// memory of its own and then dropped.
const maxBufferBytes = 4 << 20

// outOfRange moves the offset into the partition's range: records below
// the first offset were deleted by retention before we read them.
func (f *fetcher) outOfRange(ctx context.Context) error {
	first, last, err := f.conn.ReadOffsets()
	if err != nil {
		f.close()
		return f.retry(ctx, err)
	}
	switch {
	case f.offset < first:
		f.log.Warn("offset out of range: records were deleted by retention before being read; skipping them",
			"topic", f.topic, "partition", f.partition, "offset", f.offset, "first", first)
		f.offset = first
	case f.offset > last:
		f.log.Warn("offset beyond the end of the partition; restarting at its end",
			"topic", f.topic, "partition", f.partition, "offset", f.offset, "end", last)
		f.offset = last
	}
	return nil
}

// retry classifies err: fatal errors are returned; transient ones are
// logged and waited out with exponential backoff (bounded by ctx).
func (f *fetcher) retry(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if c := sink.Classify(err); sink.IsFatal(c) {
		return c
	}
	if f.backoff == 0 {
		f.backoff = 100 * time.Millisecond
	} else {
		f.backoff = min(2*f.backoff, 5*time.Second)
	}
	if f.backoff >= time.Second {
		f.log.Warn("fetch failed, retrying", "topic", f.topic, "partition", f.partition, "err", err, "backoff", f.backoff)
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

// lag is the records between the high watermark and the next offset, or
// -1 when unknown.
func (f *fetcher) lag() int64 {
	if f.hw < 0 || f.offset < 0 {
		return -1
	}
	return max(f.hw-f.offset, 0)
}
