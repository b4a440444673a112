package window

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cimFields are the seed rule's 15 output fields.
var cimFields = []string{
	"user", "process", "process_current_directory", "process_exec", "process_guid",
	"process_hash", "process_id", "process_integrity_level", "process_name", "process_path",
	"parent_process_exec", "parent_process_guid", "parent_process_id", "parent_process_name",
	"parent_process_path",
}

func cimConfig() Config {
	cfg := testConfig()
	cfg.Fields = cimFields
	return cfg
}

// hostValues returns realistic values for Sysmon process creations of host
// h, with process_guid (index 4) and process_id (index 6) left to fill per
// event.
func hostValues(h int) []string {
	return []string{
		fmt.Sprintf(`CORP\user%04d`, h),
		fmt.Sprintf(`msiexec.exe /i "C:\Users\user%04d\AppData\Local\Temp\setup-%d.msi" /qn`, h, h%97),
		`C:\Windows\system32\`,
		"msiexec.exe",
		"",
		fmt.Sprintf("SHA256=%064x,IMPHASH=%032x", h%13, h%7),
		"",
		"High",
		"msiexec.exe",
		`C:\Windows\System32\msiexec.exe`,
		"cmd.exe",
		fmt.Sprintf("{%08x-0000-11d3-9a0c-0305e82c3301}", h),
		strconv.Itoa(500 + h%3000),
		"cmd.exe",
		`C:\Windows\System32\cmd.exe`,
	}
}

// cimValues returns the values of event n of host h: the host's shared
// strings plus a per-event process_guid and process_id.
func cimValues(h, n int) []string {
	v := hostValues(h)
	v[4] = fmt.Sprintf("{%08x-4f89-11d3-9a0c-%012x}", h, n)
	v[6] = strconv.Itoa(1000 + n%60000)
	return v
}

// streamGen generates a realistic stream: hosts hosts all matching every
// second, perBucket events per (host, second), in time order, sources over
// 4 partitions. Like a detector, it fills one reused values slice per host:
// shared strings for what a host's events have in common, a per-event
// process_guid and process_id (from rings of pre-built strings, so the
// benchmark measures the window, not string formatting or cold input).
type streamGen struct {
	hosts, perBucket int
	names            []string
	values           [][]string
	guids, pids      []string
}

func newStreamGen(hosts, perBucket int) *streamGen {
	g := &streamGen{hosts: hosts, perBucket: perBucket}
	for h := range hosts {
		g.names = append(g.names, fmt.Sprintf("WKS-%06d.corp.example", h))
		g.values = append(g.values, hostValues(h))
	}
	for n := range 4096 {
		g.guids = append(g.guids, fmt.Sprintf("{%08x-4f89-11d3-9a0c-%012x}", n*7, n))
		g.pids = append(g.pids, strconv.Itoa(1000+n))
	}
	return g
}

// event returns event n of the stream; its Values are valid until the
// next call for the same host.
func (g *streamGen) event(n int) Event {
	bucket, k := n/g.perBucket, n%g.perBucket
	h, sec := bucket%g.hosts, bucket/g.hosts
	v := g.values[h]
	v[4], v[6] = g.guids[n%len(g.guids)], g.pids[n%len(g.pids)]
	return Event{
		Host:   g.names[h],
		Time:   ts(int64(sec), int64(k*(1000/g.perBucket)+h%(1000/g.perBucket))),
		Values: v,
		Source: Source{Topic: "sysmon", Partition: int32(n % 4), Offset: int64(n / 4)},
	}
}

// BenchmarkAddHot adds to an open bucket whose values are all present.
func BenchmarkAddHot(b *testing.B) {
	w := mustNew(b, cimConfig())
	e := Event{Host: "WKS-000001.corp.example", Time: ts(0, 1), Values: cimValues(1, 1), Source: Source{Topic: "sysmon", Offset: 1}}
	now := clk(0)
	for range 200 {
		w.Add(e, now, nil)
	}
	b.ReportAllocs()
	for b.Loop() {
		w.Add(e, now, nil)
	}
}

// BenchmarkAddStream aggregates a realistic stream: 1000 hosts matching
// every second, perBucket events per (host, second), 15 CIM fields with
// per-event process ids and guids; the caller's clock follows event time.
// Every bucket goes through its whole life: created, emitted by its host's
// watermark, kept revisable for Retain (1 min: 60k buckets), forgotten.
func BenchmarkAddStream(b *testing.B) {
	for _, perBucket := range []int{1, 3, 10} {
		for _, mode := range []string{"live", "backtest"} {
			b.Run(fmt.Sprintf("%s/per-bucket=%d", mode, perBucket), func(b *testing.B) {
				benchStream(b, 1000, perBucket, mode == "backtest")
			})
		}
	}
}

// BenchmarkAddStreamHosts is BenchmarkAddStream's live stream with 10 to
// 10k hosts: with 10 hosts everything the window touches stays in the
// CPU's caches (600 revisable buckets), with 1000 and more it does not.
// The difference is what cache misses cost; what remains with 10 hosts is
// the work itself.
func BenchmarkAddStreamHosts(b *testing.B) {
	for _, hosts := range []int{10, 100, 1000, 10_000} {
		for _, perBucket := range []int{1, 3, 10} {
			b.Run(fmt.Sprintf("hosts=%d/per-bucket=%d", hosts, perBucket), func(b *testing.B) {
				benchStream(b, hosts, perBucket, false)
			})
		}
	}
}

func benchStream(b *testing.B, hosts, perBucket int, backtest bool) {
	g := newStreamGen(hosts, perBucket)
	cfg := cimConfig()
	cfg.Backtest = backtest
	cfg.Retain = time.Minute
	w := mustNew(b, cfg)
	alerts := 0
	emit := func(*Alert) { alerts++ }
	buckets := min(hosts*int(cfg.Retain/time.Second), w.cfg.RetainBuckets) + 5*hosts
	steadyLoop(b, buckets*perBucket, func(n int) {
		e := g.event(n)
		w.Add(e, time.Unix(0, e.Time), emit)
	}, func() { alerts = 0 })
	b.ReportMetric(float64(alerts)/float64(b.N), "alerts/event")
}

// steadyLoop times step(n) for n = warm, warm+1, ... after running it for
// n < warm untimed, then calls reset (to zero the caller's counters). The
// stream benchmarks warm up for Retain and a few seconds of stream, so that
// buckets are forgotten as fast as they are created and reused from the
// free list: timing the ramp instead would measure a window filling up,
// which a running service does once. It reports events/s.
func steadyLoop(b *testing.B, warm int, step func(n int), reset func()) {
	n := 0
	for ; n < warm; n++ {
		step(n)
	}
	if reset != nil {
		reset()
	}
	b.ReportAllocs()
	for b.Loop() {
		step(n)
		n++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkBytesPerBucket measures the heap held per open bucket (one event,
// 15 realistic CIM values, about 400 bytes of value text, one host each),
// per revisable bucket (the same, after emission) and per idle host (after
// the buckets are forgotten: what remains is the host's horizon). Each op is
// 100k buckets; the input is built before the measurement, so only what the
// window keeps counts.
func BenchmarkBytesPerBucket(b *testing.B) {
	const n = 100_000
	events := make([]Event, n)
	text := 0
	for h := range events {
		events[h] = Event{Host: fmt.Sprintf("WKS-%06d.corp.example", h), Time: ts(0, 0), Values: cimValues(h, h),
			Source: Source{Topic: "sysmon", Offset: int64(h)}}
		for _, v := range events[h].Values {
			text += len(v)
		}
	}
	var open, revisable, idle float64
	for b.Loop() {
		before := heapInUse()
		w := mustNew(b, cimConfig())
		for _, e := range events {
			w.Add(e, clk(0), nil)
		}
		mid := heapInUse()
		w.Flush(nil)
		after := heapInUse()
		w.Advance(clk(time.Hour), nil)
		forgotten := heapInUse()
		open = float64(mid-before) / n
		revisable = float64(after-before) / n
		idle = float64(forgotten-before) / n
		if s := w.Stats(); s.Revisable != 0 || s.Hosts != n {
			b.Fatalf("stats = %+v", s)
		}
	}
	b.ReportMetric(open, "B/open-bucket")
	b.ReportMetric(revisable, "B/revisable-bucket")
	b.ReportMetric(idle, "B/idle-host")
	b.ReportMetric(float64(text)/n, "B-text/bucket")
}

// BenchmarkSafePositions times SafePositions over 100k revisable buckets
// spread over 4 partitions.
func BenchmarkSafePositions(b *testing.B) {
	g := newStreamGen(100_000, 1)
	w := mustNew(b, cimConfig())
	for n := range 100_000 {
		e := g.event(n)
		w.Add(e, clk(0), nil)
	}
	w.Flush(nil)
	b.ReportAllocs()
	for b.Loop() {
		if len(w.SafePositions()) != 4 {
			b.Fatal("want 4 partitions")
		}
	}
}

// BenchmarkBounded10M runs 10M events from 100k hosts (100 each, spread
// over 1000 s of event time, caller's clock = event time, default
// retention) and reports the peak and final live heap, sampled every 500k
// events. Memory stays bounded when the peak of the second half of the run
// is no higher than that of the first. Run with -benchtime=1x.
func BenchmarkBounded10M(b *testing.B) {
	const hosts, total, span = 100_000, 10_000_000, 1000
	// 2000 distinct events, reused with different hosts and times.
	proto := make([][]string, 2000)
	for i := range proto {
		proto[i] = cimValues(i, i)
	}
	hostNames := make([]string, hosts)
	for h := range hostNames {
		hostNames[h] = fmt.Sprintf("WKS-%06d.corp.example", h)
	}
	for b.Loop() {
		w := mustNew(b, cimConfig())
		var peak1, peak2 uint64
		for i := range total {
			// Event i: host i%hosts; time increases with i so every host
			// gets a new bucket every 10 s.
			t := ts(int64(i)*span/total, int64(i%1000))
			e := Event{Host: hostNames[(i*7919)%hosts], Time: t, Values: proto[i%len(proto)],
				Source: Source{Topic: "sysmon", Partition: int32(i % 8), Offset: int64(i / 8)}}
			w.Add(e, time.Unix(0, t), nil)
			if i%500_000 == 499_999 {
				h := heapInUse()
				if i < total/2 {
					peak1 = max(peak1, h)
				} else {
					peak2 = max(peak2, h)
				}
			}
		}
		s := w.Stats()
		b.ReportMetric(float64(peak1)/(1<<20), "peak-MB-first-5M")
		b.ReportMetric(float64(peak2)/(1<<20), "peak-MB-last-5M")
		b.ReportMetric(float64(s.Open), "open")
		b.ReportMetric(float64(s.Revisable), "revisable")
		b.ReportMetric(float64(s.Alerts), "alerts")
	}
}

// BenchmarkFlood reports the heap adversarial floods hold under the default
// caps (issue 14; window.Config's DefaultMemoryBudget, DefaultMaxValues),
// the clock being event time. "hosts": 1M distinct host names of 201-260
// bytes, one event each with a distinct 1 KB command line, 10k hosts per
// second of event time. "values": 100k events in one host-second, each with
// a distinct 200-byte command line and its own process_guid and process_id.
// The heap is sampled after GC every tenth of the flood.
func BenchmarkFlood(b *testing.B) {
	pad := strings.Repeat("x", 254)
	flood := func(b *testing.B, n int, event func(i int) Event) {
		for b.Loop() {
			w := mustNew(b, cimConfig())
			var peak uint64
			for i := range n {
				e := event(i)
				w.Add(e, time.Unix(0, e.Time), nil)
				if i%(n/10) == n/10-1 {
					peak = max(peak, heapInUse())
				}
			}
			s := w.Stats()
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(s.Memory)/(1<<20), "estimate-MB")
			b.ReportMetric(float64(s.Hosts), "hosts")
			b.ReportMetric(float64(s.HostsEvicted), "hosts-evicted")
			b.ReportMetric(float64(s.Evicted), "buckets-evicted")
			b.ReportMetric(float64(s.MemoryEvicted), "buckets-memory-evicted")
			b.ReportMetric(float64(s.OmittedValues), "omitted-values")
		}
	}
	b.Run("hosts", func(b *testing.B) {
		flood(b, 1_000_000, func(i int) Event {
			v := cimValues(i, i)
			v[1] = pad[:200+i%55] + strconv.Itoa(i) + pad + pad + pad + pad[:3]
			return Event{Host: strconv.Itoa(i) + pad[:200+i%55], Time: ts(int64(i/10_000), int64(i%1000)),
				Values: v, Source: Source{Topic: "sysmon", Partition: int32(i % 8), Offset: int64(i / 8)}}
		})
	})
	b.Run("values", func(b *testing.B) {
		flood(b, 100_000, func(i int) Event {
			v := cimValues(1, i)
			v[1] = pad[:190] + strconv.Itoa(1_000_000+i)
			return Event{Host: "WKS-0001.corp.example", Time: ts(0, int64(i%1000)), Values: v,
				Source: Source{Topic: "sysmon", Partition: int32(i % 8), Offset: int64(i / 8)}}
		})
	})
}
