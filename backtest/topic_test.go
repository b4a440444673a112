package backtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/msiguard/msiguard/detector"
)

// fakeSource serves records from memory, in batches of batch records, with
// a random delay per batch so that partitions race each other.
type fakeSource struct {
	parts map[int][]Record
	batch int
	delay func(p int) time.Duration

	mu  sync.Mutex
	pos map[int]int
}

func (f *fakeSource) Topic() string { return "sysmon" }
func (f *fakeSource) Ranges() []Range {
	var rs []Range
	for p := range len(f.parts) {
		rs = append(rs, Range{Partition: p, Start: 0, End: int64(len(f.parts[p]))})
	}
	return rs
}
func (f *fakeSource) Next(ctx context.Context, p int) ([]Record, error) {
	if f.delay != nil {
		time.Sleep(f.delay(p))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.pos[p]
	if i >= len(f.parts[p]) {
		return nil, io.EOF
	}
	j := min(i+f.batch, len(f.parts[p]))
	f.pos[p] = j
	return f.parts[p][i:j], nil
}

// spread puts the generated lines on n partitions round-robin, record
// timestamps near the event time.
func spread(g *genSet, n int) map[int][]Record {
	parts := map[int][]Record{}
	base := time.Date(2025, 3, 6, 10, 0, 0, 0, time.UTC)
	for i, line := range g.lines {
		p := i % n
		parts[p] = append(parts[p], Record{Partition: p, Offset: int64(len(parts[p])), Time: base.Add(time.Duration(i) * 20 * time.Millisecond), Value: []byte(line)})
	}
	return parts
}

func runTopic(t *testing.T, cfg Config, src RecordSource) result {
	t.Helper()
	var out, dlq bytes.Buffer
	cfg.Detector, cfg.Alerts, cfg.DeadLetters = detector.Seed(), &out, &dlq
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := e.RunTopic(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if p := e.Progress(); p.Done != 1 && sum.Records > 0 {
		t.Errorf("progress at the end: %v", p.Done)
	}
	return result{out: out.Bytes(), dlq: dlq.Bytes(), sum: sum}
}

// TestTopicKnownAnswersAndDeterminism replays the generated set from four
// partitions whose fetches race with random delays: the output must be the
// same bytes every time and hold the known answer; dead letters name their
// partition and offset.
func TestTopicKnownAnswersAndDeterminism(t *testing.T) {
	g := generate(5, 4000)
	expected := groupOracle(t, g.want)
	parts := spread(g, 4)
	var ref result
	for run := range 4 {
		var mu sync.Mutex
		n := 0
		src := &fakeSource{parts: parts, batch: 1 + run*97, pos: map[int]int{}, delay: func(p int) time.Duration {
			mu.Lock()
			defer mu.Unlock()
			n++
			return time.Duration((n*7+p*13)%5) * 100 * time.Microsecond
		}}
		r := runTopic(t, Config{Workers: 1 + run, BatchRecords: 1 + run*300}, src)
		if run == 0 {
			ref = r
			diffExpected(t, mergeAlerts(r.alerts(t)), expected)
			checkSorted(t, r.alerts(t))
			if r.sum.Records != int64(len(g.lines)) || r.sum.Topic != "sysmon" || len(r.sum.Partitions) != 4 {
				t.Errorf("summary %+v", r.sum)
			}
			for _, dl := range r.deadLetters(t) {
				line := int(*dl.Offset)*4 + int(*dl.Partition)
				if w := g.want[line]; dl.Topic != "sysmon" || w.Result != "error" || w.Reason != dl.Reason || dl.Text != g.lines[line] {
					t.Errorf("dead letter %s/%d/%d %s is line %d: %+v", dl.Topic, *dl.Partition, *dl.Offset, dl.Reason, line+1, w)
				}
			}
			continue
		}
		if !bytes.Equal(r.out, ref.out) || !bytes.Equal(r.dlq, ref.dlq) {
			t.Errorf("run %d: output differs from run 0: %s", run, firstDiff(r.out, ref.out))
		}
	}
}

type failingSource struct{ fakeSource }

func (f *failingSource) Next(ctx context.Context, p int) ([]Record, error) {
	if p == 1 {
		return nil, errors.New("broker gone")
	}
	return f.fakeSource.Next(ctx, p)
}

// TestTopicErrors: a partition that fails stops the run with its error;
// an empty range is not an error.
func TestTopicErrors(t *testing.T) {
	g := generate(6, 100)
	src := &failingSource{fakeSource{parts: spread(g, 2), batch: 10, pos: map[int]int{}}}
	e, _ := New(Config{Detector: detector.Seed(), Alerts: io.Discard})
	if _, err := e.RunTopic(context.Background(), src); err == nil || !strings.Contains(err.Error(), "broker gone") {
		t.Errorf("err %v, want the partition's error", err)
	}
	if _, err := e.RunTopic(context.Background(), src); !errors.Is(err, ErrUsed) {
		t.Errorf("second run: %v", err)
	}
	r := runTopic(t, Config{}, &fakeSource{parts: map[int][]Record{0: nil}, pos: map[int]int{}})
	if len(r.out) != 0 || r.sum.Records != 0 {
		t.Errorf("empty range: %q %d", r.out, r.sum.Records)
	}
}
