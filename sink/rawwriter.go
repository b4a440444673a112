package sink

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/msiguard/msiguard/internal/settings"
	"github.com/msiguard/msiguard/kafkaio"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
)

// Defaults applied by NewRawWriter to zero RawWriterConfig fields.
const (
	DefaultRawBatchMessages = 5000
	DefaultRawBatchBytes    = 1_000_000
	DefaultRawLinger        = 5 * time.Millisecond
	DefaultRawWriteTimeout  = 30 * time.Second
	DefaultRawMaxAttempts   = 10
	DefaultRawTopicTimeout  = 30 * time.Second
)

// RawWriterConfig configures a RawWriter, the producer of raw records that
// load tests and demos use to fill an input topic (msiguard gen).
type RawWriterConfig struct {
	// Cluster says how to reach the brokers. Required.
	Cluster *kafkaio.Cluster
	// Topic is the topic written to. Required.
	Topic string
	// Partitions, when positive, creates Topic with that many partitions
	// if it does not exist (an existing topic is used as it is, whatever
	// its partition count). When 0, Topic must exist, or the brokers must
	// create it on first use (auto.create.topics.enable).
	Partitions int
	// ReplicationFactor of a topic created for Partitions. Default -1: the
	// brokers' default.replication.factor.
	ReplicationFactor int
	// Acks is "all" (default: every in-sync replica) or "one" (the
	// leader only).
	Acks string
	// Balance picks each record's partition: "round-robin" (default) or
	// "hash" (FNV-1a of RawRecord.Key, as Sarama-based shippers do;
	// records without a key go round-robin).
	Balance string
	// Compression is "none" (default), "gzip", "snappy", "lz4" or "zstd".
	Compression string
	// BatchMessages and BatchBytes cap one produce batch per partition.
	// BatchBytes must stay under the topic's max.message.bytes (broker
	// default 1 MiB) when Compression is none. Defaults 5000 and 1,000,000.
	BatchMessages int
	BatchBytes    int
	// Linger is how long a partition's batch waits to fill. Default 5ms.
	Linger time.Duration
	// WriteTimeout bounds one produce request. Default 30s.
	WriteTimeout time.Duration
	// MaxAttempts bounds the tries of one batch on transient errors.
	// Default 10.
	MaxAttempts int
	// TopicTimeout bounds NewRawWriter's wait for the topic's metadata
	// (partitions with leaders). Default 30s.
	TopicTimeout time.Duration
}

// Validate reports the first problem with c, or nil. Its errors wrap
// kafkaio.ErrConfig.
func (c *RawWriterConfig) Validate() error {
	if c.Cluster == nil {
		return fmt.Errorf("%w: raw writer has no Cluster", kafkaio.ErrConfig)
	}
	if err := c.Cluster.Validate(); err != nil {
		return err
	}
	if c.Topic == "" {
		return &kafkaio.FieldError{Field: "Topic", Problem: "is empty"}
	}
	if _, err := rawAcks(c.Acks); err != nil {
		return err
	}
	if _, err := rawBalancer(c.Balance); err != nil {
		return err
	}
	if _, err := rawCompression(c.Compression); err != nil {
		return err
	}
	if name, v, neg := settings.Negative("partitions", c.Partitions, "batch messages", c.BatchMessages, "batch bytes", c.BatchBytes,
		"linger", c.Linger, "write timeout", c.WriteTimeout, "max attempts", c.MaxAttempts, "topic timeout", c.TopicTimeout); neg {
		return fmt.Errorf("%w: raw writer %s is negative (%v)", kafkaio.ErrConfig, name, v)
	}
	if c.ReplicationFactor < -1 || c.ReplicationFactor > 32767 {
		return fmt.Errorf("%w: replication factor %d: use -1 (the brokers' default) or a positive number", kafkaio.ErrConfig, c.ReplicationFactor)
	}
	return nil
}

func rawAcks(s string) (kafka.RequiredAcks, error) {
	switch strings.ToLower(s) {
	case "", "all", "-1":
		return kafka.RequireAll, nil
	case "one", "1":
		return kafka.RequireOne, nil
	}
	return 0, fmt.Errorf("%w: acks %q: use all or one", kafkaio.ErrConfig, s)
}

func rawBalancer(s string) (kafka.Balancer, error) {
	switch strings.ToLower(s) {
	case "", "round-robin", "roundrobin":
		return &kafka.RoundRobin{}, nil
	case "hash":
		return &kafka.Hash{}, nil
	}
	return nil, fmt.Errorf("%w: balance %q: use round-robin or hash", kafkaio.ErrConfig, s)
}

func rawCompression(s string) (compress.Compression, error) {
	switch strings.ToLower(s) {
	case "", "none":
		return 0, nil
	case "gzip":
		return kafka.Gzip, nil
	case "snappy":
		return kafka.Snappy, nil
	case "lz4":
		return kafka.Lz4, nil
	case "zstd":
		return kafka.Zstd, nil
	}
	return 0, fmt.Errorf("%w: compression %q: use none, gzip, snappy, lz4 or zstd", kafkaio.ErrConfig, s)
}

// RawRecord is one record for RawWriter.Write.
type RawRecord struct {
	// Key is the record key; with Balance "hash" it picks the partition.
	// Nil for none.
	Key []byte
	// Value is the raw record (a line of JSON or XML, no newline).
	Value []byte
	// Time is the record's timestamp; zero lets the client set it to the
	// time of the write.
	Time time.Time
}

// RawWriterStats are a RawWriter's counters.
type RawWriterStats struct {
	Records int64 // records acknowledged
	Bytes   int64 // value and key bytes acknowledged
	Writes  int64 // Write calls that succeeded
	Errors  int64 // Write calls that failed
}

// RawWriter writes raw records to one topic in large batches. It owns a
// kafka-go Writer; Write is safe for concurrent use, and concurrent calls
// keep the records of one call in order within each partition.
type RawWriter struct {
	w          *kafka.Writer
	partitions int

	pool sync.Pool // *[]kafka.Message

	records, bytes, writes, errs atomic.Int64
}

// NewRawWriter validates cfg, creates the topic when cfg.Partitions is
// positive and it does not exist, waits until every partition has a leader,
// and returns a writer. Configuration errors wrap kafkaio.ErrConfig; errors no retry
// can fix are *kafkaio.FatalError.
func NewRawWriter(ctx context.Context, cfg RawWriterConfig) (*RawWriter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	acks, _ := rawAcks(cfg.Acks)
	balancer, _ := rawBalancer(cfg.Balance)
	codec, _ := rawCompression(cfg.Compression)
	def := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	defd := func(v, d time.Duration) time.Duration {
		if v == 0 {
			return d
		}
		return v
	}
	if cfg.ReplicationFactor == 0 {
		cfg.ReplicationFactor = -1
	}
	tctx, cancel := context.WithTimeout(ctx, defd(cfg.TopicTimeout, DefaultRawTopicTimeout))
	defer cancel()
	n, err := ensureTopic(tctx, cfg.Cluster, cfg.Topic, cfg.Partitions, cfg.ReplicationFactor)
	if err != nil {
		return nil, kafkaio.Classify(err)
	}
	transport, err := cfg.Cluster.Transport()
	if err != nil {
		return nil, err
	}
	w := &kafka.Writer{
		Addr:         cfg.Cluster.Addr(),
		Topic:        cfg.Topic,
		Balancer:     balancer,
		RequiredAcks: acks,
		Compression:  codec,
		BatchSize:    def(cfg.BatchMessages, DefaultRawBatchMessages),
		BatchBytes:   int64(def(cfg.BatchBytes, DefaultRawBatchBytes)),
		BatchTimeout: defd(cfg.Linger, DefaultRawLinger),
		WriteTimeout: defd(cfg.WriteTimeout, DefaultRawWriteTimeout),
		MaxAttempts:  def(cfg.MaxAttempts, DefaultRawMaxAttempts),
		Transport:    transport,
	}
	return &RawWriter{w: w, partitions: n}, nil
}

// Partitions returns the topic's partition count, as seen at NewRawWriter.
func (w *RawWriter) Partitions() int { return w.partitions }

// Write sends recs and returns when the brokers have acknowledged all of
// them (with the configured acks), or with the first error. Keys and values
// are read until Write returns; the caller may reuse them afterwards. After
// an error or a cancelled ctx, some records may have been written: a load
// generator may simply stop. Errors no retry can fix are *kafkaio.FatalError.
func (w *RawWriter) Write(ctx context.Context, recs []RawRecord) error {
	if len(recs) == 0 {
		return nil
	}
	mp, _ := w.pool.Get().(*[]kafka.Message)
	if mp == nil {
		mp = new([]kafka.Message)
	}
	msgs := (*mp)[:0]
	var n int64
	for i := range recs {
		r := &recs[i]
		msgs = append(msgs, kafka.Message{Key: r.Key, Value: r.Value, Time: r.Time})
		n += int64(len(r.Key) + len(r.Value))
	}
	err := w.w.WriteMessages(ctx, msgs...)
	clear(msgs) // drop references to the caller's buffers
	*mp = msgs[:0]
	w.pool.Put(mp)
	if err != nil {
		w.errs.Add(1)
		return kafkaio.Classify(summarizeWriteErrors(err))
	}
	w.writes.Add(1)
	w.records.Add(int64(len(recs)))
	w.bytes.Add(n)
	return nil
}

// summarizeWriteErrors turns kafka.WriteErrors (one per record, which
// errors.Is does not see through) into one error naming the first cause.
func summarizeWriteErrors(err error) error {
	var we kafka.WriteErrors
	if !errors.As(err, &we) {
		return err
	}
	for _, e := range we {
		if e != nil {
			return fmt.Errorf("%d of %d records not written: %w", we.Count(), len(we), e)
		}
	}
	return err
}

// Stats returns the writer's counters.
func (w *RawWriter) Stats() RawWriterStats {
	return RawWriterStats{Records: w.records.Load(), Bytes: w.bytes.Load(), Writes: w.writes.Load(), Errors: w.errs.Load()}
}

// Close flushes what the underlying writer still holds and releases its
// connections. Write must not be called after Close.
func (w *RawWriter) Close() error { return w.w.Close() }

// ensureTopic creates topic with partitions partitions when partitions > 0
// (an existing topic is kept), then waits until the brokers report it with
// a leader for every partition, and returns its partition count.
func ensureTopic(ctx context.Context, c *kafkaio.Cluster, topic string, partitions, replication int) (int, error) {
	d, err := c.Dialer()
	if err != nil {
		return 0, err
	}
	dial := func() (*kafka.Conn, error) {
		var last error
		for _, b := range c.Brokers {
			conn, err := d.DialContext(ctx, "tcp", b)
			if err == nil {
				if dl, ok := ctx.Deadline(); ok {
					_ = conn.SetDeadline(dl)
				}
				return conn, nil
			}
			last = err
		}
		return nil, fmt.Errorf("no broker of %s answered: %w", strings.Join(c.Brokers, ","), last)
	}
	if partitions > 0 {
		conn, err := dial()
		if err != nil {
			return 0, err
		}
		controller, err := conn.Controller()
		conn.Close()
		if err != nil {
			return 0, fmt.Errorf("finding the controller to create topic %q: %w", topic, err)
		}
		cc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(controller.Host, strconv.Itoa(controller.Port)))
		if err != nil {
			return 0, fmt.Errorf("dialing the controller %s:%d to create topic %q: %w", controller.Host, controller.Port, topic, err)
		}
		if dl, ok := ctx.Deadline(); ok {
			_ = cc.SetDeadline(dl)
		}
		err = cc.CreateTopics(kafka.TopicConfig{Topic: topic, NumPartitions: partitions, ReplicationFactor: replication})
		cc.Close()
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return 0, fmt.Errorf("creating topic %q with %d partitions: %w", topic, partitions, err)
		}
	}
	var last error
	for {
		n, err := func() (int, error) {
			conn, err := dial()
			if err != nil {
				return 0, err
			}
			defer conn.Close()
			ps, err := conn.ReadPartitions(topic)
			if err != nil {
				return 0, err
			}
			if len(ps) == 0 {
				return 0, fmt.Errorf("topic %q has no partitions yet", topic)
			}
			for _, p := range ps {
				if p.Leader.Host == "" {
					return 0, fmt.Errorf("partition %d of topic %q has no leader yet", p.ID, topic)
				}
			}
			return len(ps), nil
		}()
		if err == nil {
			return n, nil
		}
		if kafkaio.IsFatal(err) {
			return 0, err
		}
		last = err
		select {
		case <-ctx.Done():
			hint := ""
			if partitions == 0 {
				hint = ": create the topic first, or give a partition count (RawWriterConfig.Partitions) to create it"
			}
			return 0, fmt.Errorf("waiting for topic %q: %w (last error: %v)%s", topic, ctx.Err(), last, hint)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
