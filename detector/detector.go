package detector

import (
	"fmt"
	"hash/maphash"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
)

// Options tune a Detector beyond its Rule.
type Options struct {
	// Shape forces every record to be read as one shape. The default,
	// ShapeAuto, detects the shape of each record.
	Shape Shape
	// Limits bound the host and values of a Match (see CapValue).
	Limits Limits
}

// Detector applies one Rule to raw records. It is immutable after New and
// safe for concurrent use.
type Detector struct {
	rule    Rule
	shape   Shape
	term    tokenMatcher
	eventID string // the rule's event id in decimal
	// xmlLiteral is the rule's raw-text event id test on XML records,
	// "<eventid>1<" (lower case: it is matched in any case).
	xmlLiteral string
	parent     *regexp.Regexp
	fields     []cimField // the rule's output fields, in order

	verdicts *parentVerdicts
	limits   Limits
}

// New builds a Detector for rule. It returns an error, never panics, when the
// rule or the options are invalid.
func New(rule Rule, opts Options) (*Detector, error) {
	if err := rule.Validate(); err != nil {
		return nil, fmt.Errorf("invalid rule %q: %w", rule.ID, err)
	}
	if opts.Shape >= numShapes {
		return nil, fmt.Errorf("invalid shape %d", opts.Shape)
	}
	if err := opts.Limits.Validate(); err != nil {
		return nil, fmt.Errorf("invalid limits: %w", err)
	}
	d := &Detector{
		rule:       rule,
		shape:      opts.Shape,
		term:       newTokenMatcher(rule.Term),
		eventID:    strconv.Itoa(rule.EventID),
		xmlLiteral: "<eventid>" + strconv.Itoa(rule.EventID) + "<",
		parent:     regexp.MustCompile(rule.ParentPattern), // validated above

		verdicts: new(parentVerdicts),
		limits:   opts.Limits.WithDefaults(),
	}
	d.rule.Fields = append([]string(nil), rule.Fields...)
	d.rule.Techniques = append([]string(nil), rule.Techniques...)
	for _, name := range rule.Fields {
		f, _ := lookupField(name)
		d.fields = append(d.fields, f)
	}
	return d, nil
}

// Rule returns the rule the detector applies (a copy).
func (d *Detector) Rule() Rule {
	r := d.rule
	r.Fields = append([]string(nil), r.Fields...)
	r.Techniques = append([]string(nil), r.Techniques...)
	return r
}

// Prefilter reports whether raw contains the rule's term as a Splunk token:
// in any case, bounded on each side by a Splunk breaker or the edge of raw
// (TERM(msiexec) on _raw). A record for which it returns false cannot match
// and needs no further work. It does not allocate or retain raw.
func (d *Detector) Prefilter(raw []byte) bool {
	return d.term.match(raw)
}

// Match is a record that the rule selected, ready to be grouped.
type Match struct {
	// Host is the endpoint's computer name (Sysmon's Computer), never a
	// collector's.
	Host string
	// Time is the event time in Unix nanoseconds, UTC: Sysmon's UtcTime when
	// the record has it, else the shape's own event time.
	Time int64
	// Values holds the rule's output fields in Rule.Fields order; "" means
	// the record has no value for that field. Host and Values share one
	// allocation of their own: they never alias the record.
	Values []string
	// Shape is the record's shape.
	Shape Shape
	// Truncated counts the host and values Evaluate cut to Options.Limits
	// (see CapValue).
	Truncated int
}

// Evaluate applies the rule to one raw record (JSON or XML text).
//
// It returns (m, true, nil) when the record matches, (Match{}, false, nil) when
// it does not, and (Match{}, false, err) with err an *Error when the record
// passed the prefilter but cannot be evaluated (ReasonMalformed,
// ReasonUnknownShape, ReasonTooDeep) or matched but cannot be grouped
// (ReasonMissingHost, ReasonBadTime). A record that fails the prefilter is
// never parsed and never yields an error. Evaluate does not retain raw.
func (d *Detector) Evaluate(raw []byte) (Match, bool, error) {
	m, ok, _, err := d.EvaluateNearMiss(raw)
	return m, ok, err
}

// EvaluateNearMiss is Evaluate that also says why a record that looks like
// what the rule wants was not selected: it returns the same match, ok and
// error as Evaluate, plus, for a record Evaluate does not select and does
// not dead-letter (ok false, err nil), a NearMiss other than "" when the
// record is a near miss (see NearMiss). It costs what Evaluate costs: both
// read the record once.
func (d *Detector) EvaluateNearMiss(raw []byte) (Match, bool, NearMiss, error) {
	if !d.term.match(raw) {
		return Match{}, false, "", nil
	}
	m, ok, near, err := d.evaluate(raw)
	if err != nil {
		return Match{}, false, "", err
	}
	if ok {
		m.Truncated = capMatch(&m, d.limits)
	}
	return m, ok, near, nil
}

// evaluate is EvaluateNearMiss without the prefilter.
func (d *Detector) evaluate(raw []byte) (Match, bool, NearMiss, *Error) {
	raw = trimRecordStart(raw)
	// One copy of the record as a string, which gjson and the XML scanner
	// read and the record's fields point into; group copies what a Match
	// keeps, so the copy is garbage when evaluate returns.
	s := string(raw)
	var r record
	var err *Error
	literal := true // the rule's raw-text event id test, on XML only
	switch {
	case d.shape == ShapeXML || (d.shape == ShapeAuto && strings.HasPrefix(s, "<")):
		err = readXML(s, raw, &r)
		// "<EventID>1<" on the raw XML, in any case as Splunk searches.
		literal = hasFold(s, d.xmlLiteral)
	case strings.HasPrefix(s, "<"):
		err = &Error{Reason: ReasonUnknownShape, Shape: d.shape, Detail: "record is XML but the detector expects shape " + d.shape.String()}
	case s == "":
		err = malformed(d.shape, "empty record")
	default: // JSON: valid first, then read (invalid JSON and JSON of no known shape differ)
		if err = checkJSON(raw, d.shape); err == nil {
			err = readJSON(s, d.shape, &r)
		}
	}
	switch {
	case err != nil:
		return Match{}, false, "", err
	case !d.sysmonEvent(&r):
		return Match{}, false, "", nil
	case !literal:
		return Match{}, false, NearMissEventIDLiteral, nil
	case !d.parentSelected(&r):
		return Match{}, false, "", nil
	}
	m, err := d.group(&r)
	if err != nil {
		return Match{}, false, "", err
	}
	return m, true, "", nil
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

// sysmonEvent applies the rule's Sysmon and event id tests (on the event id
// field) to a record read in any shape.
func (d *Detector) sysmonEvent(r *record) bool {
	if (r.channel != "" || r.provider != "") &&
		!containsFold(r.channel, "sysmon") && !containsFold(r.provider, "sysmon") {
		return false
	}
	return r.eventID == d.eventID
}

// parentSelected applies the rule's parent regex to parent_process_name.
func (d *Detector) parentSelected(r *record) bool {
	parent := r.data[fParentImage]
	if parent == "" {
		return false // `regex` drops events without the field
	}
	return d.parentMatches(basename(parent))
}

// parentVerdicts caches the parent regex's answer per parent process name:
// a few names (cmd.exe, svchost.exe, ...) make up nearly all of them, and
// the (?i) alternation costs far more than a lookup. Direct-mapped, lock
// free, bounded: a collision only costs a regex evaluation.
type parentVerdicts [1024]atomic.Pointer[parentVerdict]

type parentVerdict struct {
	name  string
	match bool
}

var verdictSeed = maphash.MakeSeed()

func (d *Detector) parentMatches(name string) bool {
	slot := &d.verdicts[maphash.String(verdictSeed, name)%uint64(len(d.verdicts))]
	if v := slot.Load(); v != nil && v.name == name {
		return v.match
	}
	ok := d.parent.MatchString(name)
	if len(name) <= 256 {
		slot.Store(&parentVerdict{name: strings.Clone(name), match: ok})
	}
	return ok
}

// group computes the host and time of a selected record and copies its
// host and output values into one string of their own.
func (d *Detector) group(r *record) (Match, *Error) {
	if strings.TrimSpace(r.host) == "" {
		return Match{}, &Error{Reason: ReasonMissingHost, Shape: r.shape, Detail: "matching record names no computer (host)"}
	}
	var t int64
	var ok bool
	switch {
	case r.data[fUtcTime] != "":
		if t, ok = parseTime(r.data[fUtcTime]); !ok {
			return Match{}, &Error{Reason: ReasonBadTime, Shape: r.shape, Detail: "UtcTime " + strconv.Quote(clip(r.data[fUtcTime])) + " is not a timestamp"}
		}
	case r.eventTime != "":
		if t, ok = parseTime(r.eventTime); !ok {
			return Match{}, &Error{Reason: ReasonBadTime, Shape: r.shape, Detail: "event time " + strconv.Quote(clip(r.eventTime)) + " is not a timestamp"}
		}
	default:
		return Match{}, &Error{Reason: ReasonBadTime, Shape: r.shape, Detail: "matching record has neither UtcTime nor an event time"}
	}
	m := Match{Time: t, Shape: r.shape, Values: make([]string, len(d.fields))}
	n := len(r.host)
	for i, f := range d.fields {
		v := r.data[f.src]
		if f.basename {
			v = basename(v)
		}
		m.Values[i] = v
		n += len(v)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(r.host)
	for _, v := range m.Values {
		b.WriteString(v)
	}
	packed := b.String()
	m.Host = packed[:len(r.host)]
	off := len(r.host)
	for i, v := range m.Values {
		m.Values[i] = packed[off : off+len(v)]
		off += len(v)
	}
	return m, nil
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
		for j < len(sub) && lowerTable[s[i+j]] == sub[j] {
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}
