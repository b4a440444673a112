package window

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/hashicorp/golang-lru/v2/simplelru"
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

// floorWarm is the sketches' warm-up: their 60k kept buckets and 5 s more
// of AddStream's 1000-host, one-event-per-bucket stream.
const floorWarm = 65_000

// BenchmarkAlertFloor is not the window: it is a sketch of only the steps
// every one-event alert of AddStream/live/per-bucket=1 needs (a host
// lookup, a recycled bucket, 15 values shared with the host's previous
// bucket or copied, emission after the grace period with the SHA-256
// alert_id and the alert's field list, moving the host to the front of a
// golang-lru LRU of hosts, and forgetting the oldest of 60k emitted
// buckets), without side sets, sources, positions, revisions, late events,
// idle emission or any bookkeeping for them. It measures the floor this
// design sits on: BENCHMARKS.md compares the two.
func BenchmarkAlertFloor(b *testing.B) {
	type sketch struct {
		host string
		sec  int64
		vals [16]string
		id   string
		next *sketch
	}
	type sketchHost struct {
		id   uint64
		last *sketch
	}
	type pending struct {
		b    *sketch
		host *sketchHost
		time int64
	}
	g := newStreamGen(1000, 1)
	lru := sketchLRU[sketchHost](b)
	hosts := map[string]*sketchHost{}
	var free *sketch
	queue := make([]pending, 0, 1<<16)
	var kept []*sketch
	var idSec idSecCache
	fields := make([]Field, 15)
	steadyLoop(b, floorWarm, func(n int) {
		e := g.event(n)
		h := sketchHostOf(hosts, e.Host, func(id uint64) *sketchHost { return &sketchHost{id: id} })
		s := free
		if s != nil {
			free = s.next
			*s = sketch{}
		} else {
			s = &sketch{}
		}
		s.host, s.sec = e.Host, floorSec(e.Time)
		var text []byte
		for i, v := range e.Values {
			switch {
			case v == "":
			case h.last != nil && h.last.vals[i] == v:
				s.vals[i] = h.last.vals[i]
			default:
				if text == nil {
					text = make([]byte, 0, 128)
				}
				off := len(text)
				text = append(text, v...)
				s.vals[i] = unsafe.String(&text[off], len(v))
			}
		}
		h.last = s
		if len(queue) == cap(queue) {
			queue = append(make([]pending, 0, 1<<16), queue...)
		}
		queue = append(queue, pending{s, h, e.Time})
		for len(queue) > 0 && e.Time-queue[0].time >= 3e9 {
			o := queue[0]
			queue = queue[1:]
			var id [alertIDLen]byte
			o.b.id = string(idSec.appendAlertID(id[:0], "24143.44553", o.b.host, o.b.sec))
			for i := range fields {
				fields[i].Values = o.b.vals[i : i+1]
			}
			lru.Add(o.host.id, o.host)
			kept = append(kept, o.b)
			if len(kept) > 60_000 {
				old := kept[0]
				kept = kept[1:]
				old.next, free = free, old
			}
		}
	}, nil)
}

// BenchmarkAlertFloorFrozen sketches the same steps as BenchmarkAlertFloor
// with the layout BENCHMARKS.md once proposed for the 1M events/s target,
// measured here before building it: an emitted bucket frozen into one
// pointer-free byte slice (values, times, alert_id), so the collector has
// nothing to scan in revisable buckets and forgetting one reads nothing; open
// buckets recycled at emission, while still in the caches, their text
// reused; a host's next bucket sharing values by comparing with its latest
// frozen bucket. Every emission then copies all of a bucket's values (about
// 400 bytes) into fresh memory, where the window shares all but the new
// ones with the host's previous bucket: BENCHMARKS.md has the result.
func BenchmarkAlertFloorFrozen(b *testing.B) {
	const nf = 15
	type entry struct {
		sec, touch int64
		blob       []byte
	}
	type sketchHost struct {
		id     uint64
		recent []byte
		revs   sketchRevs[entry]
	}
	type sketch struct {
		host *sketchHost
		name string
		sec  int64
		vals [16]string
		text []byte
		next *sketch
	}
	type pending struct {
		b    *sketch
		time int64
	}
	g := newStreamGen(1000, 1)
	lru := sketchLRU[sketchHost](b)
	revsOf := func(h *sketchHost) *sketchRevs[entry] { return &h.revs }
	hosts := map[string]*sketchHost{}
	var free *sketch
	queue := make([]pending, 0, 1<<16)
	nrev := 0
	var idSec idSecCache
	fields := make([]Field, 15)
	var scratch [16]string
	recentAt := func(blob []byte, i int) string {
		if blob == nil {
			return ""
		}
		off := binary.LittleEndian.Uint32(blob[8*i:])
		n := binary.LittleEndian.Uint32(blob[8*i+4:])
		if n == 0 {
			return ""
		}
		return unsafe.String(&blob[off], n)
	}
	steadyLoop(b, floorWarm, func(n int) {
		e := g.event(n)
		h := sketchHostOf(hosts, e.Host, func(id uint64) *sketchHost { return &sketchHost{id: id} })
		s := free
		if s != nil {
			free = s.next
			s.vals = [16]string{}
			s.text = s.text[:0]
		} else {
			s = &sketch{text: make([]byte, 0, 256)}
		}
		s.host, s.name, s.sec = h, e.Host, floorSec(e.Time)
		for i, v := range e.Values {
			if v == "" {
				continue
			}
			if r := recentAt(h.recent, i); r == v {
				s.vals[i] = r
				continue
			}
			if cap(s.text)-len(s.text) < len(v) {
				s.text = make([]byte, 0, max(256, len(v)))
			}
			off := len(s.text)
			s.text = append(s.text, v...)
			s.vals[i] = unsafe.String(&s.text[off], len(v))
		}
		if len(queue) == cap(queue) {
			queue = append(make([]pending, 0, 1<<16), queue...)
		}
		queue = append(queue, pending{s, e.Time})
		for len(queue) > 0 && e.Time-queue[0].time >= 3e9 {
			o := queue[0]
			queue = queue[1:]
			bk := o.b
			size := 8*nf + 48 + alertIDLen
			for _, v := range bk.vals[:nf] {
				size += len(v)
			}
			blob := make([]byte, size)
			binary.LittleEndian.PutUint64(blob[8*nf:], 1)
			binary.LittleEndian.PutUint64(blob[8*nf+8:], 1)
			binary.LittleEndian.PutUint64(blob[8*nf+16:], uint64(o.time))
			binary.LittleEndian.PutUint64(blob[8*nf+24:], uint64(o.time))
			off := 8*nf + 48
			id := idSec.appendAlertID(blob[off:off], "24143.44553", bk.name, bk.sec)
			_ = id
			off += alertIDLen
			for i, v := range bk.vals[:nf] {
				binary.LittleEndian.PutUint32(blob[8*i:], uint32(off))
				binary.LittleEndian.PutUint32(blob[8*i+4:], uint32(len(v)))
				copy(blob[off:], v)
				if len(v) > 0 {
					scratch[i] = unsafe.String(&blob[off], len(v))
				} else {
					scratch[i] = ""
				}
				off += len(v)
			}
			for i := range fields {
				fields[i].Values = scratch[i : i+1]
			}
			hs := bk.host
			hs.recent = blob
			sketchKeep(lru, &nrev, hs.id, hs, revsOf, entry{bk.sec, o.time, blob})
			bk.next, free = free, bk
		}
	}, nil)
}

// BenchmarkAlertFloorCompact sketches the same steps as BenchmarkAlertFloor
// with the leanest layout found for one-event alerts, to measure what a
// rewrite could gain before making it. Each host keeps an immutable base
// snapshot of its usual values (replaced when an event differs from it in
// more than four fields); an open bucket notes which fields equal the base
// and copies only the others into text it reuses; an emitted bucket is
// kept as an entry in its host's list holding the base, that mask and one
// pointer-free slice of its own values, so nothing 60 s old is read when it
// is forgotten and the collector scans two pointers per revisable bucket.
// BENCHMARKS.md has the result.
func BenchmarkAlertFloorCompact(b *testing.B) {
	const nf = 15
	type base struct{ vals [16]string }
	type entry struct {
		sec, touch int64
		base       *base
		mask       uint32
		own        []byte
	}
	type sketchHost struct {
		id   uint64
		base *base
		revs sketchRevs[entry]
	}
	type open struct {
		host *sketchHost
		name string
		sec  int64
		time int64
		mask uint32
		own  [16]string
		text []byte
		next *open
	}
	g := newStreamGen(1000, 1)
	lru := sketchLRU[sketchHost](b)
	revsOf := func(h *sketchHost) *sketchRevs[entry] { return &h.revs }
	hosts := map[string]*sketchHost{}
	var free *open
	queue := make([]*open, 0, 1<<16)
	nrev := 0
	var idSec idSecCache
	fields := make([]Field, 15)
	var scratch [16]string
	steadyLoop(b, floorWarm, func(n int) {
		e := g.event(n)
		h := sketchHostOf(hosts, e.Host, func(id uint64) *sketchHost { return &sketchHost{id: id} })
		o := free
		if o != nil {
			free = o.next
			o.own = [16]string{}
			o.text = o.text[:0]
		} else {
			o = &open{text: make([]byte, 0, 512)}
		}
		o.host, o.name, o.sec, o.time, o.mask = h, e.Host, floorSec(e.Time), e.Time, 0
		nown := 0
		for i, v := range e.Values {
			if v == "" {
				continue
			}
			if h.base != nil && h.base.vals[i] == v {
				o.mask |= 1 << i
				continue
			}
			nown++
			off := len(o.text)
			o.text = append(o.text, v...)
			o.own[i] = unsafe.String(&o.text[off], len(v))
		}
		if nown > 4 {
			// The host's values drifted: a new base from this event.
			nb := &base{}
			size := 0
			for _, v := range e.Values {
				size += len(v)
			}
			text := make([]byte, 0, size)
			for i, v := range e.Values {
				if v != "" {
					off := len(text)
					text = append(text, v...)
					nb.vals[i] = unsafe.String(&text[off], len(v))
					o.mask |= 1 << i
				}
			}
			o.own = [16]string{}
			h.base = nb
		}
		if len(queue) == cap(queue) {
			queue = append(make([]*open, 0, 1<<16), queue...)
		}
		queue = append(queue, o)
		for len(queue) > 0 && e.Time-queue[0].time >= 3e9 {
			bk := queue[0]
			queue = queue[1:]
			hs := bk.host
			size := 0
			for i, v := range bk.own[:nf] {
				if bk.mask&(1<<i) == 0 && v != "" {
					size += 3 + len(v)
				}
			}
			blob := make([]byte, size)
			off := 0
			for i, v := range bk.own[:nf] {
				if bk.mask&(1<<i) != 0 || v == "" {
					continue
				}
				blob[off] = byte(i)
				binary.LittleEndian.PutUint16(blob[off+1:], uint16(len(v)))
				copy(blob[off+3:], v)
				scratch[i] = unsafe.String(&blob[off+3], len(v))
				off += 3 + len(v)
			}
			for i := range fields {
				if bk.mask&(1<<i) != 0 {
					fields[i].Values = hs.base.vals[i : i+1]
				} else {
					fields[i].Values = scratch[i : i+1]
				}
			}
			var id [alertIDLen]byte
			_ = idSec.appendAlertID(id[:0], "24143.44553", bk.name, bk.sec)
			sketchKeep(lru, &nrev, hs.id, hs, revsOf, entry{bk.sec, bk.time, hs.base, bk.mask, blob})
			bk.next, free = free, bk
		}
	}, nil)
}

// sketchRevs is a host's list of revisable entries in the sketches, oldest
// first from head; it reuses its room as pushRev does.
type sketchRevs[E any] struct {
	rev  []E
	head int
}

func (r *sketchRevs[E]) push(e E) {
	if len(r.rev) == cap(r.rev) && r.head > len(r.rev)/2 {
		k := copy(r.rev, r.rev[r.head:])
		clear(r.rev[k:])
		r.rev, r.head = r.rev[:k], 0
	}
	r.rev = append(r.rev, e)
}

// pop forgets the oldest entry and reports whether none is left.
func (r *sketchRevs[E]) pop() bool {
	var zero E
	r.rev[r.head] = zero
	r.head++
	if r.head < len(r.rev) {
		return false
	}
	r.rev, r.head = r.rev[:0], 0
	return true
}

// sketchKeep makes e, an emitted bucket of host h (id), revisable in the
// sketches: h moves to the front of the LRU and e to the end of h's list
// (revs(h)); then, while more than 60k entries are kept (*nrev), the host
// at the back of the LRU forgets its oldest.
func sketchKeep[H, E any](lru *simplelru.LRU[uint64, *H], nrev *int, id uint64, h *H, revs func(*H) *sketchRevs[E], e E) {
	lru.Add(id, h)
	revs(h).push(e)
	*nrev++
	for *nrev > 60_000 {
		k, back, _ := lru.GetOldest()
		*nrev--
		if revs(back).pop() {
			lru.Remove(k)
		}
	}
}

// sketchHostOf returns the sketches' record of host name, made by mk with
// the next id (from 1) on first sight.
func sketchHostOf[H any](hosts map[string]*H, name string, mk func(id uint64) *H) *H {
	h := hosts[name]
	if h == nil {
		h = mk(uint64(len(hosts) + 1))
		hosts[name] = h
	}
	return h
}

// sketchLRU returns the sketches' golang-lru LRU of hosts, large enough
// never to evict.
func sketchLRU[H any](b *testing.B) *simplelru.LRU[uint64, *H] {
	lru, err := simplelru.NewLRU[uint64, *H](1<<20, nil)
	if err != nil {
		b.Fatal(err)
	}
	return lru
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

// BenchmarkValueSet compares membership of a present value in a slice
// searched linearly with a map, by set size: where smallSet comes from.
func BenchmarkValueSet(b *testing.B) {
	for _, n := range []int{1, 4, 8, 16, 32, 64} {
		vals := make([]string, n)
		m := make(map[string]struct{}, n)
		for i := range vals {
			vals[i] = fmt.Sprintf("{%08x-4f89-11d3-9a0c-0305e82c3301}", i)
			m[vals[i]] = struct{}{}
		}
		probe := make([]string, n) // equal strings, different pointers
		for i := range probe {
			probe[i] = string([]byte(vals[i]))
		}
		b.Run(fmt.Sprintf("slice/%d", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				v := probe[i%n]
				for _, x := range vals {
					if x == v {
						break
					}
				}
				i++
			}
		})
		b.Run(fmt.Sprintf("map/%d", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				_ = m[probe[i%n]]
				i++
			}
		})
	}
}
