package window

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	ok := testConfig()
	tests := []struct {
		name   string
		mutate func(*Config)
		bad    bool
	}{
		{"valid", func(*Config) {}, false},
		{"zero options select defaults", func(c *Config) { c.Grace, c.IdleTimeout, c.Retain, c.RetainBuckets, c.MaxSources = 0, 0, 0, 0, 0 }, false},
		{"no rule id", func(c *Config) { c.RuleID = "" }, true},
		{"no fields", func(c *Config) { c.Fields = nil }, true},
		{"empty field name", func(c *Config) { c.Fields = []string{"a", ""} }, true},
		{"duplicate field", func(c *Config) { c.Fields = []string{"a", "b", "a"} }, true},
		{"negative grace", func(c *Config) { c.Grace = -time.Second }, true},
		{"negative idle", func(c *Config) { c.IdleTimeout = -1 }, true},
		{"negative retain", func(c *Config) { c.Retain = -1 }, true},
		{"negative retain buckets", func(c *Config) { c.RetainBuckets = -1 }, true},
		{"unlimited retain buckets", func(c *Config) { c.RetainBuckets = math.MaxInt }, false},
		{"negative retain hosts", func(c *Config) { c.RetainHosts = -1 }, true},
		{"negative max sources", func(c *Config) { c.MaxSources = -1 }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			c.Fields = slices.Clone(ok.Fields)
			tt.mutate(&c)
			err := c.Validate()
			if got := err != nil; got != tt.bad {
				t.Fatalf("Validate() = %v, want error: %v", err, tt.bad)
			}
			if err != nil && !errors.Is(err, ErrConfig) {
				t.Errorf("error %v does not wrap ErrConfig", err)
			}
			if _, nerr := New(c); (nerr != nil) != tt.bad {
				t.Errorf("New error = %v, want error: %v", nerr, tt.bad)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	w := mustNew(t, testConfig())
	c := w.cfg
	if c.Grace != 2*time.Second || c.IdleTimeout != 5*time.Second || c.Retain != 10*time.Minute ||
		c.RetainBuckets != 100_000 || c.MaxSources != 100 || c.RetainHosts != 1<<20 {
		t.Errorf("defaults = %+v", c)
	}
}

// One event; the caller's clock alone emits it, exactly at IdleTimeout.
func TestIdleEmission(t *testing.T) {
	w := mustNew(t, testConfig())
	var r recorder
	w.Add(ev("WKS-001", ts(0, 120), 7, "msiexec /i x.msi", "cmd.exe", ""), clk(0), r.emit)
	w.Advance(clk(4999*time.Millisecond), r.emit)
	if len(r.alerts) != 0 {
		t.Fatalf("emitted %d alerts before IdleTimeout", len(r.alerts))
	}
	w.Advance(clk(5*time.Second), r.emit)
	if len(r.alerts) != 1 {
		t.Fatalf("got %d alerts at IdleTimeout, want 1", len(r.alerts))
	}
	a := r.alerts[0]
	want := map[string][]string{"parent_process_name": {"cmd.exe"}, "process": {"msiexec /i x.msi"}}
	if got := fieldMap(a); !equalFields(got, want) {
		t.Errorf("fields = %v, want %v (user absent: null in every event)", got, want)
	}
	if a.Time != base || a.EventCount != 1 || a.Revision != 1 || a.Late || a.Host != "WKS-001" {
		t.Errorf("alert = %+v", a)
	}
	if a.AlertID != AlertID("24143.44553", "WKS-001", base) {
		t.Errorf("alert_id = %s", a.AlertID)
	}
	if s := w.Stats(); s.Open != 0 || s.Revisable != 1 || s.Alerts != 1 {
		t.Errorf("stats = %+v", s)
	}
}

func equalFields(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// A host's own later events emit its bucket once they pass its end by Grace,
// and only buckets they have passed.
func TestHostWatermark(t *testing.T) {
	w := mustNew(t, testConfig())
	var r recorder
	now := clk(0)
	w.Add(ev("A", ts(0, 500), 1, "p1", "cmd.exe", "u"), now, r.emit)
	w.Add(ev("A", ts(2, 999), 2, "p2", "cmd.exe", "u"), now, r.emit) // 2.999 < 1 + 2
	if len(r.alerts) != 0 {
		t.Fatalf("bucket emitted before the host passed it by Grace")
	}
	w.Add(ev("A", ts(3, 0), 3, "p3", "cmd.exe", "u"), now, r.emit) // 3.0 = end 1 + grace 2
	got := r.take()
	if len(got) != 1 || got[0].Time != base {
		t.Fatalf("got %v, want the bucket at second 0 only", got)
	}
	if s := w.Stats(); s.Open != 2 {
		t.Errorf("open = %d, want 2 (seconds 2 and 3)", s.Open)
	}
}

// A host whose clock runs hours ahead neither emits other hosts' buckets
// early nor is held back by them; in backtest mode it cannot move the clock.
func TestSkewedHost(t *testing.T) {
	for _, backtest := range []bool{false, true} {
		name := map[bool]string{false: "live", true: "backtest"}[backtest]
		t.Run(name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Backtest = backtest
			w := mustNew(t, cfg)
			var r recorder
			now := clk(0)
			// Normal hosts A, B, C emit one event each in second 0; the
			// skewed host X, three hours ahead, keeps producing matches.
			for i, h := range []string{"A", "B", "C"} {
				w.Add(ev(h, ts(0, int64(100*i)), int64(i), "p", "cmd.exe", "u"), now, r.emit)
			}
			for i := range 20 {
				w.Add(ev("X", ts(3*3600+int64(i), 0), int64(10+i), "p", "cmd.exe", "u"), now, r.emit)
			}
			for _, a := range r.alerts {
				if a.Host != "X" {
					t.Fatalf("host %s emitted because of host X's clock", a.Host)
				}
			}
			// Second events for A in the same second still join the
			// first: no revision.
			w.Add(ev("A", ts(0, 900), 40, "p-other", "cmd.exe", "u"), now, r.emit)
			w.Flush(r.emit)
			for _, a := range r.alerts {
				if a.Host == "A" && (a.Revision != 1 || a.EventCount != 2) {
					t.Errorf("host A alert revision %d count %d, want 1 and 2", a.Revision, a.EventCount)
				}
			}
			if s := w.Stats(); s.Revisions != 0 {
				t.Errorf("revisions = %d, want 0", s.Revisions)
			}
		})
	}
}

// In backtest mode the clock is the third-highest host watermark: two
// skewed hosts cannot move it, three normal hosts do, and idle buckets are
// emitted when it passes IdleTimeout.
func TestBacktestClock(t *testing.T) {
	cfg := testConfig()
	cfg.Backtest = true
	w := mustNew(t, cfg)
	var r recorder
	add := func(h string, sec int64) { w.Add(ev(h, ts(sec, 0), 0, "p", "", ""), time.Time{}, r.emit) }
	add("rare", 0)
	add("X", 10_000)
	add("Y", 20_000)
	add("A", 1)
	add("B", 4) // clock = third highest = 4
	if len(r.alerts) != 0 {
		t.Fatalf("emitted %v with the clock at 4s", r.alerts[0].Host)
	}
	add("C", 5) // third highest = 5: buckets touched at clock 0 are idle for 5s
	var hosts []string
	for _, a := range r.alerts {
		hosts = append(hosts, a.Host)
	}
	if !slices.Equal(hosts, []string{"rare", "X", "Y"}) {
		t.Fatalf("emitted %v, want rare, X, Y (touched at clock 0), not A (touched at 1s)", hosts)
	}
}

// Backtest output depends only on the input: two runs give the same bytes,
// and Flush at the end emits everything.
func TestBacktestDeterministic(t *testing.T) {
	events := randomEvents(42, 300, 6, 30)
	run := func() ([][]byte, Stats) {
		cfg := testConfig()
		cfg.Backtest = true
		w := mustNew(t, cfg)
		var r recorder
		for i, e := range events {
			// now is ignored in backtest mode: pass garbage.
			w.Add(e, clk(time.Duration(i%7)*time.Hour), r.emit)
			if i%50 == 0 {
				w.Advance(clk(100*time.Hour), r.emit)
			}
		}
		w.Flush(r.emit)
		return r.json, w.Stats()
	}
	a, sa := run()
	b, _ := run()
	if !slices.EqualFunc(a, b, func(x, y []byte) bool { return string(x) == string(y) }) {
		t.Fatalf("two backtest runs differ")
	}
	if sa.Open != 0 {
		t.Errorf("open after Flush = %d", sa.Open)
	}
	if len(a) == 0 {
		t.Fatal("no alerts")
	}
}

// A late event for an emitted bucket gives revision 2 with the same
// alert_id and the complete union.
func TestRevisionAfterLateEvent(t *testing.T) {
	w := mustNew(t, testConfig())
	var r recorder
	w.Add(ev("A", ts(0, 100), 1, "p1", "cmd.exe", "u1"), clk(0), r.emit)
	w.Add(ev("A", ts(0, 200), 2, "p2", "cmd.exe", ""), clk(time.Second), r.emit)
	w.Advance(clk(10*time.Second), r.emit)
	w.Add(ev("A", ts(0, 50), 3, "p0", "powershell.exe", "u2"), clk(60*time.Second), r.emit)
	w.Add(ev("A", ts(0, 60), 4, "p1", "cmd.exe", "u1"), clk(61*time.Second), r.emit)
	w.Advance(clk(80*time.Second), r.emit)
	got := r.take()
	if len(got) != 2 {
		t.Fatalf("got %d alerts, want 2 (one revision for both late events)", len(got))
	}
	first, second := got[0], got[1]
	if second.AlertID != first.AlertID || second.Revision != 2 || second.Late {
		t.Fatalf("revision = %+v", second)
	}
	want := map[string][]string{
		"parent_process_name": {"cmd.exe", "powershell.exe"},
		"process":             {"p0", "p1", "p2"},
		"user":                {"u1", "u2"},
	}
	if !equalFields(fieldMap(second), want) || second.EventCount != 4 || second.FirstSeen != ts(0, 50) || second.LastSeen != ts(0, 200) {
		t.Errorf("revision 2 = %v count %d first %d last %d", fieldMap(second), second.EventCount, second.FirstSeen, second.LastSeen)
	}
	if !covers(second, first) {
		t.Errorf("revision 2 lost values of revision 1")
	}
	if s := w.Stats(); s.Revisions != 1 || s.Reopened != 1 || s.LateEvents != 0 {
		t.Errorf("stats = %+v", s)
	}
}

// Past Retain a bucket is forgotten; an event for it then yields a late
// alert with its own id, and it is counted.
func TestLateBeyondRetention(t *testing.T) {
	cfg := testConfig()
	cfg.Retain = time.Minute
	w := mustNew(t, cfg)
	var r recorder
	w.Add(ev("A", ts(0, 100), 1, "p1", "cmd.exe", "u1"), clk(0), r.emit)
	w.Advance(clk(5*time.Second), r.emit)
	w.Advance(clk(64*time.Second), r.emit)
	if s := w.Stats(); s.Revisable != 1 {
		t.Fatalf("forgotten before Retain: %+v", s)
	}
	w.Advance(clk(65*time.Second), r.emit)
	if s := w.Stats(); s.Revisable != 0 || s.Expired != 1 {
		t.Fatalf("not forgotten after Retain: %+v", s)
	}
	w.Add(ev("A", ts(0, 700), 9, "p9", "cmd.exe", "u1"), clk(70*time.Second), r.emit)
	w.Add(ev("A", ts(0, 800), 10, "p10", "cmd.exe", "u1"), clk(71*time.Second), r.emit)
	w.Flush(r.emit)
	got := r.take()
	if len(got) != 2 {
		t.Fatalf("got %d alerts, want the on-time one and one late one", len(got))
	}
	late := got[1]
	if !late.Late || late.Revision != 1 || late.EventCount != 2 || late.AlertID == got[0].AlertID {
		t.Fatalf("late alert = %+v", late)
	}
	if want := LateAlertID(cfg.RuleID, "A", base, ts(0, 700), Source{Topic: "sysmon", Offset: 9}); late.AlertID != want {
		t.Errorf("late alert_id = %s, want %s", late.AlertID, want)
	}
	if got := fieldMap(late)["process"]; !slices.Equal(got, []string{"p10", "p9"}) {
		t.Errorf("late process = %v", got)
	}
	if s := w.Stats(); s.LateEvents != 2 || s.LateAlerts != 1 {
		t.Errorf("stats = %+v", s)
	}
	// A later second of the same host is not late.
	w.Add(ev("A", ts(1, 0), 11, "p11", "", ""), clk(72*time.Second), r.emit)
	w.Flush(r.emit)
	if got := r.take(); len(got) != 1 || got[0].Late {
		t.Errorf("new second after a forgotten one: %+v", got)
	}
}

// RetainBuckets bounds revisable buckets; an evicted bucket's events are
// late, never a fresh revision 1 replacing the complete alert.
func TestEvictionByCapacity(t *testing.T) {
	cfg := testConfig()
	cfg.RetainBuckets = 2
	w := mustNew(t, cfg)
	var r recorder
	for sec := range int64(3) {
		w.Add(ev("A", ts(sec*10, 0), sec, "p", "", ""), clk(0), r.emit)
	}
	w.Flush(r.emit)
	if s := w.Stats(); s.Revisable != 2 || s.Evicted != 1 {
		t.Fatalf("stats = %+v", s)
	}
	w.Add(ev("A", ts(0, 1), 5, "q", "", ""), clk(time.Second), r.emit)
	w.Flush(r.emit)
	got := r.take()
	last := got[len(got)-1]
	if !last.Late || last.Time != base {
		t.Errorf("event for an evicted bucket gave %+v, want a late alert", last)
	}
}

// Flush emits every open bucket, least recently touched first, and nothing
// the second time; flushed buckets stay revisable.
func TestFlush(t *testing.T) {
	w := mustNew(t, testConfig())
	var r recorder
	w.Add(ev("B", ts(5, 0), 1, "p", "", ""), clk(0), r.emit)
	w.Add(ev("A", ts(0, 0), 2, "p", "", ""), clk(0), r.emit)
	w.Add(ev("C", ts(1, 0), 3, "p", "", ""), clk(0), r.emit)
	w.Add(ev("B", ts(5, 1), 4, "q", "", ""), clk(0), r.emit)
	w.Flush(r.emit)
	var hosts []string
	for _, a := range r.take() {
		hosts = append(hosts, a.Host)
	}
	if !slices.Equal(hosts, []string{"A", "C", "B"}) {
		t.Errorf("flush order = %v, want least recently touched first", hosts)
	}
	w.Flush(r.emit)
	if len(r.alerts) != 0 {
		t.Errorf("second Flush emitted %d alerts", len(r.alerts))
	}
	if s := w.Stats(); s.Open != 0 || s.Revisable != 3 {
		t.Errorf("stats = %+v", s)
	}
	if got := w.SafePositions(); got[Partition{Topic: "sysmon"}] != 1 {
		t.Errorf("safe positions after flush = %v, want flushed buckets still held", got)
	}
}

func TestSafePositions(t *testing.T) {
	cfg := testConfig()
	cfg.Retain = time.Minute
	w := mustNew(t, cfg)
	var r recorder
	add := func(host string, sec int64, src Source, now time.Duration) {
		w.Add(Event{Host: host, Time: ts(sec, 0), Values: []string{"p", "", ""}, Source: src}, clk(now), r.emit)
	}
	p0 := func(off int64) Source { return Source{Topic: "sysmon", Partition: 0, Offset: off} }
	p1 := func(off int64) Source { return Source{Topic: "sysmon", Partition: 1, Offset: off} }
	file := Source{File: "day1.json", Line: 42}
	add("A", 0, p0(10), 0)
	add("B", 0, p1(5), 0)
	add("A", 0, p1(6), 0)
	add("C", 0, file, 0)
	add("A", 30, p0(11), 30*time.Second) // A/0 and B/0 and C/0 idle → revisable
	want := map[Partition]int64{{"sysmon", 0}: 10, {"sysmon", 1}: 5, {"day1.json", 0}: 42}
	if got := w.SafePositions(); !equalPos(got, want) {
		t.Fatalf("SafePositions = %v, want %v", got, want)
	}
	w.Advance(clk(95*time.Second), r.emit) // A/0, B/0, C/0 forgotten; A/30 revisable
	want = map[Partition]int64{{"sysmon", 0}: 11}
	if got := w.SafePositions(); !equalPos(got, want) {
		t.Fatalf("SafePositions = %v, want %v", got, want)
	}
	w.Advance(clk(200*time.Second), r.emit)
	if got := w.SafePositions(); len(got) != 0 {
		t.Fatalf("SafePositions = %v, want none", got)
	}
}

func equalPos(a, b map[Partition]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Replaying exactly the published events into a fresh window that restored
// the alerts emits nothing; a partial replay emits nothing; a new event
// gives revision+1 with the union.
func TestRestore(t *testing.T) {
	events := []Event{
		ev("A", ts(0, 100), 1, "p1", "cmd.exe", "u1"),
		ev("A", ts(0, 200), 2, "p2", "cmd.exe", "u1"),
		ev("A", ts(0, 300), 3, "p3", "wininit.exe", ""),
	}
	w := mustNew(t, testConfig())
	var r recorder
	for _, e := range events {
		w.Add(e, clk(0), r.emit)
	}
	w.Flush(r.emit)
	published := r.take()[0]
	// Through JSON, as a restarted service reads it back.
	var back Alert
	if err := back.UnmarshalJSON(published.AppendJSON(nil)); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		replay []Event
		want   int // alerts emitted
	}{
		{"full replay", events, 0},
		{"partial replay", events[2:], 0},
		{"replay plus a new event", append(slices.Clone(events), ev("A", ts(0, 400), 4, "p4", "cmd.exe", "u2")), 1},
		{"new event only", []Event{ev("A", ts(0, 400), 4, "p1", "cmd.exe", "u1")}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w2 := mustNew(t, testConfig())
			if err := w2.Restore(&back); err != nil {
				t.Fatal(err)
			}
			var r2 recorder
			for _, e := range tt.replay {
				w2.Add(e, clk(time.Hour), r2.emit)
			}
			w2.Advance(clk(2*time.Hour), r2.emit)
			w2.Flush(r2.emit)
			if len(r2.alerts) != tt.want {
				t.Fatalf("emitted %d alerts, want %d", len(r2.alerts), tt.want)
			}
			if tt.want == 1 {
				a := r2.alerts[0]
				if a.AlertID != published.AlertID || a.Revision != published.Revision+1 || !covers(a, published) {
					t.Errorf("got %+v", a)
				}
				if a.EventCount != published.EventCount+1 {
					t.Errorf("event_count = %d, want %d", a.EventCount, published.EventCount+1)
				}
			}
		})
	}
}

func TestRestoreErrors(t *testing.T) {
	w := mustNew(t, testConfig())
	if err := w.Restore(&Alert{RuleID: "other", Host: "A", Revision: 1, EventCount: 1}); !errors.Is(err, ErrForeignAlert) {
		t.Errorf("foreign rule: %v", err)
	}
	if err := w.Restore(&Alert{RuleID: "24143.44553", Revision: 1, EventCount: 1}); !errors.Is(err, ErrBadAlert) {
		t.Errorf("no host: %v", err)
	}
	if err := w.Restore(&Alert{RuleID: "24143.44553", Host: "A", Revision: math.MaxInt32 + 1, EventCount: 1}); !errors.Is(err, ErrBadAlert) {
		t.Errorf("revision beyond int32: %v", err)
	}
	if s := w.Stats(); s.Restored != 0 {
		t.Errorf("restored %d malformed alerts", s.Restored)
	}
}

// Restoring a late alert restores its host's horizon: replayed late events
// go to the same late alert and emit nothing.
func TestRestoreLate(t *testing.T) {
	cfg := testConfig()
	cfg.Retain = time.Minute
	w := mustNew(t, cfg)
	var r recorder
	e0 := ev("A", ts(0, 0), 1, "p", "", "")
	e1 := ev("A", ts(0, 1), 2, "q", "", "")
	w.Add(e0, clk(0), r.emit)
	w.Advance(clk(10*time.Second), r.emit) // emitted
	w.Advance(clk(80*time.Second), r.emit) // forgotten
	w.Add(e1, clk(90*time.Second), r.emit)
	w.Flush(r.emit)
	got := r.take()
	if len(got) != 2 || !got[1].Late {
		t.Fatalf("setup: %v", got)
	}
	// Restart: the on-time alert is old enough not to be restored.
	w2 := mustNew(t, cfg)
	if err := w2.Restore(got[1]); err != nil {
		t.Fatal(err)
	}
	var r2 recorder
	w2.Add(e1, clk(4*time.Minute), r2.emit)
	w2.Flush(r2.emit)
	if len(r2.alerts) != 0 {
		t.Fatalf("replaying a restored late alert emitted %+v", r2.alerts[0])
	}
}

func TestDroppedAndMalformed(t *testing.T) {
	w := mustNew(t, testConfig())
	var r recorder
	w.Add(Event{Time: ts(0, 0), Values: []string{"p", "", ""}}, clk(0), r.emit)
	w.Add(Event{Host: "A", Time: ts(0, 0), Values: []string{"p"}}, clk(0), r.emit)
	w.Add(Event{Host: "A", Time: ts(0, 0), Values: []string{"p", "q", "u", "extra"}}, clk(0), r.emit)
	w.Flush(r.emit)
	s := w.Stats()
	if s.NoHost != 1 || s.Malformed != 2 || s.Events != 3 {
		t.Errorf("stats = %+v", s)
	}
	if len(r.alerts) != 1 || r.alerts[0].EventCount != 2 || len(r.alerts[0].Fields) != 3 {
		t.Errorf("alerts = %+v", r.alerts)
	}
}

// A bucket with more distinct values than smallSet keeps them distinct and
// sorted, and caps sources at MaxSources.
func TestLargeBucket(t *testing.T) {
	cfg := testConfig()
	cfg.MaxSources = 5
	w := mustNew(t, cfg)
	var r recorder
	var want []string
	for i := range 100 {
		v := string(rune('a'+(i*7)%26)) + string(rune('a'+i%26)) // 2-letter, with repeats
		if !slices.Contains(want, v) {
			want = append(want, v)
		}
		w.Add(ev("A", ts(0, int64(i)), int64(i), v, "cmd.exe", ""), clk(0), r.emit)
	}
	w.Flush(r.emit)
	slices.Sort(want)
	a := r.alerts[0]
	if got := a.Values("process"); !slices.Equal(got, want) {
		t.Errorf("process = %v, want %v", got, want)
	}
	if len(a.Sources) != 5 || a.SourcesOmitted != 95 || a.EventCount != 100 {
		t.Errorf("sources %d omitted %d count %d", len(a.Sources), a.SourcesOmitted, a.EventCount)
	}
}

// Negative event times floor to the second below (bin span=1s).
func TestFloorSec(t *testing.T) {
	for _, tt := range []struct{ ns, want int64 }{
		{0, 0}, {999_999_999, 0}, {1e9, 1}, {-1, -1}, {-1e9, -1}, {-1e9 - 1, -2},
	} {
		if got := floorSec(tt.ns); got != tt.want {
			t.Errorf("floorSec(%d) = %d, want %d", tt.ns, got, tt.want)
		}
	}
}

// Adding to an open bucket whose values are already present does not
// allocate.
func TestAddHotPathAllocs(t *testing.T) {
	for _, backtest := range []bool{false, true} {
		cfg := testConfig()
		cfg.Backtest = backtest
		w := mustNew(t, cfg)
		e := ev("WKS-001", ts(0, 1), 1, "msiexec /i x.msi", "cmd.exe", "CORP\\u")
		for range cfg.withDefaults().MaxSources + 1 {
			w.Add(e, clk(0), nil)
		}
		allocs := testing.AllocsPerRun(1000, func() { w.Add(e, clk(0), nil) })
		if allocs != 0 {
			t.Errorf("backtest=%v: %v allocs per Add, want 0", backtest, allocs)
		}
	}
}

// A nil emit discards alerts but still counts them.
func TestNilEmit(t *testing.T) {
	w := mustNew(t, testConfig())
	w.Add(ev("A", ts(0, 0), 1, "p", "", ""), clk(0), nil)
	w.Advance(clk(time.Minute), nil)
	w.Flush(nil)
	if s := w.Stats(); s.Alerts != 1 {
		t.Errorf("alerts = %d", s.Alerts)
	}
}

// Reopening an emitted bucket (a late event) keeps every value, source,
// position and counter of a large bucket with several partitions.
func TestReopenKeepsEverything(t *testing.T) {
	cfg := testConfig()
	cfg.MaxSources = 30
	w := mustNew(t, cfg)
	var r recorder
	for i := range 40 {
		src := Source{Topic: "sysmon", Partition: int32(i % 3), Offset: int64(1000 - i)}
		if i%5 == 0 {
			src = Source{File: "dump.jsonl", Line: int64(i)}
		}
		user := ""
		if i%7 == 0 {
			user = "CORP\\u" + string(rune('a'+i%4))
		}
		w.Add(Event{Host: "A", Time: ts(0, int64(i)), Values: []string{"p" + string(rune('A'+i)), "cmd.exe", user}, Source: src}, clk(0), r.emit)
	}
	w.Flush(r.emit)
	before := w.SafePositions()
	first := r.take()[0]
	w.Add(ev("A", ts(0, 999), 5000, "zz", "cmd.exe", ""), clk(time.Second), r.emit)
	w.Flush(r.emit)
	second := r.take()[0]
	if second.Revision != 2 || second.EventCount != 41 || !covers(second, first) {
		t.Fatalf("revision %d count %d", second.Revision, second.EventCount)
	}
	if len(second.Values("process")) != 41 || !slices.Equal(second.Values("user"), first.Values("user")) {
		t.Errorf("values after thaw: %v", fieldMap(second))
	}
	if !slices.Equal(second.Sources, first.Sources) || second.SourcesOmitted != 11 {
		t.Errorf("sources after thaw: %v (+%d)", second.Sources, second.SourcesOmitted)
	}
	if second.FirstSeen != ts(0, 0) || second.LastSeen != ts(0, 999) {
		t.Errorf("first/last after thaw")
	}
	after := w.SafePositions()
	if !equalPos(before, after) || after[Partition{"sysmon", 0}] != 1000-39 || after[Partition{"dump.jsonl", 0}] != 0 {
		t.Errorf("positions before %v after %v", before, after)
	}
}

// Hosts with no bucket left are remembered, for their horizon, up to
// RetainHosts; beyond that the least recently active is forgotten.
func TestRetainHosts(t *testing.T) {
	cfg := testConfig()
	cfg.RetainHosts = 2
	cfg.Retain = time.Minute
	w := mustNew(t, cfg)
	var r recorder
	for i, h := range []string{"A", "B", "C"} {
		now := time.Duration(i) * 10 * time.Minute
		w.Add(ev(h, ts(0, 0), int64(i), "p", "", ""), clk(now), r.emit)
		w.Advance(clk(now+10*time.Second), r.emit) // emitted
		w.Advance(clk(now+2*time.Minute), r.emit)  // forgotten
	}
	if s := w.Stats(); s.Hosts != 2 || s.HostsEvicted != 1 || s.Revisable != 0 {
		t.Fatalf("stats = %+v", s)
	}
	// B still has its horizon: its second 0 is late. A was forgotten, but
	// its horizon lives on in the window's table of forgotten horizons:
	// its second 0 is late too, and never a new on-time alert that would
	// replace the one published. A host never seen is on time.
	w.Add(ev("B", ts(0, 5), 10, "q", "", ""), clk(time.Hour), r.emit)
	w.Add(ev("A", ts(0, 5), 11, "q", "", ""), clk(time.Hour), r.emit)
	w.Add(ev("D", ts(0, 5), 12, "q", "", ""), clk(time.Hour), r.emit)
	w.Flush(r.emit)
	got := r.take()[3:]
	if len(got) != 3 || got[0].Host != "B" || !got[0].Late || got[1].Host != "A" || !got[1].Late || got[2].Host != "D" || got[2].Late {
		t.Fatalf("got %+v", got)
	}
}

// A host whose only revisable bucket is evicted while its next one is
// being kept still holds a bucket: it must not count as idle (and be
// forgotten with its revisable bucket still in the LRU).
func TestEvictionKeepsHostBusy(t *testing.T) {
	cfg := testConfig()
	cfg.RetainBuckets, cfg.RetainHosts, cfg.Retain = 2, 1, time.Hour
	w := mustNew(t, cfg)
	var r recorder
	w.Add(ev("A", ts(0, 0), 1, "p", "", ""), clk(0), r.emit)
	w.Add(ev("B", ts(0, 0), 2, "p", "", ""), clk(0), r.emit)
	w.Advance(clk(10*time.Second), r.emit) // A/0, B/0 revisable
	w.Add(ev("A", ts(10, 0), 3, "p", "", ""), clk(20*time.Second), r.emit)
	w.Advance(clk(30*time.Second), r.emit) // A/10 kept, A/0 evicted
	w.Add(ev("C", ts(0, 0), 4, "p", "", ""), clk(40*time.Second), r.emit)
	w.Advance(clk(50*time.Second), r.emit) // C/0 kept, B/0 evicted: B idle
	w.Add(ev("A", ts(10, 1), 5, "q", "", ""), clk(60*time.Second), r.emit)
	w.Flush(r.emit)
	last := r.alerts[len(r.alerts)-1]
	if last.Host != "A" || last.Time != base+10 || last.Revision != 2 || last.EventCount != 2 {
		t.Fatalf("A/10 after evictions: %+v", last)
	}
}

// A host with many revisable buckets, hit by late events in random order:
// the lookup that scans more than revIndexAt of them indexes them, the
// index follows every reopen, emission and expiry, and every revision
// holds its bucket's union.
func TestManyRevisableBuckets(t *testing.T) {
	cfg := testConfig()
	cfg.Retain = time.Minute
	w := mustNew(t, cfg)
	var r recorder
	const secs = 200
	want := make(map[int64][]string)
	add := func(sec int64, v string, now time.Duration) {
		t.Helper()
		w.Add(ev("A", ts(sec, 0), sec, v, "", ""), clk(now), r.emit)
		want[base+sec] = append(want[base+sec], v)
		if err := checkInvariants(w); err != nil {
			t.Fatalf("after %s: %v", v, err)
		}
	}
	for sec := range int64(secs) {
		add(sec, fmt.Sprintf("p%03d", sec), 0)
	}
	w.Flush(r.emit)
	if s := w.Stats(); s.Revisable != secs {
		t.Fatalf("stats = %+v", s)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 400 {
		sec := rng.Int64N(secs)
		add(sec, fmt.Sprintf("q%03d", i), time.Duration(i)*10*time.Millisecond)
		if rng.IntN(4) == 0 {
			w.Flush(r.emit)
		}
	}
	w.Flush(r.emit)
	for _, a := range latest(r.take()) {
		got := a.Values("process")
		vals := slices.Sorted(slices.Values(want[a.Time]))
		if a.Late || !slices.Equal(got, vals) || a.EventCount != len(vals) {
			t.Fatalf("alert %d: late %v, %d events, process %v, want %v", a.Time, a.Late, a.EventCount, got, vals)
		}
	}
	// Retain passes: every bucket is forgotten.
	w.Advance(clk(10*time.Minute), r.emit)
	if s := w.Stats(); s.Revisable != 0 || s.Expired != secs || len(w.buckets) != 0 {
		t.Fatalf("after Retain: %+v, %d buckets held", s, len(w.buckets))
	}
}

// A bucket stays revisable for at least Retain after its latest emission
// and is forgotten at the latest 2*Retain after it, whatever the mix of
// hosts emitting often, rarely, or in bursts and then never again.
func TestRetainBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for i := range 50 {
		cfg := testConfig()
		cfg.Retain = time.Duration(rng.IntN(20)+1) * time.Second
		w := mustNew(t, cfg)
		retain := int64(cfg.Retain)
		emitted := make(map[string]int64) // alert_id → clock of its latest emission
		now := int64(0)
		var at int64
		emit := func(a *Alert) { emitted[a.AlertID] = at }
		hosts := rng.IntN(8) + 1
		for step := range 400 {
			now += int64(rng.IntN(700)) * int64(time.Millisecond)
			at = now
			h := fmt.Sprintf("H%d", rng.IntN(hosts))
			if rng.IntN(3) > 0 && h != "H0" || step < 20 {
				// H0 emits only early on; the others keep emitting.
				sec := now/1e9 - int64(rng.IntN(3))
				w.Add(ev(h, ts(sec, 0), int64(step), fmt.Sprint(step), "", ""), clk(time.Duration(now)), emit)
			} else {
				w.Advance(clk(time.Duration(now)), emit)
			}
			held := make(map[string]bool)
			w.eachRevisable(func(b *bucket) {
				held[b.id] = true
				if age := now - emitted[b.id]; age > 2*retain {
					t.Fatalf("scenario %d step %d: bucket %v emitted %v ago is still revisable (Retain %v)",
						i, step, bk(b), time.Duration(age), cfg.Retain)
				}
			})
			for id, t0 := range emitted {
				if now-t0 < retain && !held[id] && !isOpen(w, id) {
					t.Fatalf("scenario %d step %d: alert %s emitted %v ago was forgotten before Retain %v",
						i, step, id, time.Duration(now-t0), cfg.Retain)
				}
			}
		}
	}
}

func isOpen(w *Window, id string) bool {
	for _, b := range listed(&w.open) {
		if b.id == id {
			return true
		}
	}
	return false
}

// A host that emits for a long time, forgetting old buckets as it goes,
// reuses its list of revisable buckets: it does not grow with the number of
// buckets the host ever kept.
func TestRevisableListBounded(t *testing.T) {
	cfg := testConfig()
	cfg.Retain = 10 * time.Second
	w := mustNew(t, cfg)
	for sec := range int64(5000) {
		w.Add(ev("A", ts(sec, 0), sec, "p", "", ""), clk(time.Duration(sec)*time.Second), nil)
	}
	if s := w.Stats(); s.Revisable > 12 || len(w.buckets) > 13 {
		t.Fatalf("after 5000 buckets: %d revisable, %d held", s.Revisable, len(w.buckets))
	}
}

// Buckets of 1 to 40 values per field, forgotten as new ones come: every
// alert must hold exactly its own values, and alerts kept with Clone must
// not change as the window goes on.
func TestAlertsKeepTheirValues(t *testing.T) {
	cfg := testConfig()
	cfg.Retain = time.Second
	w := mustNew(t, cfg)
	var r recorder
	want := map[string][]string{}
	off := int64(0)
	for sec := range int64(40) {
		for h, host := range []string{"A", "B", "C"} {
			// 1 to 40 values: single values, 4-value and smallSet arrays,
			// and indexed sets.
			n := int(sec+int64(h)*13)%40 + 1
			var vals []string
			for k := range n {
				v := fmt.Sprintf("msiexec /i %s-%d-%02d.msi", host, sec, (k*7919)%n)
				off++
				w.Add(ev(host, ts(sec, int64(k)), off, v, "cmd.exe", ""), clk(time.Duration(sec)*time.Second), r.emit)
				vals = append(vals, v)
			}
			slices.Sort(vals)
			want[AlertID(cfg.RuleID, host, base+sec)] = vals
		}
	}
	w.Flush(r.emit)
	if s := w.Stats(); s.Expired == 0 {
		t.Fatalf("no bucket expired, so none was recycled: %+v", s)
	}
	for i, a := range r.alerts {
		if got := a.Values("process"); !slices.Equal(got, want[a.AlertID]) {
			t.Errorf("%s %d: process = %v, want %v", a.Host, a.Time, got, want[a.AlertID])
		}
		if got := a.AppendJSON(nil); !bytes.Equal(got, r.json[i]) {
			t.Errorf("alert %d changed after emission:\n%s\nwas\n%s", i, got, r.json[i])
		}
	}
	if len(r.alerts) != len(want) {
		t.Errorf("%d alerts, want %d", len(r.alerts), len(want))
	}
}
