package sink

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/internal/settings"
	"github.com/msiguard/msiguard/kafkaio"
)

// Defaults applied by NewProducer to zero Config fields.
const (
	DefaultQueue        = 10_000
	DefaultCallMessages = 1000
	DefaultCallBytes    = 900 << 10
	DefaultLinger       = 2 * time.Millisecond
	DefaultRetryMin     = 100 * time.Millisecond
	DefaultRetryMax     = 5 * time.Second
	DefaultWriteTimeout = 10 * time.Second
)

// ErrClosed is returned by Send and Barrier after Close.
var ErrClosed = errors.New("sink: producer closed")

// ErrDiscarded is delivered to barriers dropped by Discard.
var ErrDiscarded = errors.New("sink: queued records discarded")

// ErrFenced is wrapped by the error a barrier receives when the
// producer's fence (SetFence) stopped records before it from being written.
var ErrFenced = errors.New("sink: records dropped by the fence")

// Fence says whether records may still be written: nil while they may, an
// error saying why once they may not (see Producer.SetFence).
type Fence interface{ Valid() error }

// Config configures a Producer.
type Config struct {
	// Cluster says how to reach the brokers. Required.
	Cluster *kafkaio.Cluster
	// Name labels log lines ("alerts", "matches").
	Name string
	// Queue caps the records accepted but not yet acknowledged (queued and
	// in flight); Send blocks beyond it. This is the producer's memory bound.
	// Default 10_000.
	Queue int
	// CallMessages and CallBytes cap one produce call. Each call sends at
	// most one record batch per partition, so CallBytes must stay under the
	// topics' max.message.bytes (broker default 1 MiB). Defaults 1000 and
	// 900 KiB.
	CallMessages int
	CallBytes    int
	// Linger is how long the client waits for a batch to fill before
	// sending it. Default 2ms.
	Linger time.Duration
	// RetryMin and RetryMax bound the exponential backoff between attempts
	// after a transient error. Defaults 100ms and 5s.
	RetryMin, RetryMax time.Duration
	// WriteTimeout bounds one produce request. Default 10s.
	WriteTimeout time.Duration
	// Logger receives warnings about failed attempts (rate-limited).
	// Default slog.Default().
	Logger *slog.Logger

	// MaxRecordBytes maps a topic to the largest record batch its brokers
	// accept (its max.message.bytes, see TopicLimits); topics not listed
	// get kafkaio.DefaultMaxRecordBytes, Kafka's default. A record larger than its
	// topic accepts (key, value and headers, with a record batch's
	// overhead) is never sent: it goes to Reject like one the brokers
	// refused.
	MaxRecordBytes map[string]int

	// Reject is called, by the producer's goroutine, for a record that is
	// refused for its own sake: too large for its topic, or refused by the
	// brokers as too large or invalid (IsRecordError). It returns the
	// record to write in its place, in the same position (a dead letter),
	// or an error, which fails the producer. It must not call the
	// Producer. nil fails the producer on such a record.
	Reject func(m kafka.Message, err error) (kafka.Message, error)
}

// Validate reports the first problem with c, or nil.
func (c *Config) Validate() error {
	if c.Cluster == nil {
		return fmt.Errorf("%w: producer %q has no Cluster", kafkaio.ErrConfig, c.Name)
	}
	if err := c.Cluster.Validate(); err != nil {
		return err
	}
	if name, v, neg := settings.Negative("Queue", c.Queue, "CallMessages", c.CallMessages, "CallBytes", c.CallBytes,
		"Linger", c.Linger, "RetryMin", c.RetryMin, "RetryMax", c.RetryMax, "WriteTimeout", c.WriteTimeout); neg {
		return fmt.Errorf("%w: producer %s: %s is negative (%v)", kafkaio.ErrConfig, c.Name, name, v)
	}
	return nil
}

func (c Config) withDefaults() Config {
	c.Queue = cmp.Or(c.Queue, DefaultQueue)
	c.CallMessages = cmp.Or(c.CallMessages, DefaultCallMessages)
	c.CallBytes = cmp.Or(c.CallBytes, DefaultCallBytes)
	c.Linger = cmp.Or(c.Linger, DefaultLinger)
	c.RetryMin = cmp.Or(c.RetryMin, DefaultRetryMin)
	c.RetryMax = cmp.Or(c.RetryMax, DefaultRetryMax)
	c.WriteTimeout = cmp.Or(c.WriteTimeout, DefaultWriteTimeout)
	if c.RetryMax < c.RetryMin {
		c.RetryMax = c.RetryMin
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// ProducerStats are a Producer's counters.
type ProducerStats struct {
	Acked   int64 // records acknowledged by the brokers
	Calls   int64 // produce calls
	Errors  int64 // failed produce calls (each is retried unless fatal)
	Pending int64 // records accepted and not yet acknowledged
	Fenced  int64 // records dropped because the fence was no longer valid
}

// item is a queued record or a barrier.
type item struct {
	msg     kafka.Message
	barrier chan error // non-nil for a barrier
}

// Producer writes records to Kafka with acks=all, in the order they were
// sent, never dropping one: transient errors are retried with backoff for as
// long as it takes, and a full queue blocks Send, so a slow or unavailable
// broker slows the sender down instead of growing memory.
//
// Records sent to the same partition are written in Send order, also across
// retries: a failed call is retried before anything sent after it.
//
// One goroutine, started by NewProducer and stopped by Close, owns the
// kafka-go Writer. Send, Barrier and Flush are safe for concurrent use.
type Producer struct {
	cfg    Config
	topic  string // every record's topic when non-empty
	writer *kafka.Writer
	queue  chan item
	// slots limits records accepted and not yet acknowledged.
	slots chan struct{}

	discardReq chan chan struct{}
	stop       chan struct{} // closed by Close after the queue is drained
	done       chan struct{} // closed when the loop exits

	closeOnce sync.Once
	fatal     atomic.Pointer[error]
	fence     atomic.Pointer[Fence]
	// failed is closed when fatal is set.
	failed chan struct{}

	acked, calls, errs, fenced atomic.Int64
}

// NewProducer starts a Producer. topic, when non-empty, is the topic of
// every record; otherwise each record names its own.
func NewProducer(cfg Config, topic string) (*Producer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	tr, err := cfg.Cluster.Transport()
	if err != nil {
		return nil, err
	}
	maxRecord := kafkaio.DefaultMaxRecordBytes
	for _, n := range cfg.MaxRecordBytes {
		maxRecord = max(maxRecord, n)
	}
	p := &Producer{
		cfg:   cfg,
		topic: topic,
		writer: &kafka.Writer{
			Addr: cfg.Cluster.Addr(),
			// Records name their topic (Send fills in the producer's),
			// so that a replacement from Reject can go elsewhere.
			Balancer: &kafka.Hash{},
			// One attempt per call: the loop retries, so that it can keep
			// per-partition order and stop retrying on Discard.
			MaxAttempts: 1,
			// A call never holds more than CallMessages records nor
			// CallBytes bytes, so each partition gets one batch per call.
			BatchSize: cfg.CallMessages + 1,
			// Records are checked against their topic's limit before
			// they are sent (see checkSize): never kafka-go's.
			BatchBytes:   int64(max(cfg.CallBytes, maxRecord)) + 1<<20,
			BatchTimeout: cfg.Linger,
			WriteTimeout: cfg.WriteTimeout,
			ReadTimeout:  cfg.WriteTimeout,
			RequiredAcks: kafka.RequireAll,
			Transport:    tr,
		},
		queue:      make(chan item, cfg.Queue),
		slots:      make(chan struct{}, cfg.Queue),
		discardReq: make(chan chan struct{}),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
		failed:     make(chan struct{}),
	}
	go p.loop()
	return p, nil
}

// Err returns the fatal error that stopped the producer, or nil.
func (p *Producer) Err() error {
	if e := p.fatal.Load(); e != nil {
		return *e
	}
	return nil
}

// SetFence makes every later write attempt check f first: once f.Valid()
// returns an error, the records about to be written are dropped instead
// (Stats.Fenced) and every barrier fails with an error wrapping ErrFenced,
// until SetFence is called again. A consumer group member sets its
// generation's membership as the fence, so that once it has lost the
// generation it writes nothing for it, not even a retry of a call that
// was in flight when it stalled. nil removes the fence.
func (p *Producer) SetFence(f Fence) {
	if f == nil {
		p.fence.Store(nil)
		return
	}
	p.fence.Store(&f)
}

// fenceErr returns the fence's error, or nil.
func (p *Producer) fenceErr() error {
	if f := p.fence.Load(); f != nil {
		if err := (*f).Valid(); err != nil {
			return fmt.Errorf("%w: %v", ErrFenced, err)
		}
	}
	return nil
}

// Failed returns a channel closed when the producer fails for good; Err
// then says why.
func (p *Producer) Failed() <-chan struct{} { return p.failed }

// setFatal records the error that stops the producer.
func (p *Producer) setFatal(err error) {
	if p.fatal.CompareAndSwap(nil, &err) {
		close(p.failed)
		p.cfg.Logger.Error("producer failed", "producer", p.cfg.Name, "err", err)
	}
}

// Stats returns the producer's counters.
func (p *Producer) Stats() ProducerStats {
	return ProducerStats{
		Acked:   p.acked.Load(),
		Calls:   p.calls.Load(),
		Errors:  p.errs.Load(),
		Pending: int64(len(p.slots)),
		Fenced:  p.fenced.Load(),
	}
}

// Send queues m. It blocks only while the queue is full, until ctx is done
// or the producer fails (returning ctx.Err() or the fatal error): with room
// it queues m even when ctx is already done. m's byte slices must not be
// modified after Send.
func (p *Producer) Send(ctx context.Context, m kafka.Message) error {
	if err := p.Err(); err != nil {
		return err
	}
	if m.Topic == "" {
		m.Topic = p.topic
	}
	// Room first: with room, Send never blocks, so ctx has no say (a
	// select would pick a done ctx at random even with room).
	select {
	case p.slots <- struct{}{}:
	default:
		select {
		case p.slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
			return p.closedErr()
		}
	}
	// A slot taken guarantees room in the queue (both hold Queue items,
	// and barriers take no slot but are few), so this rarely blocks.
	select {
	case p.queue <- item{msg: m}:
		return nil
	default:
		select {
		case p.queue <- item{msg: m}:
			return nil
		case <-ctx.Done():
			<-p.slots
			return ctx.Err()
		case <-p.done:
			return p.closedErr()
		}
	}
}

func (p *Producer) closedErr() error {
	if err := p.Err(); err != nil {
		return err
	}
	return ErrClosed
}

// Barrier queues a marker and returns a channel that receives nil once every
// record sent before the marker (by any goroutine) is acknowledged, or an
// error if the producer fails or Discard drops them. It blocks like Send.
func (p *Producer) Barrier(ctx context.Context) (<-chan error, error) {
	ch := make(chan error, 1)
	select {
	case p.queue <- item{barrier: ch}:
		return ch, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-p.done:
		return nil, p.closedErr()
	}
}

// Flush waits until every record sent before the call is acknowledged.
func (p *Producer) Flush(ctx context.Context) error {
	ch, err := p.Barrier(ctx)
	if err != nil {
		return err
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Discard drops every queued record not yet handed to the brokers, fails
// the pending barriers with ErrDiscarded, and waits for the produce call in
// flight, if any, to end (at most WriteTimeout). Afterwards nothing sent
// before Discard can still reach the brokers. Call it when the records'
// positions will not be committed, so that their data is read and produced
// again by whoever consumes next; Send must not be called concurrently.
func (p *Producer) Discard() {
	ack := make(chan struct{})
	select {
	case p.discardReq <- ack:
		<-ack
	case <-p.done:
	}
}

// Close flushes (until ctx is done), then stops the producer and closes the
// writer. Records still queued when ctx ends are dropped.
func (p *Producer) Close(ctx context.Context) error {
	var err error
	p.closeOnce.Do(func() {
		if p.Err() == nil {
			err = p.Flush(ctx)
		}
		close(p.stop)
		<-p.done
		if cerr := p.writer.Close(); err == nil && p.Err() == nil {
			err = cerr
		}
	})
	return err
}

// loop owns the writer: it takes records off the queue, writes them in calls
// and retries each call until the brokers acknowledge it.
func (p *Producer) loop() {
	defer close(p.done)
	batch := make([]kafka.Message, 0, p.cfg.CallMessages)
	var carry []kafka.Message // a record that did not fit the previous call
	var barriers []chan error
	for {
		batch = append(batch[:0], carry...)
		carry = carry[:0]
		barriers = barriers[:0]
		if len(batch) == 0 {
			select {
			case it := <-p.queue:
				if it.barrier != nil {
					it.barrier <- p.fenceErr() // nothing before it is unacknowledged
					continue
				}
				batch = append(batch, it.msg)
			case ack := <-p.discardReq:
				p.drain(nil)
				close(ack)
				continue
			case <-p.stop:
				p.drain(ErrClosed)
				return
			}
		}
		size := 0
		for i := range batch {
			size += msgSize(&batch[i])
		}
		// Take what is already queued, up to the call limits or a barrier.
	collect:
		for len(batch) < p.cfg.CallMessages {
			select {
			case it := <-p.queue:
				if it.barrier != nil {
					barriers = append(barriers, it.barrier)
					break collect
				}
				n := msgSize(&it.msg)
				if size+n > p.cfg.CallBytes {
					carry = append(carry, it.msg)
					break collect
				}
				batch = append(batch, it.msg)
				size += n
			default:
				break collect
			}
		}
		switch p.write(batch) {
		case written:
			err := p.fenceErr()
			for _, b := range barriers {
				b <- err
			}
		case discarded:
			p.release(len(carry))
			carry = carry[:0]
			for _, b := range barriers {
				b <- ErrDiscarded
			}
		case stopped:
			p.release(len(carry))
			for _, b := range barriers {
				b <- ErrClosed
			}
			p.drain(ErrClosed)
			return
		case failed:
			p.release(len(carry))
			for _, b := range barriers {
				b <- p.Err()
			}
			p.failAll()
			return
		}
	}
}

type outcome int

const (
	written outcome = iota
	discarded
	stopped
	failed
)

// write sends batch until the brokers acknowledge all of it, retrying with
// backoff; it gives up only on a fatal error, Discard or Close, releasing
// the slots of what it did not write. Records of a failed call that the
// brokers did acknowledge are not sent again. A record refused for its own
// sake is replaced by what Reject returns; so that such a record is told
// from the others of its batch, the records of a call the brokers refused
// so are then sent one at a time.
func (p *Producer) write(batch []kafka.Message) outcome {
	for i := range batch {
		if err := p.checkSize(&batch[i]); err != nil && !p.reject(&batch[i], err) {
			p.release(len(batch))
			return failed
		}
	}
	r := retrier{p: p, backoff: p.cfg.RetryMin}
	for {
		if p.dropFenced(batch) {
			return written
		}
		p.calls.Add(1)
		// No deadline: a call abandoned by its context would still be
		// written later by the client, out of order. WriteTimeout bounds it.
		err := p.writer.WriteMessages(context.Background(), batch...)
		if err == nil {
			p.acked.Add(int64(len(batch)))
			p.release(len(batch))
			r.recovered()
			return written
		}
		p.errs.Add(1)
		var we kafka.WriteErrors
		recordErr := false
		if errors.As(err, &we) && len(we) == len(batch) {
			j := 0
			for i := range batch {
				if we[i] != nil {
					recordErr = recordErr || kafkaio.IsRecordError(we[i])
					batch[j] = batch[i]
					j++
				}
			}
			p.acked.Add(int64(len(batch) - j))
			p.release(len(batch) - j)
			batch = batch[:j]
		} else {
			recordErr = kafkaio.IsRecordError(err) && len(batch) == 1
		}
		if recordErr {
			return p.writeEach(batch)
		}
		if o := r.fail(err, batch); o != written {
			return o
		}
	}
}

// writeEach sends the records of batch one at a time, in order, each until
// the brokers acknowledge it or its replacement from Reject, like write.
func (p *Producer) writeEach(batch []kafka.Message) outcome {
	for i := range batch {
		m := &batch[i]
		r := retrier{p: p, backoff: p.cfg.RetryMin}
		for rejects := 0; ; {
			if p.dropFenced(batch[i:]) {
				return written
			}
			p.calls.Add(1)
			err := p.writer.WriteMessages(context.Background(), *m)
			if err == nil {
				p.acked.Add(1)
				p.release(1)
				r.recovered()
				break
			}
			p.errs.Add(1)
			if kafkaio.IsRecordError(err) {
				// A replacement refused again would be refused forever.
				if rejects++; rejects > 2 {
					p.release(len(batch) - i)
					p.setFatal(fmt.Errorf("producing to %s: topic %s refused a record and its replacement: %w", p.cfg.Name, m.Topic, kafkaio.Classify(err)))
					return failed
				}
				if !p.reject(m, err) {
					p.release(len(batch) - i)
					return failed
				}
				continue
			}
			if o := r.fail(err, batch[i:]); o != written {
				return o
			}
		}
	}
	return written
}

// dropFenced drops pending, releasing its slots, when the fence is no
// longer valid, and reports whether it did.
func (p *Producer) dropFenced(pending []kafka.Message) bool {
	if p.fenceErr() == nil {
		return false
	}
	p.fenced.Add(int64(len(pending)))
	p.release(len(pending))
	return true
}

// checkSize returns a *kafkaio.RecordTooLargeError when m exceeds its topic's
// limit.
func (p *Producer) checkSize(m *kafka.Message) error {
	limit, ok := p.cfg.MaxRecordBytes[m.Topic]
	if !ok {
		limit = kafkaio.DefaultMaxRecordBytes
	}
	if n := msgSize(m) + batchOverhead; n > limit {
		return &kafkaio.RecordTooLargeError{Topic: m.Topic, Bytes: n, Limit: limit}
	}
	return nil
}

// batchOverhead is a record batch's header (61 bytes) and log overhead
// (12), which a broker counts against max.message.bytes.
const batchOverhead = 73

// reject replaces *m by what Config.Reject makes of it. It reports false,
// after failing the producer, when there is no replacement.
func (p *Producer) reject(m *kafka.Message, why error) bool {
	if p.cfg.Reject == nil {
		p.setFatal(fmt.Errorf("producing to %s: %w", p.cfg.Name, kafkaio.Classify(why)))
		return false
	}
	repl, err := p.cfg.Reject(*m, why)
	if err == nil {
		err = p.checkSize(&repl)
	}
	if err != nil {
		p.setFatal(fmt.Errorf("producing to %s: topic %s refused a record (%v) and it could not be replaced: %w", p.cfg.Name, m.Topic, why, err))
		return false
	}
	if repl.Topic == "" {
		repl.Topic = p.topic
	}
	*m = repl
	return true
}

// retrier waits out failed attempts with jittered exponential backoff and
// logs them at most every 10 seconds.
type retrier struct {
	p               *Producer
	backoff         time.Duration
	attempts        int
	since, loggedAt time.Time
}

// recovered logs a success after failures.
func (r *retrier) recovered() {
	if r.attempts > 0 {
		r.p.cfg.Logger.Info("producer recovered", "producer", r.p.cfg.Name, "attempts", r.attempts+1, "after", time.Since(r.since).Round(time.Millisecond))
	}
}

// fail handles a failed call of pending: a fatal error fails the producer;
// otherwise it waits the backoff and returns written (meaning: try again),
// or discarded or stopped when Discard or Close came first (pending's slots
// then released).
func (r *retrier) fail(err error, pending []kafka.Message) outcome {
	p := r.p
	if c := kafkaio.Classify(err); kafkaio.IsFatal(c) {
		topic := p.topic
		if len(pending) > 0 {
			topic = pending[0].Topic
		}
		p.release(len(pending))
		p.setFatal(fmt.Errorf("producing to %s (topic %s): %w", p.cfg.Name, topic, c))
		return failed
	}
	now := time.Now()
	if r.attempts == 0 {
		r.since = now
	}
	r.attempts++
	if now.Sub(r.loggedAt) >= 10*time.Second {
		r.loggedAt = now
		p.cfg.Logger.Warn("produce failed, retrying", "producer", p.cfg.Name, "records", len(pending), "attempt", r.attempts, "failing_for", now.Sub(r.since).Round(time.Millisecond), "err", summarizeWriteErrors(err))
	}
	wait := r.backoff/2 + rand.N(r.backoff/2+1)
	r.backoff = min(2*r.backoff, p.cfg.RetryMax)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return written
	case ack := <-p.discardReq:
		p.release(len(pending))
		p.drain(nil)
		close(ack)
		return discarded
	case <-p.stop:
		p.release(len(pending))
		return stopped
	}
}

func (p *Producer) release(n int) {
	for range n {
		<-p.slots
	}
}

// drain empties the queue, failing barriers with err (ErrDiscarded if nil).
func (p *Producer) drain(err error) {
	if err == nil {
		err = ErrDiscarded
	}
	for {
		select {
		case it := <-p.queue:
			p.fail(it, err)
		default:
			return
		}
	}
}

// fail fails a queued barrier with err, or frees a queued record's slot.
func (p *Producer) fail(it item, err error) {
	if it.barrier != nil {
		it.barrier <- err
	} else {
		<-p.slots
	}
}

// failAll is called after a fatal error: it fails everything queued now
// and later until Close.
func (p *Producer) failAll() {
	err := p.Err()
	for {
		select {
		case it := <-p.queue:
			p.fail(it, err)
		case ack := <-p.discardReq:
			close(ack)
		case <-p.stop:
			p.drain(err)
			return
		}
	}
}

func msgSize(m *kafka.Message) int {
	n := len(m.Key) + len(m.Value) + 72
	for _, h := range m.Headers {
		n += len(h.Key) + len(h.Value) + 8
	}
	return n
}
