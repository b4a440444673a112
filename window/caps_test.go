package window

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// jsonLen and sourceLen predict the bytes AppendJSON writes.
func TestJSONLen(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	alphabet := []string{"a", "\"", "\\", "\n", "\r", "\t", "\x00", "\x1f", "é", "\u2028", "\u2029", "\xff", "\xe2\x80", "€", "𝄞", "<", " "}
	for range 20_000 {
		var sb strings.Builder
		// Mostly plain runs, so that escapes land at every offset of the
		// eight-byte words jsonLen skips.
		for range rng.IntN(12) {
			sb.WriteString(strings.Repeat("a", rng.IntN(20)))
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		s := sb.String()
		if got, want := jsonLen(s), len(appendString(nil, s)); got != want {
			t.Fatalf("jsonLen(%q) = %d, AppendJSON writes %d", s, got, want)
		}
		for _, src := range []Source{{Topic: s, Partition: int32(rng.IntN(1000) - 1), Offset: rng.Int64()}, {File: s + "x", Line: rng.Int64N(1e9)}} {
			if got, want := sourceLen(src), len(appendSource(nil, src)); got != want {
				t.Fatalf("sourceLen(%+v) = %d, AppendJSON writes %d", src, got, want)
			}
		}
	}
}

func FuzzJSONLen(f *testing.F) {
	for _, s := range []string{"", "msiexec", "a\"b\\c\n\x00", "\u2028\xff\xe2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := jsonLen(s), len(appendString(nil, s)); got != want {
			t.Fatalf("jsonLen(%q) = %d, AppendJSON writes %d", s, got, want)
		}
	})
}

// A truncated alert's JSON, written by hand from the README's contract:
// "truncated" and "values_omitted" follow "fields", a field whose values
// were all left out appears only in values_omitted, and an alert without
// omissions has neither key (see TestAppendJSONGolden).
func TestTruncatedAlertJSON(t *testing.T) {
	a := exampleAlert()
	a.Fields = []Field{
		{Name: "parent_process_name", Values: []string{"cmd.exe"}},
		{Name: "process", Values: []string{"msiexec /q /i a.msi"}, Omitted: 59},
		{Name: "process_id", Omitted: 3},
	}
	want := `{"alert_id":"f0c5725335e7f80db3d4367ef3f6e8e8","rule_id":"24143.44553",` +
		`"rule_title":"Suspicious Parent Process for msiexec.exe","mitre_technique_id":["T1218.007"],` +
		`"_time":1741255200,"time":"2025-03-06T10:00:00Z","host":"WKS-001.corp.example",` +
		`"event_count":2,"revision":1,"late":false,` +
		`"fields":{"parent_process_name":["cmd.exe"],"process":["msiexec /q /i a.msi"]},` +
		`"truncated":true,"values_omitted":{"process":59,"process_id":3},` +
		`"first_seen":"2025-03-06T10:00:00.120Z","last_seen":"2025-03-06T10:00:00.870Z",` +
		`"sources":[{"topic":"sysmon","partition":0,"offset":1234},{"file":"dump.jsonl","line":7}],` +
		`"sources_omitted":0}`
	got := a.AppendJSON(nil)
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if !json.Valid(got) {
		t.Fatal("not valid JSON")
	}
	var back Alert
	if err := back.UnmarshalJSON(got); err != nil {
		t.Fatal(err)
	}
	if rt := back.AppendJSON(nil); !bytes.Equal(rt, got) {
		t.Fatalf("round trip changed the alert:\n%s", rt)
	}
}

// capEvents returns n events of host h, second 0, whose process is one of
// distinct values of size bytes (with characters JSON escapes), whose
// process_id is new per event, and whose parent is always cmd.exe.
func capEvents(rng *rand.Rand, host string, n, distinct, size int, off *int64) []Event {
	var out []Event
	for k := range n {
		v := fmt.Sprintf("msiexec /i \"%d.msi\"\t", rng.IntN(distinct))
		v += strings.Repeat("x", max(size-len(v), 0))
		*off++
		out = append(out, ev(host, ts(0, int64(k%1000)), *off, v, "cmd.exe", fmt.Sprintf("CORP\\u%d", k)))
	}
	return out
}

// The caps' contract, checked on random buckets against a plain
// computation of each bucket (batch):
//   - every alert's JSON is at most MaxAlertBytes;
//   - event_count and the times are exact;
//   - kept values are true values; kept plus values_omitted is the
//     field's distinct count;
//   - no revision drops a value an earlier one held;
//   - a value left out did not fit: its field holds MaxValues, or adding
//     it to the final alert would leave less than the documented reserve;
//   - live and backtest windows keep the same values for the same input.
func TestCapsProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 14))
	for i := range 200 {
		cfg := testConfig()
		cfg.MaxValues = rng.IntN(20) + 1
		cfg.MaxAlertBytes = MinMaxAlertBytes + rng.IntN(8000)
		cfg.MaxSources = rng.IntN(120) + 1
		var events []Event
		off := int64(0)
		for h := range rng.IntN(3) + 1 {
			events = append(events, capEvents(rng, fmt.Sprintf("H%d", h), rng.IntN(120)+1, rng.IntN(60)+1, rng.IntN(600), &off)...)
		}
		rng.Shuffle(len(events), func(a, b int) { events[a], events[b] = events[b], events[a] })
		want := batch(cfg.Fields, events)
		var kept [2]map[string]*Alert
		for m, backtest := range []bool{false, true} {
			cfg.Backtest = backtest
			w := mustNew(t, cfg)
			var r recorder
			for _, e := range events {
				w.Add(e, clk(0), r.emit)
			}
			w.Flush(r.emit)
			for _, js := range r.json {
				if n := len(js); n > cfg.MaxAlertBytes {
					t.Fatalf("scenario %d: alert of %d bytes, cap %d", i, n, cfg.MaxAlertBytes)
				}
			}
			checkRevisions(t, fmt.Sprint("caps scenario ", i), r.alerts)
			kept[m] = latest(r.alerts)
			for _, a := range kept[m] {
				g := want[[2]string{a.Host, fmt.Sprint(a.Time)}]
				if a.EventCount != g.count || a.FirstSeen != g.first || a.LastSeen != g.last {
					t.Fatalf("scenario %d: %s counts %d %d %d, want %d %d %d", i, a.Host, a.EventCount, a.FirstSeen, a.LastSeen, g.count, g.first, g.last)
				}
				checkOmissions(t, i, cfg, a, g)
			}
		}
		for id, a := range kept[0] {
			b := kept[1][id]
			if b == nil || !slices.EqualFunc(a.Fields, b.Fields, func(x, y Field) bool {
				return x.Name == y.Name && x.Omitted == y.Omitted && slices.Equal(x.Values, y.Values)
			}) {
				t.Fatalf("scenario %d: live and backtest keep different values for %s:\n%+v\n%+v", i, id, a.Fields, b)
			}
		}
	}
}

// reserve is what the window leaves free in every alert (README, "the
// alert contract"): 128 bytes for its numbers and times, and room for
// every field in values_omitted with a 19-digit count.
func reserve(fields []string) int {
	n := 128 + len(`,"truncated":true,"values_omitted":{}`)
	for _, f := range fields {
		n += len(f) + 2 + 1 + 19 + 1
	}
	return n
}

func checkOmissions(t *testing.T, scenario int, cfg Config, a *Alert, g *group) {
	t.Helper()
	size := len(a.AppendJSON(nil))
	for _, name := range cfg.Fields {
		var f Field
		for _, x := range a.Fields {
			if x.Name == name {
				f = x
			}
		}
		all := g.fields[name]
		for _, v := range f.Values {
			if !slices.Contains(all, v) {
				t.Fatalf("scenario %d: %s keeps %q, not a value of its events", scenario, name, v)
			}
		}
		if len(f.Values)+f.Omitted != len(all) {
			t.Fatalf("scenario %d: %s keeps %d and omits %d of %d distinct values", scenario, name, len(f.Values), f.Omitted, len(all))
		}
		for _, v := range all {
			if slices.Contains(f.Values, v) {
				continue
			}
			grown := size + len(appendString(nil, v)) + 1
			if len(f.Values) < cfg.MaxValues && grown <= cfg.MaxAlertBytes-reserve(cfg.Fields)-len(name)-4 {
				t.Fatalf("scenario %d: %s left %q out of a %d-byte alert with %d values: it fits", scenario, name, v, size, len(f.Values))
			}
		}
	}
}

// The giant bucket of issue 14: 60 launches in one host-second with 30 KB
// command lines (an alert of about 2 MB uncapped) gives an alert within the
// default 1,000,000 bytes that says what it left out, and leaves the other
// hosts' alerts whole.
func TestGiantBucket(t *testing.T) {
	w := mustNew(t, testConfig())
	var r recorder
	var all []Event
	add := func(e Event) {
		all = append(all, e)
		w.Add(e, clk(0), r.emit)
	}
	off := int64(0)
	for k := range 60 {
		off++
		cmd := fmt.Sprintf("msiexec /i %02d.msi %s", k, strings.Repeat("A", 30_000))
		add(ev("BIG", ts(0, int64(k)), off, cmd, "cmd.exe", "CORP\\eve"))
		off++
		add(ev(fmt.Sprintf("SMALL-%d", k), ts(0, int64(k)), off, "msiexec /q", "cmd.exe", "CORP\\bob"))
	}
	w.Flush(r.emit)
	want := batch(testFields, all)
	got := latest(r.alerts)
	if len(got) != 61 {
		t.Fatalf("%d alerts, want 61", len(got))
	}
	for _, a := range got {
		n := len(a.AppendJSON(nil))
		if n > DefaultMaxAlertBytes {
			t.Fatalf("%s: %d bytes", a.Host, n)
		}
		if a.Host != "BIG" {
			if a.Truncated() || a.EventCount != 1 {
				t.Errorf("%s: %+v", a.Host, a)
			}
			continue
		}
		procs := a.Values("process")
		// 1,000,000 bytes hold about 33 values of 30,018 bytes.
		if !a.Truncated() || a.EventCount != 60 || len(procs) < 30 || len(procs)+fieldOf(a, "process").Omitted != 60 {
			t.Errorf("BIG: %d events, %d processes kept, fields %v", a.EventCount, len(procs), fieldSummary(a))
		}
		checkOmissions(t, 0, testConfig(), a, want[[2]string{"BIG", fmt.Sprint(base)}])
		for k, p := range procs {
			if !strings.HasPrefix(p, fmt.Sprintf("msiexec /i %02d.msi", k)) {
				t.Errorf("BIG keeps %.20q as its %dth process: not the first ones to arrive", p, k)
			}
		}
	}
}

func fieldOf(a *Alert, name string) Field {
	for _, f := range a.Fields {
		if f.Name == name {
			return f
		}
	}
	return Field{}
}

func fieldSummary(a *Alert) string {
	var s []string
	for _, f := range a.Fields {
		s = append(s, fmt.Sprintf("%s:%d+%d", f.Name, len(f.Values), f.Omitted))
	}
	return strings.Join(s, " ")
}

// A bucket of 100,000 distinct values keeps MaxValues of them, counts the
// rest exactly, and holds the hashes of what it left out within its share
// of the memory estimate.
func TestHundredThousandValues(t *testing.T) {
	w := mustNew(t, testConfig())
	var r recorder
	for k := range 100_000 {
		w.Add(ev("H", ts(0, int64(k%1000)), int64(k), fmt.Sprintf("msiexec /i %06d.msi", k), "cmd.exe", ""), clk(0), r.emit)
	}
	if s := w.Stats(); s.Memory > 4<<20 {
		t.Errorf("window holds an estimated %d bytes for one bucket", s.Memory)
	}
	w.Flush(r.emit)
	a := latest(r.alerts)[AlertID(testConfig().RuleID, "H", base)]
	if a == nil || a.EventCount != 100_000 || len(a.Values("process")) != DefaultMaxValues || fieldOf(a, "process").Omitted != 100_000-DefaultMaxValues {
		t.Fatalf("alert %v", fieldSummary(a))
	}
	if s := w.Stats(); s.OmittedValues != 100_000-DefaultMaxValues || s.TruncatedAlerts != 1 {
		t.Errorf("stats %+v", s)
	}
}

// Restoring a truncated alert and replaying its events emits nothing: the
// replay's values were kept or counted before.
func TestRestoreTruncated(t *testing.T) {
	cfg := testConfig()
	cfg.MaxValues = 2
	events := []Event{
		ev("H", ts(0, 1), 1, "a", "cmd.exe", ""),
		ev("H", ts(0, 2), 2, "b", "cmd.exe", ""),
		ev("H", ts(0, 3), 3, "c", "cmd.exe", ""),
		ev("H", ts(0, 4), 4, "d", "cmd.exe", ""),
	}
	w := mustNew(t, cfg)
	var r recorder
	for _, e := range events {
		w.Add(e, clk(0), r.emit)
	}
	w.Flush(r.emit)
	a := r.take()[0]
	if !slices.Equal(a.Values("process"), []string{"a", "b"}) || fieldOf(a, "process").Omitted != 2 {
		t.Fatalf("alert %s", fieldSummary(a))
	}
	var back Alert
	if err := back.UnmarshalJSON(a.AppendJSON(nil)); err != nil {
		t.Fatal(err)
	}
	w2 := mustNew(t, cfg)
	if err := w2.Restore(&back); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		w2.Add(e, clk(0), r.emit)
	}
	w2.Flush(r.emit)
	if got := r.take(); len(got) != 0 {
		t.Fatalf("replay emitted %s", fieldSummary(got[0]))
	}
	// A new event after the replay revises it with the counts carried on.
	w2.Add(ev("H", ts(0, 5), 5, "e", "cmd.exe", ""), clk(0), r.emit)
	w2.Flush(r.emit)
	got := r.take()
	if len(got) != 1 || got[0].Revision != 2 || got[0].EventCount != 5 || fieldOf(got[0], "process").Omitted != 3 || !slices.Equal(got[0].Values("process"), []string{"a", "b"}) {
		t.Fatalf("revision %+v %s", got, fieldSummary(got[0]))
	}
}

// A flood of distinct hosts, each with a few KB of values, in a window of
// small MemoryBudget: the estimate stays within the budget (plus one
// event), the heap follows it, every bucket is still emitted, and an event
// for a bucket forgotten early makes a late alert.
func TestMemoryBudgetFlood(t *testing.T) {
	cfg := testConfig()
	cfg.MemoryBudget = 8 << 20
	w := mustNew(t, cfg)
	emitted := map[string]bool{}
	late := 0
	emit := func(a *Alert) {
		if a.Late {
			late++
		}
		emitted[a.Host] = true
	}
	const hosts = 50_000
	big := strings.Repeat("p", 2000)
	before := heapInUse()
	for h := range hosts {
		host := fmt.Sprintf("HOST-%06d-%s", h, strings.Repeat("x", h%200))
		w.Add(ev(host, ts(int64(h/1000), 0), int64(h), big+fmt.Sprint(h), "cmd.exe", "CORP\\u"), clk(time.Duration(h)*time.Microsecond), emit)
		if s := w.Stats(); s.Memory > cfg.MemoryBudget+64<<10 {
			t.Fatalf("after %d hosts the window holds an estimated %d bytes, budget %d", h, s.Memory, cfg.MemoryBudget)
		}
	}
	held := int64(heapInUse()) - int64(before)
	s := w.Stats()
	if held > 4*cfg.MemoryBudget || s.MemoryEvicted == 0 {
		t.Errorf("heap grew by %d bytes for a budget of %d; stats %+v", held, cfg.MemoryBudget, s)
	}
	w.Add(ev("HOST-000000-", ts(0, 5), hosts, "again", "cmd.exe", ""), clk(time.Second), emit)
	w.Flush(emit)
	if len(emitted) != hosts || late != 1 {
		t.Errorf("%d of %d hosts alerted, %d late alerts (want 1)", len(emitted), hosts, late)
	}
}
