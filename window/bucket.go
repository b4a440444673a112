package window

import (
	"slices"
	"strings"
)

// smallSet is the size up to which a field's distinct values are a sorted
// slice searched linearly; beyond it a map indexes membership and the slice
// is sorted when emitted. Buckets usually hold 1-3 events, so almost every
// set stays small (see BenchmarkValueSet for the crossover).
const smallSet = 16

// bucketKey identifies a bucket: a host, a second of event time, and whether
// it gathers late events (see Window).
type bucketKey struct {
	host string
	sec  int64
	late bool
}

type bucketState uint8

const (
	stateFree bucketState = iota
	stateOpen
	stateRevisable
)

// partPos is the lowest position a bucket holds in one partition.
type partPos struct {
	p   Partition
	pos int64
}

// bigSet indexes a field's values once there are more than smallSet.
type bigSet struct {
	index  map[string]struct{}
	sorted bool
}

// bucket is the state of one (host, second) group.
type bucket struct {
	key   bucketKey
	state bucketState
	// dirty: content changed since the last emission (or restore).
	dirty bool
	// restored: content came from Window.Restore; replayed events whose
	// source is already listed (or, up to unlisted of them, not listed) are
	// taken as already counted.
	restored bool
	unlisted int

	revision    int
	count       int
	first, last int64

	// touch is the clock reading of the last Add while open, of the last
	// emission (or restore) while revisable.
	touch int64
	// prev, next link open buckets in touch order (the idle list).
	prev, next *bucket

	// sets[i] holds the distinct values of field i; sorted unless big[i]
	// exists and says otherwise.
	sets [][]string
	big  map[int]*bigSet

	sources []Source
	pos     []partPos
	// id is the alert_id, computed at the first emission (on creation for
	// late buckets, from the first event).
	id string
}

func newBucket(nfields int) *bucket {
	slab := make([]string, nfields)
	b := &bucket{sets: make([][]string, nfields)}
	for i := range b.sets {
		b.sets[i] = slab[i : i : i+1]
	}
	return b
}

// reset empties b for reuse, keeping its slices' capacity.
func (b *bucket) reset() {
	for i, s := range b.sets {
		clear(s)
		b.sets[i] = s[:0]
	}
	clear(b.sources)
	sets, sources, pos := b.sets, b.sources[:0], b.pos[:0]
	*b = bucket{sets: sets, sources: sources, pos: pos}
}

// addValue adds v to field i's set and reports whether it was new.
func (b *bucket) addValue(i int, v string) bool {
	s := b.sets[i]
	if len(s) <= smallSet {
		for _, x := range s {
			if x == v {
				return false
			}
		}
		v = strings.Clone(v)
		if len(s) < smallSet {
			j := len(s)
			for j > 0 && s[j-1] > v {
				j--
			}
			b.sets[i] = slices.Insert(s, j, v)
			return true
		}
		// Becoming big: index every value; the slice stays sorted
		// until the next append.
		bs := &bigSet{index: make(map[string]struct{}, 2*smallSet), sorted: true}
		for _, x := range s {
			bs.index[x] = struct{}{}
		}
		if b.big == nil {
			b.big = make(map[int]*bigSet)
		}
		b.big[i] = bs
		bs.index[v] = struct{}{}
		bs.sorted = s[len(s)-1] < v
		b.sets[i] = append(s, v)
		return true
	}
	bs := b.big[i]
	if _, ok := bs.index[v]; ok {
		return false
	}
	v = strings.Clone(v)
	bs.index[v] = struct{}{}
	bs.sorted = false
	b.sets[i] = append(s, v)
	return true
}

// values returns field i's values, sorted bytewise.
func (b *bucket) values(i int) []string {
	s := b.sets[i]
	if len(s) > smallSet {
		if bs := b.big[i]; !bs.sorted {
			slices.Sort(s)
			bs.sorted = true
		}
	}
	return s
}

// numValues is the total number of distinct values over all fields.
func (b *bucket) numValues() int {
	n := 0
	for _, s := range b.sets {
		n += len(s)
	}
	return n
}

// notePos records src's position if it is the lowest seen in its partition.
func (b *bucket) notePos(src Source) {
	p, pos := src.position()
	for i := range b.pos {
		if b.pos[i].p == p {
			if pos < b.pos[i].pos {
				b.pos[i].pos = pos
			}
			return
		}
	}
	b.pos = append(b.pos, partPos{p, pos})
}

// absorb reports whether an event with source src, replayed into a restored
// bucket, is one the restored alert already counted.
func (b *bucket) absorb(src Source) bool {
	if !src.IsZero() && slices.Contains(b.sources, src) {
		return true
	}
	if b.unlisted > 0 {
		b.unlisted--
		return true
	}
	return false
}
