package window

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// unset is the clock reading before the window has seen any time.
const unset = math.MinInt64

// Window groups matched events into (host, second) buckets and emits each
// bucket as an Alert; see the package documentation for when.
//
// A Window is owned by one goroutine: it is not safe for concurrent use.
// Every method that takes an emit callback calls it synchronously, zero or
// more times, before returning; the *Alert it receives is valid only during
// the call (see Alert). emit must not call methods of the Window. A nil
// emit discards alerts (they are still counted in Stats).
type Window struct {
	cfg        Config
	order      []int // field indexes, sorted by field name
	fieldIndex map[string]int
	grace      int64
	idle       int64
	retain     int64

	// clock is the window's time in Unix ns: the caller's clock in live
	// mode, the event-time watermark in backtest mode; unset before any.
	clock int64
	topk  topK

	// hosts holds every host the window remembers (see hostState).
	hosts map[string]*hostState
	// hostIDs is the last hostState.id given.
	hostIDs uint64
	// idleHostsHead..Tail: hosts with no open or revisable bucket, least
	// recently active first; idleHosts counts them.
	idleHostsHead, idleHostsTail *hostState
	idleHosts                    int
	// idleHead..idleTail: open buckets, least recently touched first.
	idleHead, idleTail *bucket
	open               int

	// revisable holds the hosts with revisable buckets, the one that
	// kept one least recently at the back; nrev counts the buckets (see
	// revisable.go).
	revisable *simplelru.LRU[uint64, *hostState]
	nrev      int

	// parts is the table of partitions (and files) that srcRefs index;
	// partIdx indexes it.
	parts   []partEntry
	partIdx map[partEntry]uint32
	// partHint[p%16] is 1 + the table index of the Kafka partition last
	// found with number p (mod 16), 0 for none (see ref).
	partHint [16]uint32

	// free holds forgotten buckets, reset, for reuse (linked by next);
	// nfree counts them, up to maxFree.
	free  *bucket
	nfree int

	// sets supplies and recycles the arrays of side sets.
	sets  setPool
	fresh []int // scratch for addEvent
	// idSec caches the decimal form of the second of the latest alert_id
	// (alerts come in runs of the same second, one per host).
	idSec idSecCache
	alert Alert
	stats Stats
}

// Stats are the window's counters. Open, Revisable and Hosts are current
// sizes; the rest count since New.
type Stats struct {
	Open      int // buckets open (not yet emitted, or reopened by a late event)
	Revisable int // emitted buckets still revisable
	Hosts     int // hosts remembered (with buckets, or with a horizon)

	Events     int64 // events passed to Add, including dropped ones
	NoHost     int64 // events dropped because Host was empty
	Malformed  int64 // events whose Values length differed from Config.Fields
	LateEvents int64 // events added to late buckets

	Alerts     int64 // alerts emitted with revision 1 (new alert_ids)
	Revisions  int64 // alerts emitted with revision > 1
	LateAlerts int64 // alerts emitted with late=true (also in Alerts or Revisions)

	Reopened     int64 // revisable buckets reopened by an event
	Expired      int64 // revisable buckets forgotten after Retain
	Evicted      int64 // revisable buckets forgotten early because RetainBuckets was reached
	HostsEvicted int64 // idle hosts (and their horizons) forgotten because RetainHosts was reached

	Restored        int64 // alerts passed to Restore and accepted
	RestoreFields   int64 // restored fields ignored because Config.Fields lacks them
	RestoreAbsorbed int64 // replayed events a restored alert already counted
}

// ErrForeignAlert is returned by Restore for an alert of another rule.
var ErrForeignAlert = errors.New("window: alert belongs to another rule")

// ErrBadAlert is returned by Restore for an alert that cannot have been
// emitted by a Window (no host, revision < 1 or above 2^31-1, event_count
// < 1).
var ErrBadAlert = errors.New("window: malformed alert")

// New returns a Window for cfg, with defaults applied to zero options.
func New(cfg Config) (*Window, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	cfg.Fields = slices.Clone(cfg.Fields)
	cfg.Techniques = slices.Clone(cfg.Techniques)
	if cfg.Techniques == nil {
		cfg.Techniques = []string{}
	}
	w := &Window{
		cfg:        cfg,
		fieldIndex: make(map[string]int, len(cfg.Fields)),
		grace:      int64(cfg.Grace),
		idle:       int64(cfg.IdleTimeout),
		retain:     int64(cfg.Retain),
		clock:      unset,
		hosts:      make(map[string]*hostState),
		partIdx:    make(map[partEntry]uint32),
	}
	for i, f := range cfg.Fields {
		w.order = append(w.order, i)
		w.fieldIndex[f] = i
	}
	slices.SortFunc(w.order, func(a, b int) int { return strings.Compare(cfg.Fields[a], cfg.Fields[b]) })
	var err error
	// One more host than buckets: keep adds a bucket's host before it
	// evicts (see keep).
	if w.revisable, err = simplelru.NewLRU[uint64, *hostState](satAddInt(cfg.RetainBuckets, 1), nil); err != nil {
		return nil, fmt.Errorf("%w: RetainBuckets: %v", ErrConfig, err)
	}
	w.alert = Alert{RuleID: cfg.RuleID, RuleTitle: cfg.RuleTitle, Techniques: cfg.Techniques}
	return w, nil
}

func discard(*Alert) {}

// Add adds one matched event and emits every bucket that became due.
//
// now is the caller's clock (live mode); it is ignored in backtest mode,
// and a zero now means "no reading". The window's clock never moves back:
// a now earlier than one already seen counts as the latest one.
func (w *Window) Add(ev Event, now time.Time, emit func(*Alert)) {
	if emit == nil {
		emit = discard
	}
	w.stats.Events++
	if ev.Host == "" {
		w.stats.NoHost++
		return
	}
	if len(ev.Values) != len(w.cfg.Fields) {
		w.stats.Malformed++
	}
	if !w.cfg.Backtest {
		w.observeNow(now)
	}
	sec := floorSec(ev.Time)
	hs := w.hosts[ev.Host]
	var b *bucket
	if hs != nil {
		b = hs.find(sec)
	} else {
		hs = w.host(ev.Host)
	}
	if b == nil {
		b = w.lookup(ev, sec, hs)
	}
	if w.cfg.Backtest {
		w.setClock(w.topk.observe(hs.host, ev.Time))
	}
	w.addEvent(b, &ev)
	w.touch(b)
	if len(hs.open) > 1 {
		// The host's own clock has moved: emit its other buckets that it
		// has passed by Grace.
		for i := 0; i < len(hs.open); {
			c := hs.open[i]
			if c != b && ev.Time >= satAdd(satAdd(c.sec*1e9, 1e9), w.grace) {
				w.close(c, emit)
				continue
			}
			i++
		}
	}
	w.expire(emit)
}

// lookup finds the bucket for ev outside the host's open buckets: a
// revisable one to reopen, else a new one (a late one if the host has
// already forgotten a bucket at or after sec).
func (w *Window) lookup(ev Event, sec int64, hs *hostState) *bucket {
	if b := hs.revisableAt(sec, false); b != nil {
		w.reopen(b)
		return b
	}
	late := false
	if sec <= hs.horizon {
		late = true
		if b := hs.revisableAt(sec, true); b != nil {
			w.reopen(b)
			return b
		}
	}
	b := w.newBucket()
	b.hs, b.sec, b.late = hs, sec, late
	if late {
		b.id = LateAlertID(w.cfg.RuleID, hs.host, sec, ev.Time, ev.Source)
	}
	w.openBucket(b)
	return b
}

func (w *Window) newBucket() *bucket {
	if b := w.free; b != nil {
		w.free, b.next = b.next, nil
		w.nfree--
		return b
	}
	return newBucket(len(w.cfg.Fields))
}

// maxFree bounds the free list: enough to absorb one Add's or Advance's
// worth of forgotten buckets in the steady state, small next to the
// buckets held.
const maxFree = 1024

// recycle puts a forgotten bucket on the free list.
func (w *Window) recycle(b *bucket) {
	if w.nfree >= maxFree {
		return
	}
	b.reset(&w.sets)
	b.next = w.free
	w.free = b
	w.nfree++
}

// reopen moves a revisable bucket back to the open set.
func (w *Window) reopen(b *bucket) {
	w.dropRevisable(b)
	w.stats.Reopened++
	w.openBucket(b)
}

func (w *Window) openBucket(b *bucket) {
	hs := b.hs
	w.busy(hs)
	b.state = stateOpen
	hs.open = append(hs.open, b)
	w.open++
	b.touch = w.clock
	w.linkTail(b)
}

func (w *Window) addEvent(b *bucket, ev *Event) {
	vals := ev.Values
	if len(vals) > len(b.vals) {
		vals = vals[:len(b.vals)]
	}
	// Find the new values, then copy them into the bucket's text in one
	// go: at most one allocation per event, none if nothing is new.
	// A value equal to one of the host's latest bucket shares its copy
	// instead (a host's buckets mostly repeat the same user, process and
	// paths). Every string in a bucket's vals is an immutable copy the
	// window made, so equality is all sharing needs.
	hs := b.hs
	var recent []string
	if hs.last != nil && hs.last != b {
		recent = hs.last.vals
	}
	fresh := w.fresh[:0]
	size := 0
	changed := false
	// A bucket's first event (most buckets have one) finds every field
	// empty: no membership tests, no side sets.
	first := b.count == 0 && len(b.multi) == 0
	if first {
		bv := b.vals[:len(vals)]
		recent = recent[:min(len(recent), len(vals))]
		for i, v := range vals {
			if v == "" {
				continue
			}
			if i < len(recent) && recent[i] == v {
				bv[i] = recent[i]
				continue
			}
			fresh = append(fresh, i)
			size += len(v)
		}
		changed = true // a first event always changes the bucket's count
	} else {
		for i, v := range vals {
			if v == "" {
				continue
			}
			// Most fields hold one value: test it here, without a call.
			if i < 64 && b.multiMask&(1<<i) == 0 {
				if b.vals[i] == v {
					continue
				}
			} else if b.has(i, v) {
				continue
			}
			changed = true
			if i < len(recent) && recent[i] == v {
				b.insert(i, recent[i], &w.sets)
				continue
			}
			fresh = append(fresh, i)
			size += len(v)
		}
	}
	if len(fresh) > 0 {
		b.reserve(size)
		for _, i := range fresh {
			if first {
				b.vals[i] = b.keep(vals[i])
			} else {
				b.insert(i, b.keep(vals[i]), &w.sets)
			}
		}
		hs.last = b
	}
	w.fresh = fresh
	t := ev.Time
	switch {
	case b.count == 0:
		b.first, b.last = t, t
		changed = true
	case t < b.first:
		b.first = t
		changed = true
	case t > b.last:
		b.last = t
		changed = true
	}
	known := !ev.Source.IsZero()
	var src srcRef
	if known {
		src = w.ref(ev.Source)
	}
	if b.restored && b.absorb(src, known) {
		w.stats.RestoreAbsorbed++
	} else {
		b.count++
		changed = true
		if known && len(b.sources) < w.cfg.MaxSources {
			b.sources = append(b.sources, src)
		}
	}
	if known {
		b.notePos(src)
	}
	if changed {
		b.dirty = true
	}
	if b.late {
		w.stats.LateEvents++
	}
}

// touch stamps an open bucket with the clock and moves it to the idle tail.
func (w *Window) touch(b *bucket) {
	b.touch = w.clock
	if b != w.idleTail {
		w.unlink(b)
		w.linkTail(b)
	}
}

func (w *Window) linkTail(b *bucket) {
	b.prev, b.next = w.idleTail, nil
	if w.idleTail != nil {
		w.idleTail.next = b
	} else {
		w.idleHead = b
	}
	w.idleTail = b
}

func (w *Window) unlink(b *bucket) {
	if b.prev != nil {
		b.prev.next = b.next
	} else {
		w.idleHead = b.next
	}
	if b.next != nil {
		b.next.prev = b.prev
	} else {
		w.idleTail = b.prev
	}
	b.prev, b.next = nil, nil
}

// close emits an open bucket if it has anything new and makes it revisable.
func (w *Window) close(b *bucket, emit func(*Alert)) {
	hs := b.hs
	w.unlink(b)
	i := slices.Index(hs.open, b)
	hs.open = slices.Delete(hs.open, i, i+1)
	w.open--
	if b.dirty {
		w.emitBucket(b, emit)
	}
	w.keep(b)
}

// forget drops a bucket no longer revisable, remembering its second as its
// host's horizon so later events for it are recognized as late.
func (w *Window) forget(b *bucket) {
	hs := b.hs
	hs.horizon = max(hs.horizon, b.sec)
	if hs.last == b {
		hs.last = nil
	}
	if hs.nrev == 0 {
		w.settle(hs)
	}
	w.recycle(b)
}

func (w *Window) emitBucket(b *bucket, emit func(*Alert)) {
	if b.revision < math.MaxInt32 {
		b.revision++
	}
	b.dirty = false
	if b.id == "" {
		var id [alertIDLen]byte
		b.id = b.keepBytes(w.idSec.appendAlertID(id[:0], w.cfg.RuleID, b.hs.host, b.sec))
	}
	a := &w.alert
	a.AlertID = b.id
	a.Time = b.sec
	a.Host = b.hs.host
	a.EventCount = b.count
	a.Revision = int(b.revision)
	a.Late = b.late
	// Overwrite the previous alert's fields and sources in place, storing
	// only what differs: most names and topics are the same, and each
	// pointer stored costs a write barrier while the collector marks.
	fields := a.Fields[:cap(a.Fields)]
	n := 0
	single := len(b.multi) == 0
	for _, i := range w.order {
		var vals []string
		switch {
		case !single:
			vals = b.values(i)
		case b.vals[i] != "":
			vals = b.vals[i : i+1]
		}
		if len(vals) == 0 {
			continue
		}
		if n == len(fields) {
			fields = append(fields, Field{})
			fields = fields[:cap(fields)]
		}
		f := &fields[n]
		if name := w.cfg.Fields[i]; !sameString(f.Name, name) {
			f.Name = name
		}
		f.Values = vals
		n++
	}
	a.Fields = fields[:n]
	a.FirstSeen, a.LastSeen = b.first, b.last
	sources := a.Sources[:cap(a.Sources)]
	for k, r := range b.sources {
		if k == len(sources) {
			sources = append(sources, Source{})
			sources = sources[:cap(sources)]
		}
		w.setSource(&sources[k], r)
	}
	a.Sources = sources[:len(b.sources)]
	a.SourcesOmitted = max(b.count-len(b.sources), 0)
	if b.revision == 1 {
		w.stats.Alerts++
	} else {
		w.stats.Revisions++
	}
	if b.late {
		w.stats.LateAlerts++
	}
	emit(a)
}

// Advance moves the caller's clock to now and emits every bucket idle for
// IdleTimeout; it also forgets buckets revisable for longer than Retain.
// Call it periodically (every second, say) so that rare matches are emitted
// within about IdleTimeout even when no further event arrives. It does
// nothing in backtest mode.
func (w *Window) Advance(now time.Time, emit func(*Alert)) {
	if w.cfg.Backtest {
		return
	}
	if emit == nil {
		emit = discard
	}
	w.observeNow(now)
	w.expire(emit)
}

// expire emits idle buckets and forgets expired revisable ones.
func (w *Window) expire(emit func(*Alert)) {
	if w.clock == unset {
		return
	}
	for b := w.idleHead; b != nil && elapsed(b.touch, w.clock, w.idle); b = w.idleHead {
		w.close(b, emit)
	}
	w.expireRevisable()
}

// Flush emits every open bucket with anything new, least recently touched
// first, whatever the clock says: at shutdown, on partition revocation and
// at the end of a backtest. Flushed buckets stay revisable (and keep holding
// their positions in SafePositions).
func (w *Window) Flush(emit func(*Alert)) {
	if emit == nil {
		emit = discard
	}
	for w.idleHead != nil {
		w.close(w.idleHead, emit)
	}
}

// SafePositions returns, per source partition, the lowest position held by
// an event of an open or revisable bucket. Partitions not listed hold
// nothing. A caller that commits, for each partition, this position (or,
// when absent, the position after the last event it added) and restarts
// reading from there after a crash gives a fresh Window every event of every
// bucket that was open or revisable: Restore the published alerts, replay,
// and each bucket is rebuilt complete. In Kafka terms the returned offset is
// the one to commit (a committed offset names the next record to read).
//
// Commit only positions whose alerts have been durably published: an alert
// emitted but lost in flight is only rebuilt if its events are replayed.
//
// It scans every open and revisable bucket (about 5 ms per 100k on the
// benchmark machine): call it when committing, not per event.
func (w *Window) SafePositions() map[Partition]int64 {
	mins := make([]int64, len(w.parts))
	for i := range mins {
		mins[i] = math.MaxInt64
	}
	note := func(b *bucket) {
		for _, r := range b.pos {
			mins[r.part] = min(mins[r.part], r.pos)
		}
	}
	for b := w.idleHead; b != nil; b = b.next {
		note(b)
	}
	w.eachRevisable(note)
	m := make(map[Partition]int64)
	for i, pos := range mins {
		if pos == math.MaxInt64 {
			continue
		}
		p := w.parts[i].asPartition()
		if cur, ok := m[p]; !ok || pos < cur {
			m[p] = pos
		}
	}
	return m
}

// Restore tells the window about an alert published before a restart (read
// back from the compacted alerts topic), before replaying from the
// positions SafePositions returned. The bucket becomes revisable with the
// alert's content and revision. Replayed events the alert already counted
// (same source; or, when the alert omitted sources, up to SourcesOmitted
// unlisted ones) change nothing; when the rebuilt bucket ends up equal to
// the alert nothing is emitted, otherwise it is emitted as revision
// a.Revision+1 with the union. So a crash and replay re-emits nothing that
// was already published complete, and a partially replayed bucket never
// replaces the complete alert.
//
// Restore every published alert whose bucket may have events at or after
// the committed positions (in practice: all alerts of the last Retain plus
// the replay's span of event time). Restoring a late alert also restores
// its host's horizon. Fields the Config does not list are ignored
// (Stats.RestoreFields). Restoring a bucket the window already holds merges
// the alert into it. The alert is not retained.
func (w *Window) Restore(a *Alert) error {
	if a.RuleID != w.cfg.RuleID {
		return fmt.Errorf("%w: alert %s has rule_id %q, this window runs %q", ErrForeignAlert, a.AlertID, a.RuleID, w.cfg.RuleID)
	}
	if a.Host == "" || a.Revision < 1 || a.Revision > math.MaxInt32 || a.EventCount < 1 {
		return fmt.Errorf("%w: alert %s: host %q, revision %d, event_count %d", ErrBadAlert, a.AlertID, a.Host, a.Revision, a.EventCount)
	}
	w.stats.Restored++
	hs := w.host(a.Host)
	if a.Late {
		// The previous run had forgotten the on-time bucket.
		hs.horizon = max(hs.horizon, a.Time)
	}
	var b *bucket
	for _, c := range hs.open {
		if c.sec == a.Time && c.late == a.Late {
			b = c
		}
	}
	if b == nil {
		b = hs.revisableAt(a.Time, a.Late)
	}
	if b != nil {
		w.merge(b, a)
		w.settle(hs)
		return nil
	}
	b = w.newBucket()
	b.hs, b.sec, b.late = hs, a.Time, a.Late
	b.id = strings.Clone(a.AlertID)
	b.revision = int32(a.Revision)
	b.count = a.EventCount
	b.first, b.last = a.FirstSeen, a.LastSeen
	w.restoreFields(b, a)
	n := min(len(a.Sources), w.cfg.MaxSources)
	for _, src := range a.Sources[:n] {
		b.sources = append(b.sources, w.ref(src))
	}
	b.restored = true
	b.unlisted = unlistedOf(a, n)
	w.busy(hs)
	w.keep(b)
	return nil
}

func (w *Window) restoreFields(b *bucket, a *Alert) {
	for _, f := range a.Fields {
		i, ok := w.fieldIndex[f.Name]
		if !ok {
			w.stats.RestoreFields++
			continue
		}
		for _, v := range f.Values {
			if v != "" {
				b.addValue(i, v, &w.sets)
			}
		}
	}
}

// unlistedOf is how many of a restored alert's events its listed sources
// do not account for, when listed of them are kept; bucket.unlisted.
func unlistedOf(a *Alert, listed int) int32 {
	return int32(min(max(a.EventCount-listed, 0), math.MaxInt32))
}

// merge folds a restored alert into a bucket the window already holds.
func (w *Window) merge(b *bucket, a *Alert) {
	w.restoreFields(b, a)
	b.count = max(b.count, a.EventCount)
	b.first = min(b.first, a.FirstSeen)
	b.last = max(b.last, a.LastSeen)
	for _, s := range a.Sources {
		if len(b.sources) >= w.cfg.MaxSources {
			break
		}
		if r := w.ref(s); !slices.Contains(b.sources, r) {
			b.sources = append(b.sources, r)
		}
	}
	b.revision = max(b.revision, int32(a.Revision))
	b.restored = true
	b.unlisted = unlistedOf(a, len(a.Sources))
	aValues := 0
	for _, f := range a.Fields {
		if _, ok := w.fieldIndex[f.Name]; ok {
			aValues += len(f.Values)
		}
	}
	b.dirty = b.count != a.EventCount || b.first != a.FirstSeen || b.last != a.LastSeen || b.numValues() != aValues
	if b.dirty && b.state == stateRevisable {
		w.reopen(b)
	}
}

// Stats returns the window's counters.
func (w *Window) Stats() Stats {
	s := w.stats
	s.Open = w.open
	s.Revisable = w.nrev
	s.Hosts = len(w.hosts)
	return s
}

// observeNow advances the live clock to now.
func (w *Window) observeNow(now time.Time) {
	if now.IsZero() {
		return
	}
	w.setClock(now.UnixNano())
}

// setClock moves the clock forward to c; the first reading stamps buckets
// touched while the clock was unset (restored ones, or added with a zero now).
func (w *Window) setClock(c int64) {
	if c == unset || c <= w.clock {
		return
	}
	if w.clock == unset {
		for b := w.idleHead; b != nil; b = b.next {
			b.touch = c
		}
		w.stampRevisable(c)
	}
	w.clock = c
}

// topK tracks the k highest per-host maxima of event time without per-host
// state: host maxima only grow, so a host outside the top k can re-enter
// only by beating the lowest entry. Its low() is the backtest clock: no
// fewer than k hosts (all hosts, if fewer have been seen) have reached it,
// so up to k-1 hosts whose clocks run ahead cannot move it.
type topK struct {
	n    int
	host [topKSize]string
	max  [topKSize]int64
}

const topKSize = 3

// observe records event time t of host (a string the caller keeps alive)
// and returns the new low watermark.
func (t *topK) observe(host string, ts int64) int64 {
	for i := 0; i < t.n; i++ {
		if t.host[i] == host {
			t.max[i] = max(t.max[i], ts)
			return t.low()
		}
	}
	if t.n < topKSize {
		t.host[t.n], t.max[t.n] = host, ts
		t.n++
		return t.low()
	}
	lo := 0
	for i := 1; i < t.n; i++ {
		if t.max[i] < t.max[lo] {
			lo = i
		}
	}
	if ts > t.max[lo] {
		t.host[lo], t.max[lo] = host, ts
	}
	return t.low()
}

func (t *topK) low() int64 {
	lo := t.max[0]
	for i := 1; i < t.n; i++ {
		lo = min(lo, t.max[i])
	}
	return lo
}

// floorSec floors Unix nanoseconds to Unix seconds (bin span=1s).
func floorSec(ns int64) int64 {
	s := ns / 1e9
	if ns%1e9 < 0 {
		s--
	}
	return s
}

// satAdd adds without wrapping past the int64 range.
func satAdd(a, b int64) int64 {
	s := a + b
	if b > 0 && s < a {
		return math.MaxInt64
	}
	if b < 0 && s > a {
		return math.MinInt64
	}
	return s
}

// sameString reports whether a and b are the same string: the same bytes
// at the same address, which for the alert's reused field names (always
// the Config's strings) is what equality comes down to, without comparing
// bytes. A false result only costs a store.
func sameString(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}

// satAddInt adds without wrapping past math.MaxInt (a and b non-negative).
func satAddInt(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// elapsed reports whether to - from >= d, without overflow.
func elapsed(from, to, d int64) bool {
	return to >= from && uint64(to-from) >= uint64(d)
}
