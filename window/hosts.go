package window

import (
	"math"
	"strings"
)

// hostState is everything the window remembers about one host. It lives
// while the host has open or revisable buckets, and after that (to keep its
// horizon) until RetainHosts idle hosts are remembered; then the least
// recently active idle host is forgotten first. One map lookup per event
// finds it, and with it the host's open buckets, whether any revisable
// bucket could match, and its horizon.
type hostState struct {
	host string
	// id identifies the host in revKey; ids are never reused.
	id uint64
	// open lists the host's open buckets, in the order they were opened.
	open []*bucket
	// last is the host's bucket that most recently copied a new value,
	// whose copies its next buckets share; nil once it is forgotten.
	last *bucket
	// rev[head:] lists the host's revisable buckets in the order they were
	// kept, each with the time it was kept, and a nil bucket for those
	// reopened or forgotten since (see revisable.go); nrev counts them,
	// revIdx indexes them once a lookup has scanned more than revIndexAt,
	// and maxRev bounds their seconds from above (math.MinInt64 when there
	// are none).
	rev    []revEntry
	head   int
	nrev   int
	revIdx map[revSlot]*bucket
	maxRev int64
	// horizon is the latest second of a forgotten bucket of the host
	// (math.MinInt64 when none): a new bucket at or before it is late.
	horizon int64
	// prev, next link hosts with no open or revisable bucket, least
	// recently active first; linked says whether it is in that list.
	prev, next *hostState
	linked     bool
}

// find returns the host's open bucket for sec, preferring the on-time one.
func (h *hostState) find(sec int64) *bucket {
	var late *bucket
	for _, b := range h.open {
		if b.sec == sec {
			if !b.late {
				return b
			}
			late = b
		}
	}
	return late
}

// host returns the state of a host, creating it (and copying the name).
func (w *Window) host(name string) *hostState {
	if hs := w.hosts[name]; hs != nil {
		return hs
	}
	name = strings.Clone(name)
	w.hostIDs++
	hs := &hostState{host: name, id: w.hostIDs, maxRev: math.MinInt64, horizon: math.MinInt64}
	w.hosts[name] = hs
	return hs
}

// busy takes a host out of the idle list: it is getting a bucket.
func (w *Window) busy(hs *hostState) {
	if !hs.linked {
		return
	}
	if hs.prev != nil {
		hs.prev.next = hs.next
	} else {
		w.idleHostsHead = hs.next
	}
	if hs.next != nil {
		hs.next.prev = hs.prev
	} else {
		w.idleHostsTail = hs.prev
	}
	hs.prev, hs.next, hs.linked = nil, nil, false
	w.idleHosts--
}

// settle puts a host with no open or revisable bucket at the tail of the
// idle list, then forgets the oldest idle hosts beyond RetainHosts.
func (w *Window) settle(hs *hostState) {
	if hs.linked || len(hs.open) > 0 || hs.nrev > 0 {
		return
	}
	hs.last = nil
	hs.prev, hs.next, hs.linked = w.idleHostsTail, nil, true
	if w.idleHostsTail != nil {
		w.idleHostsTail.next = hs
	} else {
		w.idleHostsHead = hs
	}
	w.idleHostsTail = hs
	w.idleHosts++
	for w.idleHosts > w.cfg.RetainHosts {
		old := w.idleHostsHead
		w.busy(old)
		delete(w.hosts, old.host)
		w.stats.HostsEvicted++
	}
}
