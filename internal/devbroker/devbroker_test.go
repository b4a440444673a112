package devbroker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/sink"
)

func TestParseTopics(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Topic
		err  string
	}{
		{"sysmon", []Topic{{Name: "sysmon"}}, ""},
		{"sysmon:6, msiguard.alerts:3:compact ,msiguard.dlq:1", []Topic{
			{Name: "sysmon", Partitions: 6}, {Name: "msiguard.alerts", Partitions: 3, Compact: true}, {Name: "msiguard.dlq", Partitions: 1},
		}, ""},
		{"a:compact", []Topic{{Name: "a", Compact: true}}, ""},
		{"", nil, ""},
		{"a:0", nil, "partition count"},
		{"a:x", nil, "partition count"},
		{"a b", nil, "not allowed"},
		{":3", nil, "empty name"},
		{"a,a:2", nil, "listed twice"},
	} {
		got, err := ParseTopics(tc.in)
		if tc.err != "" {
			if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseTopics(%q) error = %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseTopics(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		var back []string
		for _, tp := range got {
			back = append(back, tp.String())
		}
		if again, _ := ParseTopics(strings.Join(back, ",")); !reflect.DeepEqual(again, got) {
			t.Errorf("String does not round-trip: %v -> %v", got, again)
		}
	}
}

// TestBrokerServesMsiguardClients starts a broker on a free port and uses
// msiguard's own producer and reader against it: the topics exist with the
// partitions asked for, records written come back, and the alerts topic is
// compacted.
func TestBrokerServesMsiguardClients(t *testing.T) {
	b, err := Start(Config{
		Listen: "127.0.0.1:0",
		Topics: []Topic{{Name: "sysmon", Partitions: 4}, {Name: "msiguard.alerts", Partitions: 2, Compact: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !strings.HasPrefix(b.Addr(), "127.0.0.1:") || strings.HasSuffix(b.Addr(), ":0") {
		t.Fatalf("Addr() = %q, want 127.0.0.1 and the chosen port", b.Addr())
	}
	cfg := b.fake.TopicInfo("msiguard.alerts")
	if v := cfg.Configs["cleanup.policy"]; v == nil || *v != "compact" {
		t.Errorf("alerts topic configs %v: not compacted", cfg.Configs)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cluster := &kafkaio.Cluster{Brokers: []string{b.Addr()}}
	w, err := sink.NewRawWriter(ctx, sink.RawWriterConfig{Cluster: cluster, Topic: "sysmon"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.Partitions() != 4 {
		t.Errorf("sysmon has %d partitions, want 4", w.Partitions())
	}
	var recs []sink.RawRecord
	for i := range 100 {
		recs = append(recs, sink.RawRecord{Value: fmt.Appendf(nil, "record %d", i)})
	}
	if err := w.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	r, err := kafkaio.NewRangeReader(ctx, kafkaio.RangeConfig{Cluster: *cluster, Topic: "sysmon"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := 0
	for _, rg := range r.Ranges() {
		for {
			batch, err := r.Next(ctx, rg.Partition)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got += len(batch)
		}
	}
	if got != len(recs) {
		t.Errorf("read back %d records, want %d", got, len(recs))
	}
}

// TestAdvertisedAddress checks that a broker listening on every interface
// tells clients an address they can dial, and that Advertise overrides it.
func TestAdvertisedAddress(t *testing.T) {
	b, err := Start(Config{Listen: "0.0.0.0:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !strings.HasPrefix(b.Addr(), "127.0.0.1:") {
		t.Errorf("Addr() = %q, want 127.0.0.1:PORT for an unspecified listen host", b.Addr())
	}
	conn, err := net.DialTimeout("tcp", b.Addr(), 5*time.Second)
	if err != nil {
		t.Fatalf("dialing the advertised address: %v", err)
	}
	conn.Close()

	b2, err := Start(Config{Listen: "127.0.0.1:0", Advertise: "localhost:19092"})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	if b2.Addr() != "localhost:19092" {
		t.Errorf("Addr() = %q, want the advertised localhost:19092", b2.Addr())
	}
}

func TestStartErrors(t *testing.T) {
	b, err := Start(Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Listen: "nonsense"}, "host:port"},
		{Config{Listen: b.Addr()}, "listening on"}, // port taken
		{Config{Listen: "127.0.0.1:0", Topics: []Topic{{Name: "bad name"}}}, "not allowed"},
	} {
		b, err := Start(tc.cfg)
		if err == nil {
			b.Close()
			t.Errorf("Start(%+v) succeeded, want an error containing %q", tc.cfg, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Start(%+v) = %v, want an error containing %q", tc.cfg, err, tc.want)
		}
	}
}

// TestJavaAdminCompatibleVersions: the broker does not offer the two
// request versions kfake answers with nulls Apache Kafka's Java admin
// client cannot read (kafka-topics.sh --create and --describe threw a
// NullPointerException on them; scripts/kafka-tools-vs-dev-broker.sh runs
// the real tools), and topics are still created with their configs through
// the CreateTopics it offers.
func TestJavaAdminCompatibleVersions(t *testing.T) {
	b, err := Start(Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	conn, err := kafka.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	versions, err := conn.ApiVersions()
	if err != nil {
		t.Fatal(err)
	}
	offered := map[int16]int16{}
	for _, v := range versions {
		offered[v.ApiKey] = v.MaxVersion
	}
	if max, ok := offered[keyDescribeTopicPartitions]; ok {
		t.Errorf("DescribeTopicPartitions offered up to v%d", max)
	}
	if max := offered[keyCreateTopics]; max > 4 || max < 2 {
		t.Errorf("CreateTopics offered up to v%d, want v4 (v2 at least)", max)
	}
	if offered[3] < 1 || offered[32] < 1 {
		t.Errorf("Metadata v%d, DescribeConfigs v%d: the fallbacks must stay", offered[3], offered[32])
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl := &kafka.Client{Addr: kafka.TCP(b.Addr())}
	resp, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: "compacted", NumPartitions: 2, ReplicationFactor: 1,
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}},
	}}})
	if err == nil {
		err = resp.Errors["compacted"]
	}
	if err != nil {
		t.Fatal(err)
	}
	dc, err := cl.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: "compacted", ConfigNames: []string{"cleanup.policy"},
	}}})
	if err != nil || len(dc.Resources) != 1 || len(dc.Resources[0].ConfigEntries) != 1 || dc.Resources[0].ConfigEntries[0].ConfigValue != "compact" {
		t.Errorf("DescribeConfigs of the created topic: %+v, %v", dc, err)
	}
}
