package sink_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/internal/kafkatest"
	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/sink"
)

func rawCluster(c *kafkatest.Cluster) *kafkaio.Cluster {
	return &kafkaio.Cluster{Brokers: c.Addrs(), TLS: c.TLSConfig(), DialTimeout: 10 * time.Second}
}

func newRawWriter(t *testing.T, cfg sink.RawWriterConfig) *sink.RawWriter {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := sink.NewRawWriter(ctx, cfg)
	if err != nil {
		t.Fatalf("NewRawWriter: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// rawReadAll reads n records from every partition of topic, by partition.
func rawReadAll(t *testing.T, c *kafkatest.Cluster, topic string, partitions, n int) map[int][]kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := map[int][]kafka.Message{}
	got := 0
	readers := make([]*kafka.Reader, partitions)
	for p := range partitions {
		readers[p] = kafka.NewReader(kafka.ReaderConfig{Brokers: c.Addrs(), Dialer: c.Dialer(), Topic: topic, Partition: p, MaxWait: 50 * time.Millisecond})
		defer readers[p].Close()
	}
	for got < n {
		progress := false
		for p, r := range readers {
			lag, err := r.ReadLag(ctx)
			if err != nil {
				t.Fatalf("partition %d: ReadLag: %v", p, err)
			}
			for ; lag > 0; lag-- {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					t.Fatalf("partition %d: ReadMessage after %d records: %v", p, got, err)
				}
				out[p] = append(out[p], m)
				got++
				progress = true
			}
		}
		if !progress {
			if ctx.Err() != nil {
				t.Fatalf("read %d of %d records", got, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return out
}

func rawRecords(n int, key func(i int) []byte) []sink.RawRecord {
	recs := make([]sink.RawRecord, n)
	for i := range recs {
		recs[i] = sink.RawRecord{Value: fmt.Appendf(nil, `{"EventID":1,"n":%d,"pad":"%s"}`, i, strings.Repeat("x", i%700))}
		if key != nil {
			recs[i].Key = key(i)
		}
	}
	return recs
}

func TestRawWriterCreatesTopicAndWrites(t *testing.T) {
	c := kafkatest.Start(t)
	topic := kafkatest.UniqueName(t, "raw")
	w := newRawWriter(t, sink.RawWriterConfig{Cluster: rawCluster(c), Topic: topic, Partitions: 3, Linger: time.Millisecond})
	if w.Partitions() != 3 {
		t.Fatalf("Partitions() = %d, want 3", w.Partitions())
	}
	recs := rawRecords(2500, nil)
	ctx := context.Background()
	if err := w.Write(ctx, recs[:1000]); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, recs[1000:]); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	if st.Records != 2500 || st.Writes != 2 || st.Errors != 0 {
		t.Errorf("Stats() = %+v", st)
	}
	byPart := rawReadAll(t, c, topic, 3, len(recs))
	var got, want []string
	for p, ms := range byPart {
		if len(ms) < 500 {
			t.Errorf("partition %d got %d records: round-robin should spread them", p, len(ms))
		}
		for _, m := range ms {
			got = append(got, string(m.Value))
		}
	}
	for _, r := range recs {
		want = append(want, string(r.Value))
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("topic holds %d records that differ from the %d written", len(got), len(want))
	}
}

func TestRawWriterHashKeepsKeysTogether(t *testing.T) {
	c := kafkatest.Start(t)
	topic := kafkatest.UniqueName(t, "rawhash")
	w := newRawWriter(t, sink.RawWriterConfig{Cluster: rawCluster(c), Topic: topic, Partitions: 4, Balance: "hash", Acks: "one", Linger: time.Millisecond})
	recs := rawRecords(800, func(i int) []byte { return fmt.Appendf(nil, "WS-%02d", i%10) })
	if err := w.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	partOf := map[string]int{}
	for p, ms := range rawReadAll(t, c, topic, 4, len(recs)) {
		for _, m := range ms {
			if q, ok := partOf[string(m.Key)]; ok && q != p {
				t.Fatalf("key %s in partitions %d and %d", m.Key, q, p)
			}
			partOf[string(m.Key)] = p
		}
	}
	if len(partOf) != 10 {
		t.Errorf("%d keys read back, want 10", len(partOf))
	}
}

func TestRawWriterCompression(t *testing.T) {
	c := kafkatest.Start(t)
	for _, codec := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		t.Run(codec, func(t *testing.T) {
			topic := kafkatest.UniqueName(t, "rawcodec")
			w := newRawWriter(t, sink.RawWriterConfig{Cluster: rawCluster(c), Topic: topic, Partitions: 1, Compression: codec, Linger: time.Millisecond})
			recs := rawRecords(300, nil)
			if err := w.Write(context.Background(), recs); err != nil {
				t.Fatal(err)
			}
			ms := rawReadAll(t, c, topic, 1, len(recs))[0]
			for i, m := range ms {
				if string(m.Value) != string(recs[i].Value) {
					t.Fatalf("record %d: %q, want %q", i, m.Value, recs[i].Value)
				}
			}
		})
	}
}

func TestRawWriterKeepsExistingTopic(t *testing.T) {
	c := kafkatest.Start(t)
	topic := kafkatest.UniqueName(t, "rawexisting")
	c.CreateTopic(t, topic, 2)
	w := newRawWriter(t, sink.RawWriterConfig{Cluster: rawCluster(c), Topic: topic, Partitions: 6})
	if w.Partitions() != 2 {
		t.Errorf("Partitions() = %d, want the existing topic's 2", w.Partitions())
	}
	w2 := newRawWriter(t, sink.RawWriterConfig{Cluster: rawCluster(c), Topic: topic})
	if w2.Partitions() != 2 {
		t.Errorf("without Partitions: Partitions() = %d, want 2", w2.Partitions())
	}
}

func TestRawWriterConfigErrors(t *testing.T) {
	cl := &kafkaio.Cluster{Brokers: []string{"127.0.0.1:9"}}
	for _, tc := range []struct {
		name string
		cfg  sink.RawWriterConfig
		want string
	}{
		{"no cluster", sink.RawWriterConfig{Topic: "t"}, "cluster"},
		{"no brokers", sink.RawWriterConfig{Cluster: &kafkaio.Cluster{}, Topic: "t"}, "brokers"},
		{"no topic", sink.RawWriterConfig{Cluster: cl}, "topic"},
		{"acks", sink.RawWriterConfig{Cluster: cl, Topic: "t", Acks: "two"}, "acks"},
		{"balance", sink.RawWriterConfig{Cluster: cl, Topic: "t", Balance: "random"}, "balance"},
		{"compression", sink.RawWriterConfig{Cluster: cl, Topic: "t", Compression: "brotli"}, "compression"},
		{"partitions", sink.RawWriterConfig{Cluster: cl, Topic: "t", Partitions: -1}, "partitions"},
		{"replication", sink.RawWriterConfig{Cluster: cl, Topic: "t", ReplicationFactor: -2}, "replication"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sink.NewRawWriter(context.Background(), tc.cfg)
			if !errors.Is(err, kafkaio.ErrConfig) || !strings.Contains(strings.ToLower(err.Error()), tc.want) {
				t.Errorf("NewRawWriter = %v, want an kafkaio.ErrConfig about %q", err, tc.want)
			}
		})
	}
}

func TestRawWriterUnreachableBrokers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := sink.NewRawWriter(ctx, sink.RawWriterConfig{
		Cluster: &kafkaio.Cluster{Brokers: []string{"127.0.0.1:1"}, DialTimeout: 200 * time.Millisecond},
		Topic:   "t", Partitions: 1,
	})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("NewRawWriter against no broker = %v, want an error naming the broker", err)
	}
}
