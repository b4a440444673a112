package stream

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/deadletter"
	"github.com/msiguard/msiguard/internal/settings"
	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/rules"
	"github.com/msiguard/msiguard/window"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultRestoreLookback = time.Hour
	// RestoreSlack is what the default RestoreLookback adds to 2 x Retain
	// for long Retains (see Config.RestoreLookback).
	RestoreSlack             = time.Minute
	DefaultCommitInterval    = time.Second
	DefaultShutdownTimeout   = 30 * time.Second
	DefaultSessionTimeout    = 10 * time.Second
	DefaultHeartbeatInterval = time.Second
	DefaultRebalanceTimeout  = 30 * time.Second
	DefaultFetchMaxBytes     = 4 << 20
	DefaultFetchMaxWait      = 500 * time.Millisecond
	DefaultAlertQueue        = 10_000
	DefaultRecordQueue       = 10_000
	DefaultTickInterval      = 500 * time.Millisecond
	DefaultDeadLetterBytes   = deadletter.DefaultPrefixBytes
)

// MatchesSuffix is appended to the alerts topic to name the matches topic
// when Config.MatchesTopic is empty.
const MatchesSuffix = ".matches"

// ErrConfig is wrapped by every error Validate returns.
var ErrConfig = kafkaio.ErrConfig

// Config configures a Pipeline. Every optional field's zero value selects
// the documented default.
type Config struct {
	// Cluster says how to reach the brokers (addresses, TLS, SASL). Required.
	Cluster kafkaio.Cluster

	// Topic is the input topic of raw Sysmon records. Required.
	Topic string
	// Group is the consumer group id. Required.
	Group string
	// AlertsTopic receives the alerts, keyed by alert_id; it should be
	// compacted. Required; it must exist.
	AlertsTopic string
	// DLQTopic receives the records the detector could not evaluate or
	// group. Required; it must exist.
	DLQTopic string
	// RuleAlertsTopics sends the alerts of the rule with each id (a key) to
	// that topic instead of AlertsTopic. Each topic must exist and should be
	// compacted, as AlertsTopic; restore and the tail for stale records read
	// every alerts topic, and take from each only the alerts of the rules
	// routed to it. Every id must be one of Rules' when New is called; Reload
	// may then drop a routed rule (its route stays, unused, with a warning)
	// and bring it back. The routes cannot change without a restart.
	// Default: every rule to AlertsTopic.
	RuleAlertsTopics map[string]string
	// MatchesTopic is the internal repartition topic (matches keyed by
	// host). Default AlertsTopic + ".matches"; created at startup with the
	// input topic's partition count when missing.
	MatchesTopic string

	// Rules are the detection rules, compiled (rules.Compile), run together
	// in one pass. Default: the seed rule embedded in the binary
	// (rules.Default). Their ids must be distinct.
	Rules []*rules.Compiled
	// Shape forces the record shape. Default detector.ShapeAuto.
	Shape detector.Shape

	// Grace, IdleTimeout and Retain tune the window (see window.Config).
	// Defaults 2s, 5s and 10m.
	Grace, IdleTimeout, Retain time.Duration
	// RetainBuckets caps the emitted alerts each partition of the matches
	// topic keeps revisable (window.Config.RetainBuckets): with the seed
	// rule about 1.7 KB each (BenchmarkBytesPerBucket), so the cap bounds an
	// instance's memory at roughly RetainBuckets × 1.7 KB per matches
	// partition it is assigned.
	// Beyond it the oldest are forgotten before Retain, and a later event
	// for one becomes a late alert. Default 100k.
	RetainBuckets int
	// MaxSources caps the sources an alert lists (window.Config.MaxSources);
	// the rest are counted in sources_omitted. Default 100.
	MaxSources int

	// MaxValues and MaxAlertBytes cap each alert, WindowMemory the
	// estimated heap of a matches partition's windows (one per rule, each
	// with an even share as window.Config.MemoryBudget). Defaults 1000, 1,000,000 and 512 MiB. An alert of
	// MaxAlertBytes must fit the alerts topic's max.message.bytes: Run
	// refuses to start otherwise.
	MaxValues, MaxAlertBytes int
	WindowMemory             int64
	// Limits cap each match's values and host (detector.Limits): 32 KiB
	// and 255 bytes by default. A match of every field at MaxValueBytes
	// must fit the matches topic.
	Limits detector.Limits
	// DeadLetterBytes is how much of its original a dead letter keeps
	// (with the original's length and SHA-256 in headers). Default 64 KiB,
	// or less to fit the dead-letter topic's max.message.bytes.
	DeadLetterBytes int

	// RestoreLookback is how far back in the alerts topic to read published
	// alerts before consuming matches, so that a replay re-emits nothing
	// already published. A restarted member replays the matches of every
	// bucket still revisable when it stopped, whose alerts were published up
	// to Retain before that, so it survives a downtime of up to
	// RestoreLookback - Retain without publishing such a bucket again as
	// revision 1. RestoreLookback must exceed 2 x Retain (a downtime of
	// Retain at least). Default 1h, or 2 x Retain + RestoreSlack when that is
	// longer.
	RestoreLookback time.Duration
	// CommitInterval is how often offsets are committed (each commit waits
	// for the acknowledgement of what it covers). Default 1s.
	CommitInterval time.Duration
	// ShutdownTimeout bounds the drain when the context is cancelled
	// (SIGTERM): flush, wait for acknowledgements, commit, leave the group.
	// Default 30s.
	ShutdownTimeout time.Duration

	// SessionTimeout, HeartbeatInterval and RebalanceTimeout tune the
	// consumer group. A crashed member's partitions move after
	// SessionTimeout. Defaults 10s, 1s and 30s. The drain on revocation is
	// bounded by half the RebalanceTimeout and two thirds of the
	// SessionTimeout (no heartbeats are sent while it runs).
	SessionTimeout, HeartbeatInterval, RebalanceTimeout time.Duration

	// FetchMaxBytes caps one fetch of one partition. Default 4 MiB.
	FetchMaxBytes int
	// FetchMaxWait is how long the broker may hold a fetch for data to
	// arrive. Default 500ms.
	FetchMaxWait time.Duration
	// AlertQueue and RecordQueue bound the alerts and records (matches and
	// dead letters) accepted but not yet acknowledged; beyond them
	// consumption waits. Defaults 10_000 each.
	AlertQueue, RecordQueue int

	// Logger receives the pipeline's logs. Default slog.Default().
	Logger *slog.Logger

	// now is the clock (time.Now unless a test replaces it).
	now func() time.Time
}

// Validate reports the first problem with c, or nil: a
// *kafkaio.FieldError naming the Config field (FieldError.Related lists
// the other fields its Problem names), which wraps ErrConfig.
func (c *Config) Validate() error {
	if err := c.Cluster.Validate(); err != nil {
		return err
	}
	bad := func(field, problem string, related ...string) error {
		return &kafkaio.FieldError{Field: field, Problem: problem, Related: related}
	}
	for _, f := range []struct{ field, v string }{
		{"Topic", c.Topic}, {"Group", c.Group}, {"AlertsTopic", c.AlertsTopic}, {"DLQTopic", c.DLQTopic},
	} {
		if f.v == "" {
			return bad(f.field, "is empty")
		}
		if err := validTopicName(f.v); err != nil && f.field != "Group" {
			return bad(f.field, fmt.Sprintf("%q: %v", f.v, err))
		}
	}
	if c.MatchesTopic != "" {
		if err := validTopicName(c.MatchesTopic); err != nil {
			return bad("MatchesTopic", fmt.Sprintf("%q: %v", c.MatchesTopic, err))
		}
	}
	m := c.matchesTopic()
	names := map[string]string{}
	for _, t := range []struct{ field, v string }{
		{"Topic", c.Topic}, {"AlertsTopic", c.AlertsTopic}, {"DLQTopic", c.DLQTopic}, {"MatchesTopic", m},
	} {
		if prev, ok := names[t.v]; ok {
			return bad(t.field, fmt.Sprintf("names topic %q, as %s does: each must be its own topic", t.v, prev), prev)
		}
		names[t.v] = t.field
	}
	for _, id := range slices.Sorted(maps.Keys(c.RuleAlertsTopics)) {
		t := c.RuleAlertsTopics[id]
		if err := validTopicName(t); err != nil || t == "" {
			if t == "" {
				err = errors.New("is empty")
			}
			return bad("RuleAlertsTopics", fmt.Sprintf("rule %s: topic %q: %v", id, t, err))
		}
		if f := names[t]; f != "" && f != "AlertsTopic" {
			return bad("RuleAlertsTopics", fmt.Sprintf("rule %s: topic %q is the %s: alerts need a topic of their own", id, t, f), f)
		}
	}
	if c.Shape >= detector.Shape(len(detector.Shapes())+1) {
		return bad("Shape", fmt.Sprintf("%d is unknown", c.Shape))
	}
	if name, v, neg := settings.Negative("Grace", c.Grace, "IdleTimeout", c.IdleTimeout, "Retain", c.Retain,
		"RestoreLookback", c.RestoreLookback, "CommitInterval", c.CommitInterval, "ShutdownTimeout", c.ShutdownTimeout,
		"SessionTimeout", c.SessionTimeout, "HeartbeatInterval", c.HeartbeatInterval, "RebalanceTimeout", c.RebalanceTimeout,
		"FetchMaxWait", c.FetchMaxWait, "RetainBuckets", c.RetainBuckets, "MaxSources", c.MaxSources,
		"FetchMaxBytes", c.FetchMaxBytes, "AlertQueue", c.AlertQueue, "RecordQueue", c.RecordQueue,
		"MaxValues", c.MaxValues, "MaxAlertBytes", c.MaxAlertBytes, "DeadLetterBytes", c.DeadLetterBytes,
		"WindowMemory", c.WindowMemory); neg {
		return bad(name, fmt.Sprintf("%v is negative; use 0 for the default", v))
	}
	d := c.withDefaults()
	if d.RestoreLookback/2 <= d.Retain { // 2*Retain could overflow
		return bad("RestoreLookback", fmt.Sprintf("%v must exceed twice Retain (%v): a restarted member must read back the alerts of the buckets revisable when it stopped, up to Retain older than that, and a downtime of Retain at least must not publish them again as revision 1", d.RestoreLookback, d.Retain), "Retain")
	}
	if d.HeartbeatInterval*3 > d.SessionTimeout {
		return bad("HeartbeatInterval", fmt.Sprintf("%v must be at most a third of SessionTimeout (%v)", d.HeartbeatInterval, d.SessionTimeout), "SessionTimeout")
	}
	ids := map[string]bool{}
	for _, r := range c.Rules {
		if ids[r.Rule.ID] {
			return bad("Rules", fmt.Sprintf("rule id %s is given twice", r.Rule.ID))
		}
		ids[r.Rule.ID] = true
	}
	if ids := c.unloadedRoutes(d.Rules); len(ids) > 0 {
		return bad("RuleAlertsTopics", fmt.Sprintf("names rule %s, which is not among the rules loaded", ids[0]), "Rules")
	}
	if err := c.Limits.Validate(); err != nil {
		return bad("Limits", err.Error(), "MaxValueBytes", "MaxHostBytes")
	}
	if c.MaxAlertBytes != 0 && c.MaxAlertBytes < window.MinMaxAlertBytes {
		return bad("MaxAlertBytes", fmt.Sprintf("%d is below %d", c.MaxAlertBytes, window.MinMaxAlertBytes))
	}
	for _, r := range d.Rules {
		if err := d.windowConfig(r, len(d.Rules)).Validate(); err != nil {
			return fmt.Errorf("%w: rule %s: %v", ErrConfig, r.Rule.ID, err)
		}
	}
	return nil
}

// validTopicName applies Kafka's rules for topic names.
func validTopicName(s string) error {
	if s == "." || s == ".." {
		return errors.New("not a valid topic name")
	}
	if len(s) > 249 {
		return errors.New("longer than 249 characters")
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("character %q not allowed (use letters, digits, '.', '_' and '-')", r)
		}
	}
	return nil
}

func (c *Config) matchesTopic() string {
	if c.MatchesTopic != "" {
		return c.MatchesTopic
	}
	return c.AlertsTopic + MatchesSuffix
}

// unloadedRoutes returns the rule ids of RuleAlertsTopics that are not
// among rs, sorted.
func (c *Config) unloadedRoutes(rs []*rules.Compiled) []string {
	var out []string
	for _, id := range slices.Sorted(maps.Keys(c.RuleAlertsTopics)) {
		if !slices.ContainsFunc(rs, func(r *rules.Compiled) bool { return r.Rule.ID == id }) {
			out = append(out, id)
		}
	}
	return out
}

// alertsTopicOf returns the topic the alerts of rule id go to.
func (c *Config) alertsTopicOf(id string) string {
	if t, ok := c.RuleAlertsTopics[id]; ok {
		return t
	}
	return c.AlertsTopic
}

// alertsTopics returns every topic alerts go to: AlertsTopic, then the
// other topics of RuleAlertsTopics, sorted.
func (c *Config) alertsTopics() []string {
	out := []string{c.AlertsTopic}
	for _, t := range slices.Sorted(maps.Values(c.RuleAlertsTopics)) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func (c Config) withDefaults() Config {
	c.MatchesTopic = c.matchesTopic()
	c.RuleAlertsTopics = maps.Clone(c.RuleAlertsTopics) // the caller's map may change
	c.Grace = cmp.Or(c.Grace, window.DefaultGrace)
	c.IdleTimeout = cmp.Or(c.IdleTimeout, window.DefaultIdleTimeout)
	c.Retain = cmp.Or(c.Retain, window.DefaultRetain)
	c.RestoreLookback = cmp.Or(c.RestoreLookback, max(DefaultRestoreLookback, 2*c.Retain+RestoreSlack))
	c.CommitInterval = cmp.Or(c.CommitInterval, DefaultCommitInterval)
	c.ShutdownTimeout = cmp.Or(c.ShutdownTimeout, DefaultShutdownTimeout)
	c.SessionTimeout = cmp.Or(c.SessionTimeout, DefaultSessionTimeout)
	c.HeartbeatInterval = cmp.Or(c.HeartbeatInterval, DefaultHeartbeatInterval)
	c.RebalanceTimeout = cmp.Or(c.RebalanceTimeout, DefaultRebalanceTimeout)
	c.FetchMaxWait = cmp.Or(c.FetchMaxWait, DefaultFetchMaxWait)
	c.RetainBuckets = cmp.Or(c.RetainBuckets, window.DefaultRetainBuckets)
	c.MaxSources = cmp.Or(c.MaxSources, window.DefaultMaxSources)
	c.FetchMaxBytes = cmp.Or(c.FetchMaxBytes, DefaultFetchMaxBytes)
	c.AlertQueue = cmp.Or(c.AlertQueue, DefaultAlertQueue)
	c.RecordQueue = cmp.Or(c.RecordQueue, DefaultRecordQueue)
	c.MaxValues = cmp.Or(c.MaxValues, window.DefaultMaxValues)
	c.WindowMemory = cmp.Or(c.WindowMemory, window.DefaultMemoryBudget)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if len(c.Rules) == 0 {
		seed, err := rules.Compile(rules.Default(), nil)
		if err != nil {
			panic("stream: the embedded seed rule does not compile: " + err.Error()) // rules.TestDefault guards it
		}
		c.Rules = []*rules.Compiled{seed}
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// windowConfig is the configuration of rule's window in a matches
// partition whose windows run n rules: they share WindowMemory evenly.
func (c *Config) windowConfig(rule *rules.Compiled, n int) window.Config {
	return rule.Window(window.Config{
		Grace:       c.Grace,
		IdleTimeout: c.IdleTimeout,
		Retain:      c.Retain,
		// Zero (unset) options take the window's defaults.
		RetainBuckets: c.RetainBuckets,
		MaxValues:     c.MaxValues,
		MaxAlertBytes: c.MaxAlertBytes,
		MemoryBudget:  c.WindowMemory / int64(max(n, 1)),
		MaxSources:    c.MaxSources,
	})
}

// LogValue describes the effective configuration for a log line, secrets
// masked.
func (c Config) LogValue() slog.Value {
	// Durations as text ("2s"): JSON handlers would write nanoseconds.
	d := c.withDefaults()
	tls := "off"
	if d.Cluster.TLS != nil {
		tls = "on"
		if d.Cluster.TLS.InsecureSkipVerify {
			tls = "on (certificate NOT verified)"
		}
	}
	attrs := []slog.Attr{
		slog.String("brokers", strings.Join(d.Cluster.Brokers, ",")),
		slog.String("topic", d.Topic),
		slog.String("group", d.Group),
		slog.String("alerts_topic", d.AlertsTopic),
		slog.String("dlq_topic", d.DLQTopic),
		slog.String("matches_topic", d.MatchesTopic),
		slog.String("shape", d.Shape.String()),
		slog.String("grace", d.Grace.String()),
		slog.String("idle_timeout", d.IdleTimeout.String()),
		slog.String("retain", d.Retain.String()),
		slog.Int("retain_buckets", d.RetainBuckets),
		slog.Int("max_values", d.MaxValues),
		slog.Int("max_alert_bytes", d.maxAlertBytes()),
		slog.Int("max_value_bytes", d.Limits.WithDefaults().MaxValueBytes),
		slog.Int("max_host_bytes", d.Limits.WithDefaults().MaxHostBytes),
		slog.Int64("window_memory", d.WindowMemory),
		slog.Int("max_sources", d.MaxSources),
		slog.String("restore_lookback", d.RestoreLookback.String()),
		slog.String("commit_interval", d.CommitInterval.String()),
		slog.String("shutdown_timeout", d.ShutdownTimeout.String()),
		slog.String("session_timeout", d.SessionTimeout.String()),
		slog.String("tls", tls),
		slog.String("sasl", d.Cluster.SASL.String()),
	}
	if len(d.RuleAlertsTopics) > 0 { // after alerts_topic; absent when every rule uses it
		var routes []string
		for _, id := range slices.Sorted(maps.Keys(d.RuleAlertsTopics)) {
			routes = append(routes, id+"="+d.RuleAlertsTopics[id])
		}
		attrs = slices.Insert(attrs, 4, slog.String("rule_alerts_topics", strings.Join(routes, ",")))
	}
	return slog.GroupValue(attrs...)
}
