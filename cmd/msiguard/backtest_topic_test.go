package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/backtest"
	"github.com/msiguard/msiguard/internal/kafkatest"
	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/window"
)

// TestBacktestCommandTopic replays a topic through the command: the whole
// topic gives the same alert content as the same records read from a file,
// --from/--to select the records by timestamp, and the run ends by itself
// with a nil error (exit 0).
func TestBacktestCommandTopic(t *testing.T) {
	data, err := os.ReadFile(goldenInput)
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	c := kafkatest.Start(t)
	topic := kafkatest.UniqueName(t, "sysmon")
	c.CreateTopic(t, topic, 2)
	// Recent timestamps: a real broker deletes records older than its
	// retention at any moment.
	base := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	w := &kafka.Writer{
		Addr: kafka.TCP(c.Addrs()...), Topic: topic, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond,
		Balancer:  kafka.BalancerFunc(func(m kafka.Message, _ ...int) int { return m.Partition }),
		Transport: c.Transport(t),
	}
	var msgs []kafka.Message
	for i, l := range lines {
		msgs = append(msgs, kafka.Message{Partition: i % 2, Time: base.Add(time.Duration(i) * time.Second), Value: l})
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	w.Close()

	dir := t.TempDir()
	run := func(args ...string) (backtest.Summary, []*window.Alert) {
		t.Helper()
		out, sumFile := filepath.Join(dir, "alerts.jsonl"), filepath.Join(dir, "summary.json")
		args = append(args, "--out", out, "--summary-json", sumFile, "--quiet")
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := runBacktest(ctx, args, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
			t.Fatalf("backtest %q: %v", args, err)
		}
		var sum backtest.Summary
		if err := json.Unmarshal(mustRead(t, sumFile), &sum); err != nil {
			t.Fatal(err)
		}
		var as []*window.Alert
		for _, l := range bytes.Split(bytes.TrimSpace(mustRead(t, out)), []byte("\n")) {
			if len(l) == 0 {
				continue
			}
			a := new(window.Alert)
			if err := a.UnmarshalJSON(l); err != nil {
				t.Fatal(err)
			}
			as = append(as, a)
		}
		return sum, as
	}
	// content is an alert without the parts that name where its records
	// were read (sources; late alerts' ids, which hash the first source).
	content := func(as []*window.Alert) []string {
		var out []string
		for _, a := range as {
			b := a.Clone()
			b.Sources, b.AlertID = nil, ""
			out = append(out, string(b.AppendJSON(nil)))
		}
		slices.Sort(out)
		return out
	}

	brokers := strings.Join(c.Addrs(), ",")
	sum, topicAlerts := run("--brokers", brokers, "--topic", topic)
	if sum.Records != int64(len(lines)) || sum.Topic != topic || len(sum.Partitions) != 2 {
		t.Errorf("whole topic: %d records (want %d), topic %q, %d partitions", sum.Records, len(lines), sum.Topic, len(sum.Partitions))
	}
	_, fileAlerts := run("--input", goldenInput)
	if got, want := content(topicAlerts), content(fileAlerts); !slices.Equal(got, want) {
		t.Errorf("topic and file replays differ:\n%s\nvs\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// --alerts-topic without --out: the same lines, keyed by alert_id, in
	// the topic only.
	alertsTopic := kafkatest.UniqueName(t, "alerts")
	c.CreateTopic(t, alertsTopic, 3)
	var stdout bytes.Buffer
	if err := runBacktest(context.Background(), []string{"--brokers", brokers, "--topic", topic, "--alerts-topic", alertsTopic, "--quiet"},
		strings.NewReader(""), &stdout, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if stdout.Len() != 0 {
		t.Errorf("--alerts-topic without --out wrote %d bytes to stdout", stdout.Len())
	}
	rr, err := kafkaio.NewRangeReader(context.Background(), kafkaio.RangeConfig{Cluster: kafkaio.Cluster{Brokers: c.Addrs()}, Topic: alertsTopic})
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	var published []*window.Alert
	for _, rg := range rr.Ranges() {
		for {
			recs, err := rr.Next(context.Background(), rg.Partition)
			if err != nil {
				break
			}
			for _, r := range recs {
				a := new(window.Alert)
				if err := a.UnmarshalJSON(r.Value); err != nil || string(r.Key) != a.AlertID {
					t.Errorf("published record key %q: %v", r.Key, err)
				}
				published = append(published, a)
			}
		}
	}
	if got, want := content(published), content(topicAlerts); !slices.Equal(got, want) {
		t.Errorf("published %d alerts, --out had %d; contents differ", len(got), len(want))
	}

	sum, _ = run("--brokers", brokers, "--topic", topic,
		"--from", base.Add(10*time.Second).Format(time.RFC3339), "--to", base.Add(20*time.Second).Format(time.RFC3339))
	if sum.Records != 10 {
		t.Errorf("--from +10s --to +20s: %d records, want 10 (%+v)", sum.Records, sum.Partitions)
	}
}
