package kafkatest_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"

	"github.com/msiguard/msiguard/internal/kafkatest"
)

// produce writes n messages with keys prefix-0 … prefix-(n-1) through a
// kafka.Writer with RequiredAcks=RequireAll and returns them.
func produce(t *testing.T, c *kafkatest.Cluster, topic, prefix string, n int, codec compress.Compression, at func(i int) time.Time) []kafka.Message {
	t.Helper()
	w := &kafka.Writer{
		Addr:         kafka.TCP(c.Addrs()...),
		Topic:        topic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		Compression:  codec,
		BatchSize:    50,
		BatchTimeout: 5 * time.Millisecond,
		Transport:    c.Transport(t),
	}
	defer func() {
		if err := w.Close(); err != nil {
			t.Errorf("writer close: %v", err)
		}
	}()
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{
			Key:     []byte(prefix + "-" + strconv.Itoa(i)),
			Value:   []byte(strings.Repeat("sysmon event "+strconv.Itoa(i)+" ", 8)),
			Headers: []kafka.Header{{Key: "i", Value: []byte(strconv.Itoa(i))}},
		}
		if at != nil {
			msgs[i].Time = at(i)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("WriteMessages: %v", err)
	}
	return msgs
}

func TestCreateTopicAndUniqueName(t *testing.T) {
	c := kafkatest.Start(t)
	a, b := kafkatest.UniqueName(t, "t"), kafkatest.UniqueName(t, "t")
	if a == b {
		t.Fatalf("UniqueName returned %q twice", a)
	}
	c.CreateTopic(t, a, 5)
	c.CreateTopic(t, a, 5) // already there with that count: fine
	if n := partitionsOf(t, c, a); n != 5 {
		t.Fatalf("%s has %d partitions, want 5", a, n)
	}
	t.Logf("real=%v addrs=%v topic=%s", c.Real(), c.Addrs(), a)
}

func TestStartTopicsOption(t *testing.T) {
	topic := kafkatest.UniqueName(t, "seed")
	c := kafkatest.Start(t, kafkatest.Topics(topic), kafkatest.Partitions(2))
	if n := partitionsOf(t, c, topic); n != 2 {
		t.Fatalf("%s has %d partitions, want 2", topic, n)
	}
}

// partitionsOf returns how many partitions the broker lists for topic.
func partitionsOf(t *testing.T, c *kafkatest.Cluster, topic string) int {
	t.Helper()
	conn, err := c.Dialer().Dial("tcp", c.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ps, err := conn.ReadPartitions(topic)
	if err != nil {
		t.Fatal(err)
	}
	return len(ps)
}

// TestWriterCompressionReader produces with every codec kafka-go has and reads
// back, partition by partition, with a kafka.Reader (no group) and with
// Conn.ReadBatch.
func TestWriterCompressionReader(t *testing.T) {
	c := kafkatest.Start(t)
	codecs := []struct {
		name  string
		codec compress.Compression
	}{
		{"none", 0},
		{"gzip", kafka.Gzip},
		{"snappy", kafka.Snappy},
		{"lz4", kafka.Lz4},
		{"zstd", kafka.Zstd},
	}
	for _, cc := range codecs {
		t.Run(cc.name, func(t *testing.T) {
			topic := kafkatest.UniqueName(t, "codec")
			c.CreateTopic(t, topic, 1)
			const n = 120
			sent := produce(t, c, topic, cc.name, n, cc.codec, nil)

			r := kafka.NewReader(kafka.ReaderConfig{
				Brokers:   c.Addrs(),
				Dialer:    c.Dialer(),
				Topic:     topic,
				Partition: 0,
				MaxWait:   100 * time.Millisecond,
			})
			defer r.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for i := 0; i < n; i++ {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					t.Fatalf("ReadMessage %d: %v", i, err)
				}
				if m.Offset != int64(i) || string(m.Key) != string(sent[i].Key) || string(m.Value) != string(sent[i].Value) {
					t.Fatalf("message %d: offset %d key %q, want key %q", i, m.Offset, m.Key, sent[i].Key)
				}
				if len(m.Headers) != 1 || string(m.Headers[0].Value) != strconv.Itoa(i) {
					t.Fatalf("message %d: headers %v", i, m.Headers)
				}
			}

			// The same through a raw partition connection.
			conn, err := c.Dialer().DialLeader(ctx, "tcp", c.Addrs()[0], topic, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Seek(0, kafka.SeekAbsolute); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			got := 0
			for got < n {
				b := conn.ReadBatch(1, 1<<20)
				for {
					m, err := b.ReadMessage()
					if err != nil {
						break
					}
					if m.Offset != int64(got) {
						t.Fatalf("ReadBatch: offset %d, want %d", m.Offset, got)
					}
					got++
				}
				if err := b.Close(); err != nil {
					t.Fatalf("ReadBatch after %d messages: %v", got, err)
				}
			}
		})
	}
}

// TestConsumerGroupTwoMembers runs two kafka.ConsumerGroup members in one
// group, waits until they share the partitions in one generation, produces,
// and checks that every message is read and the committed offsets reach the
// end of every partition.
func TestConsumerGroupTwoMembers(t *testing.T) {
	for _, brokers := range []int{1, 3} {
		t.Run(fmt.Sprintf("brokers=%d", brokers), func(t *testing.T) {
			c := kafkatest.Start(t, kafkatest.Brokers(brokers))
			if c.Real() && brokers != 1 {
				t.Skip("broker count is a kfake option")
			}
			testConsumerGroup(t, c)
		})
	}
}

type memberState struct {
	genID      int32
	partitions int
}

func testConsumerGroup(t *testing.T, c *kafkatest.Cluster) {
	const parts, n = 4, 400
	topic := kafkatest.UniqueName(t, "cg")
	group := kafkatest.UniqueName(t, "grp")
	c.CreateTopic(t, topic, parts)
	t0 := time.Now()
	defer func() { t.Logf("members closed after %v", time.Since(t0)) }()

	var (
		mu    sync.Mutex
		seen  = map[string]int{}
		state [2]memberState
		errs  []error
	)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	groups := make([]*kafka.ConsumerGroup, 2)
	for i := range groups {
		cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
			ID:                group,
			Brokers:           c.Addrs(),
			Dialer:            c.Dialer(),
			Topics:            []string{topic},
			StartOffset:       kafka.FirstOffset,
			HeartbeatInterval: 250 * time.Millisecond,
			SessionTimeout:    6 * time.Second, // kfake's and Kafka's group.min.session.timeout.ms
			RebalanceTimeout:  10 * time.Second,
			JoinGroupBackoff:  250 * time.Millisecond,
			Timeout:           10 * time.Second,
		})
		if err != nil {
			t.Fatalf("NewConsumerGroup: %v", err)
		}
		groups[i] = cg
		wg.Add(1)
		go func(i int, cg *kafka.ConsumerGroup) {
			defer wg.Done()
			for {
				gen, err := cg.Next(ctx)
				if errors.Is(err, kafka.ErrGroupClosed) || ctx.Err() != nil {
					return
				}
				if err != nil {
					// Next also hands back the errors of a join that
					// failed (e.g. [27] Rebalance In Progress while the
					// other member joins); the group retries by itself,
					// so keep calling Next.
					t.Logf("member %d Next: %v (retrying)", i, err)
					continue
				}
				assigned := gen.Assignments[topic]
				mu.Lock()
				state[i] = memberState{gen.ID, len(assigned)}
				mu.Unlock()

				// One reader per assigned partition records what it read in
				// pending; one committer per generation commits pending
				// every 100ms (committing each message costs a round trip
				// to the coordinator: 10-20ms each here).
				var pmu sync.Mutex
				pending := map[int]int64{}
				for _, a := range assigned {
					partition, offset := a.ID, a.Offset
					gen.Start(func(gctx context.Context) {
						r := kafka.NewReader(kafka.ReaderConfig{
							Brokers:   c.Addrs(),
							Dialer:    c.Dialer(),
							Topic:     topic,
							Partition: partition,
							MaxWait:   100 * time.Millisecond,
						})
						defer r.Close()
						if err := r.SetOffset(offset); err != nil {
							mu.Lock()
							errs = append(errs, err)
							mu.Unlock()
							return
						}
						for {
							m, err := r.ReadMessage(gctx)
							if err != nil {
								return // generation ended
							}
							mu.Lock()
							seen[string(m.Key)]++
							mu.Unlock()
							pmu.Lock()
							pending[partition] = m.Offset + 1
							pmu.Unlock()
						}
					})
				}
				gen.Start(func(gctx context.Context) {
					tick := time.NewTicker(100 * time.Millisecond)
					defer tick.Stop()
					for {
						select {
						case <-gctx.Done():
							return
						case <-tick.C:
						}
						pmu.Lock()
						offs := pending
						pending = map[int]int64{}
						pmu.Unlock()
						if len(offs) == 0 {
							continue
						}
						if err := gen.CommitOffsets(map[string]map[int]int64{topic: offs}); err != nil {
							// After a rebalance the new owner re-reads from the
							// last commit (at-least-once); otherwise retry.
							t.Logf("member %d commit %v: %v", i, offs, err)
							pmu.Lock()
							for p, o := range offs {
								if _, newer := pending[p]; !newer {
									pending[p] = o
								}
							}
							pmu.Unlock()
						}
					}
				})
			}
		}(i, cg)
	}
	defer func() {
		cancel()
		for _, cg := range groups {
			_ = cg.Close()
		}
		wg.Wait()
	}()

	kafkatest.WaitFor(t, 60*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(errs) > 0 {
			t.Fatalf("consumer error: %v", errs)
		}
		if state[0].genID != state[1].genID || state[0].partitions == 0 || state[1].partitions == 0 ||
			state[0].partitions+state[1].partitions != parts {
			return fmt.Errorf("members not balanced yet: %+v", state)
		}
		return nil
	})
	mu.Lock()
	t.Logf("balanced: %+v after %v", state, time.Since(t0))
	mu.Unlock()

	produce(t, c, topic, "cg", n, kafka.Snappy, nil)

	kafkatest.WaitFor(t, 60*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) != n {
			return fmt.Errorf("read %d of %d distinct messages", len(seen), n)
		}
		return nil
	})

	// The committed offsets, as another client sees them, reach each
	// partition's end.
	cl := c.Client(t)
	kafkatest.WaitFor(t, 30*time.Second, func() error {
		ends := map[int]int64{}
		req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {}}}
		for p := 0; p < parts; p++ {
			req.Topics[topic] = append(req.Topics[topic], kafka.LastOffsetOf(p))
		}
		lo, err := cl.ListOffsets(context.Background(), req)
		if err != nil {
			return err
		}
		total := int64(0)
		for _, po := range lo.Topics[topic] {
			if po.Error != nil {
				return po.Error
			}
			ends[po.Partition] = po.LastOffset
			total += po.LastOffset
		}
		if total != n {
			return fmt.Errorf("end offsets %v sum to %d, want %d", ends, total, n)
		}
		parts := []int{}
		for p := 0; p < 4; p++ {
			parts = append(parts, p)
		}
		of, err := cl.OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
		if err != nil {
			return err
		}
		if of.Error != nil {
			return of.Error
		}
		for _, p := range of.Topics[topic] {
			if p.Error != nil {
				return p.Error
			}
			if p.CommittedOffset != ends[p.Partition] {
				return fmt.Errorf("partition %d committed %d, end %d", p.Partition, p.CommittedOffset, ends[p.Partition])
			}
		}
		return nil
	})
	dups := 0
	mu.Lock()
	for _, k := range seen {
		dups += k - 1
	}
	mu.Unlock()
	t.Logf("read all %d messages (%d re-deliveries), committed offsets at the partition ends, after %v", n, dups, time.Since(t0))
}

// TestOffsetsByTime looks offsets up by record timestamp, as a backtest does:
// Conn.ReadOffset(t), Reader.SetOffsetAt and Client.ListOffsets(TimeOffsetOf).
func TestOffsetsByTime(t *testing.T) {
	c := kafkatest.Start(t)
	topic := kafkatest.UniqueName(t, "ts")
	c.CreateTopic(t, topic, 1)
	// Timestamps in the past: Kafka 4 rejects CreateTime more than
	// log.message.timestamp.after.max.ms (1h) in the future.
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Millisecond)
	const n = 10
	produce(t, c, topic, "ts", n, kafka.Lz4, func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := c.Dialer().DialLeader(ctx, "tcp", c.Addrs()[0], topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	first, last, err := conn.ReadOffsets()
	if err != nil || first != 0 || last != n {
		t.Fatalf("ReadOffsets = %d, %d, %v; want 0, %d", first, last, err, n)
	}
	for _, tc := range []struct {
		at   time.Time
		want int64
	}{
		{base.Add(-time.Hour), 0},              // before everything: the first offset
		{base, 0},                              // exact timestamp of record 0
		{base.Add(3500 * time.Millisecond), 4}, // first record at or after
		{base.Add(9 * time.Second), 9},         // the last record
	} {
		got, err := conn.ReadOffset(tc.at)
		if err != nil {
			t.Fatalf("ReadOffset(%v): %v", tc.at.Sub(base), err)
		}
		if got != tc.want {
			t.Errorf("ReadOffset(base%+v) = %d, want %d", tc.at.Sub(base), got, tc.want)
		}
	}
	// After the last record Kafka answers offset -1 (KIP-79: "no such
	// record"), and kafka-go passes it through; use ReadLastOffset then.
	after, err := conn.ReadOffset(base.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ReadOffset(after the last record) = %d", after)
	if after != -1 {
		t.Errorf("ReadOffset(after the last record) = %d, want -1", after)
	}

	// Reader.SetOffsetAt then ReadMessage.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: c.Addrs(), Dialer: c.Dialer(), Topic: topic, Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	if err := r.SetOffsetAt(ctx, base.Add(6*time.Second)); err != nil {
		t.Fatal(err)
	}
	m, err := r.ReadMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Offset != 6 || !m.Time.Equal(base.Add(6*time.Second)) {
		t.Errorf("after SetOffsetAt(+6s): offset %d time %v, want 6 at %v", m.Offset, m.Time, base.Add(6*time.Second))
	}

	// Client.ListOffsets with a time: the answer is in PartitionOffsets.Offsets,
	// keyed by offset. Its value is the time that was ASKED for, not the
	// record's timestamp: kafka-go's listoffsets.Response.Merge overwrites the
	// broker's timestamp with the request's to match answers to questions.
	cl := c.Client(t)
	lo, err := cl.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{
		topic: {kafka.TimeOffsetOf(0, base.Add(2500*time.Millisecond))},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ps := lo.Topics[topic]
	if len(ps) != 1 || ps[0].Error != nil {
		t.Fatalf("ListOffsets: %+v", ps)
	}
	if ts, ok := ps[0].Offsets[3]; !ok || len(ps[0].Offsets) != 1 || !ts.Equal(base.Add(2500*time.Millisecond)) {
		t.Errorf("ListOffsets(TimeOffsetOf(+2.5s)).Offsets = %v, want {3: %v}", ps[0].Offsets, base.Add(2500*time.Millisecond))
	}
}

// TestListOffsetsFirstOffset pins kafka-go issue #620: Client.ListOffsets
// with FirstOffsetOf leaves PartitionOffsets.FirstOffset at 0 (the broker
// answers timestamp -1 for both ends; kafka-go files that under LastOffset).
// Ask for the two ends in separate requests, or use Conn.ReadFirstOffset.
func TestListOffsetsFirstOffset(t *testing.T) {
	c := kafkatest.Start(t)
	topic := kafkatest.UniqueName(t, "ends")
	c.CreateTopic(t, topic, 1)
	produce(t, c, topic, "e", 5, 0, nil)
	cl := c.Client(t)
	ctx := context.Background()

	ask := func(reqs ...kafka.OffsetRequest) kafka.PartitionOffsets {
		t.Helper()
		lo, err := cl.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
		if err != nil {
			t.Fatal(err)
		}
		return lo.Topics[topic][0]
	}
	first := ask(kafka.FirstOffsetOf(0))
	last := ask(kafka.LastOffsetOf(0))
	both := ask(kafka.FirstOffsetOf(0), kafka.LastOffsetOf(0))
	t.Logf("FirstOffsetOf alone: %+v; LastOffsetOf alone: %+v; both: %+v", first, last, both)
	if last.LastOffset != 5 {
		t.Errorf("LastOffsetOf alone: LastOffset = %d, want 5", last.LastOffset)
	}
}

// TestFutureTimestamp pins a difference between the two brokers: Kafka 4
// rejects a record whose CreateTime is more than
// log.message.timestamp.after.max.ms (default 1h) ahead of the broker's
// clock with [32] Invalid Timestamp, kfake takes any timestamp. A Sysmon host
// with a clock far ahead therefore fails to produce only on real Kafka.
func TestFutureTimestamp(t *testing.T) {
	c := kafkatest.Start(t)
	topic := kafkatest.UniqueName(t, "future")
	c.CreateTopic(t, topic, 1)
	w := &kafka.Writer{
		Addr: kafka.TCP(c.Addrs()...), Topic: topic, RequiredAcks: kafka.RequireAll, MaxAttempts: 1,
		BatchTimeout: time.Millisecond, // the default 1s is waited out by every synchronous WriteMessages
		Transport:    c.Transport(t),
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("old"), Time: time.Now().Add(-30 * 24 * time.Hour)}); err != nil {
		t.Fatalf("a 30-day-old timestamp: %v", err)
	}
	err := w.WriteMessages(ctx, kafka.Message{Value: []byte("future"), Time: time.Now().Add(2 * time.Hour)})
	t.Logf("timestamp 2h ahead: %v", err)
	// WriteMessages returns kafka.WriteErrors (one per message), which
	// errors.Is does not look into.
	var werrs kafka.WriteErrors
	if errors.As(err, &werrs) && len(werrs) == 1 {
		err = werrs[0]
	}
	if c.Real() {
		if !errors.Is(err, kafka.InvalidTimestamp) {
			t.Fatalf("real Kafka, timestamp 2h ahead: %v, want [32] Invalid Timestamp", err)
		}
	} else if err != nil {
		t.Fatalf("kfake, timestamp 2h ahead: %v, want accepted", err)
	}
}
