package sysmongen

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Disabled, given as a rate in Config, turns that kind of record off. (A
// zero rate means the rate's default.)
const Disabled = -1.0

// Defaults applied by New to zero Config fields.
const (
	DefaultHosts           = 50
	DefaultDomain          = "corp.example.com"
	DefaultShortNames      = 0.2
	DefaultAttackRate      = 0.001
	DefaultDecoyRate       = 0.005
	DefaultForeignRate     = 0.02
	DefaultEventsPerSecond = 1000
	DefaultLate            = 5 * time.Minute
	// MaxHosts bounds Config.Hosts (the generator keeps about 1.6 KB
	// per host).
	MaxHosts = 100_000
)

// DefaultStart is Config.Start's default: a fixed instant, so that a zero
// Config is reproducible (the generator never reads the clock).
var DefaultStart = time.Date(2025, 3, 6, 10, 0, 0, 0, time.UTC)

// ErrConfig is wrapped by every error New returns for a bad Config.
var ErrConfig = errors.New("invalid generator configuration")

// Config says what stream to generate. The zero value is valid: 50 hosts,
// all seven shapes, 1000 events per second of event time from DefaultStart,
// 0.1% attacks.
//
// Rates are fractions of all records, in expectation. A zero rate means the
// documented default; Disabled (any negative value) means none.
type Config struct {
	// Seed selects the stream. The same Seed and Config give the same
	// records, byte for byte, on every platform. Zero is a seed like any
	// other.
	Seed uint64
	// Hosts is the number of endpoints. Default 50, at most MaxHosts.
	Hosts int
	// Domain is the DNS suffix of the endpoints' FQDNs; its first label,
	// upper-cased, is the NetBIOS domain of user names. Default
	// "corp.example.com".
	Domain string
	// ShortNames is the fraction of endpoints whose Sysmon Computer is the
	// short name (WS-FIN-0007) rather than the FQDN. Default 0.2.
	ShortNames float64
	// Shapes are the record shapes to produce; endpoint i ships in
	// Shapes[i % len(Shapes)], so every shape appears once Hosts >=
	// len(Shapes). A shape may be listed twice to weight it. Default: the
	// seven of Shapes().
	Shapes []Shape
	// AttackRate is the fraction of records that are attacks the seed rule
	// must match (msiexec started by cmd.exe or powershell.exe, modelled on
	// Atomic Red Team T1218.007). Default 0.001.
	AttackRate float64
	// DecoyRate is the fraction of records that mention msiexec but must
	// not match (MsiExec.exe -Embedding under services.exe, registry values
	// naming MsiExec.exe /I{GUID}, msiexecutor.exe, ...). Default 0.005.
	DecoyRate float64
	// ForeignRate is the fraction of records from channels other than
	// Sysmon's (Security, PowerShell). Default 0.02.
	ForeignRate float64
	// Start is the event time (Sysmon UtcTime) of the first record.
	// Default DefaultStart.
	Start time.Time
	// EventsPerSecond is the density of the stream in event time: record n
	// is nominally at Start + n/EventsPerSecond seconds, so N records span
	// N/EventsPerSecond seconds of event time. It says nothing about how
	// fast records are produced. Default 1000.
	EventsPerSecond int
	// Jitter, when positive, moves each record (each attack burst as a
	// whole) back in event time by a uniform amount in [0, Jitter): the
	// stream is then out of order by less than Jitter. Default 0: event
	// times never decrease (unless LateRate is set).
	Jitter time.Duration
	// DeadLetterRate is the fraction of records that mention msiexec and
	// would match but cannot be evaluated or grouped: an attack record cut
	// in half (malformed), without its computer name (no host), or with an
	// unparseable UtcTime (bad time), a third of each. Default 0 (none).
	DeadLetterRate float64
	// LateRate is the fraction of records (or attack bursts) that arrive
	// Late behind the others. Default 0 (none).
	LateRate float64
	// Late is how far behind a late record is. Default 5 minutes.
	Late time.Duration
}

// withDefaults returns c with its defaults applied and Disabled rates
// turned into 0.
func (c Config) withDefaults() Config {
	c.Hosts = cmp.Or(c.Hosts, DefaultHosts)
	c.Domain = cmp.Or(c.Domain, DefaultDomain)
	rate := func(v *float64, def float64) {
		switch {
		case *v == 0:
			*v = def
		case *v < 0:
			*v = 0
		}
	}
	rate(&c.ShortNames, DefaultShortNames)
	rate(&c.AttackRate, DefaultAttackRate)
	rate(&c.DecoyRate, DefaultDecoyRate)
	rate(&c.ForeignRate, DefaultForeignRate)
	rate(&c.DeadLetterRate, 0)
	rate(&c.LateRate, 0)
	if len(c.Shapes) == 0 {
		c.Shapes = Shapes()
	} else {
		c.Shapes = slices.Clone(c.Shapes)
	}
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	c.EventsPerSecond = cmp.Or(c.EventsPerSecond, DefaultEventsPerSecond)
	c.Late = cmp.Or(c.Late, DefaultLate)
	return c
}

// Validate reports the first problem with c (after defaults), or nil.
func (c Config) Validate() error {
	c = c.withDefaults()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	switch {
	case c.Hosts < 1 || c.Hosts > MaxHosts:
		return bad("hosts %d is out of range 1..%d", c.Hosts, MaxHosts)
	case c.EventsPerSecond < 1 || c.EventsPerSecond > 1_000_000_000:
		return bad("events per second %d is out of range 1..1e9", c.EventsPerSecond)
	case c.Jitter < 0:
		return bad("jitter %v is negative", c.Jitter)
	case c.Late < 0:
		return bad("late %v is negative", c.Late)
	case c.Start.Year() < 1971 || c.Start.Year() > 9000:
		return bad("start %v is out of range (years 1971..9000)", c.Start)
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"short-name fraction", c.ShortNames}, {"attack rate", c.AttackRate}, {"decoy rate", c.DecoyRate}, {"foreign rate", c.ForeignRate}, {"dead-letter rate", c.DeadLetterRate}, {"late rate", c.LateRate}} {
		if r.v > 1 || r.v != r.v {
			return bad("%s %v is not a fraction in [0, 1]", r.name, r.v)
		}
	}
	if sum := c.AttackRate + c.DecoyRate + c.ForeignRate + c.DeadLetterRate; sum > 0.9 {
		return bad("attack, decoy, foreign and dead-letter rates add up to %v: leave at least 10%% ordinary noise", sum)
	}
	for _, s := range c.Shapes {
		if !slices.Contains(Shapes(), s) {
			return bad("shape %v cannot be generated: name one of %v", s, Shapes())
		}
	}
	if c.Start.Add(c.Late + c.Jitter).Before(c.Start) {
		return bad("late + jitter overflow")
	}
	return nil
}

// Kind says what role a record plays for the seed rule.
type Kind uint8

const (
	// KindNoise is ordinary activity that never mentions msiexec.
	KindNoise Kind = iota
	// KindDecoy mentions msiexec (or msiexecutor) but must not match.
	KindDecoy
	// KindForeign is an event of another channel (Security, PowerShell);
	// some of them mention msiexec, none may match.
	KindForeign
	// KindAttack must match the seed rule.
	KindAttack
	// KindDeadLetter mentions msiexec and would match, but cannot be
	// evaluated or grouped (Config.DeadLetterRate): the pipeline
	// dead-letters it.
	KindDeadLetter
)

var kindNames = [...]string{"noise", "decoy", "foreign", "attack", "dead-letter"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Meta describes the record last returned by Next. Its strings are the
// generator's own (immutable, safe to keep).
type Meta struct {
	Kind  Kind
	Shape Shape // the shape the record was written in
	// Sysmon is false for foreign records.
	Sysmon  bool
	EventID int
	// Host is the endpoint's computer name as the record spells it: what
	// the detector must report as Match.Host (a dead letter without a
	// host leaves it out of the record).
	Host string
	// HostIndex is the endpoint's index, 0..Hosts-1.
	HostIndex int
	// Time is the record's event time, Sysmon's UtcTime (millisecond
	// precision, UTC).
	Time time.Time
	// Late reports whether the record was sent Late behind the others.
	Late bool
	// Scenario names the template the record was made from
	// ("art-local-msi", "reg-uninstall-string", "noise-eid10", ...).
	Scenario string
}

// Stats counts what a Generator has produced.
type Stats struct {
	Records int64
	Bytes   int64 // record bytes, without separators
	// ByShape and ByEventID count records per shape and per event id
	// (foreign event ids included).
	ByShape     map[Shape]int64
	ByEventID   map[int]int64
	Noise       int64
	Decoys      int64
	Foreign     int64
	Attacks     int64
	DeadLetters int64
	// AttackBursts counts incidents: one or more attack records on one
	// host within one second.
	AttackBursts int64
	// AttackBuckets counts distinct (host, second of event time) pairs
	// holding at least one attack: the number of alerts a correct
	// pipeline publishes for this stream (before any revision).
	AttackBuckets int64
	Late          int64
	// MinTime and MaxTime bound the event times produced (zero before the
	// first record).
	MinTime, MaxTime time.Time
}
