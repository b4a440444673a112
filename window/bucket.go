package window

import (
	"slices"
	"unsafe"
)

// Layout. Buckets usually hold 1-3 events, and most fields then hold one
// value, so a bucket keeps one value per field inline and moves a field to
// a side set only when it gets a second value. A side set is a sorted slice
// searched linearly up to smallSet values, beyond which a map indexes it
// and the slice is sorted when emitted (see BenchmarkValueSet for the
// crossover). Two sources and one partition position are inline too. The
// value text holds the alert_id as well, values equal to the host's latest
// bucket's share its copies, and forgotten buckets are reused (see
// Window.recycle) with their side sets' arrays (see setPool): a typical
// new bucket allocates only its text. See BenchmarkBytesPerBucket.
const (
	inlineFields  = 15
	inlineSources = 2
	smallSet      = 16
)

type bucketState uint8

const (
	stateOpen bucketState = iota + 1
	stateRevisable
)

// srcRef is a source as a bucket keeps it: an index in the window's table
// of partitions (and files) and a position. It holds no pointer, so a
// bucket's sources cost the garbage collector nothing to scan.
type srcRef struct {
	part uint32
	pos  int64
}

// multiSet holds the values of a field that has more than one.
type multiSet struct {
	field  int
	vals   []string            // sorted unless index != nil && !sorted
	index  map[string]struct{} // non-nil once len(vals) > smallSet
	sorted bool
}

// bucket is the state of one (host, second) group.
//
// Its size is kept at most 512 bytes (TestBucketSize): larger objects carry
// an 8-byte allocation header, which put the 576 bytes it once had in Go's
// 640-byte size class, and the collector scans them one by one rather than
// span by span. Hence the int32 counters and the flattened key.
type bucket struct {
	// hs is the bucket's host; with sec and late, the bucket's key: a host,
	// a second of event time, and whether it gathers late events (see
	// Window).
	hs   *hostState
	sec  int64
	late bool

	state bucketState
	// dirty: content changed since the last emission (or restore).
	dirty bool
	// restored: content came from Window.Restore; replayed events whose
	// source is already listed (or, up to unlisted of them, not listed) are
	// taken as already counted.
	restored bool
	unlisted int32

	// revision saturates at math.MaxInt32 (never reached: every revision
	// takes a late event and a close).
	revision int32
	// revAt is the bucket's index in its host's rev while revisable.
	revAt int32

	count       int
	first, last int64

	// touch is the clock reading of the last Add while open, of the last
	// emission (or restore) while revisable (its host's list holds a copy,
	// revEntry.kept, which expiry reads instead).
	touch int64
	// prev, next link open buckets in touch order (the idle list).
	prev, next *bucket

	// vals[i] is field i's value when it has at most one ("" for none);
	// fields with more are in multi, and flagged in multiMask (for i < 64).
	vals      []string
	multi     []multiSet
	multiMask uint64

	// sources lists the first MaxSources events' sources; pos holds the
	// lowest position per partition.
	sources []srcRef
	pos     []srcRef
	// id is the alert_id, computed at the first emission (on creation for
	// late buckets, from the first event); an on-time bucket's first text
	// chunk has room for it.
	id string

	// text holds copies of the bucket's values: appended to, never
	// rewritten, and replaced by a fresh chunk when full, so the strings
	// cut from it stay immutable.
	text []byte

	inlVals    [inlineFields]string
	inlSources [inlineSources]srcRef
	inlPos     [1]srcRef
}

func newBucket(nfields int) *bucket {
	b := &bucket{}
	if nfields <= inlineFields {
		b.vals = b.inlVals[:nfields]
	} else {
		b.vals = make([]string, nfields)
	}
	b.sources = b.inlSources[:0]
	b.pos = b.inlPos[:0]
	return b
}

// reset empties a forgotten bucket for reuse, keeping the capacity of its
// slices and giving the arrays of its side sets to p. Its text is not
// reused: strings cut from it may still be held (by clones of its alerts,
// and by the host's later buckets).
func (b *bucket) reset(p *setPool) {
	for j := range b.multi {
		if m := &b.multi[j]; m.index == nil {
			p.put(m.vals)
		}
	}
	clear(b.vals)
	clear(b.multi)
	b.hs, b.sec, b.late, b.state, b.dirty, b.restored = nil, 0, false, 0, false, false
	b.unlisted, b.revision, b.count, b.revAt = 0, 0, 0, 0
	b.first, b.last, b.touch = 0, 0, 0
	b.prev, b.next = nil, nil
	b.multi, b.multiMask = b.multi[:0], 0
	b.sources, b.pos = b.sources[:0], b.pos[:0]
	b.id = ""
	b.text = nil
}

// multiOf returns the side set of field i, or nil.
func (b *bucket) multiOf(i int) *multiSet {
	if i < 64 && b.multiMask&(1<<i) == 0 {
		return nil
	}
	for j := range b.multi {
		if b.multi[j].field == i {
			return &b.multi[j]
		}
	}
	return nil
}

// has reports whether field i already holds v (non-empty).
func (b *bucket) has(i int, v string) bool {
	if len(b.multi) == 0 {
		return b.vals[i] == v
	}
	m := b.multiOf(i)
	if m == nil {
		return b.vals[i] == v
	}
	if m.index != nil {
		_, ok := m.index[v]
		return ok
	}
	for _, x := range m.vals {
		if x == v {
			return true
		}
	}
	return false
}

// insert adds v, non-empty and not yet held by field i, to it. v must be a
// string the bucket may keep; p supplies the arrays of new side sets.
func (b *bucket) insert(i int, v string, p *setPool) {
	m := b.multiOf(i)
	if m == nil {
		if b.vals[i] == "" {
			b.vals[i] = v
			return
		}
		lo, hi := b.vals[i], v
		if hi < lo {
			lo, hi = hi, lo
		}
		if b.multi == nil {
			b.multi = make([]multiSet, 0, 4)
		}
		b.multi = append(b.multi, multiSet{field: i, vals: append(p.small(), lo, hi)})
		if i < 64 {
			b.multiMask |= 1 << i
		}
		return
	}
	switch {
	case len(m.vals) < smallSet:
		if len(m.vals) == cap(m.vals) {
			// Grow once, straight to smallSet: a set that outgrows its
			// first four values is usually a per-event field (process
			// ids, guids) that keeps growing.
			old := m.vals
			m.vals = append(p.big(), old...)
			p.put(old)
		}
		j := len(m.vals)
		for j > 0 && m.vals[j-1] > v {
			j--
		}
		m.vals = slices.Insert(m.vals, j, v)
	case m.index == nil:
		// Becoming big: index every value; the slice stays sorted until
		// an append breaks the order.
		m.index = make(map[string]struct{}, 4*smallSet)
		for _, x := range m.vals {
			m.index[x] = struct{}{}
		}
		m.index[v] = struct{}{}
		m.sorted = m.vals[len(m.vals)-1] < v
		m.vals = append(m.vals, v)
	default:
		m.index[v] = struct{}{}
		m.sorted = false
		m.vals = append(m.vals, v)
	}
}

// addValue adds v (non-empty) to field i's set, copying it, and reports
// whether it was new. Window.addEvent reserves text for a whole event first.
func (b *bucket) addValue(i int, v string, p *setPool) bool {
	if b.has(i, v) {
		return false
	}
	b.insert(i, b.keep(v), p)
	return true
}

// maxTextChunk caps the size of a bucket's text chunks after its first.
const maxTextChunk = 512

// reserve makes room for n more bytes of text without moving what is held:
// the first chunk is sized exactly (most buckets never get a second), later
// ones twice the previous, up to maxTextChunk, or n if larger. A bucket of a
// few events thus wastes little of its second chunk (3 events of the seed
// rule's fields: 80 bytes per event, against 112 with a fixed 256-byte
// second chunk), and a large one still appends in large chunks.
func (b *bucket) reserve(n int) {
	if cap(b.text)-len(b.text) >= n {
		return
	}
	if c := cap(b.text); c > 0 {
		n = max(n, min(2*c, maxTextChunk))
	} else if b.id == "" {
		// Room for the alert_id, written at the first emission.
		n += alertIDLen
	}
	b.text = make([]byte, 0, n)
}

// keep returns a copy of v held in the bucket's text.
func (b *bucket) keep(v string) string {
	b.reserve(len(v))
	off := len(b.text)
	b.text = append(b.text, v...)
	return unsafe.String(unsafe.SliceData(b.text[off:]), len(v))
}

// keepBytes returns a copy of p held in the bucket's text.
func (b *bucket) keepBytes(p []byte) string {
	b.reserve(len(p))
	off := len(b.text)
	b.text = append(b.text, p...)
	return unsafe.String(unsafe.SliceData(b.text[off:]), len(p))
}

// values returns field i's values, sorted bytewise; nil if none.
func (b *bucket) values(i int) []string {
	if m := b.multiOf(i); m != nil {
		if m.index != nil && !m.sorted {
			slices.Sort(m.vals)
			m.sorted = true
		}
		return m.vals
	}
	if b.vals[i] == "" {
		return nil
	}
	return b.vals[i : i+1]
}

// numValues is the total number of distinct values over all fields.
func (b *bucket) numValues() int {
	n := 0
	for i, v := range b.vals {
		if m := b.multiOf(i); m != nil {
			n += len(m.vals)
		} else if v != "" {
			n++
		}
	}
	return n
}

// notePos records src's position if it is the lowest seen in its partition.
func (b *bucket) notePos(src srcRef) {
	for i := range b.pos {
		if b.pos[i].part == src.part {
			b.pos[i].pos = min(b.pos[i].pos, src.pos)
			return
		}
	}
	b.pos = append(b.pos, src)
}

// absorb reports whether an event with source src, replayed into a restored
// bucket, is one the restored alert already counted.
// known says whether the event has a source at all.
func (b *bucket) absorb(src srcRef, known bool) bool {
	if known && slices.Contains(b.sources, src) {
		return true
	}
	if b.unlisted > 0 {
		b.unlisted--
		return true
	}
	return false
}

// setPool keeps the value arrays of forgotten buckets' side sets for the
// side sets of new ones: a field that takes a new value with every event
// (process ids, guids) would otherwise allocate an array or two for every
// bucket. The window's alerts lend these arrays only for the duration of
// an emit callback (see Alert), so a forgotten bucket's arrays are free.
// Arrays come in two sizes: 4 values (a side set's first array) and
// smallSet (the one it grows to once); larger ones, indexed by a map, are
// left to the collector.
type setPool struct {
	smalls, bigs [][]string
	// chunk is carved into 4-value arrays when smalls is empty.
	chunk []string
}

// maxPooled bounds each size's pool: it absorbs the arrays of one Add's or
// Advance's worth of forgotten buckets (see maxFree), no more.
const maxPooled = 2048

// small returns an empty array with room for 4 values.
func (p *setPool) small() []string {
	if a, ok := pop(&p.smalls); ok {
		return a
	}
	if len(p.chunk) < 4 {
		p.chunk = make([]string, 16)
	}
	a := p.chunk[:0:4]
	p.chunk = p.chunk[4:]
	return a
}

// big returns an empty array with room for smallSet values.
func (p *setPool) big() []string {
	if a, ok := pop(&p.bigs); ok {
		return a
	}
	return make([]string, 0, smallSet)
}

// pop takes the last array off *stack, if any.
func pop(stack *[][]string) ([]string, bool) {
	s := *stack
	if len(s) == 0 {
		return nil, false
	}
	a := s[len(s)-1]
	s[len(s)-1] = nil
	*stack = s[:len(s)-1]
	return a, true
}

// put clears a and keeps it for reuse if it has one of the pooled sizes
// and the pool has room; a must no longer be used by its set.
func (p *setPool) put(a []string) {
	clear(a)
	var stack *[][]string
	switch cap(a) {
	case 4:
		stack = &p.smalls
	case smallSet:
		stack = &p.bigs
	default:
		return
	}
	if len(*stack) < maxPooled {
		*stack = append(*stack, a[:0])
	}
}
