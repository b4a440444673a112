package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/internal/sysmongen"
	"github.com/msiguard/msiguard/rules"
	"github.com/msiguard/msiguard/window"
)

// What the demo tests need to check the alerts a demo published against
// the attacks it generated, without trusting the demo's own count: a
// recording of the demo's input topic (everything its broker
// acknowledged), the generator's stream rebuilt from it, and the
// (host, second) buckets of the attack records in it.

var brokerAddr = regexp.MustCompile(`Kafka broker \(in-process kfake, development only\) on ([0-9.]+:[0-9]+):`)

// topicRecording reads every partition of a topic as records arrive, from
// offset 0, until its context ends or the broker goes away.
type topicRecording struct {
	wg sync.WaitGroup
	mu sync.Mutex
	// guarded by mu: the record values read, per partition in offset
	// order, and when the first was read.
	recs  [][]byte
	first time.Time
}

func recordTopic(ctx context.Context, addr, topic string, partitions int) *topicRecording {
	r := &topicRecording{}
	for part := range partitions {
		r.wg.Go(func() { r.readPartition(ctx, addr, topic, part) })
	}
	return r
}

func (r *topicRecording) readPartition(ctx context.Context, addr, topic string, part int) {
	var next int64
	for ctx.Err() == nil {
		conn, err := kafka.DialLeader(ctx, "tcp", addr, topic, part)
		if err != nil {
			// The broker is gone (the demo returned) or not ready yet.
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		for ctx.Err() == nil {
			if _, err := conn.Seek(next, kafka.SeekAbsolute); err != nil {
				break
			}
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			batch := conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 100 * time.Millisecond})
			for {
				m, err := batch.ReadMessage()
				if err != nil {
					break
				}
				r.mu.Lock()
				if len(r.recs) == 0 {
					r.first = time.Now()
				}
				r.recs = append(r.recs, m.Value)
				r.mu.Unlock()
				next = m.Offset + 1
			}
			if err := batch.Close(); err != nil {
				break // dial again
			}
		}
		stop()
		conn.Close()
	}
}

// values waits for the readers to stop (cancel their context first) and
// returns the records read and when the first was.
func (r *topicRecording) values() ([][]byte, time.Time) {
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.recs), r.first
}

// demoBucket is a (host, second) of attack records: one alert.
type demoBucket struct {
	host string
	sec  int64
}

func (b demoBucket) String() string {
	if b.sec == 0 {
		return b.host // an alert line that names no expected bucket
	}
	return fmt.Sprintf("%s@%s", b.host, time.Unix(b.sec, 0).UTC().Format("15:04:05Z"))
}

// alertID is the bucket's alert_id (README, "alert_id").
func (b demoBucket) alertID() string { return window.AlertID(rules.Default().ID, b.host, b.sec) }

var sysmonUtcTime = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}`)

// demoExpectedBuckets rebuilds, from the records the demo's input topic
// holds, the streams the demo generated with these settings, and returns
// the (host, second) buckets of their attacks, as internal/sysmongen's
// Meta labels each record. The demo starts its generator's event time at
// the clock, truncated to the millisecond: the earliest Sysmon UtcTime in
// the topic (the first record of its main stream, at Start exactly) is
// tried first, then every millisecond between notBefore and notAfter.
// Every record of the topic must be one of the first 100 records of the
// primer (the same settings, attacks at 0.85, no decoys or foreign
// records: the burst the demo sends first) or one of the first N records
// of the main stream, all N of which must be there: else it fails.
func demoExpectedBuckets(t *testing.T, recs [][]byte, seed uint64, hosts int, rate, attackRate float64, notBefore, notAfter time.Time) map[demoBucket]bool {
	t.Helper()
	if len(recs) == 0 {
		t.Fatal("the demo's input topic is empty")
	}
	in := map[string]int{}
	var earliest string
	for _, r := range recs {
		in[string(r)]++
		for _, ts := range sysmonUtcTime.FindAll(r, -1) {
			if earliest == "" || string(ts) < earliest {
				earliest = string(ts)
			}
		}
	}
	base := sysmongen.Config{Seed: seed, Hosts: hosts, EventsPerSecond: int(rate), AttackRate: attackRate}
	var candidates []time.Time
	if ts, err := time.Parse("2006-01-02 15:04:05.000", earliest); err == nil {
		candidates = append(candidates, ts)
	}
	for c := notBefore.Truncate(time.Millisecond); !c.After(notAfter); c = c.Add(time.Millisecond) {
		candidates = append(candidates, c)
	}
	var start time.Time
	for _, c := range candidates {
		cfg := base
		cfg.Start = c
		g, err := sysmongen.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if in[string(g.Next(nil))] > 0 {
			start = c
			break
		}
	}
	if start.IsZero() {
		t.Fatalf("no generator start between %v and %v (nor the earliest UtcTime %q) gives the topic's records", notBefore, notAfter, earliest)
	}

	want := map[demoBucket]bool{}
	take := func(rec []byte, m sysmongen.Meta) bool {
		if in[string(rec)] == 0 {
			return false
		}
		in[string(rec)]--
		if m.Kind == sysmongen.KindAttack {
			want[demoBucket{m.Host, m.Time.Unix()}] = true
		}
		return true
	}
	pc := base
	pc.Start = start
	pc.AttackRate, pc.DecoyRate, pc.ForeignRate = 0.85, sysmongen.Disabled, sysmongen.Disabled
	primer, err := sysmongen.New(pc)
	if err != nil {
		t.Fatal(err)
	}
	primed := 0
	for range 100 {
		if rec := primer.Next(nil); take(rec, primer.Meta()) {
			primed++
		}
	}
	main := base
	main.Start = start
	g, err := sysmongen.New(main)
	if err != nil {
		t.Fatal(err)
	}
	n := len(recs) - primed
	for i := range n {
		if rec := g.Next(nil); !take(rec, g.Meta()) {
			t.Fatalf("record %d of the generator's stream (start %v) is not in the demo's input topic (%d records, %d of the primer)", i, start, len(recs), primed)
		}
	}
	t.Logf("input topic: %d records, %d from the primer and %d from the main stream (event time from %v), %d attack buckets",
		len(recs), primed, n, start.Format(time.RFC3339Nano), len(want))
	return want
}

// compareBuckets returns what differs between the buckets alerted and the
// buckets expected: each missing and each spurious one.
func compareBuckets(got, want map[demoBucket]bool) []string {
	var problems []string
	for b := range want {
		if !got[b] {
			problems = append(problems, "missing alert for "+b.String())
		}
	}
	for b := range got {
		if !want[b] {
			problems = append(problems, "spurious alert for "+b.String())
		}
	}
	slices.Sort(problems)
	return problems
}

var generatedRecords = regexp.MustCompile(`msiguard demo: generated (\d+) records`)

// checkDemoAlerts compares the buckets alerted with those the generator's
// records call for, and the records recorded with the summary's count.
func checkDemoAlerts(t *testing.T, got, want map[demoBucket]bool, recorded int, stderr string) {
	t.Helper()
	m := generatedRecords.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no summary with the generated count:\n%s", stderr)
	}
	if m[1] != fmt.Sprint(recorded) {
		t.Errorf("the summary says %s records were generated, the input topic held %d", m[1], recorded)
	}
	if problems := compareBuckets(got, want); len(problems) > 0 {
		t.Errorf("%d alerted buckets, %d attack buckets generated:\n%s", len(got), len(want), strings.Join(problems, "\n"))
	}
}
