package window

import (
	"container/list"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

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
	span       int64
	idle       int64
	retain     int64

	// clock is the window's time in Unix ns: the caller's clock in live
	// mode, the event-time watermark in backtest mode; unset before any.
	clock int64
	topk  topK

	// buckets holds every open and revisable bucket.
	buckets map[bucketKey]*bucket
	// hosts holds every host the window remembers (see hostState).
	hosts map[string]*hostState

	// open lists the open buckets by their last Add, revisable the
	// revisable ones by when they were kept, least recent first; each
	// bucket holds its element (bucket.elem).
	open, revisable list.List
	// idleHosts holds the hosts with no bucket, least recently active
	// first; it never evicts by itself (see settle).
	idleHosts *simplelru.LRU[*hostState, struct{}]

	// fixed is the JSON bytes of an alert of this rule without its host,
	// fields and sources, with room for the widest numbers and for every
	// field in values_omitted; fieldCost[i] what field i's first value
	// adds besides itself ("name":[] and a comma).
	fixed     int
	fieldCost []int
	// mem is the heap the window holds, estimated (see charge).
	mem int64

	// forgotten keeps the horizons of forgotten hosts, folded by a hash of
	// their names into forgottenSlots slots (the latest per slot): a host
	// seen again starts from its slot's horizon, so its late events make
	// late alerts, never a new on-time alert that would replace the one
	// published. A host that shares a slot may see an event late that was
	// not; nothing is lost either way. nil until a host is forgotten.
	forgotten []int64

	// free holds forgotten buckets for reuse (see newBucket).
	free []*bucket
	// text and fresh are addEvent's scratch.
	text  []byte
	fresh []int
	alert Alert
	stats Stats
}

// hostState is everything the window remembers about one host besides its
// buckets: its open buckets (for the host's own watermark, see Add), how
// many revisable buckets it has, and its horizon. It lives while the host
// has buckets, and after that (to keep its horizon) until RetainHosts idle
// hosts are remembered; then the least recently active idle host is
// forgotten first.
type hostState struct {
	name string
	// open lists the host's open buckets, in the order they were opened.
	open []*bucket
	// nrev counts the host's revisable buckets.
	nrev int
	// horizon is the latest second of a forgotten bucket of the host
	// (math.MinInt64 when none): a new bucket at or before it is late.
	horizon int64
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
	HostsEvicted int64 // idle hosts (and their horizons) forgotten because RetainHosts or MemoryBudget was reached

	// The caps (see Config). TruncatedAlerts counts alerts emitted with a
	// value left out, OmittedValues the distinct values left out;
	// MemoryEvicted counts revisable buckets forgotten early and
	// ForcedEmissions open buckets emitted early to stay within
	// MemoryBudget; Memory is the estimated heap held (current).
	TruncatedAlerts int64
	OmittedValues   int64
	MemoryEvicted   int64
	ForcedEmissions int64
	Memory          int64

	Healed          int64 // alerts emitted again by Heal after a stale record
	Restored        int64 // alerts passed to Restore and accepted
	RestoreFields   int64 // restored fields ignored because Config.Fields lacks them
	RestoreAbsorbed int64 // replayed events a restored alert already counted
}

// Add adds o's sizes and counters to s: the total of several windows.
func (s *Stats) Add(o Stats) {
	s.Open += o.Open
	s.Revisable += o.Revisable
	s.Hosts += o.Hosts
	for _, f := range []struct {
		to   *int64
		from int64
	}{
		{&s.Events, o.Events}, {&s.NoHost, o.NoHost}, {&s.Malformed, o.Malformed}, {&s.LateEvents, o.LateEvents},
		{&s.Alerts, o.Alerts}, {&s.Revisions, o.Revisions}, {&s.LateAlerts, o.LateAlerts},
		{&s.Reopened, o.Reopened}, {&s.Expired, o.Expired}, {&s.Evicted, o.Evicted}, {&s.HostsEvicted, o.HostsEvicted},
		{&s.TruncatedAlerts, o.TruncatedAlerts}, {&s.OmittedValues, o.OmittedValues}, {&s.MemoryEvicted, o.MemoryEvicted},
		{&s.ForcedEmissions, o.ForcedEmissions}, {&s.Memory, o.Memory},
		{&s.Healed, o.Healed}, {&s.Restored, o.Restored}, {&s.RestoreFields, o.RestoreFields}, {&s.RestoreAbsorbed, o.RestoreAbsorbed},
	} {
		*f.to += f.from
	}
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
		span:       int64(cfg.Span),
		idle:       int64(cfg.IdleTimeout),
		retain:     int64(cfg.Retain),
		clock:      unset,
		buckets:    make(map[bucketKey]*bucket),
		hosts:      make(map[string]*hostState),
	}
	for i, f := range cfg.Fields {
		w.order = append(w.order, i)
		w.fieldIndex[f] = i
	}
	slices.SortFunc(w.order, func(a, b int) int { return strings.Compare(cfg.Fields[a], cfg.Fields[b]) })
	// settle evicts by itself, so the LRU is never full.
	w.idleHosts, _ = simplelru.NewLRU[*hostState, struct{}](math.MaxInt, nil)
	w.alert = Alert{RuleID: cfg.RuleID, RuleTitle: cfg.RuleTitle, Techniques: cfg.Techniques}
	w.fixed = alertOverhead(&w.alert, cfg.Fields)
	for _, f := range cfg.Fields {
		w.fieldCost = append(w.fieldCost, jsonLen(f)+4)
	}
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
	sec := w.bucketOf(ev.Time)
	hs := w.host(ev.Host)
	b := w.lookup(hs, sec, &ev)
	if w.cfg.Backtest {
		w.setClock(w.topk.observe(hs.name, ev.Time))
	}
	w.addEvent(b, &ev)
	b.touch = w.clock
	w.open.MoveToBack(b.elem)
	if len(hs.open) > 1 {
		// The host's own clock has moved: emit its other buckets that it
		// has passed by Grace.
		for i := 0; i < len(hs.open); {
			c := hs.open[i]
			if c != b && ev.Time >= satAdd(satAdd(c.key.sec*1e9, w.span), w.grace) {
				w.close(c, emit)
				continue
			}
			i++
		}
	}
	w.expire(emit)
	w.fitMemory(emit)
}

// host returns the state of a host, creating it (and copying the name).
func (w *Window) host(name string) *hostState {
	if hs := w.hosts[name]; hs != nil {
		return hs
	}
	name = strings.Clone(name)
	hs := &hostState{name: name, horizon: math.MinInt64}
	if w.forgotten != nil {
		hs.horizon = w.forgotten[fnv64(name)%forgottenSlots]
	}
	w.hosts[name] = hs
	w.mem += int64(hostCost + len(name))
	return hs
}

// lookup returns the open bucket for ev, reopening a revisable one or
// opening a new one (a late one if the host has already forgotten a bucket
// at or after sec).
func (w *Window) lookup(hs *hostState, sec int64, ev *Event) *bucket {
	key := bucketKey{hs, sec, false}
	if b := w.buckets[key]; b != nil {
		if b.state == stateRevisable {
			w.reopen(b)
		}
		return b
	}
	if sec <= hs.horizon {
		key.late = true
		if b := w.buckets[key]; b != nil {
			if b.state == stateRevisable {
				w.reopen(b)
			}
			return b
		}
	}
	b := w.newBucket(hs, key)
	if key.late {
		b.id = LateAlertID(w.cfg.RuleID, hs.name, sec, ev.Time, ev.Source)
	}
	w.openBucket(b)
	return b
}

func (w *Window) newBucket(hs *hostState, key bucketKey) *bucket {
	var b *bucket
	if n := len(w.free); n > 0 {
		b, w.free = w.free[n-1], w.free[:n-1]
		*b = bucket{}
	} else {
		b = new(bucket)
	}
	b.key, b.hs = key, hs
	if n := len(w.cfg.Fields); n <= len(b.inlFields) {
		b.fields = b.inlFields[:n]
	} else {
		b.fields = make([][]string, n)
	}
	b.sources, b.pos, b.revisions = b.inlSource[:0], b.inlPos[:0], b.inlRev[:0]
	b.size = jsonLen(hs.name)
	w.charge(b, bucketCost)
	w.buckets[key] = b
	return b
}

// reopen moves a revisable bucket back to the open set.
func (w *Window) reopen(b *bucket) {
	w.dropRevisable(b)
	w.stats.Reopened++
	w.openBucket(b)
}

func (w *Window) openBucket(b *bucket) {
	hs := b.hs
	w.idleHosts.Remove(hs)
	b.state = stateOpen
	hs.open = append(hs.open, b)
	b.touch = w.clock
	b.elem = w.open.PushBack(b)
}

// addEvent adds ev's values, time and source to b, within the caps: a
// source is listed while fewer than MaxSources are and it fits in
// MaxAlertBytes (after the first that does not, none is), a new value is
// kept while its field holds fewer than MaxValues and it fits, and is left
// out (counted in values_omitted) otherwise. Decisions are taken in the
// order events arrive and never undone, so the same input order keeps the
// same values, and a revision keeps every value an earlier one carried.
func (w *Window) addEvent(b *bucket, ev *Event) {
	vals := ev.Values
	if len(vals) > len(b.fields) {
		vals = vals[:len(b.fields)]
	}
	// An event a restored alert already counted adds nothing to its
	// counts; its values were kept or counted as left out before.
	first := b.count == 0
	absorbed := b.restored && b.absorb(ev.Source)
	changed := false
	if absorbed {
		w.stats.RestoreAbsorbed++
	} else {
		b.count++
		changed = true
		if !ev.Source.IsZero() && !b.srcStop && len(b.sources) < w.cfg.MaxSources {
			if n := sourceLen(ev.Source) + 1; w.fixed+b.size+n <= w.cfg.MaxAlertBytes {
				b.sources = append(b.sources, ev.Source)
				b.size += n
			} else {
				b.srcStop = true
			}
		}
	}
	// Find the values to keep, then copy them into one string: one
	// allocation per event, none if nothing is new.
	fresh := w.fresh[:0]
	text := w.text[:0]
	for i, v := range vals {
		if v == "" || b.has(i, v) {
			continue
		}
		n := jsonLen(v) + 1
		if len(b.fields[i]) == 0 {
			n += w.fieldCost[i]
		}
		if len(b.fields[i]) >= w.cfg.MaxValues || w.fixed+b.size+n > w.cfg.MaxAlertBytes {
			if !absorbed && w.leaveOut(b, i, v) {
				changed = true
			}
			continue
		}
		b.size += n
		fresh = append(fresh, i)
		text = append(text, v...)
	}
	if len(fresh) > 0 {
		changed = true
		kept := string(text)
		w.charge(b, len(kept)+len(fresh)*stringCost)
		for _, i := range fresh {
			var v string
			v, kept = kept[:len(vals[i])], kept[len(vals[i]):]
			b.add(i, v)
		}
	}
	w.fresh, w.text = fresh, text
	t := ev.Time
	switch {
	case first:
		b.first, b.last = t, t
		changed = true
	case t < b.first:
		b.first = t
		changed = true
	case t > b.last:
		b.last = t
		changed = true
	}
	if !ev.Source.IsZero() {
		b.notePos(ev.Source)
	}
	if changed {
		b.dirty = true
	}
	if b.key.late {
		w.stats.LateEvents++
	}
}

// leaveOut counts v, a value of field i that does not fit b, among the
// field's values left out, and reports whether the count grew: each
// distinct value is counted once, by a 64-bit hash, up to maxOmitted per
// bucket, beyond which counts stop growing.
func (w *Window) leaveOut(b *bucket, i int, v string) bool {
	if b.omitted == nil {
		b.omitted = make([]omission, len(b.fields))
	}
	if b.omittedHashes >= maxOmitted {
		return false
	}
	o := &b.omitted[i]
	if o.seen == nil {
		o.seen = make(map[uint64]struct{})
	}
	h := fnv64(v)
	if _, ok := o.seen[h]; ok {
		return false
	}
	o.seen[h] = struct{}{}
	b.omittedHashes++
	w.stats.OmittedValues++
	w.charge(b, omittedCost)
	return true
}

// maxOmitted caps the values left out that a bucket counts (see leaveOut):
// 100,000 hashes, about 2.4 MB, is the most a bucket holds for them.
const maxOmitted = 100_000

// Estimated heap bytes, for Config.MemoryBudget: a bucket without its
// values, a value held (its string header beside its bytes), a hash of a
// value left out, a host record without its name.
const (
	bucketCost  = 1024
	stringCost  = 16
	omittedCost = 24
	hostCost    = 160
)

// charge adds n estimated bytes to b and to the window.
func (w *Window) charge(b *bucket, n int) {
	b.mem += n
	w.mem += int64(n)
}

// fnv64 is FNV-1a, 64 bits: deterministic, so that the same input leaves
// out the same values in every run.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// close emits an open bucket if it has anything new and makes it revisable.
func (w *Window) close(b *bucket, emit func(*Alert)) {
	hs := b.hs
	w.open.Remove(b.elem)
	i := slices.Index(hs.open, b)
	hs.open = slices.Delete(hs.open, i, i+1)
	if b.dirty {
		w.emitBucket(b, emit)
	}
	w.keep(b)
}

// keep makes b revisable, then forgets the oldest revisable buckets while
// the window holds more than RetainBuckets.
func (w *Window) keep(b *bucket) {
	b.state = stateRevisable
	b.touch = w.clock
	b.hs.nrev++
	b.elem = w.revisable.PushBack(b)
	for w.revisable.Len() > w.cfg.RetainBuckets {
		w.forgetRevisable(w.revisable.Front().Value.(*bucket), &w.stats.Evicted)
	}
}

// dropRevisable takes a revisable bucket out of the revisable set (to
// reopen or forget it).
func (w *Window) dropRevisable(b *bucket) {
	w.revisable.Remove(b.elem)
	b.hs.nrev--
}

// forgetRevisable forgets a revisable bucket, remembering its second as its
// host's horizon so later events for it are recognized as late, and counts
// it in *why (Stats.Expired or Stats.Evicted).
func (w *Window) forgetRevisable(b *bucket, why *int64) {
	w.dropRevisable(b)
	*why++
	delete(w.buckets, b.key)
	w.mem -= int64(b.mem)
	hs := b.hs
	hs.horizon = max(hs.horizon, b.key.sec)
	w.settle(hs)
	if len(w.free) < maxFree {
		w.free = append(w.free, b)
	}
}

// forgottenSlots is the size of Window.forgotten (512 KiB).
const forgottenSlots = 1 << 16

// maxFree bounds the forgotten buckets kept for reuse: in the steady state
// buckets are forgotten about as fast as new ones open, and reusing them
// halves the bytes a new alert allocates (BENCHMARKS.md, Window).
const maxFree = 256

// settle remembers a host with no open or revisable bucket as idle, then
// forgets the least recently active idle hosts beyond RetainHosts.
func (w *Window) settle(hs *hostState) {
	if len(hs.open) > 0 || hs.nrev > 0 {
		return
	}
	w.idleHosts.Add(hs, struct{}{})
	for w.idleHosts.Len() > w.cfg.RetainHosts {
		w.forgetIdleHost()
	}
}

// forgetIdleHost forgets the least recently active idle host, if any.
func (w *Window) forgetIdleHost() bool {
	old, _, ok := w.idleHosts.RemoveOldest()
	if !ok {
		return false
	}
	delete(w.hosts, old.name)
	w.mem -= int64(hostCost + len(old.name))
	if old.horizon != math.MinInt64 {
		if w.forgotten == nil {
			w.forgotten = make([]int64, forgottenSlots)
			for i := range w.forgotten {
				w.forgotten[i] = math.MinInt64
			}
		}
		slot := &w.forgotten[fnv64(old.name)%forgottenSlots]
		*slot = max(*slot, old.horizon)
	}
	w.stats.HostsEvicted++
	return true
}

// fitMemory keeps the window within Config.MemoryBudget: while it holds
// more, it forgets the oldest revisable bucket (Stats.MemoryEvicted; a
// later event for it makes a late alert), then the least recently active
// idle host, then, when emit is not nil, emits the least recently touched
// open bucket early (Stats.ForcedEmissions), which makes it revisable and
// so next in line to be forgotten.
func (w *Window) fitMemory(emit func(*Alert)) {
	for w.mem > w.cfg.MemoryBudget {
		if e := w.revisable.Front(); e != nil {
			w.forgetRevisable(e.Value.(*bucket), &w.stats.MemoryEvicted)
			continue
		}
		if w.forgetIdleHost() {
			continue
		}
		e := w.open.Front()
		if e == nil || emit == nil {
			return
		}
		w.stats.ForcedEmissions++
		w.close(e.Value.(*bucket), emit)
	}
}

func (w *Window) emitBucket(b *bucket, emit func(*Alert)) {
	b.revision++
	b.dirty = false
	if b.id == "" {
		b.id = AlertID(w.cfg.RuleID, b.hs.name, b.key.sec)
	}
	b.noteRevision(b.revision, b.count)
	w.emitAlert(b, emit)
}

// emitAlert emits b's alert as it stands.
func (w *Window) emitAlert(b *bucket, emit func(*Alert)) {
	a := &w.alert
	a.AlertID = b.id
	a.Time = b.key.sec
	a.Host = b.hs.name
	a.EventCount = b.count
	a.Revision = b.revision
	a.Late = b.key.late
	a.Fields = a.Fields[:0]
	truncated := false
	for _, i := range w.order {
		vals, omitted := b.fields[i], b.omittedCount(i)
		if len(vals) > 0 || omitted > 0 {
			a.Fields = append(a.Fields, Field{Name: w.cfg.Fields[i], Values: vals, Omitted: omitted})
			truncated = truncated || omitted > 0
		}
	}
	if truncated {
		w.stats.TruncatedAlerts++
	}
	a.FirstSeen, a.LastSeen = b.first, b.last
	a.Sources = append(a.Sources[:0], b.sources...)
	a.SourcesOmitted = max(b.count-len(b.sources), 0)
	if b.revision == 1 {
		w.stats.Alerts++
	} else {
		w.stats.Revisions++
	}
	if b.key.late {
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
	for e := w.open.Front(); e != nil; e = w.open.Front() {
		b := e.Value.(*bucket)
		if !elapsed(b.touch, w.clock, w.idle) {
			break
		}
		w.close(b, emit)
	}
	for e := w.revisable.Front(); e != nil; e = w.revisable.Front() {
		b := e.Value.(*bucket)
		if !elapsed(b.touch, w.clock, w.retain) {
			break
		}
		w.forgetRevisable(b, &w.stats.Expired)
	}
}

// Flush emits every open bucket with anything new, least recently touched
// first, whatever the clock says: at shutdown, on partition revocation and
// at the end of a backtest. Flushed buckets stay revisable (and keep holding
// their positions in SafePositions).
func (w *Window) Flush(emit func(*Alert)) {
	if emit == nil {
		emit = discard
	}
	for e := w.open.Front(); e != nil; e = w.open.Front() {
		w.close(e.Value.(*bucket), emit)
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
// It scans every open and revisable bucket: call it when committing, not
// per event.
func (w *Window) SafePositions() map[Partition]int64 {
	m := make(map[Partition]int64)
	for _, b := range w.buckets {
		for _, p := range b.pos {
			if cur, ok := m[p.part]; !ok || p.pos < cur {
				m[p.part] = p.pos
			}
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
	key := bucketKey{hs, a.Time, a.Late}
	if b := w.buckets[key]; b != nil {
		w.merge(b, a)
		return nil
	}
	b := w.newBucket(hs, key)
	b.id = strings.Clone(a.AlertID)
	b.revision = a.Revision
	b.count = a.EventCount
	b.first, b.last = a.FirstSeen, a.LastSeen
	w.restoreFields(b, a)
	n := min(len(a.Sources), w.cfg.MaxSources)
	for _, src := range a.Sources[:n] {
		b.sources = append(b.sources, src)
		b.size += sourceLen(src) + 1
	}
	b.srcStop = n < min(a.EventCount, w.cfg.MaxSources)
	b.restored = true
	b.unlisted = max(a.EventCount-n, 0)
	b.noteRevision(a.Revision, a.EventCount)
	w.idleHosts.Remove(hs)
	w.keep(b)
	w.fitMemory(nil)
	return nil
}

// Heal compares an alert read back from the alerts topic, written after
// the window's alerts were restored (by this window, or by another writer
// such as a member that stalled past its session and came back), with the
// bucket the window holds for it, and keeps the topic's latest record for
// the alert_id complete:
//
//   - an alert this window emitted or restored (same revision and event
//     count), or one for a bucket it does not hold or has not emitted yet,
//     changes nothing;
//   - one holding something the bucket lacks is merged as Restore merges,
//     so the bucket is emitted again as the next revision with the union;
//   - one holding less (a lower revision, fewer events) is a stale record
//     that now follows the complete one: the bucket's alert is emitted
//     again as it stands, an identical copy of its latest revision, so
//     that the latest record is complete again (Stats.Healed).
//
// It reports whether it emitted or merged.
func (w *Window) Heal(a *Alert, emit func(*Alert)) bool {
	if emit == nil {
		emit = discard
	}
	if a.RuleID != w.cfg.RuleID || a.Host == "" || a.Revision < 1 || a.EventCount < 1 {
		return false
	}
	hs := w.hosts[a.Host]
	if hs == nil {
		return false
	}
	b := w.buckets[bucketKey{hs, a.Time, a.Late}]
	if b == nil || b.revision == 0 || b.hasRevision(a.Revision, a.EventCount) {
		return false
	}
	if a.EventCount > b.count || a.FirstSeen < b.first || a.LastSeen > b.last || w.adds(b, a) {
		w.merge(b, a)
		b.noteRevision(a.Revision, a.EventCount)
		return true
	}
	if b.dirty {
		return false // its next emission, a higher revision, comes anyway
	}
	w.stats.Healed++
	w.emitAlert(b, emit)
	return true
}

// adds reports whether a holds a value b lacks (of a field b keeps).
func (w *Window) adds(b *bucket, a *Alert) bool {
	for _, f := range a.Fields {
		i, ok := w.fieldIndex[f.Name]
		if !ok {
			continue
		}
		for _, v := range f.Values {
			if v != "" && !b.has(i, v) {
				return true
			}
		}
		if f.Omitted > b.omittedCount(i) {
			return true
		}
	}
	return false
}

func (w *Window) restoreFields(b *bucket, a *Alert) {
	for _, f := range a.Fields {
		i, ok := w.fieldIndex[f.Name]
		if !ok {
			w.stats.RestoreFields++
			continue
		}
		for _, v := range f.Values {
			if v != "" && !b.has(i, v) {
				n := jsonLen(v) + 1
				if len(b.fields[i]) == 0 {
					n += w.fieldCost[i]
				}
				b.size += n
				w.charge(b, len(v)+stringCost)
				b.add(i, strings.Clone(v))
			}
		}
		if d := f.Omitted - b.omittedCount(i); d > 0 {
			if b.omitted == nil {
				b.omitted = make([]omission, len(b.fields))
			}
			b.omitted[i].base += d
		}
	}
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
		if !slices.Contains(b.sources, s) {
			b.sources = append(b.sources, s)
			b.size += sourceLen(s) + 1
		}
	}
	b.revision = max(b.revision, a.Revision)
	b.restored = true
	b.unlisted = max(a.EventCount-len(a.Sources), 0)
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
	s.Open = w.open.Len()
	s.Revisable = w.revisable.Len()
	s.Hosts = len(w.hosts)
	s.Memory = w.mem
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
		for _, b := range w.buckets {
			b.touch = c
		}
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

// bucketOf returns the start, in Unix seconds, of the bucket of event time
// ns: ns floored to Config.Span, aligned to the epoch (bin span=N).
func (w *Window) bucketOf(ns int64) int64 {
	if w.span == 1e9 {
		return floorSec(ns)
	}
	b := ns / w.span * w.span
	if ns < 0 && b != ns {
		b -= w.span
	}
	return b / 1e9
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

// elapsed reports whether to - from >= d, without overflow.
func elapsed(from, to, d int64) bool {
	return to >= from && uint64(to-from) >= uint64(d)
}
