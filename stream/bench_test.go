package stream

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/internal/kafkatest"
	"github.com/msiguard/msiguard/internal/ruletest"
	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/rules"
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
// Each run consumes the whole topic with a fresh group (the pipeline also
// with fresh alerts and matches topics, so that no round restores another's
// alerts) and every contender is timed between the same two events:
//
//   - from its first record read: the moment the first Fetch response
//     carrying records of the input topic starts to arrive on one of its
//     connections (fetchClock wraps the kafka.Dialer each contender uses,
//     so the event is seen the same way whatever the client code does with
//     the bytes);
//   - to its last output acknowledged: for the bare loops, which produce
//     nothing, their last record read; for the pipeline, its last alert
//     acknowledged by the broker. At the end of a finite input the last
//     buckets would wait for the idle timeout (5 s), a latency, not work:
//     once stage A has consumed every record and stage B has applied every
//     match, the benchmark drains the pipeline as SIGTERM does (every window
//     flushed, every alert acknowledged) and stops the clock at the last
//     increase of AlertsPublished (polled every millisecond).
//
// Records are realistic ~1 KB Sysmon events of the seven shapes, 0.1%
// attacks. The record count and the number of rounds come from
// MSIGUARD_BENCH_RECORDS (default 200000) and MSIGUARD_BENCH_ROUNDS
// (default 3); medians are reported. Run it alone:
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
	dlq := kafkatest.UniqueName(b, "dlq")
	c.CreateTopic(b, dlq, 1)

	bytes := fillTopic(b, c, topic, n)
	b.Logf("%d records, %.0f bytes each on average, %d partitions", n, float64(bytes)/float64(n), parts)

	var reader, batch, pipe, vsReader, vsBatch []float64
	for r := range rounds {
		// Rotate the order so that no contender always runs first.
		var rr, rb, rp float64
		var detail string
		runs := []func(){
			func() { rr = float64(n) / bareReader(b, c, topic, n).Seconds() },
			func() { rb = float64(n) / bareBatch(b, c, topic, parts, n).Seconds() },
			func() {
				d, s := pipeline(b, c, topic, dlq, n, nil)
				rp, detail = float64(n)/d.Seconds(), s
			},
		}
		for i := range runs {
			runs[(i+r)%len(runs)]()
		}
		reader, batch, pipe = append(reader, rr), append(batch, rb), append(pipe, rp)
		vsReader, vsBatch = append(vsReader, 100*rp/rr), append(vsBatch, 100*rp/rb)
		b.Logf("round %d: reader %.0f rec/s, batch %.0f rec/s, msiguard %.0f rec/s (%.0f%% of reader, %.0f%% of batch); msiguard %s",
			r+1, rr, rb, rp, 100*rp/rr, 100*rp/rb, detail)
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

// BenchmarkRules runs the pipeline over the same topic with the seed rule
// alone and with ten rules (the seed, the seven of ruletest.Catalog and two
// tunings of the seed), and reports records per CPU second of the process
// (getrusage: user + system, the in-process broker included, the same work
// for both) and the ratio. Rounds alternate the order.
func BenchmarkRules(b *testing.B) {
	n := envInt("MSIGUARD_BENCH_RECORDS", 200_000)
	rounds := envInt("MSIGUARD_BENCH_ROUNDS", 3)
	c := kafkatest.Start(b)
	topic, dlq := kafkatest.UniqueName(b, "bench"), kafkatest.UniqueName(b, "dlq")
	c.CreateTopic(b, topic, 4)
	c.CreateTopic(b, dlq, 1)
	fillTopic(b, c, topic, n)
	ten := append(ruletest.Catalog(b),
		ruletest.Variant(b, "tuned.rundll32", `wininit)\.exe`, `wininit|rundll32)\.exe`),
		ruletest.Variant(b, "tuned.regsvr32", ruletest.SeedTerm, "TERM(regsvr32)"))
	if len(ten) != 10 {
		b.Fatalf("%d rules, want 10", len(ten))
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var one, many, ratio []float64
	for r := range rounds {
		var r1, r10 float64
		runs := []func(){
			func() { c0 := cpu(); pipeline(b, c, topic, dlq, n, nil); r1 = float64(n) / (cpu() - c0).Seconds() },
			func() { c0 := cpu(); pipeline(b, c, topic, dlq, n, ten); r10 = float64(n) / (cpu() - c0).Seconds() },
		}
		for i := range runs {
			runs[(i+r)%len(runs)]()
		}
		one, many, ratio = append(one, r1), append(many, r10), append(ratio, r1/r10)
		b.Logf("round %d: 1 rule %.0f rec/CPU-s, 10 rules %.0f rec/CPU-s (1 rule / 10 rules = %.2f)", r+1, r1, r10, r1/r10)
	}
	b.ReportMetric(median(one), "1rule_rec/cpu-s")
	b.ReportMetric(median(many), "10rules_rec/cpu-s")
	b.ReportMetric(median(ratio), "cost_ratio")
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
	clock := newFetchClock(topic)
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: c.Addrs(), GroupID: kafkatest.UniqueName(b, "bare"), Topic: topic,
		MinBytes: 1, MaxBytes: 8 << 20, CommitInterval: time.Second, StartOffset: kafka.FirstOffset,
		Dialer: clock.dialer(c.Dialer()),
	})
	defer r.Close()
	for range n {
		if _, err := r.ReadMessage(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	return clock.since(b, time.Now())
}

// bareBatch reads every partition with Conn.ReadBatch, one goroutine each.
func bareBatch(b *testing.B, c *kafkatest.Cluster, topic string, parts, n int) time.Duration {
	clock := newFetchClock(topic)
	dialer := clock.dialer(c.Dialer())
	var count atomic.Int64
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan time.Time, 1)
	for p := range parts {
		wg.Go(func() {
			conn, err := dialer.DialLeader(ctx, "tcp", c.Addrs()[0], topic, p)
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
	return clock.since(b, end)
}

// pipeline runs the Pipeline over the topic with a fresh group and fresh
// alerts (and so matches) topics; once both stages have consumed
// everything it drains it, and returns the time from its first record
// read to its last alert acknowledged, and where the time went.
func pipeline(b *testing.B, c *kafkatest.Cluster, topic, dlq string, n int, rs []*rules.Compiled) (time.Duration, string) {
	alerts := kafkatest.UniqueName(b, "alerts")
	c.CreateTopic(b, alerts, 1)
	p, err := New(Config{
		Rules:   rs,
		Cluster: kafkaio.Cluster{Brokers: c.Addrs()},
		Topic:   topic, Group: kafkatest.UniqueName(b, "msiguard"),
		AlertsTopic: alerts, DLQTopic: dlq,
		SessionTimeout: 6 * time.Second, HeartbeatInterval: time.Second,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	clock := newFetchClock(topic)
	p.dialer = clock.dialer(p.dialer) // the fetchers' and the group's
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var published int64
	var last time.Time // when AlertsPublished last grew
	// For the log: when stage A was first seen to have consumed anything
	// and everything (the clock before the measurement points were
	// aligned), and when the drain began.
	var seenA, doneA, drained time.Time
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	draining := false
	for {
		st := p.Stats()
		now := time.Now()
		if st.AlertsPublished > published {
			published, last = st.AlertsPublished, now
		}
		if seenA.IsZero() && st.RecordsConsumed > 0 {
			seenA = now
		}
		if doneA.IsZero() && st.RecordsConsumed >= int64(n) {
			doneA = now
		}
		if !draining && st.RecordsConsumed >= int64(n) && st.MatchesApplied+st.DuplicateMatch+st.BadMatchRecords >= st.Matches {
			cancel() // flush every window; Run returns once every alert is acknowledged
			draining, drained = true, now
		}
		select {
		case err := <-done:
			if !draining || err != nil {
				b.Fatalf("pipeline stopped: %v", err)
			}
			if st := p.Stats(); st.AlertsPublished > published {
				published, last = st.AlertsPublished, time.Now()
			}
			if st := p.Stats(); published == 0 || published != st.Alerts+st.Revisions {
				b.Fatalf("%d alerts acknowledged of %d emitted", published, st.Alerts+st.Revisions)
			}
			d := clock.since(b, last)
			first := time.Unix(0, clock.first.Load())
			detail := fmt.Sprintf("from its first record read: stage A seen consuming +%v, done +%v, drain +%v, last of %d alerts acknowledged +%v; the stage-A-only clock said %v",
				seenA.Sub(first).Round(time.Millisecond), doneA.Sub(first).Round(time.Millisecond), drained.Sub(first).Round(time.Millisecond),
				published, d.Round(time.Millisecond), doneA.Sub(seenA).Round(time.Millisecond))
			return d, detail
		case <-tick.C:
		}
	}
}

// fetchClock notes when the first Fetch response carrying records of one
// topic starts to arrive on any connection of the dialers it made: a
// contender's first record read, seen on the wire whatever its client does
// with the bytes. Its connections watch the Kafka framing: a request
// written with API key 1 (Fetch) that names the topic marks its
// correlation id, and the first response to a marked id longer than 1 KiB
// (an empty Fetch response is a few dozen bytes, a ~1 KB record is in a
// longer one) stamps the time.
type fetchClock struct {
	topic []byte
	first atomic.Int64 // Unix ns, 0 before
}

func newFetchClock(topic string) *fetchClock { return &fetchClock{topic: []byte(topic)} }

// since returns end minus the first record read, failing b if none was seen.
func (fc *fetchClock) since(b *testing.B, end time.Time) time.Duration {
	first := fc.first.Load()
	if first == 0 {
		b.Fatal("no Fetch response with records seen")
	}
	return end.Sub(time.Unix(0, first))
}

// dialer returns a copy of d whose connections report to fc.
func (fc *fetchClock) dialer(d *kafka.Dialer) *kafka.Dialer {
	w := *d
	dial := d.DialFunc
	if dial == nil {
		dial = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	}
	w.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &clockedConn{Conn: conn, fc: fc, fetches: map[int32]bool{}}, nil
	}
	return &w
}

// clockedConn is a connection that reports to a fetchClock.
type clockedConn struct {
	net.Conn
	fc *fetchClock

	mu sync.Mutex
	// guarded by mu: the correlation ids of Fetch requests naming the topic
	fetches map[int32]bool

	wbuf []byte // the request being written (Write is called by one goroutine at a time)
	rhdr []byte // the response header being read: size and correlation id
	rest int64  // bytes of the current response left after its header
}

func (c *clockedConn) Write(p []byte) (int, error) {
	for q := p; len(q) > 0; {
		if len(c.wbuf) < 4 {
			k := min(4-len(c.wbuf), len(q))
			c.wbuf, q = append(c.wbuf, q[:k]...), q[k:]
			continue
		}
		total := 4 + int(binary.BigEndian.Uint32(c.wbuf))
		k := min(total-len(c.wbuf), len(q))
		c.wbuf, q = append(c.wbuf, q[:k]...), q[k:]
		if len(c.wbuf) == total {
			if total >= 12 && binary.BigEndian.Uint16(c.wbuf[4:]) == 1 && bytes.Contains(c.wbuf, c.fc.topic) {
				c.mu.Lock()
				c.fetches[int32(binary.BigEndian.Uint32(c.wbuf[8:]))] = true
				c.mu.Unlock()
			}
			c.wbuf = c.wbuf[:0]
		}
	}
	return c.Conn.Write(p)
}

func (c *clockedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	for q := p[:n]; len(q) > 0; {
		if c.rest > 0 {
			k := min(c.rest, int64(len(q)))
			c.rest, q = c.rest-k, q[k:]
			continue
		}
		k := min(8-len(c.rhdr), len(q))
		c.rhdr, q = append(c.rhdr, q[:k]...), q[k:]
		if len(c.rhdr) < 8 {
			continue
		}
		size := int64(binary.BigEndian.Uint32(c.rhdr))
		c.mu.Lock()
		fetch := c.fetches[int32(binary.BigEndian.Uint32(c.rhdr[4:]))]
		c.mu.Unlock()
		if fetch && size > 1024 {
			c.fc.first.CompareAndSwap(0, time.Now().UnixNano())
		}
		c.rest, c.rhdr = size-4, c.rhdr[:0]
	}
	return n, err
}
