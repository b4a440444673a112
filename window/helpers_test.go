package window

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// base is 2025-03-06T10:00:00Z, the contract example's _time.
const base int64 = 1741255200

var testFields = []string{"process", "parent_process_name", "user"}

// ts returns the Unix ns of base + sec seconds + ms milliseconds.
func ts(sec, ms int64) int64 { return (base+sec)*1e9 + ms*1e6 }

// clk returns a caller clock reading, d after an arbitrary wall-clock origin
// unrelated to event time.
func clk(d time.Duration) time.Time { return time.Unix(1_900_000_000, 0).Add(d) }

func testConfig() Config {
	return Config{
		RuleID:     "24143.44553",
		RuleTitle:  "Suspicious Parent Process for msiexec.exe",
		Techniques: []string{"T1218.007"},
		Fields:     testFields,
	}
}

func mustNew(t testing.TB, cfg Config) *Window {
	t.Helper()
	w, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return w
}

func ev(host string, at int64, off int64, vals ...string) Event {
	return Event{Host: host, Time: at, Values: vals, Source: Source{Topic: "sysmon", Offset: off}}
}

// recorder collects emitted alerts (cloned) and their JSON.
type recorder struct {
	alerts []*Alert
	json   [][]byte
}

func (r *recorder) emit(a *Alert) {
	r.alerts = append(r.alerts, a.Clone())
	r.json = append(r.json, a.AppendJSON(nil))
}

func (r *recorder) take() []*Alert {
	a := r.alerts
	r.alerts = nil
	return a
}

// latest returns the highest revision of every alert_id.
func latest(alerts ...[]*Alert) map[string]*Alert {
	m := make(map[string]*Alert)
	for _, list := range alerts {
		for _, a := range list {
			if cur, ok := m[a.AlertID]; !ok || a.Revision > cur.Revision {
				m[a.AlertID] = a
			}
		}
	}
	return m
}

// group is the batch computation of one (host, second): what Splunk's
// stats values(*) as * by _time, host gives, plus count, times, sources.
type group struct {
	host        string
	sec         int64
	fields      map[string][]string
	count       int
	first, last int64
	sources     []Source
}

// batch groups events the plain way: group, distinct, sort.
func batch(fields []string, events []Event) map[[2]string]*group {
	out := make(map[[2]string]*group)
	for _, e := range events {
		k := [2]string{e.Host, fmt.Sprint(floorSec(e.Time))}
		g := out[k]
		if g == nil {
			g = &group{host: e.Host, sec: floorSec(e.Time), fields: map[string][]string{}, first: e.Time, last: e.Time}
			out[k] = g
		}
		g.count++
		g.first = min(g.first, e.Time)
		g.last = max(g.last, e.Time)
		g.sources = append(g.sources, e.Source)
		for i, v := range e.Values {
			if v != "" && !slices.Contains(g.fields[fields[i]], v) {
				g.fields[fields[i]] = append(g.fields[fields[i]], v)
			}
		}
	}
	for _, g := range out {
		for _, vs := range g.fields {
			slices.Sort(vs)
		}
	}
	return out
}
