package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/kafkatest"
	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/sink"
	"github.com/msiguard/msiguard/stream"
	"github.com/msiguard/msiguard/stream/streamtest"
)

// scrape fetches /metrics and returns the msiguard_* families.
func scrape(base string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

// value returns the value of the family's series whose labels include
// labels (name, value pairs); NaN-free: -1 when absent.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestScrapeMatchesKnownStream runs the pipeline over a known stream with
// the metrics server in front of it: /healthz answers at once, /readyz
// answers 503 until the consumer group has settled and 200 after, and the
// scraped msiguard_* series end up equal to what the stream implies
// (records, prefilter hits, matches, dead letters by reason, alerts,
// published alerts, emission delays, lag and committed offsets).
func TestScrapeMatchesKnownStream(t *testing.T) {
	c := kafkatest.Start(t)
	topic, alerts, dlq, group := kafkatest.UniqueName(t, "sysmon"), kafkatest.UniqueName(t, "alerts"),
		kafkatest.UniqueName(t, "dlq"), kafkatest.UniqueName(t, "group")
	c.CreateTopic(t, topic, 3)
	c.CreateTopic(t, alerts, 2)
	c.CreateTopic(t, dlq, 1)
	log := kafkatest.Logger(t)

	// The stream and what it implies, by the detector itself.
	recs := streamtest.New(streamtest.Options{Seed: 11, Hosts: 8}).Records(3000)
	det := detector.Seed()
	var hits, matches int
	dead := map[detector.Reason]int{}
	placed := make([]streamtest.Placed, len(recs))
	for i, r := range recs {
		placed[i] = streamtest.Placed{Value: r.Value, Topic: topic, Offset: int64(i)}
		if !det.Prefilter(r.Value) {
			continue
		}
		hits++
		_, ok, err := det.Evaluate(r.Value)
		var de *detector.Error
		switch {
		case errors.As(err, &de):
			dead[de.Reason]++
		case ok:
			matches++
		}
	}
	wantAlerts := len(streamtest.Expect(det, placed, 0))
	if len(dead) == 0 || wantAlerts < 10 {
		t.Fatalf("stream too poor for the test: dead letters %v, %d alerts", dead, wantAlerts)
	}

	cluster := kafkaio.Cluster{Brokers: c.Addrs()}
	p, err := stream.New(stream.Config{
		Cluster: cluster, Topic: topic, Group: group, AlertsTopic: alerts, DLQTopic: dlq,
		IdleTimeout: time.Second, CommitInterval: 200 * time.Millisecond,
		SessionTimeout: 6 * time.Second, HeartbeatInterval: 500 * time.Millisecond,
		FetchMaxWait: 200 * time.Millisecond, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Listen("127.0.0.1:0", p, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	base := "http://" + srv.Addr()

	if code, body := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("/healthz = %d %q before Run, want 200", code, body)
	}
	if code, body := get(t, base+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "not ready") {
		t.Fatalf("/readyz = %d %q before Run, want 503 and the reason", code, body)
	}
	if fams, err := scrape(base); err != nil || value(fams, NameReady) != 0 {
		t.Fatalf("msiguard_ready before Run = %v (%v), want 0", value(fams, NameReady), err)
	}

	runCtx, stop := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- p.Run(runCtx) }()
	defer func() {
		stop()
		<-runDone
	}()
	kafkatest.WaitFor(t, 30*time.Second, func() error {
		if code, body := get(t, base+"/readyz"); code != 200 {
			return fmt.Errorf("/readyz = %d %s", code, body)
		}
		return nil
	})

	w, err := sink.NewRawWriter(context.Background(), sink.RawWriterConfig{Cluster: &cluster, Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	raw := make([]sink.RawRecord, len(recs))
	for i, r := range recs {
		raw[i] = sink.RawRecord{Value: r.Value}
	}
	if err := w.Write(context.Background(), raw); err != nil {
		t.Fatal(err)
	}

	var fams map[string]*dto.MetricFamily
	kafkatest.WaitFor(t, 60*time.Second, func() error {
		var err error
		if fams, err = scrape(base); err != nil {
			return err
		}
		alertsTotal := value(fams, "msiguard_alerts_total")
		published := value(fams, "msiguard_alerts_published_total")
		revisions := value(fams, "msiguard_alert_revisions_total")
		switch {
		case value(fams, "msiguard_records_consumed_total") != float64(len(recs)):
			return fmt.Errorf("records consumed %v of %d", value(fams, "msiguard_records_consumed_total"), len(recs))
		case alertsTotal != float64(wantAlerts):
			return fmt.Errorf("alerts %v of %d", alertsTotal, wantAlerts)
		case published != alertsTotal+revisions:
			return fmt.Errorf("published %v, want alerts + revisions = %v", published, alertsTotal+revisions)
		case value(fams, "msiguard_open_buckets") != 0:
			return fmt.Errorf("%v buckets still open", value(fams, "msiguard_open_buckets"))
		case value(fams, "msiguard_revisable_buckets") != float64(wantAlerts):
			// Every emitted alert stays revisable for Retain (10 min).
			return fmt.Errorf("%v alerts revisable, want %d", value(fams, "msiguard_revisable_buckets"), wantAlerts)
		}
		for part := range 3 {
			if v := value(fams, NamePartitionLag, "topic", topic, "partition", strconv.Itoa(part)); v != 0 {
				return fmt.Errorf("partition %d lag %v", part, v)
			}
		}
		var committed float64
		for part := range 3 {
			committed += value(fams, NamePartitionOffset, "topic", topic, "partition", strconv.Itoa(part))
		}
		if committed != float64(len(recs)) {
			return fmt.Errorf("committed offsets add up to %v, want %d", committed, len(recs))
		}
		return nil
	})

	for _, tc := range []struct {
		name string
		want float64
	}{
		{"msiguard_prefilter_hits_total", float64(hits)},
		{"msiguard_matches_total", float64(matches)},
		{"msiguard_matches_applied_total", float64(matches)},
		{"msiguard_duplicate_matches_total", 0},
		{"msiguard_late_alerts_total", 0},
		{"msiguard_evicted_alerts_total", 0},
		{"msiguard_rebalances_total", 1},
		{NameEmissionDelay, float64(wantAlerts)},
		{NameReady, 1},
	} {
		if got := value(fams, tc.name); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, r := range detector.Reasons() {
		if got := value(fams, NameDeadLetters, "reason", string(r)); got != float64(dead[r]) {
			t.Errorf("%s{reason=%q} = %v, want %d", NameDeadLetters, r, got, dead[r])
		}
	}
	for _, name := range Names() {
		if fams[name] == nil {
			t.Errorf("scrape lacks %s", name)
		}
	}
	for name := range fams {
		if strings.HasPrefix(name, "msiguard_") && !slices.Contains(Names(), name) {
			t.Errorf("scrape has %s, which Names() does not list", name)
		}
	}

	// Shutdown: not ready any more, the server stops cleanly.
	stop()
	if err := <-runDone; err != nil {
		t.Errorf("Run = %v after cancel", err)
	}
	runDone <- nil
	if code, _ := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d after the pipeline stopped, want 503", code)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve = %v after cancel, want nil", err)
	}
}

func TestListenErrors(t *testing.T) {
	src := fakeSource{}
	if _, err := Listen("nonsense", src, nil); err == nil || !strings.Contains(err.Error(), "host:port") {
		t.Errorf("Listen(nonsense) = %v, want a host:port error", err)
	}
	s, err := Listen("127.0.0.1:0", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.ln.Close()
	if _, err := Listen(s.Addr(), src, nil); err == nil || !strings.Contains(err.Error(), "--metrics-addr") {
		t.Errorf("Listen on a taken port = %v, want an error naming --metrics-addr", err)
	}
}

type fakeSource struct{}

func (fakeSource) Stats() stream.Stats              { return stream.Stats{} }
func (fakeSource) EmissionDelays() stream.Histogram { return stream.Histogram{} }
func (fakeSource) Ready() error                     { return nil }

// TestREADMEListsEverySeries keeps the README's table of series in step
// with the code: every name Names() returns has a row.
func TestREADMEListsEverySeries(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Names() {
		if !strings.Contains(string(b), "| `"+name) {
			t.Errorf("README.md has no row for %s in its table of series", name)
		}
	}
}
