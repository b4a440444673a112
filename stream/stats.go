package stream

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/msiguard/msiguard/detector"
)

// Stats are the pipeline's counters, meant to be exported as metrics.
// Counters count since New; gauges (OpenBuckets, RevisableBuckets,
// Partitions) are current.
type Stats struct {
	RecordsConsumed int64 // input records read
	PrefilterHits   int64 // input records that contain the rule's term
	Matches         int64 // matches produced to the matches topic (stage A)
	MatchesApplied  int64 // matches added to a window (stage B)
	DuplicateMatch  int64 // copies of matches discarded by stage B (after a replay of the input)
	BadMatchRecords int64 // matches-topic records that did not decode (skipped)
	// ForeignRuleMatches counts matches-topic records of a rule this
	// member does not run (written before a change of the rule set).
	ForeignRuleMatches int64

	Alerts     int64 // alerts emitted with revision 1
	Revisions  int64 // alerts emitted with revision > 1
	LateAlerts int64 // alerts emitted with late=true
	// AlertsByRule counts alerts emitted with revision 1, by rule id (of
	// every rule run since New).
	AlertsByRule map[string]int64
	// RuleReloads counts rule sets switched to by Reload;
	// RuleReloadFailures the reloads refused (the running rules stayed).
	RuleReloads, RuleReloadFailures int64
	AlertsPublished                 int64 // alerts acknowledged by the brokers
	RestoredAlerts                  int64 // published alerts read back and restored into windows

	DeadLetters map[detector.Reason]int64 // records sent to the DLQ, by reason
	// NearMisses counts records that are the rule's event but miss its
	// literal test (detector.NearMiss), by kind.
	NearMisses map[detector.NearMiss]int64

	OpenBuckets int // window buckets not yet emitted, over all windows
	// RevisableBuckets counts emitted alerts still revisable, over all
	// windows (each holds at most Config.RetainBuckets).
	RevisableBuckets int
	// EvictedAlerts counts revisable alerts forgotten before Retain because
	// a window held Config.RetainBuckets: a later event for one becomes a
	// late alert. If it grows, raise --retain-buckets (and the memory).
	EvictedAlerts int64
	// The caps (Config.Limits, MaxValues, MaxAlertBytes, WindowMemory):
	// TruncatedValues counts matched values and hosts cut to their limit;
	// TruncatedAlerts alerts emitted with values left out, OmittedValues the
	// distinct values left out; MemoryEvicted revisable alerts forgotten
	// early and ForcedEmissions open buckets emitted early to keep a window
	// within WindowMemory; WindowMemory is the windows' estimated heap.
	TruncatedValues, TruncatedAlerts, OmittedValues int64
	MemoryEvicted, ForcedEmissions, EvictedHosts    int64
	WindowMemory                                    int64
	Rebalances                                      int64
	// HealedAlerts counts alerts published again because a stale record
	// of theirs followed them on the alerts topic; ZombieGenerations the
	// generations this member lost while it stalled, whose windows and
	// unacknowledged output it then discarded; FencedRecords the records
	// its producers dropped for a generation it no longer held.
	HealedAlerts, ZombieGenerations, FencedRecords int64 // consumer group generations joined (the first included)
	PublishErrors                                  int64 // failed produce calls (alerts, matches, dead letters); each is retried

	Partitions []PartitionStats // assigned partitions, sorted by topic and partition
}

// PartitionStats describes one assigned partition.
type PartitionStats struct {
	Topic     string
	Partition int
	Committed int64 // last committed offset, -1 if none yet in this process
	Lag       int64 // high watermark minus the next offset to read, -1 if unknown
	// CommittedLag is the high watermark minus the committed offset: the
	// records a restart would read again, which grows when consumption
	// goes on but nothing can be committed; -1 if unknown.
	CommittedLag int64
}

// counters are updated by workers (atomically, batched per fetch).
type counters struct {
	consumed, hits, matches, applied, dups, badMatch atomic.Int64
	alerts, revisions, late, restored, evicted       atomic.Int64
	truncatedValues, truncatedAlerts, omitted        atomic.Int64
	memoryEvicted, forced, evictedHosts              atomic.Int64
	healed, zombies, foreignRule                     atomic.Int64
	// byRule counts alerts emitted per rule, in the pipeline's rule order
	// (entries of Pipeline.ruleAlerts).
	byRule                  []*atomic.Int64
	reloads, reloadFailures atomic.Int64
	deadLetters             [8]atomic.Int64 // by index in detector.Reasons()
	nearMisses              [4]atomic.Int64 // by index in detector.NearMisses()
	rebalances              atomic.Int64
}

func nearIndex(n detector.NearMiss) int {
	i := slices.Index(detector.NearMisses(), n)
	if i < 0 || i >= 3 {
		return 3 // unknown kinds share the last slot
	}
	return i
}

func reasonIndex(r detector.Reason) int {
	i := slices.Index(detector.Reasons(), r)
	if i < 0 || i >= 7 {
		return 7 // unknown reasons share the last slot
	}
	return i
}

// partStats tracks the gauges of assigned partitions.
type partStats struct {
	mu sync.Mutex
	// guarded by mu: per assigned partition, last committed offset and lag;
	// per matches partition, open and revisable buckets of its window.
	committed map[tp]int64
	// start is where a partition's reading began in this generation
	// (the group's committed offset, or where it resolved to): what a
	// restart reads from until this process commits.
	start     map[tp]int64
	lag, hw   map[tp]int64
	open      map[int]int
	revisable map[int]int
	memory    map[int]int64
}

type tp struct {
	topic     string
	partition int
}

func newPartStats() *partStats {
	return &partStats{committed: map[tp]int64{}, start: map[tp]int64{}, lag: map[tp]int64{}, hw: map[tp]int64{}, open: map[int]int{}, revisable: map[int]int{}, memory: map[int]int64{}}
}

// setLag records a partition's fetch lag and high watermark (-1: unknown).
func (s *partStats) setLag(k tp, lag, hw int64) {
	s.mu.Lock()
	s.lag[k], s.hw[k] = lag, hw
	s.mu.Unlock()
}

// setWindow records the open and revisable buckets of a matches
// partition's window.
func (s *partStats) setWindow(part, open, revisable int, memory int64) {
	s.mu.Lock()
	s.open[part] = open
	s.revisable[part] = revisable
	s.memory[part] = memory
	s.mu.Unlock()
}

// setStart records where reading k began (see partStats.start).
func (s *partStats) setStart(k tp, off int64) {
	s.mu.Lock()
	s.start[k] = off
	s.mu.Unlock()
}

func (s *partStats) setCommitted(k tp, off int64) {
	s.mu.Lock()
	s.committed[k] = off
	s.mu.Unlock()
}

// reset forgets the partitions of an ended generation.
func (s *partStats) reset() {
	s.mu.Lock()
	clear(s.lag)
	clear(s.hw)
	clear(s.start)
	clear(s.open)
	clear(s.revisable)
	clear(s.memory)
	s.mu.Unlock()
}

// Stats returns a snapshot of the counters.
func (p *Pipeline) Stats() Stats {
	st := Stats{
		RecordsConsumed:    p.c.consumed.Load(),
		PrefilterHits:      p.c.hits.Load(),
		Matches:            p.c.matches.Load(),
		MatchesApplied:     p.c.applied.Load(),
		DuplicateMatch:     p.c.dups.Load(),
		BadMatchRecords:    p.c.badMatch.Load(),
		Alerts:             p.c.alerts.Load(),
		Revisions:          p.c.revisions.Load(),
		LateAlerts:         p.c.late.Load(),
		EvictedAlerts:      p.c.evicted.Load(),
		TruncatedValues:    p.c.truncatedValues.Load(),
		TruncatedAlerts:    p.c.truncatedAlerts.Load(),
		OmittedValues:      p.c.omitted.Load(),
		MemoryEvicted:      p.c.memoryEvicted.Load(),
		ForcedEmissions:    p.c.forced.Load(),
		EvictedHosts:       p.c.evictedHosts.Load(),
		HealedAlerts:       p.c.healed.Load(),
		ForeignRuleMatches: p.c.foreignRule.Load(),
		AlertsByRule:       map[string]int64{},
		RuleReloads:        p.c.reloads.Load(),
		RuleReloadFailures: p.c.reloadFailures.Load(),
		ZombieGenerations:  p.c.zombies.Load(),
		RestoredAlerts:     p.c.restored.Load(),
		Rebalances:         p.c.rebalances.Load(),
		DeadLetters:        map[detector.Reason]int64{},
		NearMisses:         map[detector.NearMiss]int64{},
	}
	p.rulesMu.Lock()
	for id, n := range p.ruleAlerts {
		st.AlertsByRule[id] = n.Load()
	}
	p.rulesMu.Unlock()
	for i, r := range detector.Reasons() {
		if n := p.c.deadLetters[i].Load(); n > 0 {
			st.DeadLetters[r] = n
		}
	}
	if n := p.c.deadLetters[7].Load(); n > 0 {
		st.DeadLetters["other"] = n
	}
	for i, k := range detector.NearMisses() {
		if n := p.c.nearMisses[i].Load(); n > 0 {
			st.NearMisses[k] = n
		}
	}
	p.prodMu.Lock()
	if p.alerts != nil {
		ps := p.alerts.Stats()
		st.AlertsPublished = ps.Acked
		st.PublishErrors += ps.Errors
	}
	if p.alerts != nil {
		st.FencedRecords += p.alerts.Stats().Fenced
	}
	if p.records != nil {
		rs := p.records.Stats()
		st.PublishErrors += rs.Errors
		st.FencedRecords += rs.Fenced
	}
	p.prodMu.Unlock()
	s := p.parts
	s.mu.Lock()
	for _, n := range s.open {
		st.OpenBuckets += n
	}
	for _, n := range s.revisable {
		st.RevisableBuckets += n
	}
	for _, n := range s.memory {
		st.WindowMemory += n
	}
	for k, lag := range s.lag {
		c, ok := s.committed[k]
		if !ok {
			c = -1
		}
		clag := int64(-1)
		from, ok := s.start[k]
		if c >= 0 {
			from, ok = max(from, c), true
		}
		if hw := s.hw[k]; hw >= 0 && ok {
			clag = max(hw-from, 0)
		}
		st.Partitions = append(st.Partitions, PartitionStats{Topic: k.topic, Partition: k.partition, Committed: c, Lag: lag, CommittedLag: clag})
	}
	s.mu.Unlock()
	slices.SortFunc(st.Partitions, func(a, b PartitionStats) int {
		if a.Topic != b.Topic {
			if a.Topic < b.Topic {
				return -1
			}
			return 1
		}
		return a.Partition - b.Partition
	})
	return st
}
