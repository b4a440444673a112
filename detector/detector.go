package detector

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/msiguard/msiguard/rules"
	"github.com/msiguard/msiguard/rules/segment"
	"github.com/msiguard/msiguard/rules/spl"
	"github.com/msiguard/msiguard/rules/tokenscan"
)

// Options tune a Detector beyond its rules.
type Options struct {
	// Shape forces every record to be read as one shape. The default,
	// ShapeAuto, detects the shape of each record.
	Shape Shape
	// Limits bound the host and values of a Match (see CapValue).
	Limits Limits
}

// Detector applies compiled rules (rules.Compiled) to raw records, all in
// one pass: one scan finds every rule's prefilter tokens, a record any
// rule's tokens hit is read once, and only those rules' searches run on it.
// It is immutable after New and safe for concurrent use.
type Detector struct {
	rules   []*rules.Compiled
	scanner *tokenscan.Scanner
	hits    sync.Pool // *tokenscan.Hits
	records sync.Pool // *record, zeroed
	shape   Shape
	limits  Limits
	// ids[i] are rule i's event ids with their XML literals (lower case),
	// for near misses; nil when the rule names none.
	ids [][]eventID
}

// eventID is an event id a rule selects, in decimal, and the raw-text
// literal "<eventid>N<" Splunk's search finds it by in XML.
type eventID struct {
	text, literal string
}

// New builds a Detector for rs (at least one). It returns an error, never
// panics, when the options are invalid.
func New(rs []*rules.Compiled, opts Options) (*Detector, error) {
	if len(rs) == 0 {
		return nil, fmt.Errorf("no rule")
	}
	if opts.Shape >= numShapes {
		return nil, fmt.Errorf("invalid shape %d", opts.Shape)
	}
	if err := opts.Limits.Validate(); err != nil {
		return nil, fmt.Errorf("invalid limits: %w", err)
	}
	var pfs []spl.Prefilter
	for _, c := range rs {
		pfs = append(pfs, c.Program.Prefilter())
	}
	sc, err := tokenscan.New(pfs)
	if err != nil {
		return nil, err
	}
	d := &Detector{rules: slices.Clone(rs), scanner: sc, shape: opts.Shape, limits: opts.Limits.WithDefaults()}
	d.hits.New = func() any { return sc.NewHits() }
	for _, c := range rs {
		var ids []eventID
		for _, id := range c.Program.EventIDs() {
			t := strconv.Itoa(id)
			ids = append(ids, eventID{t, "<eventid>" + t + "<"})
		}
		d.ids = append(d.ids, ids)
	}
	return d, nil
}

// NewDefault builds a Detector for the seed rule, the catalog file embedded
// in the binary (rules.Default).
func NewDefault(opts Options) (*Detector, error) {
	c, err := rules.Compile(rules.Default(), nil)
	if err != nil {
		return nil, err
	}
	return New([]*rules.Compiled{c}, opts)
}

// Seed returns NewDefault's Detector with default options, for tests and
// examples that need the seed rule as it ships. It panics only if the
// embedded rule does not compile, which TestSeed guards.
func Seed() *Detector {
	d, err := NewDefault(Options{})
	if err != nil {
		panic("detector: the embedded seed rule does not compile: " + err.Error())
	}
	return d
}

// Rules returns the rules the detector applies, in the order of
// Match.Rule.
func (d *Detector) Rules() []*rules.Compiled { return slices.Clone(d.rules) }

// Prefilter reports whether raw holds some rule's prefilter tokens (for the
// seed rule: the term msiexec as a Splunk token, in any case, bounded on
// each side by a Splunk breaker or the edge of raw). A record for which it
// returns false cannot match and needs no further work. It does not
// allocate or retain raw.
func (d *Detector) Prefilter(raw []byte) bool {
	if !d.scanner.Large() {
		return d.scanner.Any(raw, nil)
	}
	h := d.hits.Get().(*tokenscan.Hits)
	defer d.hits.Put(h)
	return d.scanner.Any(raw, h)
}

// Match is a record that a rule selected, ready to be grouped.
type Match struct {
	// Rule is the index of the rule in Rules.
	Rule int
	// Host is the endpoint's computer name (Sysmon's Computer), never a
	// collector's.
	Host string
	// Time is the event time in Unix nanoseconds, UTC: Sysmon's UtcTime when
	// the record has it, else the shape's own event time.
	Time int64
	// Values holds the rule's output fields in the order of its program's
	// Outputs; "" means the record has no value for that field. Host and
	// Values share one allocation of their own: they never alias the record.
	Values []string
	// Shape is the record's shape.
	Shape Shape
	// Truncated counts the host and values cut to Options.Limits (see
	// CapValue).
	Truncated int
}

// Evaluate applies the rules to one raw record (JSON or XML text) and
// returns the first rule's match: for a detector of one rule, its verdict.
//
// It returns (m, true, nil) when a rule matches, (Match{}, false, nil) when
// none does, and (Match{}, false, err) with err an *Error when the record
// passed the prefilter but cannot be evaluated (ReasonMalformed,
// ReasonUnknownShape, ReasonTooDeep) or matched but cannot be grouped
// (ReasonMissingHost, ReasonBadTime). A record that fails the prefilter is
// never parsed and never yields an error. Evaluate does not retain raw.
func (d *Detector) Evaluate(raw []byte) (Match, bool, error) {
	m, ok, _, err := d.EvaluateNearMiss(raw)
	return m, ok, err
}

// EvaluateNearMiss is Evaluate that also says why a record that looks like
// what a rule wants was not selected: a NearMiss other than "" when no rule
// selects it, it is not dead-lettered, and it is a near miss of some rule
// (see NearMiss). It reads the record once.
func (d *Detector) EvaluateNearMiss(raw []byte) (Match, bool, NearMiss, error) {
	ms, near, err := d.EvaluateAll(raw, nil)
	if err != nil || len(ms) == 0 {
		return Match{}, false, near, err
	}
	return ms[0], true, "", nil
}

// EvaluateAll applies every rule to one raw record and appends a Match per
// rule that selects it to dst, in rule order. Errors are Evaluate's (one
// per record, whichever rules it concerns); the NearMiss is set only when
// no rule selects the record.
func (d *Detector) EvaluateAll(raw []byte, dst []Match) ([]Match, NearMiss, error) {
	h := d.hits.Get().(*tokenscan.Hits)
	defer d.hits.Put(h)
	d.scanner.Scan(raw, h)
	return d.evaluate(raw, dst, h.Has)
}

// evaluate is EvaluateAll for the rules hit says the prefilter passed.
func (d *Detector) evaluate(raw []byte, dst []Match, hit func(rule int) bool) ([]Match, NearMiss, error) {
	any := false
	for i := range d.rules {
		any = any || hit(i)
	}
	if !any {
		return dst, "", nil
	}
	raw = trimRecordStart(raw)
	// One copy of the record as a string, which gjson and the XML scanner
	// read and the record's fields point into; group copies what a Match
	// keeps, so the copy is garbage when EvaluateAll returns.
	s := string(raw)
	// A record is 1.5 KB, as much as the copy; pooled, zeroed on return
	// so that it keeps nothing of s alive.
	r, _ := d.records.Get().(*record)
	if r == nil {
		r = new(record)
	}
	defer func() { *r = record{}; d.records.Put(r) }()
	var err *Error
	xml := false
	switch {
	case d.shape == ShapeXML || (d.shape == ShapeAuto && strings.HasPrefix(s, "<")):
		xml = true
		err = readXML(s, raw, r)
	case strings.HasPrefix(s, "<"):
		err = &Error{Reason: ReasonUnknownShape, Shape: d.shape, Detail: "record is XML but the detector expects shape " + d.shape.String()}
	case s == "":
		err = malformed(d.shape, "empty record")
	default: // JSON: valid first, then read (invalid JSON and JSON of no known shape differ)
		if err = checkJSON(raw, d.shape); err == nil {
			err = readJSON(s, d.shape, r)
		}
	}
	if err != nil {
		return dst, "", err
	}
	n := len(dst)
	var near NearMiss
	for i, c := range d.rules {
		if !hit(i) {
			continue
		}
		if c.Program.Match(raw, r) {
			dst = append(dst, Match{Rule: i})
			continue
		}
		if xml && near == "" && d.nearMiss(i, s, r) {
			near = NearMissEventIDLiteral
		}
	}
	if len(dst) == n {
		return dst, near, nil
	}
	host, t, gerr := group(r)
	if gerr != nil {
		return dst[:n], "", gerr
	}
	for k := n; k < len(dst); k++ {
		m := &dst[k]
		d.fill(m, r, host, t)
	}
	return dst, "", nil
}

// nearMiss reports whether an XML record is the Sysmon event rule i is
// about, by its <EventID> element, while its text lacks the literal
// "<EventID>N<" Splunk's search looks for (python-evtx writes
// <EventID Qualifiers="">1</EventID>).
func (d *Detector) nearMiss(i int, s string, r *record) bool {
	if (r.channel != "" || r.provider != "") && !containsFold(r.channel, "sysmon") && !containsFold(r.provider, "sysmon") {
		return false
	}
	for _, id := range d.ids[i] {
		if r.eventID == id.text && !hasFold(s, id.literal) {
			return true
		}
	}
	return false
}

// trimRecordStart removes what precedes a record's first value: ASCII
// whitespace (space, tab, CR, LF) and UTF-8 byte order marks, in any order
// and number.
func trimRecordStart(raw []byte) []byte {
	for len(raw) > 0 {
		switch raw[0] {
		case ' ', '\t', '\r', '\n':
			raw = raw[1:]
			continue
		}
		if len(raw) >= 3 && raw[0] == 0xef && raw[1] == 0xbb && raw[2] == 0xbf {
			raw = raw[3:]
			continue
		}
		break
	}
	return raw
}

// group returns the host and time of a selected record.
func group(r *record) (string, int64, *Error) {
	if strings.TrimSpace(r.host) == "" {
		return "", 0, &Error{Reason: ReasonMissingHost, Shape: r.shape, Detail: "matching record names no computer (host)"}
	}
	var t int64
	var ok bool
	switch {
	case r.data[fUtcTime] != "":
		if t, ok = parseTime(r.data[fUtcTime]); !ok {
			return "", 0, &Error{Reason: ReasonBadTime, Shape: r.shape, Detail: "UtcTime " + strconv.Quote(clip(r.data[fUtcTime])) + " is not a timestamp"}
		}
	case r.eventTime != "":
		if t, ok = parseTime(r.eventTime); !ok {
			return "", 0, &Error{Reason: ReasonBadTime, Shape: r.shape, Detail: "event time " + strconv.Quote(clip(r.eventTime)) + " is not a timestamp"}
		}
	default:
		return "", 0, &Error{Reason: ReasonBadTime, Shape: r.shape, Detail: "matching record has neither UtcTime nor an event time"}
	}
	return r.host, t, nil
}

// fill sets m's host, time and rule's output values, copied into one string
// of their own, and cuts them to the limits.
func (d *Detector) fill(m *Match, r *record, host string, t int64) {
	p := d.rules[m.Rule].Program
	m.Time, m.Shape = t, r.shape
	m.Values = make([]string, len(p.Outputs()))
	n := len(host)
	for i := range m.Values {
		v, _ := p.OutputValue(i, r)
		m.Values[i] = v
		n += len(v)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(host)
	for _, v := range m.Values {
		b.WriteString(v)
	}
	packed := b.String()
	m.Host = packed[:len(host)]
	off := len(host)
	for i, v := range m.Values {
		m.Values[i] = packed[off : off+len(v)]
		off += len(v)
	}
	m.Truncated = capMatch(m, d.limits)
}

// hasFold reports whether s contains the lower-case ASCII text sub, which
// starts with '<', in any case.
func hasFold(s, sub string) bool {
	for i := 0; ; i++ {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 || i+j+len(sub) > len(s) {
			return false
		}
		i += j
		if containsFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
}

// containsFold reports whether s contains the lower-case ASCII word sub in any
// case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) && segment.Lower(s[i+j]) == sub[j] {
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}
