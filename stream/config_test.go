package stream

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/msiguard/msiguard/internal/kafkatest"
	"github.com/msiguard/msiguard/internal/ruletest"
	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/stream/streamtest"
	"github.com/msiguard/msiguard/window"
)

// TestWindowConfigRetainBuckets checks that the memory cap reaches each
// matches partition's window, that unset means the window's default, and
// that a negative cap is refused with the flag's name.
func TestWindowConfigRetainBuckets(t *testing.T) {
	rule := ruletest.Seed(t)
	base := Config{Cluster: kafkaio.Cluster{Brokers: []string{"127.0.0.1:9092"}}, Topic: "sysmon", Group: "msiguard",
		AlertsTopic: "msiguard.alerts", DLQTopic: "msiguard.dlq"}

	wcfg := func(c Config) window.Config {
		d := c.withDefaults()
		return d.windowConfig(rule, 1)
	}
	c := base
	c.RetainBuckets = 5000
	if got := wcfg(c).RetainBuckets; got != 5000 {
		t.Errorf("RetainBuckets 5000: window gets %d", got)
	}
	if got := wcfg(base).RetainBuckets; got != window.DefaultRetainBuckets {
		t.Errorf("RetainBuckets unset: window gets %d, want the default %d", got, window.DefaultRetainBuckets)
	}
	if _, err := window.New(wcfg(c)); err != nil {
		t.Fatalf("window.New: %v", err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("RetainBuckets 5000: %v", err)
	}

	c.RetainBuckets = -1
	err := c.Validate()
	var fe *kafkaio.FieldError
	if !errors.Is(err, ErrConfig) || !errors.As(err, &fe) || fe.Field != "RetainBuckets" {
		t.Errorf("RetainBuckets -1: err = %v, want a FieldError for RetainBuckets", err)
	}
}

// TestRetainBucketsCapEvicts runs the pipeline with a cap of two revisable
// alerts per matches partition: every event is still published, in its
// bucket's alert or, when the bucket was forgotten before the event arrived
// from the other input partition, in a late alert for the same bucket; the
// windows never hold more than the cap, and evictions and late alerts are
// counted.
func TestRetainBucketsCapEvicts(t *testing.T) {
	e := newEnv(t, 2)
	g := streamtest.New(streamtest.Options{Seed: 3, Hosts: 8})
	e.produce(g.Records(3000))
	want := e.expected(e.placed())
	if len(want) < 10 {
		t.Fatalf("generator produced only %d expected alerts", len(want))
	}
	cfg := e.config()
	cfg.RetainBuckets = 2
	m := e.start(cfg)
	// A bucket forgotten before all its events arrived (they come from two
	// input partitions, read at their own pace) has its later events in a
	// late alert: every event must be in exactly one alert.
	var late int
	e.waitAlertsBy(want, 60*time.Second, func(pub map[string][]streamtest.Published) []string {
		var problems []string
		problems, late = streamtest.CheckMerged(pub, want)
		return problems
	})
	kafkatest.WaitFor(t, 30*time.Second, func() error {
		st := m.p.Stats()
		if st.OpenBuckets != 0 {
			return fmt.Errorf("%d buckets still open", st.OpenBuckets)
		}
		if st.RevisableBuckets > 2*e.parts {
			return fmt.Errorf("%d revisable alerts held, cap 2 per matches partition (%d)", st.RevisableBuckets, e.parts)
		}
		// All but at most 2 per partition were forgotten early.
		if st.EvictedAlerts < int64(len(want)+late-2*e.parts) {
			return fmt.Errorf("%d evicted of %d alerts", st.EvictedAlerts, len(want)+late)
		}
		if st.LateAlerts < int64(late) {
			return fmt.Errorf("%d late alerts counted, %d published", st.LateAlerts, late)
		}
		return nil
	})
	t.Logf("%d expected alerts, %d late alerts for buckets forgotten early", len(want), late)
	m.stop(t, 25*time.Second)
}

// TestRestoreLookbackCoversTwiceRetain: RestoreLookback must exceed
// 2 x Retain (so that a downtime of Retain does not republish revisable
// buckets, see Config.RestoreLookback), and its default grows with Retain
// past 1h.
func TestRestoreLookbackCoversTwiceRetain(t *testing.T) {
	base := Config{Cluster: kafkaio.Cluster{Brokers: []string{"k:9092"}}, Topic: "in", Group: "g", AlertsTopic: "alerts", DLQTopic: "dlq"}
	for _, tc := range []struct {
		retain, lookback, want time.Duration // want 0: a RestoreLookback error
	}{
		{0, 0, time.Hour},                                      // defaults: Retain 10m
		{20 * time.Minute, 0, time.Hour},                       // 2 x 20m + 1m < 1h
		{40 * time.Minute, 0, 81 * time.Minute},                // 2 x 40m + 1m
		{40 * time.Minute, 81 * time.Minute, 81 * time.Minute}, // explicit, enough
		{40 * time.Minute, 80 * time.Minute, 0},                // exactly twice: too short
		{40 * time.Minute, 70 * time.Minute, 0},                // more than Retain, less than twice
	} {
		c := base
		c.Retain, c.RestoreLookback = tc.retain, tc.lookback
		err := c.Validate()
		var fe *kafkaio.FieldError
		switch {
		case tc.want == 0 && (!errors.As(err, &fe) || fe.Field != "RestoreLookback"):
			t.Errorf("Retain %v, RestoreLookback %v: err = %v, want a RestoreLookback FieldError", tc.retain, tc.lookback, err)
		case tc.want != 0 && err != nil:
			t.Errorf("Retain %v, RestoreLookback %v: %v", tc.retain, tc.lookback, err)
		case tc.want != 0 && c.withDefaults().RestoreLookback != tc.want:
			t.Errorf("Retain %v, RestoreLookback %v: effective %v, want %v", tc.retain, tc.lookback, c.withDefaults().RestoreLookback, tc.want)
		}
	}
}

// TestLogValueRoutes: the effective configuration names the routes, after
// alerts_topic, only when there are some.
func TestLogValueRoutes(t *testing.T) {
	base := Config{Cluster: kafkaio.Cluster{Brokers: []string{"k:9092"}}, Topic: "in", Group: "g", AlertsTopic: "alerts", DLQTopic: "dlq"}
	line := func(c Config) string {
		var b strings.Builder
		slog.New(slog.NewJSONHandler(&b, nil)).Info("started", "config", c)
		return b.String()
	}
	if got := line(base); strings.Contains(got, "rule_alerts_topics") {
		t.Errorf("no routes, yet: %s", got)
	}
	base.RuleAlertsTopics = map[string]string{"b.2": "alerts.b", "a.1": "alerts.a"}
	if got := line(base); !strings.Contains(got, `"alerts_topic":"alerts","rule_alerts_topics":"a.1=alerts.a,b.2=alerts.b",`) {
		t.Errorf("routes not logged after alerts_topic: %s", got)
	}
}
