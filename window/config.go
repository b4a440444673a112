package window

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"github.com/msiguard/msiguard/internal/settings"
)

// Defaults applied by New to the zero value of each Config option.
const (
	DefaultSpan          = time.Second
	DefaultGrace         = 2 * time.Second
	DefaultIdleTimeout   = 5 * time.Second
	DefaultRetain        = 10 * time.Minute
	DefaultRetainBuckets = 100_000
	DefaultRetainHosts   = 1 << 20
	DefaultMaxSources    = 100
	DefaultMaxValues     = 1000
	DefaultMaxAlertBytes = 1_000_000
	DefaultMemoryBudget  = 512 << 20
)

// MinMaxAlertBytes is the least Config.MaxAlertBytes accepted.
const MinMaxAlertBytes = 4096

// ErrConfig is wrapped by every error Validate and New return, so callers can
// tell a configuration mistake from anything else with errors.Is.
var ErrConfig = errors.New("window: invalid config")

// Config configures a Window. The zero value of every optional field selects
// its documented default; negative values are errors.
type Config struct {
	// RuleID, RuleTitle and Techniques are copied into every alert
	// (rule_id, rule_title, mitre_technique_id). RuleID is required: it is
	// part of every alert_id. Techniques may be empty.
	RuleID     string
	RuleTitle  string
	Techniques []string

	// Fields names the output fields, in the order of Event.Values (for the
	// seed rule, the 15 CIM fields). Required; names must be non-empty and
	// distinct. Alerts list them sorted bytewise, whatever their order here.
	Fields []string

	// Span is the width of a bucket (bin span=N): a whole number of
	// seconds, buckets aligned to the Unix epoch; an alert's _time is its
	// bucket's start. Default 1s.
	Span time.Duration

	// Grace is how far a host's own event time must move past the end of
	// one of its buckets before that bucket is emitted. Default 2s.
	Grace time.Duration

	// IdleTimeout emits a bucket that has received no event for this long.
	// In live mode it is measured on the caller's clock (the now passed to
	// Add and Advance); in backtest mode on the input's own clock, the
	// event-time watermark described in the package documentation.
	// Default 5s.
	IdleTimeout time.Duration

	// Retain is how long an emitted bucket stays revisable, measured on
	// the same clock as IdleTimeout from its latest emission (less when
	// RetainBuckets or MemoryBudget forget it early). Default 10m.
	Retain time.Duration

	// RetainBuckets caps the number of revisable buckets. When it is
	// reached, the oldest is forgotten. Default 100_000.
	RetainBuckets int

	// RetainHosts caps the number of hosts the window remembers once they
	// have no open or revisable bucket left. It remembers them for their
	// horizon, the latest second of a forgotten bucket, which makes a later
	// event for that second "late" rather than the start of a new alert. The
	// least recently active idle host is forgotten first (Stats.HostsEvicted);
	// hosts with buckets are never forgotten. Default 1<<20 (about 100 MB at
	// the limit).
	RetainHosts int

	// MaxSources caps the sources listed in an alert; the rest are counted
	// in sources_omitted. Default 100.
	MaxSources int

	// MaxValues caps the distinct values an alert keeps per field, and
	// MaxAlertBytes the bytes of its JSON (AppendJSON), as long as its host
	// is a few hundred bytes at most (the detector caps hosts). Values are
	// kept in the order their events arrive while they fit; the rest are
	// left out and counted per field (Field.Omitted, "values_omitted" with
	// "truncated": true in the JSON), up to 100,000 per alert. Listed
	// sources fit in the same bytes (the first that does not ends the
	// listing). A revision never drops a value an earlier one carried, and
	// event_count stays exact. Defaults 1000 and 1,000,000 (under Kafka's
	// default max.message.bytes of 1 MiB with the record's key and
	// headers); MaxAlertBytes at least MinMaxAlertBytes.
	MaxValues     int
	MaxAlertBytes int

	// MemoryBudget bounds the heap the window holds, as it estimates it
	// (Stats.Memory: buckets, values, hashes of values left out, hosts).
	// Beyond it the window forgets its oldest revisable buckets
	// (Stats.MemoryEvicted), then idle hosts, then emits its least recently
	// touched open buckets early (Stats.ForcedEmissions). Default 512 MiB.
	MemoryBudget int64

	// Backtest selects backtest mode: no clock at all, emission depends only
	// on the order of the input, and the same input gives byte-identical
	// output. The now arguments of Add and Advance are ignored.
	Backtest bool
}

// Validate reports the first problem with c, or nil. Zero optional fields
// are valid (they select defaults).
func (c Config) Validate() error {
	if c.RuleID == "" {
		return fmt.Errorf("%w: RuleID is empty; it names the rule in every alert and alert_id", ErrConfig)
	}
	if len(c.Fields) == 0 {
		return fmt.Errorf("%w: Fields is empty; list the output field names in the order of Event.Values", ErrConfig)
	}
	seen := make(map[string]bool, len(c.Fields))
	for i, f := range c.Fields {
		if f == "" {
			return fmt.Errorf("%w: Fields[%d] is empty", ErrConfig, i)
		}
		if seen[f] {
			return fmt.Errorf("%w: field %q is listed twice in Fields", ErrConfig, f)
		}
		seen[f] = true
	}
	if name, v, neg := settings.Negative("Span", c.Span, "Grace", c.Grace, "IdleTimeout", c.IdleTimeout, "Retain", c.Retain,
		"RetainBuckets", c.RetainBuckets, "RetainHosts", c.RetainHosts, "MaxSources", c.MaxSources,
		"MaxValues", c.MaxValues, "MaxAlertBytes", c.MaxAlertBytes, "MemoryBudget", c.MemoryBudget); neg {
		return fmt.Errorf("%w: %s is negative (%v); use 0 for the default", ErrConfig, name, v)
	}
	if c.Span%time.Second != 0 {
		return fmt.Errorf("%w: Span %v is not a whole number of seconds", ErrConfig, c.Span)
	}
	if c.MaxAlertBytes != 0 && c.MaxAlertBytes < MinMaxAlertBytes {
		return fmt.Errorf("%w: MaxAlertBytes %d is below %d", ErrConfig, c.MaxAlertBytes, MinMaxAlertBytes)
	}
	return nil
}

// withDefaults returns c with every zero optional field set to its default.
func (c Config) withDefaults() Config {
	c.Span = cmp.Or(c.Span, DefaultSpan)
	c.Grace = cmp.Or(c.Grace, DefaultGrace)
	c.IdleTimeout = cmp.Or(c.IdleTimeout, DefaultIdleTimeout)
	c.Retain = cmp.Or(c.Retain, DefaultRetain)
	c.RetainBuckets = cmp.Or(c.RetainBuckets, DefaultRetainBuckets)
	c.RetainHosts = cmp.Or(c.RetainHosts, DefaultRetainHosts)
	c.MaxSources = cmp.Or(c.MaxSources, DefaultMaxSources)
	c.MaxValues = cmp.Or(c.MaxValues, DefaultMaxValues)
	c.MaxAlertBytes = cmp.Or(c.MaxAlertBytes, DefaultMaxAlertBytes)
	c.MemoryBudget = cmp.Or(c.MemoryBudget, DefaultMemoryBudget)
	return c
}
