package stream

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/internal/kafkatest"
	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/stream/streamtest"
)

// BenchmarkEndToEnd compares `msiguard run` (this package's Pipeline, the
// same code the command runs) with bare kafka-go consume loops over the
// same topic and broker, in one process, alternating runs:
//
//   - reader: a kafka.Reader in a consumer group, ReadMessage in a loop,
//     commits every second (the loop a kafka-go user writes first);
//   - batch: one goroutine per partition reading Conn.ReadBatch (the
//     fastest way kafka-go reads, no group, no commits).
//
// Each run consumes the whole topic with a fresh group and is timed from
// its first record to its last. Records are realistic ~1 KB Sysmon events
// of the seven shapes, 0.1% attacks. The record count and the number of
// rounds come from MSIGUARD_BENCH_RECORDS (default 200000) and
// MSIGUARD_BENCH_ROUNDS (default 3); medians are reported. Run it alone:
//
//	MSIGUARD_BENCH_RECORDS=1000000 MSIGUARD_BENCH_ROUNDS=5 \
//	  go test ./stream -run '^$' -bench BenchmarkEndToEnd -benchtime 1x -timeout 60m
func BenchmarkEndToEnd(b *testing.B) {
	n := envInt("MSIGUARD_BENCH_RECORDS", 200_000)
	rounds := envInt("MSIGUARD_BENCH_ROUNDS", 3)
	c := kafkatest.Start(b)
	topic := kafkatest.UniqueName(b, "bench")
	const parts = 4
	c.CreateTopic(b, topic, parts)
	alerts := kafkatest.UniqueName(b, "alerts")
	dlq := kafkatest.UniqueName(b, "dlq")
	c.CreateTopic(b, alerts, 1)
	c.CreateTopic(b, dlq, 1)

	bytes := fillTopic(b, c, topic, n)
	b.Logf("%d records, %.0f bytes each on average, %d partitions", n, float64(bytes)/float64(n), parts)

	var reader, batch, pipe, vsReader, vsBatch []float64
	for r := range rounds {
		// Rotate the order so that no contender always runs first.
		var rr, rb, rp float64
		runs := []func(){
			func() { rr = float64(n) / bareReader(b, c, topic, n).Seconds() },
			func() { rb = float64(n) / bareBatch(b, c, topic, parts, n).Seconds() },
			func() { rp = float64(n) / pipeline(b, c, topic, alerts, dlq, n).Seconds() },
		}
		for i := range runs {
			runs[(i+r)%len(runs)]()
		}
		reader, batch, pipe = append(reader, rr), append(batch, rb), append(pipe, rp)
		vsReader, vsBatch = append(vsReader, 100*rp/rr), append(vsBatch, 100*rp/rb)
		b.Logf("round %d: reader %.0f rec/s, batch %.0f rec/s, msiguard %.0f rec/s (%.0f%% of reader, %.0f%% of batch)",
			r+1, rr, rb, rp, 100*rp/rr, 100*rp/rb)
	}
	mr, mb, mp := median(reader), median(batch), median(pipe)
	b.ReportMetric(mr, "reader_rec/s")
	b.ReportMetric(mb, "batch_rec/s")
	b.ReportMetric(mp, "msiguard_rec/s")
	b.ReportMetric(median(vsReader), "%_of_reader")
	b.ReportMetric(median(vsBatch), "%_of_batch")
	b.Logf("medians over %d rounds: reader %.0f rec/s, batch %.0f rec/s, msiguard %.0f rec/s; median of per-round ratios: %.0f%% of reader, %.0f%% of batch",
		rounds, mr, mb, mp, median(vsReader), median(vsBatch))
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return s[len(s)/2]
}

// fillTopic writes n records, cycling through 50k distinct generated ones.
func fillTopic(b *testing.B, c *kafkatest.Cluster, topic string, n int) int64 {
	g := streamtest.New(streamtest.Options{Seed: 7, Hosts: 200, AttackRate: 0.001, NearMissRate: 0.002, DeadLetterRate: 0.0002})
	distinct := g.Records(min(n, 50_000))
	w := &kafka.Writer{
		Addr: kafka.TCP(c.Addrs()...), Topic: topic, Balancer: &kafka.RoundRobin{},
		BatchTimeout: time.Millisecond, BatchSize: 800, BatchBytes: 900 << 10, RequiredAcks: kafka.RequireOne,
		Transport: c.Transport(b),
	}
	defer w.Close()
	var total int64
	msgs := make([]kafka.Message, 0, 4000)
	for i := range n {
		v := distinct[i%len(distinct)].Value
		total += int64(len(v))
		msgs = append(msgs, kafka.Message{Value: v})
		if len(msgs) == cap(msgs) || i == n-1 {
			if err := w.WriteMessages(context.Background(), msgs...); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
	return total
}

// bareReader consumes the topic with a kafka.Reader in a fresh group.
func bareReader(b *testing.B, c *kafkatest.Cluster, topic string, n int) time.Duration {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: c.Addrs(), GroupID: kafkatest.UniqueName(b, "bare"), Topic: topic,
		MinBytes: 1, MaxBytes: 8 << 20, CommitInterval: time.Second, StartOffset: kafka.FirstOffset,
		Dialer: c.Dialer(),
	})
	defer r.Close()
	var first time.Time
	for i := range n {
		if _, err := r.ReadMessage(context.Background()); err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			first = time.Now()
		}
	}
	return time.Since(first)
}

// bareBatch reads every partition with Conn.ReadBatch, one goroutine each.
func bareBatch(b *testing.B, c *kafkatest.Cluster, topic string, parts, n int) time.Duration {
	var count atomic.Int64
	var first atomic.Int64
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan time.Time, 1)
	for p := range parts {
		wg.Go(func() {
			conn, err := c.Dialer().DialLeader(ctx, "tcp", c.Addrs()[0], topic, p)
			if err != nil {
				b.Error(err)
				return
			}
			defer conn.Close()
			context.AfterFunc(ctx, func() { conn.Close() })
			for ctx.Err() == nil {
				batch := conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: DefaultFetchMaxBytes, MaxWait: 200 * time.Millisecond})
				for {
					if _, err := batch.ReadMessage(); err != nil {
						break
					}
					first.CompareAndSwap(0, time.Now().UnixNano())
					if count.Add(1) == int64(n) {
						done <- time.Now()
					}
				}
				batch.Close()
			}
		})
	}
	end := <-done
	cancel()
	wg.Wait()
	return end.Sub(time.Unix(0, first.Load()))
}

// pipeline runs the Pipeline over the topic with a fresh group until it has
// consumed n records.
func pipeline(b *testing.B, c *kafkatest.Cluster, topic, alerts, dlq string, n int) time.Duration {
	p, err := New(Config{
		Cluster: kafkaio.Cluster{Brokers: c.Addrs()},
		Topic:   topic, Group: kafkatest.UniqueName(b, "msiguard"),
		AlertsTopic: alerts, DLQTopic: dlq,
		SessionTimeout: 6 * time.Second, HeartbeatInterval: time.Second,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var first time.Time
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		got := p.Stats().RecordsConsumed
		if got > 0 && first.IsZero() {
			first = time.Now()
		}
		if got >= int64(n) {
			break
		}
		select {
		case err := <-done:
			b.Fatalf("pipeline stopped: %v", err)
		case <-tick.C:
		}
	}
	d := time.Since(first)
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return d
}
