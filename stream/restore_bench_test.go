package stream

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/internal/kafkatest"
	"github.com/msiguard/msiguard/internal/ruletest"
	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/window"
)

// BenchmarkRestore100k times the restore every generation starts with:
// reading back 100,000 published alerts (realistic seed-rule alerts, about
// 1 KB each) from a 4-partition alerts topic, the partitions in parallel,
// and keeping those of the member's matches partitions (all of them here).
// Run with -benchtime=3x: each op is one whole restore.
func BenchmarkRestore100k(b *testing.B) {
	c := kafkatest.Start(b)
	alerts := kafkatest.UniqueName(b, "alerts")
	c.CreateTopic(b, alerts, 4)
	w := &kafka.Writer{Addr: kafka.TCP(c.Addrs()...), Topic: alerts, Balancer: &kafka.Hash{},
		BatchSize: 1000, BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafka.RequireAll, Transport: c.Transport(b)}
	rule := ruletest.Seed(b)
	var msgs []kafka.Message
	bytes := 0
	for i := range 100_000 {
		a := window.Alert{RuleID: rule.Rule.ID, RuleTitle: rule.Rule.Title, Techniques: rule.Rule.TechniqueIDs,
			Time: 1741255200 + int64(i/100), Host: fmt.Sprintf("WKS-%05d.corp.example", i%1000), EventCount: 1, Revision: 1,
			FirstSeen: 1741255200e9, LastSeen: 1741255200e9, Sources: []window.Source{{Topic: "sysmon", Offset: int64(i)}}}
		for _, f := range rule.Program.Outputs() {
			a.Fields = append(a.Fields, window.Field{Name: f, Values: []string{fmt.Sprintf(`C:\Windows\System32\%s-%d.exe`, f, i%97)}})
		}
		a.AlertID = window.AlertID(a.RuleID, a.Host, a.Time)
		v := a.AppendJSON(nil)
		bytes += len(v)
		msgs = append(msgs, kafka.Message{Key: []byte(a.AlertID), Value: v})
	}
	kafkatest.Produce(b, w, msgs)
	w.Close()
	p, err := New(Config{Cluster: kafkaio.Cluster{Brokers: c.Addrs()}, Topic: "sysmon", Group: "g", AlertsTopic: alerts, DLQTopic: "dlq",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	p.matchesPartitions = 4
	parts := []kafka.PartitionAssignment{{ID: 0}, {ID: 1}, {ID: 2}, {ID: 3}}
	b.SetBytes(int64(bytes))
	b.ReportAllocs()
	for b.Loop() {
		got, _, err := p.restore(context.Background(), parts)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, as := range got {
			n += len(as)
		}
		if n != 100_000 {
			b.Fatalf("restored %d alerts, want 100000", n)
		}
	}
}
