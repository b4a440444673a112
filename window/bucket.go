package window

import (
	"container/list"
	"slices"
)

type bucketState uint8

const (
	stateOpen bucketState = iota + 1
	stateRevisable
)

// bucketKey identifies a bucket: a host (by its record, cheaper to hash
// than its name), a second of event time, and whether it gathers late
// events (see Window).
type bucketKey struct {
	hs   *hostState
	sec  int64
	late bool
}

// bucket is the state of one (host, second) group.
type bucket struct {
	key bucketKey
	hs  *hostState // key.hs

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

	// fields[i] holds field i's distinct values, sorted bytewise; nil when
	// the field is absent from every event. The strings are copies the
	// window made (see Window.addEvent).
	fields [][]string

	// sources lists the first MaxSources events' sources; pos holds the
	// lowest position per partition.
	sources []Source
	pos     []partPos

	// Most buckets have the seed rule's 15 fields, one value each, one
	// source and one partition: room for them without more allocations.
	inlFields [15][]string
	inlVals   [15]string
	inlSource [1]Source
	inlPos    [1]partPos
	inlRev    [2]revCount

	// size is the JSON bytes of the bucket's host, fields and listed
	// sources, as its alert would hold them (see Window.fixed for the
	// rest); mem the heap bytes it holds, estimated (see Window.charge).
	size, mem int
	// srcStop: a source did not fit in MaxAlertBytes; no later one is
	// listed.
	srcStop bool
	// omitted is nil until a value is left out; then omitted[i] counts
	// field i's. omittedHashes counts the hashes held, at most maxOmitted.
	omitted       []omission
	omittedHashes int
	// nInl counts the slots of inlVals in use.
	nInl int
	// revisions lists the (revision, event count) of the alerts this bucket
	// emitted or was restored from, so that Heal can tell them from others'.
	revisions []revCount

	// elem is the bucket's element in Window.open or Window.revisable.
	elem *list.Element

	// id is the alert_id, computed at the first emission (on creation for
	// late buckets, from the first event).
	id string
}

// revCount is a published revision of a bucket and its event count.
type revCount struct{ revision, count int }

func (b *bucket) noteRevision(revision, count int) {
	if !b.hasRevision(revision, count) {
		b.revisions = append(b.revisions, revCount{revision, count})
	}
}

func (b *bucket) hasRevision(revision, count int) bool {
	return slices.Contains(b.revisions, revCount{revision, count})
}

// omission counts the distinct values of one field left out of a bucket:
// base of them before a restart (from the restored alert), plus those whose
// hashes seen holds.
type omission struct {
	base int
	seen map[uint64]struct{}
}

// omittedCount returns how many values of field i were left out.
func (b *bucket) omittedCount(i int) int {
	if b.omitted == nil {
		return 0
	}
	return b.omitted[i].base + len(b.omitted[i].seen)
}

// add adds v, not yet held by field i, to it. A field's first value takes
// a slot of inlVals while there is one.
func (b *bucket) add(i int, v string) {
	if b.fields[i] == nil && b.nInl < len(b.inlVals) {
		b.inlVals[b.nInl] = v
		b.fields[i] = b.inlVals[b.nInl : b.nInl+1 : b.nInl+1]
		b.nInl++
		return
	}
	b.insert(i, v)
}

// partPos is the lowest position a bucket holds in one partition.
type partPos struct {
	part Partition
	pos  int64
}

// has reports whether field i holds v.
func (b *bucket) has(i int, v string) bool {
	_, ok := slices.BinarySearch(b.fields[i], v)
	return ok
}

// insert adds v, not yet held by field i, to it, keeping the values
// sorted. v must be a string the bucket may keep.
func (b *bucket) insert(i int, v string) {
	vals := b.fields[i]
	j, _ := slices.BinarySearch(vals, v)
	b.fields[i] = slices.Insert(vals, j, v)
}

// numValues is the total number of distinct values over all fields.
func (b *bucket) numValues() int {
	n := 0
	for _, vals := range b.fields {
		n += len(vals)
	}
	return n
}

// notePos records the position of src if it is the lowest seen in its
// partition.
func (b *bucket) notePos(src Source) {
	part, pos := src.position()
	for i := range b.pos {
		if b.pos[i].part == part {
			b.pos[i].pos = min(b.pos[i].pos, pos)
			return
		}
	}
	b.pos = append(b.pos, partPos{part, pos})
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
