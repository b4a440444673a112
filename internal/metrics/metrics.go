// Package metrics exports a running pipeline's counters to Prometheus and
// serves them over HTTP with the liveness and readiness probes:
//
//	GET /metrics   Prometheus text format: the msiguard_* series below, plus
//	               go_* and process_* from client_golang's standard collectors
//	GET /healthz   200 "ok" while the process serves HTTP (liveness)
//	GET /readyz    200 "ready" once the pipeline has joined its consumer
//	               group, has partitions assigned, has restored its alerts
//	               and can write the alerts topic; 503 and the reason
//	               otherwise (readiness)
//
// The collector reads stream.Stats and the emission delay histogram at
// scrape time: nothing is counted twice and the pipeline's hot path does
// not know Prometheus exists. Names (see Names) are stable: dashboards and
// alerting rules depend on them, and the README lists them.
//
// It imports stream and detector (for their stats and reason names) and
// client_golang; only cmd/msiguard imports it.
package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/stream"
)

// Source is what the collector reads; *stream.Pipeline implements it.
type Source interface {
	Stats() stream.Stats
	EmissionDelays() stream.Histogram
	Ready() error
}

// metric is one exported series family.
type metric struct {
	name string
	desc *prometheus.Desc
	kind prometheus.ValueType
	// value reads a counter or gauge without labels from a snapshot.
	value func(*stream.Stats) int64
}

func newDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

func counter(name, help string, value func(*stream.Stats) int64) metric {
	return metric{name, newDesc(name, help), prometheus.CounterValue, value}
}

func gauge(name, help string, value func(*stream.Stats) int64) metric {
	return metric{name, newDesc(name, help), prometheus.GaugeValue, value}
}

// Series names with labels, exported for the README's list and tests.
const (
	NameDeadLetters     = "msiguard_dead_letters_total"
	NameNearMisses      = "msiguard_near_misses_total"
	NamePartitionLag    = "msiguard_partition_lag"
	NamePartitionOffset = "msiguard_partition_committed_offset"
	NameCommittedLag    = "msiguard_partition_committed_lag"
	NameEmissionDelay   = "msiguard_alert_emission_delay_seconds"
	NameReady           = "msiguard_ready"
	NameRuleAlerts      = "msiguard_rule_alerts_total"
)

var simple = []metric{
	counter("msiguard_records_consumed_total", "Input records read from the Sysmon topic.",
		func(s *stream.Stats) int64 { return s.RecordsConsumed }),
	counter("msiguard_prefilter_hits_total", "Input records holding the rule's term (msiexec), hence parsed.",
		func(s *stream.Stats) int64 { return s.PrefilterHits }),
	counter("msiguard_matches_total", "Records the rule selected, written to the matches topic (stage A).",
		func(s *stream.Stats) int64 { return s.Matches }),
	counter("msiguard_matches_applied_total", "Matches added to a window (stage B).",
		func(s *stream.Stats) int64 { return s.MatchesApplied }),
	counter("msiguard_duplicate_matches_total", "Copies of matches discarded by stage B after a replay of the input.",
		func(s *stream.Stats) int64 { return s.DuplicateMatch }),
	counter("msiguard_bad_match_records_total", "Records of the matches topic that did not decode (skipped).",
		func(s *stream.Stats) int64 { return s.BadMatchRecords }),
	counter("msiguard_alerts_total", "Alerts emitted for the first time (revision 1), late alerts included.",
		func(s *stream.Stats) int64 { return s.Alerts }),
	counter("msiguard_alert_revisions_total", "Alerts emitted again with more content (revision > 1).",
		func(s *stream.Stats) int64 { return s.Revisions }),
	counter("msiguard_foreign_rule_matches_total", "Records of the matches topic for a rule this member does not run (written before the rule set changed); skipped.",
		func(s *stream.Stats) int64 { return s.ForeignRuleMatches }),
	counter("msiguard_rule_reloads_total", "Rule sets switched to on SIGHUP (the pipeline drained and rejoined with them).",
		func(s *stream.Stats) int64 { return s.RuleReloads }),
	counter("msiguard_rule_reload_failures_total", "Rule reloads refused (a rule did not load or compile, ids repeated, records would not fit the topics); the running rules stayed.",
		func(s *stream.Stats) int64 { return s.RuleReloadFailures }),
	counter("msiguard_late_alerts_total", "Alerts made of events that arrived after their bucket stopped being revisable.",
		func(s *stream.Stats) int64 { return s.LateAlerts }),
	counter("msiguard_alerts_published_total", "Alert records (first emissions and revisions) acknowledged by the brokers.",
		func(s *stream.Stats) int64 { return s.AlertsPublished }),
	counter("msiguard_restored_alerts_total", "Published alerts read back from the alerts topic after a start or rebalance.",
		func(s *stream.Stats) int64 { return s.RestoredAlerts }),
	counter("msiguard_publish_errors_total", "Failed produce calls to the alerts, matches or dead-letter topics; each is retried.",
		func(s *stream.Stats) int64 { return s.PublishErrors }),
	counter("msiguard_rebalances_total", "Consumer group generations joined.",
		func(s *stream.Stats) int64 { return s.Rebalances }),
	counter("msiguard_evicted_alerts_total", "Revisable alerts forgotten before --retain because a window held --retain-buckets; later events for them make late alerts.",
		func(s *stream.Stats) int64 { return s.EvictedAlerts }),
	counter("msiguard_truncated_values_total", "Matched values and host names cut to --max-value-bytes or --max-host-bytes (a prefix, the length and the SHA-256 kept).",
		func(s *stream.Stats) int64 { return s.TruncatedValues }),
	counter("msiguard_truncated_alerts_total", "Alert records emitted with values left out by --max-values or --max-alert-bytes (\"truncated\": true).",
		func(s *stream.Stats) int64 { return s.TruncatedAlerts }),
	counter("msiguard_omitted_values_total", "Distinct values left out of alerts by --max-values or --max-alert-bytes (counted per field in values_omitted).",
		func(s *stream.Stats) int64 { return s.OmittedValues }),
	counter("msiguard_memory_evicted_alerts_total", "Revisable alerts forgotten early to keep a window within --window-memory; later events for them make late alerts.",
		func(s *stream.Stats) int64 { return s.MemoryEvicted }),
	counter("msiguard_forced_emissions_total", "Open buckets emitted early to keep a window within --window-memory; later events revise them.",
		func(s *stream.Stats) int64 { return s.ForcedEmissions }),
	counter("msiguard_evicted_hosts_total", "Idle hosts (and their horizons) a window forgot, beyond 1,048,576 or to stay within --window-memory; their horizons live on in a fixed table.",
		func(s *stream.Stats) int64 { return s.EvictedHosts }),
	counter("msiguard_healed_alerts_total", "Alerts published again, unchanged, because a stale record of theirs (from a member that stalled past its session) followed them on the alerts topic.",
		func(s *stream.Stats) int64 { return s.HealedAlerts }),
	counter("msiguard_zombie_generations_total", "Generations this member lost while it stalled (SIGSTOP, GC pause, partition): its windows and unacknowledged output were discarded, not flushed.",
		func(s *stream.Stats) int64 { return s.ZombieGenerations }),
	counter("msiguard_fenced_records_total", "Records the producers dropped because this member no longer held their generation.",
		func(s *stream.Stats) int64 { return s.FencedRecords }),
	gauge("msiguard_window_memory_bytes", "Estimated heap held by this process's windows (each bounded by --window-memory).",
		func(s *stream.Stats) int64 { return s.WindowMemory }),
	gauge("msiguard_open_buckets", "Window buckets (host, second) not yet emitted.",
		func(s *stream.Stats) int64 { return int64(s.OpenBuckets) }),
	gauge("msiguard_revisable_buckets", "Emitted alerts still revisable by late events (at most --retain-buckets per matches partition).",
		func(s *stream.Stats) int64 { return int64(s.RevisableBuckets) }),
}

var (
	deadLettersDesc = newDesc(NameDeadLetters, "Records sent to the dead-letter topic, by reason.", "reason")
	nearMissesDesc  = newDesc(NameNearMisses, "Records that are the rule's event but miss its literal test (so no alert, as in Splunk), by reason: e.g. event_id_literal, XML whose EventID element carries attributes.", "reason")
	lagDesc         = newDesc(NamePartitionLag, "Records between an assigned partition's end and the next offset to read.", "topic", "partition")
	offsetDesc      = newDesc(NamePartitionOffset, "Last offset committed for an assigned partition by this process.", "topic", "partition")
	clagDesc        = newDesc(NameCommittedLag, "Records between an assigned partition's end and its committed offset: what a restart would read again. It grows when records are read but their output cannot be acknowledged.", "topic", "partition")
	delayDesc       = newDesc(NameEmissionDelay, "Wall-clock time from the end of an alert's second (Sysmon event time) to its first emission; late alerts excluded.")
	readyDesc       = newDesc(NameReady, "1 when /readyz answers 200, else 0.")
	ruleAlertsDesc  = newDesc(NameRuleAlerts, "Alerts emitted for the first time (revision 1), by rule id.", "rule")
)

// Names returns the names of every msiguard_* series family, in the order
// they are described.
func Names() []string {
	var out []string
	for _, m := range simple {
		out = append(out, m.name)
	}
	return append(out, NameDeadLetters, NameNearMisses, NamePartitionLag, NamePartitionOffset, NameCommittedLag, NameEmissionDelay, NameReady, NameRuleAlerts)
}

// Collector is a prometheus.Collector over a Source.
type Collector struct {
	src Source
}

// NewCollector returns a collector that reads src at every scrape.
func NewCollector(src Source) *Collector { return &Collector{src: src} }

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range simple {
		ch <- m.desc
	}
	for _, d := range []*prometheus.Desc{deadLettersDesc, nearMissesDesc, lagDesc, offsetDesc, clagDesc, delayDesc, readyDesc, ruleAlertsDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Stats()
	for _, m := range simple {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, float64(m.value(&st)))
	}
	// Every known reason, zero included, so that rate() and alerting rules
	// see the series from the start.
	for _, r := range detector.Reasons() {
		ch <- prometheus.MustNewConstMetric(deadLettersDesc, prometheus.CounterValue, float64(st.DeadLetters[r]), string(r))
	}
	for r, n := range st.DeadLetters {
		if !isKnownReason(r) {
			ch <- prometheus.MustNewConstMetric(deadLettersDesc, prometheus.CounterValue, float64(n), string(r))
		}
	}
	for _, r := range detector.NearMisses() {
		ch <- prometheus.MustNewConstMetric(nearMissesDesc, prometheus.CounterValue, float64(st.NearMisses[r]), string(r))
	}
	for id, n := range st.AlertsByRule {
		ch <- prometheus.MustNewConstMetric(ruleAlertsDesc, prometheus.CounterValue, float64(n), id)
	}
	for _, p := range st.Partitions {
		part := strconv.Itoa(p.Partition)
		if p.Lag >= 0 {
			ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, float64(p.Lag), p.Topic, part)
		}
		if p.Committed >= 0 {
			ch <- prometheus.MustNewConstMetric(offsetDesc, prometheus.GaugeValue, float64(p.Committed), p.Topic, part)
		}
		if p.CommittedLag >= 0 {
			ch <- prometheus.MustNewConstMetric(clagDesc, prometheus.GaugeValue, float64(p.CommittedLag), p.Topic, part)
		}
	}
	h := c.src.EmissionDelays()
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		buckets[b] = h.Counts[i]
	}
	ch <- prometheus.MustNewConstHistogram(delayDesc, h.Count, h.Sum, buckets)
	ready := 0.0
	if c.src.Ready() == nil {
		ready = 1
	}
	ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, ready)
}

func isKnownReason(r detector.Reason) bool {
	for _, k := range detector.Reasons() {
		if k == r {
			return true
		}
	}
	return false
}
