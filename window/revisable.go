package window

import "math"

// Revisable buckets. Each host keeps its own in the order they were kept
// (emitted, or restored), and the window keeps the hosts that have any in a
// golang-lru LRU keyed by the host's id, most recently kept first. An alert
// thus costs one lookup in a map of hosts (small, and hot in the CPU's
// caches) instead of an insertion and a removal in a map of every revisable
// bucket: BENCHMARKS.md, section Window, has the figures.
//
// Expiry and eviction take the oldest bucket of the host at the back of the
// LRU (the one that kept a bucket least recently), and a host trims its own
// expired buckets whenever it keeps one. So a bucket stays revisable for at
// least Retain, and is forgotten once Retain has passed and either its host
// keeps another bucket or every host that kept one before its host's latest
// has been trimmed: at most one more Retain in the worst case (a host that
// stops emitting right after another host's burst).

// revIndexAt is how many of a host's revisable buckets a lookup scans
// (from the newest: late events are usually recent) before it indexes
// them in a map, which the host then keeps up to date until it has none
// left. Most hosts are never looked up, or find their bucket at once, and
// never pay for a map.
const revIndexAt = 32

// revEntry is a revisable bucket in its host's list, with a copy of the
// clock reading when it was kept (its touch): expiry decides from the list,
// which its host keeps warm, without reading the bucket, which was last
// touched Retain ago and has left the CPU's caches. Only forgetting the
// bucket reads it, and by then prefetchBucket has usually brought it in
// (see Window.expireRevisable).
type revEntry struct {
	b    *bucket // nil once the bucket is reopened or forgotten
	kept int64
}

// revSlot identifies a revisable bucket within its host.
type revSlot struct {
	sec  int64
	late bool
}

// revisableAt returns the host's revisable bucket for (sec, late), or nil.
func (h *hostState) revisableAt(sec int64, late bool) *bucket {
	if h.nrev == 0 || sec > h.maxRev {
		return nil
	}
	if h.revIdx != nil {
		return h.revIdx[revSlot{sec, late}]
	}
	for i := len(h.rev) - 1; i >= h.head; i-- {
		if b := h.rev[i].b; b != nil && b.sec == sec && b.late == late {
			return b
		}
		if len(h.rev)-i > revIndexAt {
			h.indexRev()
			return h.revIdx[revSlot{sec, late}]
		}
	}
	return nil
}

// indexRev builds the host's index of its revisable buckets.
func (h *hostState) indexRev() {
	h.revIdx = make(map[revSlot]*bucket, 2*h.nrev)
	for _, e := range h.rev[h.head:] {
		if b := e.b; b != nil {
			h.revIdx[revSlot{b.sec, b.late}] = b
		}
	}
}

// oldestRev returns the host's least recently kept revisable bucket, and
// when it was kept; the host must have one.
func (h *hostState) oldestRev() (*bucket, int64) {
	e := h.rev[h.head]
	return e.b, e.kept
}

// pushRev appends b, just kept, to the host's revisable buckets. When the
// list is full and at most half of it is live, the live entries move to
// its start (the front fills with forgotten buckets as the host trims
// them); otherwise it grows. So it stays within twice its live entries
// plus what append adds, and each entry is moved at most once per entry
// pushed, on average.
func (h *hostState) pushRev(b *bucket) {
	if len(h.rev) == cap(h.rev) && h.nrev <= len(h.rev)/2 {
		h.compactRev()
	}
	b.revAt = int32(len(h.rev))
	h.rev = append(h.rev, revEntry{b: b, kept: b.touch})
	h.nrev++
	h.maxRev = max(h.maxRev, b.sec)
	if h.revIdx != nil {
		h.revIdx[revSlot{b.sec, b.late}] = b
	}
}

// dropRev removes b from the host's revisable buckets, leaving a hole
// (nil) that pushRev compacts away.
func (h *hostState) dropRev(b *bucket) {
	h.rev[b.revAt].b = nil
	h.nrev--
	if h.revIdx != nil {
		delete(h.revIdx, revSlot{b.sec, b.late})
	}
	if h.nrev == 0 {
		clear(h.rev[h.head:])
		h.rev, h.head, h.revIdx = h.rev[:0], 0, nil
		h.maxRev = math.MinInt64
		return
	}
	for h.rev[h.head].b == nil {
		h.head++
	}
}

// compactRev moves the live entries of the host's list to its start.
func (h *hostState) compactRev() {
	n := 0
	for _, e := range h.rev[h.head:] {
		if e.b != nil {
			e.b.revAt = int32(n)
			h.rev[n] = e
			n++
		}
	}
	clear(h.rev[n:])
	h.rev, h.head = h.rev[:n], 0
}

// keep makes b revisable. The host first forgets its own buckets older
// than Retain, then, while the window holds more than RetainBuckets, the
// host that kept a bucket least recently forgets its oldest one.
func (w *Window) keep(b *bucket) {
	b.state = stateRevisable
	b.touch = w.clock
	// Count b first (and move its host to the front of the LRU, which
	// has room for one more host than RetainBuckets): trimming or evicting
	// the host's other buckets must neither leave it looking idle nor
	// pick b.
	hs := b.hs
	hs.pushRev(b)
	w.nrev++
	w.revisable.Add(hs.id, hs)
	for {
		old, kept := hs.oldestRev()
		if old == b || w.clock == unset || !elapsed(kept, w.clock, w.retain) {
			break
		}
		w.forgetRevisable(old, &w.stats.Expired)
	}
	for w.nrev > w.cfg.RetainBuckets {
		_, back, _ := w.revisable.GetOldest()
		old, _ := back.oldestRev()
		w.forgetRevisable(old, &w.stats.Evicted)
	}
}

// dropRevisable takes a revisable bucket out of the revisable set (to
// reopen or forget it).
func (w *Window) dropRevisable(b *bucket) {
	hs := b.hs
	hs.dropRev(b)
	w.nrev--
	if hs.nrev == 0 {
		w.revisable.Remove(hs.id)
	}
}

// forgetRevisable forgets a revisable bucket and counts it in *why
// (Stats.Expired or Stats.Evicted).
func (w *Window) forgetRevisable(b *bucket, why *int64) {
	w.dropRevisable(b)
	*why++
	w.forget(b)
}

// expireRevisable forgets revisable buckets kept more than Retain ago,
// oldest host first, until the host at the back of the LRU holds none.
// It then prefetches the back host's oldest bucket, the next to be
// forgotten, whether by expiry or by its host keeping another bucket
// (which is usually the next thing the back host does): forgetting and
// recycling it then finds it in the caches instead of waiting on memory.
func (w *Window) expireRevisable() {
	for {
		_, hs, ok := w.revisable.GetOldest()
		if !ok {
			return
		}
		b, kept := hs.oldestRev()
		if !elapsed(kept, w.clock, w.retain) {
			prefetchBucket(b)
			return
		}
		w.forgetRevisable(b, &w.stats.Expired)
	}
}

// stampRevisable sets the touch of every revisable bucket to c (see
// Window.setClock).
func (w *Window) stampRevisable(c int64) {
	for _, hs := range w.revisable.Values() {
		for i := hs.head; i < len(hs.rev); i++ {
			if e := &hs.rev[i]; e.b != nil {
				e.b.touch, e.kept = c, c
			}
		}
	}
}

// eachRevisable calls f for every revisable bucket.
func (w *Window) eachRevisable(f func(*bucket)) {
	for _, hs := range w.revisable.Values() {
		for _, e := range hs.rev[hs.head:] {
			if e.b != nil {
				f(e.b)
			}
		}
	}
}
