package sysmongen

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/ruletest"
	"github.com/msiguard/msiguard/rules"
)

// scaled shrinks a test's record count under the race detector (ten times
// slower) and -short; the generator has no concurrency for it to check.
func scaled(n int) int {
	if raceEnabled || testing.Short() {
		return n / 5
	}
	return n
}

// generate returns n records of g and their metadata.
func generate(t testing.TB, g *Generator, n int) ([][]byte, []Meta) {
	t.Helper()
	recs := make([][]byte, n)
	metas := make([]Meta, n)
	for i := range n {
		recs[i] = g.Next(nil)
		metas[i] = g.Meta()
	}
	return recs, metas
}

func mustNew(t testing.TB, cfg Config) *Generator {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestSameSeedSameBytes(t *testing.T) {
	cfg := Config{Seed: 42, Hosts: 30, AttackRate: 0.01, Jitter: time.Second, LateRate: 0.001}
	a, b := mustNew(t, cfg), mustNew(t, cfg)
	var bufA, bufB []byte
	for i := range scaled(50_000) {
		bufA = a.Next(bufA[:0])
		bufB = b.Next(bufB[:0])
		if !bytes.Equal(bufA, bufB) {
			t.Fatalf("record %d differs:\n%s\n%s", i, bufA, bufB)
		}
		if a.Meta() != b.Meta() {
			t.Fatalf("record %d: meta differs: %+v, %+v", i, a.Meta(), b.Meta())
		}
	}
	c := mustNew(t, Config{Seed: 43, Hosts: 30, AttackRate: 0.01, Jitter: time.Second, LateRate: 0.001})
	if bytes.Equal(c.Next(nil), mustNew(t, cfg).Next(nil)) {
		t.Error("seeds 42 and 43 start with the same record")
	}
}

// probeRule matches every Sysmon process creation: with it the real
// detector reads every record (the term "microsoft" is in every provider
// name) and reports host, time and shape of every event 1.
func probeRule(t testing.TB) []*rules.Compiled {
	return []*rules.Compiled{ruletest.Variant(t, "probe", ruletest.SeedTerm, "TERM(microsoft)", ruletest.SeedParent, ".")}
}

func TestDetectorReadsEveryShape(t *testing.T) {
	seed := detector.Seed()
	probe, err := detector.New(probeRule(t), detector.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fields := seed.Rules()[0].Program.Outputs()
	col := func(name string) int { return slices.Index(fields, name) }
	for _, shape := range Shapes() {
		t.Run(shape.String(), func(t *testing.T) {
			g := mustNew(t, Config{Seed: 7, Hosts: 24, Shapes: []Shape{shape}, AttackRate: 0.02, DecoyRate: 0.05, ForeignRate: 0.05})
			recs, metas := generate(t, g, scaled(20_000))
			var attacks, nDecoys, eid1 int
			scenarios := map[string]bool{}
			for i, rec := range recs {
				m := metas[i]
				scenarios[m.Scenario] = true
				checkWellFormed(t, shape, rec)

				got, ok, err := seed.Evaluate(rec)
				if err != nil {
					t.Fatalf("record %d (%s): seed rule: %v\n%s", i, m.Scenario, err, rec)
				}
				if want := m.Kind == KindAttack; ok != want {
					t.Fatalf("record %d (%s, %v): seed rule matched=%v, want %v\n%s", i, m.Scenario, m.Kind, ok, want, rec)
				}
				if ok {
					attacks++
					checkMatch(t, i, rec, got, m)
					if name := got.Values[col("parent_process_name")]; name != "cmd.exe" && name != "powershell.exe" && name != "pwsh.exe" {
						t.Errorf("record %d: parent_process_name %q", i, name)
					}
					if got.Values[col("process")] == "" || got.Values[col("process_guid")] == "" || got.Values[col("user")] == "" {
						t.Errorf("record %d: empty output values %q", i, got.Values)
					}
				}
				if m.Kind == KindDecoy {
					nDecoys++
				}

				got, ok, err = probe.Evaluate(rec)
				if err != nil {
					t.Fatalf("record %d (%s): probe rule: %v\n%s", i, m.Scenario, err, rec)
				}
				if want := m.Sysmon && m.EventID == 1; ok != want {
					t.Fatalf("record %d (%s): probe matched=%v, want %v\n%s", i, m.Scenario, ok, want, rec)
				}
				if ok {
					eid1++
					checkMatch(t, i, rec, got, m)
				}
			}
			if attacks == 0 || nDecoys == 0 || eid1 <= attacks {
				t.Errorf("attacks %d, decoys %d, process creations %d: want some of each", attacks, nDecoys, eid1)
			}
			for _, k := range incidents {
				if !scenarios[k.name] {
					t.Errorf("incident %s never generated", k.name)
				}
			}
			for _, d := range decoys {
				if !scenarios[d.name] {
					t.Errorf("decoy %s never generated", d.name)
				}
			}
		})
	}
}

func checkMatch(t *testing.T, i int, rec []byte, got detector.Match, m Meta) {
	t.Helper()
	if got.Host != m.Host || got.Time != m.Time.UnixNano() || got.Shape != detector.Shape(m.Shape) {
		t.Fatalf("record %d: detector saw host %q time %v shape %v; generator meant %q %v %v\n%s",
			i, got.Host, time.Unix(0, got.Time).UTC(), got.Shape, m.Host, m.Time, m.Shape, rec)
	}
}

// checkWellFormed checks rec with the standard library's JSON and XML
// parsers, independently of the detector.
func checkWellFormed(t *testing.T, shape Shape, rec []byte) {
	t.Helper()
	if bytes.ContainsAny(rec, "\r\n") {
		t.Fatalf("record spans lines: %s", rec)
	}
	if shape != ShapeXML {
		var v map[string]any
		if err := json.Unmarshal(rec, &v); err != nil {
			t.Fatalf("invalid JSON: %v\n%s", err, rec)
		}
		return
	}
	d := xml.NewDecoder(bytes.NewReader(rec))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("invalid XML: %v\n%s", err, rec)
		}
	}
}

// TestValuesRoundTrip checks that a field value survives escaping in every
// shape: the decoded CommandLine of an attack equals what the generator
// wrote (quotes, backslashes, apostrophes, newlines, non-ASCII).
func TestValuesRoundTrip(t *testing.T) {
	seed := detector.Seed()
	col := slices.Index(seed.Rules()[0].Program.Outputs(), "process")
	for _, shape := range Shapes() {
		g := mustNew(t, Config{Seed: 3, Hosts: 40, Shapes: []Shape{shape}, AttackRate: 0.2})
		seen := 0
		for range 3000 {
			rec := g.Next(nil)
			m, ok, err := seed.Evaluate(rec)
			if err != nil || !ok {
				continue
			}
			want := g.ev.fields[slices.IndexFunc(g.ev.fields, func(f field) bool { return f.name == "CommandLine" })].val
			if m.Values[col] != want {
				t.Fatalf("%v: process = %q, want %q", shape, m.Values[col], want)
			}
			seen++
		}
		if seen < 100 {
			t.Errorf("%v: only %d attacks checked", shape, seen)
		}
	}
}

func TestMix(t *testing.T) {
	g := mustNew(t, Config{Seed: 1})
	n := scaled(200_000)
	recs, metas := generate(t, g, n)
	st := g.Stats()
	if st.Records != int64(n) {
		t.Fatalf("Records = %d", st.Records)
	}
	var bytesTotal int64
	for _, r := range recs {
		bytesTotal += int64(len(r))
	}
	if st.Bytes != bytesTotal {
		t.Errorf("Bytes = %d, want %d", st.Bytes, bytesTotal)
	}
	if avg := bytesTotal / st.Records; avg < 900 || avg > 3000 {
		t.Errorf("average record %d bytes, want about 1-2 KB like real records", avg)
	}
	near := func(name string, got int64, rate float64) {
		t.Helper()
		want := rate * float64(st.Records)
		if float64(got) < 0.75*want || float64(got) > 1.25*want {
			t.Errorf("%s = %d, want about %.0f", name, got, want)
		}
	}
	near("Attacks", st.Attacks, DefaultAttackRate)
	near("Decoys", st.Decoys, DefaultDecoyRate)
	near("Foreign", st.Foreign, DefaultForeignRate)
	if st.DeadLetters != 0 {
		t.Errorf("DeadLetters = %d, want none by default", st.DeadLetters)
	}
	if len(st.ByShape) != 7 {
		t.Errorf("ByShape = %v, want all seven shapes", st.ByShape)
	}
	// Event 10 dominates, then 7, 12, 13 (real Sysmon logs).
	order := []int{10, 7, 12, 13, 3}
	for i := 1; i < len(order); i++ {
		if st.ByEventID[order[i-1]] <= st.ByEventID[order[i]] {
			t.Errorf("event %d (%d) not more frequent than event %d (%d)", order[i-1], st.ByEventID[order[i-1]], order[i], st.ByEventID[order[i]])
		}
	}
	if st.ByEventID[1] == 0 || st.ByEventID[4624] == 0 || st.ByEventID[4104] == 0 {
		t.Errorf("ByEventID = %v: want process creations and foreign events", st.ByEventID)
	}
	short, fqdn := 0, 0
	for _, h := range g.Hosts() {
		if strings.Contains(h, ".") {
			fqdn++
		} else {
			short++
		}
	}
	if short == 0 || fqdn == 0 {
		t.Errorf("hosts: %d short, %d FQDN names; want both", short, fqdn)
	}
	// Shippers that name their own host name the collector, never the
	// endpoint.
	collector := 0
	for i, r := range recs {
		h := &g.hosts[metas[i].HostIndex]
		if h.collector == metas[i].Host {
			t.Fatalf("record %d: host %q is its collector", i, h.collector)
		}
		switch {
		case metas[i].Shape == ShapeWinlogbeat, metas[i].Shape == ShapeWinlogbeatECS,
			metas[i].Shape == ShapeWinlogbeat6, metas[i].Shape == ShapeFlat && h.variant == 1:
			if !bytes.Contains(r, []byte(`"host":{"name":"`+h.collector+`"`)) && !bytes.Contains(r, []byte(`"host":"`+h.collector+`"`)) {
				t.Fatalf("record %d lacks its collector %q:\n%s", i, h.collector, r)
			}
			collector++
		}
	}
	if collector < len(recs)/3 {
		t.Errorf("only %d of %d records name a collector", collector, len(recs))
	}
	// Stats.AttackBuckets counts the distinct (host, second) of attacks.
	buckets := map[[2]int64]bool{}
	for _, m := range metas {
		if m.Kind == KindAttack {
			buckets[[2]int64{int64(m.HostIndex), m.Time.Unix()}] = true
		}
	}
	if int64(len(buckets)) != st.AttackBuckets {
		t.Errorf("AttackBuckets = %d, want %d", st.AttackBuckets, len(buckets))
	}
}

func TestNoiseNeverMentionsMsiexec(t *testing.T) {
	d := detector.Seed()
	g := mustNew(t, Config{Seed: 9, AttackRate: Disabled, DecoyRate: Disabled})
	var buf []byte
	for i := range scaled(100_000) {
		buf = g.Next(buf[:0])
		m := g.Meta()
		if m.Kind == KindNoise && d.Prefilter(buf) {
			t.Fatalf("record %d (%s) is noise but contains the token msiexec:\n%s", i, m.Scenario, buf)
		}
		if m.Kind == KindAttack || m.Kind == KindDecoy {
			t.Fatalf("record %d is %v with attacks and decoys disabled", i, m.Kind)
		}
	}
}

func TestEventTime(t *testing.T) {
	start := time.Date(2024, 10, 26, 23, 59, 0, 0, time.UTC)
	t.Run("ordered", func(t *testing.T) {
		g := mustNew(t, Config{Seed: 5, Start: start, EventsPerSecond: 100, AttackRate: 0.05})
		_, metas := generate(t, g, 12_000) // 120 s
		prev := time.Time{}
		for i, m := range metas {
			if m.Time.Before(prev) {
				t.Fatalf("record %d at %v before record %d at %v", i, m.Time, i-1, prev)
			}
			prev = m.Time
		}
		st := g.Stats()
		if !st.MinTime.Equal(start) || st.MaxTime.Sub(start) >= 120*time.Second || st.MaxTime.Sub(start) < 119*time.Second {
			t.Errorf("times span %v .. %v, want [%v, +120s)", st.MinTime, st.MaxTime, start)
		}
	})
	t.Run("jitter", func(t *testing.T) {
		jitter := 3 * time.Second
		g := mustNew(t, Config{Seed: 5, Start: start, EventsPerSecond: 1000, Jitter: jitter})
		_, metas := generate(t, g, 20_000)
		var maxSeen time.Time
		disorder := time.Duration(0)
		for _, m := range metas {
			if m.Time.After(maxSeen) {
				maxSeen = m.Time
			}
			disorder = max(disorder, maxSeen.Sub(m.Time))
		}
		if disorder >= jitter || disorder < jitter/2 {
			t.Errorf("records out of order by up to %v, want just under %v", disorder, jitter)
		}
		if g.Stats().MinTime.Before(start.Add(-jitter)) {
			t.Errorf("MinTime %v before start - jitter", g.Stats().MinTime)
		}
	})
	t.Run("late", func(t *testing.T) {
		g := mustNew(t, Config{Seed: 5, Start: start, EventsPerSecond: 1000, LateRate: 0.01, Late: 10 * time.Minute})
		_, metas := generate(t, g, 50_000)
		late := 0
		for i, m := range metas {
			nominal := start.Add(time.Duration(i) * time.Millisecond)
			lag := nominal.Sub(m.Time)
			switch {
			case m.Late:
				late++
				if lag < 10*time.Minute || lag > 10*time.Minute+time.Second {
					t.Fatalf("late record %d lags %v", i, lag)
				}
			case lag < -time.Second || lag > time.Second:
				t.Fatalf("record %d lags %v", i, lag)
			}
		}
		if late < 300 || late > 700 || int64(late) != g.Stats().Late {
			t.Errorf("%d late records (stats %d), want about 500", late, g.Stats().Late)
		}
	})
	t.Run("formats", func(t *testing.T) {
		g := mustNew(t, Config{Seed: 5, Start: start, Shapes: []Shape{ShapeEVTXList}})
		rec := string(g.Next(nil))
		for _, want := range []string{`"2024-10-26 23:59:00.000"`, `"@SystemTime":"2024-10-26 23:59:00.0`} {
			if !strings.Contains(rec, want) {
				t.Errorf("record lacks %s:\n%s", want, rec)
			}
		}
	})
}

// TestDeadLetters: every dead letter the generator means is dead-lettered
// by the detector, for the reason its scenario names, in every shape; and
// nothing else is.
func TestDeadLetters(t *testing.T) {
	d := detector.Seed()
	want := map[string]detector.Reason{
		"dead-truncated": detector.ReasonMalformed,
		"dead-no-host":   detector.ReasonMissingHost,
		"dead-bad-time":  detector.ReasonBadTime,
	}
	for _, shape := range Shapes() {
		t.Run(shape.String(), func(t *testing.T) {
			g := mustNew(t, Config{Seed: 4, Hosts: 10, Shapes: []Shape{shape}, DeadLetterRate: 0.05})
			recs, metas := generate(t, g, scaled(10_000))
			seen := map[string]int{}
			for i, rec := range recs {
				m := metas[i]
				_, _, err := d.Evaluate(rec)
				var de *detector.Error
				errors.As(err, &de)
				if m.Kind != KindDeadLetter {
					if err != nil {
						t.Fatalf("record %d (%s): %v\n%s", i, m.Scenario, err, rec)
					}
					continue
				}
				seen[m.Scenario]++
				if de == nil || de.Reason != want[m.Scenario] {
					t.Fatalf("record %d (%s): Evaluate error %v, want reason %s\n%s", i, m.Scenario, err, want[m.Scenario], rec)
				}
			}
			for scenario := range want {
				if seen[scenario] == 0 {
					t.Errorf("no %s record in %d", scenario, len(recs))
				}
			}
			if n := int64(seen["dead-truncated"] + seen["dead-no-host"] + seen["dead-bad-time"]); n != g.Stats().DeadLetters {
				t.Errorf("Stats().DeadLetters = %d, want %d", g.Stats().DeadLetters, n)
			}
		})
	}
}

func TestBurstsShareOneSecond(t *testing.T) {
	g := mustNew(t, Config{Seed: 11, Hosts: 200, AttackRate: 0.05, EventsPerSecond: 500})
	_, metas := generate(t, g, 40_000)
	perBucket := map[[2]int64]int{}
	for _, m := range metas {
		if m.Kind == KindAttack {
			perBucket[[2]int64{int64(m.HostIndex), m.Time.Unix()}]++
		}
	}
	multi := 0
	for _, n := range perBucket {
		if n > 1 {
			multi++
		}
	}
	st := g.Stats()
	if multi < len(perBucket)/5 {
		t.Errorf("%d of %d attack buckets hold more than one event, want many", multi, len(perBucket))
	}
	if st.AttackBursts == 0 || st.AttackBursts > st.Attacks || int64(len(perBucket)) != st.AttackBuckets {
		t.Errorf("stats %+v, %d buckets", st, len(perBucket))
	}
}

func TestShapesPerHost(t *testing.T) {
	shapes := []Shape{ShapeXML, ShapeFlat}
	g := mustNew(t, Config{Seed: 2, Hosts: 10, Shapes: shapes})
	_, metas := generate(t, g, 5000)
	for i, m := range metas {
		want := shapes[m.HostIndex%2]
		if !m.Sysmon && want == ShapeWinlogbeatECS {
			want = ShapeWinlogbeat
		}
		if m.Shape != want {
			t.Fatalf("record %d: host %d in shape %v, want %v", i, m.HostIndex, m.Shape, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"negative hosts", Config{Hosts: -1}, "hosts"},
		{"too many hosts", Config{Hosts: MaxHosts + 1}, "hosts"},
		{"negative eps", Config{EventsPerSecond: -5}, "events per second"},
		{"negative jitter", Config{Jitter: -time.Second}, "jitter"},
		{"rate above one", Config{AttackRate: 1.5}, "attack rate"},
		{"rates add up", Config{AttackRate: 0.5, DecoyRate: 0.5}, "add up"},
		{"dead letters add up", Config{AttackRate: 0.5, DeadLetterRate: 0.5}, "add up"},
		{"dead-letter rate above one", Config{DeadLetterRate: 2}, "dead-letter rate"},
		{"auto shape", Config{Shapes: []Shape{0}}, "shape"},
		{"unknown shape", Config{Shapes: []Shape{99}}, "shape"},
		{"year zero", Config{Start: time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)}, "start"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New(%+v) = %v, want an ErrConfig about %q", tc.cfg, err, tc.want)
			}
		})
	}
	if _, err := New(Config{}); err != nil {
		t.Errorf("zero Config: %v", err)
	}
	g := mustNew(t, Config{AttackRate: Disabled})
	if g.Config().AttackRate != 0 || g.Config().Hosts != DefaultHosts || len(g.Config().Shapes) != 7 {
		t.Errorf("Config() = %+v", g.Config())
	}
}

func TestNextDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	g := mustNew(t, Config{Seed: 1, AttackRate: Disabled})
	buf := make([]byte, 0, 64<<10)
	for range 10_000 { // let buffers grow
		buf = g.Next(buf[:0])
	}
	if n := testing.AllocsPerRun(10_000, func() { buf = g.Next(buf[:0]) }); n > 0.01 {
		t.Errorf("Next allocates %v times per record", n)
	}
}

func TestAppendTime(t *testing.T) {
	for _, tc := range []time.Time{
		time.Date(2025, 3, 6, 10, 0, 0, 123456789, time.UTC),
		time.Date(2000, 2, 29, 23, 59, 59, 999999999, time.UTC),
		time.Date(1999, 12, 31, 0, 0, 0, 1, time.UTC),
		time.Date(2100, 3, 1, 12, 30, 15, 0, time.UTC),
	} {
		for layout, l := range map[string]timeLayout{
			"2006-01-02 15:04:05.000":      layoutUtcTime,
			"2006-01-02T15:04:05.000Z":     layoutISOms,
			"2006-01-02T15:04:05.000000Z":  layoutISO6,
			"2006-01-02T15:04:05.0000000Z": layoutISO7,
			"2006-01-02 15:04:05.0000000":  layoutSpace7,
			"2006-01-02 15:04:05":          layoutPlain,
		} {
			got := string(appendTime(nil, tc.UnixNano(), l))
			if want := tc.Format(layout); got != want {
				t.Errorf("appendTime(%v, %q) = %q, want %q", tc, layout, got, want)
			}
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", `C:\Windows\"x"`, "a\r\nb\tc\x01", "Microsoft® grace.o'brien müller", "emoji \U0001F600", "<&>"} {
		for _, ascii := range []bool{false, true} {
			b := appendJSONString(nil, s, ascii)
			var got string
			if err := json.Unmarshal(b, &got); err != nil || got != s {
				t.Errorf("appendJSONString(%q, %v) = %s: decodes to %q, %v", s, ascii, b, got, err)
			}
			if ascii {
				for _, c := range b {
					if c >= 0x80 {
						t.Errorf("appendJSONString(%q, true) = %s: not ASCII", s, b)
						break
					}
				}
			}
		}
	}
	// Invalid UTF-8 becomes U+FFFD, as encoding/json writes it.
	for _, ascii := range []bool{false, true} {
		s := "a\xff\xfeb\xe2\x82c"
		if got, want := string(appendJSONString(nil, s, ascii)), `"a\ufffd\ufffdb\ufffd\ufffdc"`; got != want {
			t.Errorf("appendJSONString(%q, %v) = %s, want %s", s, ascii, got, want)
		}
	}
}

func TestAppendXMLText(t *testing.T) {
	for _, s := range []string{"", `a<b>&'"c`, "line1\r\nline2", "müller ®"} {
		b := append([]byte("<x a='"), appendXMLText(nil, s)...)
		b = append(b, "'>"...)
		b = appendXMLText(b, s)
		b = append(b, "</x>"...)
		var v struct {
			A    string `xml:"a,attr"`
			Text string `xml:",chardata"`
		}
		if err := xml.Unmarshal(b, &v); err != nil || v.A != s || v.Text != s {
			t.Errorf("appendXMLText(%q): %s decodes to %q, %q, %v", s, b, v.A, v.Text, err)
		}
	}
}
