package kafkaio_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/msiguard/msiguard/backtest"
	"github.com/msiguard/msiguard/backtest/topicsource"
	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/kafkatest"
	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/stream"
	"github.com/msiguard/msiguard/stream/streamtest"
	"github.com/msiguard/msiguard/window"
)

// produceTo writes msgs to topic; a message's Partition picks its partition.
func produceTo(t *testing.T, c *kafkatest.Cluster, topic string, msgs []kafka.Message) {
	t.Helper()
	w := &kafka.Writer{
		Addr:         kafka.TCP(c.Addrs()...),
		Topic:        topic,
		Balancer:     kafka.BalancerFunc(func(m kafka.Message, parts ...int) int { return m.Partition }),
		BatchTimeout: time.Millisecond,
		BatchSize:    500,
		RequiredAcks: kafka.RequireAll,
		Transport:    c.Transport(t),
	}
	defer w.Close()
	kafkatest.Produce(t, w, msgs)
}

// readAll drains every partition of r and returns "p/offset=value" lines.
func readAll(t *testing.T, r *kafkaio.RangeReader) []string {
	t.Helper()
	var out []string
	for _, rg := range r.Ranges() {
		next := rg.Start
		for {
			recs, err := r.Next(context.Background(), rg.Partition)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("partition %d: %v", rg.Partition, err)
			}
			for _, rec := range recs {
				if rec.Offset != next || rec.Partition != rg.Partition {
					t.Fatalf("partition %d: got %d/%d, want offset %d", rg.Partition, rec.Partition, rec.Offset, next)
				}
				next++
				out = append(out, fmt.Sprintf("%d/%d=%s", rec.Partition, rec.Offset, rec.Value))
			}
		}
		if next != rg.End {
			t.Errorf("partition %d: read up to %d, range ends at %d", rg.Partition, next, rg.End)
		}
	}
	return out
}

// TestRangeReader resolves ranges by timestamp on a 3-partition topic whose
// record i of each partition has timestamp base+i seconds, reads them, and
// checks that records produced after the start are not read and that no
// consumer group was created.
func TestRangeReader(t *testing.T) {
	c := kafkatest.Start(t)
	topic := kafkatest.UniqueName(t, "range")
	c.CreateTopic(t, topic, 3)
	// Recent timestamps: a real broker deletes records older than its
	// retention (24h in scripts/kafka.sh) at any moment.
	base := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	var msgs []kafka.Message
	for i := range 100 {
		for p := range 3 {
			msgs = append(msgs, kafka.Message{Partition: p, Time: base.Add(time.Duration(i) * time.Second), Value: fmt.Appendf(nil, "r%d", i)})
		}
	}
	produceTo(t, c, topic, msgs)
	cluster := kafkaio.Cluster{Brokers: c.Addrs(), TLS: c.TLSConfig()}
	ctx := context.Background()

	cases := []struct {
		name       string
		from, to   time.Time
		start, end int64
	}{
		{"everything", time.Time{}, time.Time{}, 0, 100},
		{"from-to", base.Add(10 * time.Second), base.Add(50 * time.Second), 10, 50},
		{"between-records", base.Add(10500 * time.Millisecond), base.Add(11500 * time.Millisecond), 11, 12},
		{"to-after-the-end", base.Add(90 * time.Second), base.Add(time.Hour), 90, 100},
		{"from-after-the-end", base.Add(time.Hour), time.Time{}, 100, 100},
		{"before-the-start", base.Add(-time.Hour), base.Add(-time.Minute), 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := kafkaio.NewRangeReader(ctx, kafkaio.RangeConfig{Cluster: cluster, Topic: topic, From: tc.from, To: tc.to, FetchBytes: 256})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for _, rg := range r.Ranges() {
				if rg.Start != tc.start || rg.End != tc.end {
					t.Errorf("partition %d: range [%d, %d), want [%d, %d)", rg.Partition, rg.Start, rg.End, tc.start, tc.end)
				}
			}
			got := readAll(t, r)
			if want := 3 * int(tc.end-tc.start); len(got) != want {
				t.Errorf("read %d records, want %d", len(got), want)
			}
		})
	}

	// The end is the high watermark when the reader is made.
	r, err := kafkaio.NewRangeReader(ctx, kafkaio.RangeConfig{Cluster: cluster, Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	produceTo(t, c, topic, msgs[:30])
	first := readAll(t, r)
	if len(first) != 300 {
		t.Errorf("read %d records, want the 300 present when the reader was made", len(first))
	}

	// Given those ranges (backtest --compare's second read), a reader
	// reads the same records although the topic has grown; a range of
	// another partition is refused.
	again, err := kafkaio.NewRangeReader(ctx, kafkaio.RangeConfig{Cluster: cluster, Topic: topic, Ranges: r.Ranges(), From: base.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := readAll(t, again); !slices.Equal(got, first) {
		t.Errorf("a reader given the ranges read %d records, not the first reader's %d", len(got), len(first))
	}
	if _, err := kafkaio.NewRangeReader(ctx, kafkaio.RangeConfig{Cluster: cluster, Topic: topic, Ranges: []kafkaio.Range{{Partition: 99, End: 1}}}); !errors.Is(err, kafkaio.ErrConfig) {
		t.Errorf("a range of a partition the topic lacks: err %v, want ErrConfig", err)
	}

	if !c.Real() { // a shared real broker holds other tests' groups
		res, err := c.Client(t).ListGroups(ctx, &kafka.ListGroupsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Groups) != 0 {
			t.Errorf("consumer groups after range reads: %+v, want none", res.Groups)
		}
	}

	if _, err := kafkaio.NewRangeReader(ctx, kafkaio.RangeConfig{Cluster: cluster, Topic: topic, From: base.Add(time.Minute), To: base}); !errors.Is(err, kafkaio.ErrConfig) {
		t.Errorf("--from after --to: err %v, want ErrConfig", err)
	}
	if _, err := kafkaio.NewRangeReader(ctx, kafkaio.RangeConfig{Cluster: cluster, Topic: "no-such-topic-" + topic}); err == nil {
		t.Error("missing topic: no error")
	}
}

// TestBacktestMatchesLive is the "same answer as live": a topic of
// mixed-shape records over four partitions is consumed by the live pipeline
// (msiguard run: detect, repartition by host, window on the wall clock,
// publish revisions to the alerts topic) and replayed by the backtest over
// its whole range; the final alert of every alert_id must be the same, and
// both must equal the independent expectation. Revision numbers are not
// compared: they count emissions, which the live clock paces.
func TestBacktestMatchesLive(t *testing.T) {
	c := kafkatest.Start(t)
	topic := kafkatest.UniqueName(t, "sysmon")
	alerts := kafkatest.UniqueName(t, "alerts")
	dlq := kafkatest.UniqueName(t, "dlq")
	c.CreateTopic(t, topic, 4)
	c.CreateTopic(t, alerts, 2)
	c.CreateTopic(t, dlq, 1)

	g := streamtest.New(streamtest.Options{Seed: 7, Hosts: 8})
	recs := g.Records(3000)
	msgs := make([]kafka.Message, len(recs))
	// The shipper's time follows the event time; partitions round-robin, as
	// an unkeyed producer spreads them. The timestamps are moved to the last
	// minutes: a real broker deletes records older than its retention.
	shift := time.Now().Add(-10 * time.Minute).Sub(recs[0].Time)
	for i, r := range recs {
		msgs[i] = kafka.Message{Partition: i % 4, Time: r.Time.Add(shift), Value: r.Value}
	}
	produceTo(t, c, topic, msgs)

	det := detector.Seed()
	placed, err := streamtest.ReadPlaced(context.Background(), c.Dialer(), c.Addrs()[0], topic)
	if err != nil {
		t.Fatal(err)
	}
	want := streamtest.Expect(det, placed, 0)
	if len(want) < 20 {
		t.Fatalf("only %d expected alerts", len(want))
	}

	cluster := kafkaio.Cluster{Brokers: c.Addrs(), TLS: c.TLSConfig()}
	const grace, idle, retain = 2 * time.Second, time.Second, 10 * time.Minute

	// Live.
	p, err := stream.New(stream.Config{
		Cluster: cluster, Topic: topic, Group: kafkatest.UniqueName(t, "group"),
		AlertsTopic: alerts, DLQTopic: dlq,
		Grace: grace, IdleTimeout: idle, Retain: retain,
		CommitInterval: 200 * time.Millisecond, SessionTimeout: 6 * time.Second, HeartbeatInterval: 500 * time.Millisecond,
		RebalanceTimeout: 10 * time.Second, ShutdownTimeout: 20 * time.Second, FetchMaxWait: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(40 * time.Second):
			t.Error("pipeline did not stop")
		}
	}()
	var live map[string][]streamtest.Published
	deadline := time.Now().Add(90 * time.Second)
	for {
		live, err = streamtest.ReadAlerts(context.Background(), c.Dialer(), c.Addrs()[0], alerts)
		if err == nil && len(streamtest.Check(live, want)) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("live pipeline: alerts topic not as expected after 90s: %v %v", err, firstN(streamtest.Check(live, want), 10))
		}
		time.Sleep(250 * time.Millisecond)
	}

	// Backtest.
	var out bytes.Buffer
	eng, err := backtest.New(backtest.Config{
		Detector: det,
		Window:   window.Config{Grace: grace, IdleTimeout: idle, Retain: retain},
		Alerts:   &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	rr, err := kafkaio.NewRangeReader(context.Background(), kafkaio.RangeConfig{Cluster: cluster, Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	sum, err := eng.RunTopic(context.Background(), topicsource.New(rr))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records != int64(len(recs)) {
		t.Errorf("backtest read %d records, want %d; ranges %+v", sum.Records, len(recs), rr.Ranges())
	}
	got := map[string]*window.Alert{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		a := new(window.Alert)
		if err := a.UnmarshalJSON([]byte(line)); err != nil {
			t.Fatalf("backtest alert %q: %v", line, err)
		}
		if got[a.AlertID] != nil {
			t.Errorf("backtest wrote alert %s twice", a.AlertID)
		}
		got[a.AlertID] = a
	}

	var problems []string
	for id, pubs := range live {
		final := pubs[len(pubs)-1].Alert
		b, ok := got[id]
		if !ok {
			problems = append(problems, fmt.Sprintf("alert %s (%s@%d) published live, not by the backtest", id, final.Host, final.Time))
			continue
		}
		final = final.Clone() // Diff wants its second alert's sources sorted
		slices.SortFunc(final.Sources, func(x, y window.Source) int {
			return cmp.Or(cmp.Compare(x.Partition, y.Partition), cmp.Compare(x.Offset, y.Offset))
		})
		if d := streamtest.Diff(b, final); d != "" {
			problems = append(problems, fmt.Sprintf("alert %s: backtest differs from live: %s", id, d))
		}
	}
	for id, a := range got {
		if _, ok := live[id]; !ok {
			problems = append(problems, fmt.Sprintf("alert %s (%s@%d) from the backtest only", id, a.Host, a.Time))
		}
		if w, ok := want[id]; ok {
			if d := streamtest.Diff(a, w); d != "" {
				problems = append(problems, fmt.Sprintf("alert %s: backtest differs from the expectation: %s", id, d))
			}
		}
	}
	sort.Strings(problems)
	for _, p := range firstN(problems, 20) {
		t.Error(p)
	}
	t.Logf("%d records, %d alerts live and in the backtest (%d revisions in the backtest)", len(recs), len(got), sum.Revisions)
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("... and %d more", len(s)-n))
	}
	return s
}

// BenchmarkRangeRead compares two ways to read a fixed range of every
// partition without a consumer group, against the in-process broker (or
// KAFKA_BROKERS): RangeReader (Conn-level fetches, a prefetching goroutine
// per partition) and one kafka.Reader per partition with an explicit
// Partition and no GroupID. 100k records of about 1 KB on 4 partitions.
func BenchmarkRangeRead(b *testing.B) {
	c := kafkatest.Start(b)
	topic := kafkatest.UniqueName(b, "bench")
	c.CreateTopic(b, topic, 4)
	g := streamtest.New(streamtest.Options{Seed: 3, Hosts: 50})
	recs := g.Records(100_000)
	w := &kafka.Writer{
		Addr: kafka.TCP(c.Addrs()...), Topic: topic, Balancer: &kafka.RoundRobin{},
		BatchTimeout: time.Millisecond, BatchSize: 1000, BatchBytes: 1 << 20, RequiredAcks: kafka.RequireAll, Transport: c.Transport(b),
	}
	var bytesTotal int64
	msgs := make([]kafka.Message, 0, len(recs))
	for _, r := range recs {
		msgs = append(msgs, kafka.Message{Value: r.Value})
		bytesTotal += int64(len(r.Value))
	}
	kafkatest.Produce(b, w, msgs)
	w.Close()
	cluster := kafkaio.Cluster{Brokers: c.Addrs(), TLS: c.TLSConfig()}
	ctx := context.Background()

	// readAll times reading every partition's range with read, one
	// goroutine per partition (the RangeReader gives the ranges).
	readAll := func(b *testing.B, read func(r *kafkaio.RangeReader, rg kafkaio.Range) int64) {
		b.SetBytes(bytesTotal)
		for b.Loop() {
			r, err := kafkaio.NewRangeReader(ctx, kafkaio.RangeConfig{Cluster: cluster, Topic: topic})
			if err != nil {
				b.Fatal(err)
			}
			var wg sync.WaitGroup
			var n atomic.Int64
			for _, rg := range r.Ranges() {
				wg.Go(func() { n.Add(read(r, rg)) })
			}
			wg.Wait()
			r.Close()
			if n.Load() != int64(len(recs)) {
				b.Fatalf("read %d records, want %d", n.Load(), len(recs))
			}
		}
		b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	}
	b.Run("RangeReader", func(b *testing.B) {
		readAll(b, func(r *kafkaio.RangeReader, rg kafkaio.Range) (n int64) {
			for {
				recs, err := r.Next(ctx, rg.Partition)
				if err != nil {
					return n
				}
				n += int64(len(recs))
			}
		})
	})
	b.Run("ReaderPerPartition", func(b *testing.B) {
		readAll(b, func(_ *kafkaio.RangeReader, rg kafkaio.Range) (n int64) {
			kr := kafka.NewReader(kafka.ReaderConfig{
				Brokers: c.Addrs(), Topic: topic, Partition: rg.Partition, Dialer: c.Dialer(),
				MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 250 * time.Millisecond, QueueCapacity: 1000,
			})
			defer kr.Close()
			kr.SetOffset(rg.Start)
			for off := rg.Start; off < rg.End; {
				m, err := kr.FetchMessage(ctx)
				if err != nil {
					b.Error(err)
					return n
				}
				off = m.Offset + 1
				n++
			}
			return n
		})
	})
}

// failFetches makes kfake answer Fetch requests with code for every
// partition: once, or (keep) for good.
func failFetches(c *kafkatest.Cluster, code int16, keep bool, n *atomic.Int32) {
	fake := c.Fake()
	fake.ControlKey(int16(kmsg.Fetch), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if keep {
			fake.KeepControl()
		}
		freq := req.(*kmsg.FetchRequest)
		resp := freq.ResponseKind().(*kmsg.FetchResponse)
		for _, rt := range freq.Topics {
			st := kmsg.NewFetchResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewFetchResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = code
				sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = -1, -1, -1
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		n.Add(1)
		return resp, nil, true
	})
}

// TestRangeReaderFaults: a leader change during the read is retried and
// loses nothing; records deleted under the reader (OFFSET_OUT_OF_RANGE)
// end the partition with an error that says so, returned again by later
// calls rather than a false end of range.
func TestRangeReaderFaults(t *testing.T) {
	c := kafkatest.Start(t, kafkatest.WithFaults())
	topic := kafkatest.UniqueName(t, "faults")
	c.CreateTopic(t, topic, 1)
	var msgs []kafka.Message
	for i := range 50 {
		msgs = append(msgs, kafka.Message{Value: fmt.Appendf(nil, "r%d", i)})
	}
	produceTo(t, c, topic, msgs)
	cluster := kafkaio.Cluster{Brokers: c.Addrs()}
	ctx := context.Background()

	var n atomic.Int32
	r, err := kafkaio.NewRangeReader(ctx, kafkaio.RangeConfig{Cluster: cluster, Topic: topic, FetchBytes: 128})
	if err != nil {
		t.Fatal(err)
	}
	failFetches(c, kerr.NotLeaderForPartition.Code, false, &n)
	if got := readAll(t, r); len(got) != 50 || n.Load() != 1 {
		t.Errorf("after one NOT_LEADER answer: read %d records (want 50), %d faults injected", len(got), n.Load())
	}
	r.Close()

	r, err = kafkaio.NewRangeReader(ctx, kafkaio.RangeConfig{Cluster: cluster, Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	failFetches(c, kerr.OffsetOutOfRange.Code, true, &n)
	for range 2 {
		_, err = r.Next(ctx, 0)
		if !errors.Is(err, kafkaio.ErrRecordsDeleted) {
			t.Errorf("records deleted under the reader: err %v", err)
		}
	}
}
