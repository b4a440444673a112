package spl

import (
	"github.com/msiguard/msiguard/rules/cim"
	"github.com/msiguard/msiguard/rules/segment"
)

// node is a compiled search expression.
type node struct {
	kind exprKind
	kids []*node
	pat  segment.Pattern // raw-text tests; eEventID: the XML literal

	ref  fieldRef // eCmp
	neg  bool
	glob glob

	id     int // eEventID
	idText string
	xml    bool
}

type eventMapping struct {
	id int
	m  *cim.Mapping
}

// fieldRef is a resolved field name: a raw source, or a CIM field computed
// by the mapping of the record's event id.
type fieldRef struct {
	name string
	src  cim.Source
	maps []eventMapping
	raw  bool // _raw (| regex "re")
}

// evalCtx is one record during one evaluation.
type evalCtx struct {
	raw     []byte
	rec     cim.Record
	eid     int
	eidDone bool
}

func (c *evalCtx) eventID() int {
	if !c.eidDone {
		c.eidDone = true
		c.eid = -1
		if v, ok := c.rec.Value(cim.EventCode); ok {
			if n, ok := decimal(v); ok {
				c.eid = n
			}
		}
	}
	return c.eid
}

func (f *fieldRef) value(c *evalCtx) (string, bool) {
	if f.src != cim.NoSource {
		v, ok := c.rec.Value(f.src)
		return v, ok && v != ""
	}
	id := c.eventID()
	for i := range f.maps {
		if f.maps[i].id == id {
			return f.maps[i].m.Value(c.rec)
		}
	}
	return "", false
}

// Match reports whether the record is selected: the first search holds
// (raw-text terms on raw, as Splunk runs them on _raw; field comparisons on
// rec), then every | search and | regex stage. It does not retain raw or
// rec, and allocates nothing itself (a CIM basename of a value holding a
// newline excepted); rec's Value should not allocate either.
func (p *Program) Match(raw []byte, rec cim.Record) bool {
	c := evalCtx{raw: raw, rec: rec}
	if !c.eval(p.search) {
		return false
	}
	for i := range p.stages {
		s := &p.stages[i]
		if !s.regex {
			if !c.eval(s.node) {
				return false
			}
			continue
		}
		// regex field="re" keeps events whose field contains a match and
		// drops those without the field; field!="re" keeps events whose
		// field does not contain one, events without the field included
		// (Splunk Search Reference, regex: "keep results that do not match").
		var ok bool
		if s.ref.raw {
			ok = s.re.Match(raw)
		} else if v, present := s.ref.value(&c); present {
			ok = s.re.MatchString(v)
		}
		if ok == s.neg {
			return false
		}
	}
	return true
}

func (c *evalCtx) eval(n *node) bool {
	switch n.kind {
	case eAll:
		return true
	case eAnd:
		for _, k := range n.kids {
			if !c.eval(k) {
				return false
			}
		}
		return true
	case eOr:
		for _, k := range n.kids {
			if c.eval(k) {
				return true
			}
		}
		return false
	case eNot:
		return !c.eval(n.kids[0])
	case eTerm, ePhrase, eTermD, ePrefix:
		return n.pat.Match(c.raw)
	case eEventID:
		v, ok := c.rec.Value(cim.EventCode)
		if !ok || v != n.idText {
			return false
		}
		return !n.xml || !isXML(c.raw) || n.pat.Match(c.raw)
	case eCmp:
		v, ok := n.ref.value(c)
		if !ok {
			return false
		}
		return n.glob.match(v) != n.neg
	}
	return false
}

// isXML reports whether raw is an XML record: after ASCII white space and
// one byte-order mark, it starts with '<' (the detector's test).
func isXML(raw []byte) bool {
	i := 0
	skip := func() {
		for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\r' || raw[i] == '\n') {
			i++
		}
	}
	skip()
	if len(raw)-i >= 3 && raw[i] == 0xEF && raw[i+1] == 0xBB && raw[i+2] == 0xBF {
		i += 3
		skip()
	}
	return i < len(raw) && raw[i] == '<'
}

// glob is a field-value pattern: * matches any run of bytes, the rest
// ASCII case-insensitively ("field values are not case sensitive", Splunk
// Search Manual, "Use fields to search"). Only "*" stands for "the field
// has a value".
type glob struct {
	parts  []string // lower case, split at *
	exists bool
}

func newGlob(pattern string) glob {
	g := glob{}
	all := true
	for i := 0; i < len(pattern); i++ {
		if pattern[i] != '*' {
			all = false
		}
	}
	if all {
		g.exists = true
		return g
	}
	start := 0
	for i := 0; i <= len(pattern); i++ {
		if i == len(pattern) || pattern[i] == '*' {
			g.parts = append(g.parts, segment.LowerString(pattern[start:i]))
			start = i + 1
		}
	}
	return g
}

func (g *glob) match(v string) bool {
	if g.exists {
		return true
	}
	if len(g.parts) == 1 {
		return len(v) == len(g.parts[0]) && hasPrefixFold(v, g.parts[0])
	}
	first, last := g.parts[0], g.parts[len(g.parts)-1]
	if len(v) < len(first)+len(last) || !hasPrefixFold(v, first) || !hasPrefixFold(v[len(v)-len(last):], last) {
		return false
	}
	v = v[len(first) : len(v)-len(last)]
	for _, mid := range g.parts[1 : len(g.parts)-1] {
		i := indexFold(v, mid)
		if i < 0 {
			return false
		}
		v = v[i+len(mid):]
	}
	return true
}

// hasPrefixFold reports whether s starts with the lower-case lower, ASCII
// case-insensitively.
func hasPrefixFold(s, lower string) bool {
	if len(s) < len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		if segment.Lower(s[i]) != lower[i] {
			return false
		}
	}
	return true
}

func indexFold(s, lower string) int {
	for i := 0; i+len(lower) <= len(s); i++ {
		if hasPrefixFold(s[i:], lower) {
			return i
		}
	}
	return -1
}

// Outputs returns the names of the fields a selected record carries into
// its bucket, in the table's order (wildcards expanded), without _time and
// host.
func (p *Program) Outputs() []string {
	out := make([]string, len(p.outputs))
	for i := range p.outputs {
		out[i] = p.outputs[i].name
	}
	return out
}

// OutputValue returns output field i (an index into Outputs) of a record;
// ok is false when the record has no value for it.
func (p *Program) OutputValue(i int, rec cim.Record) (string, bool) {
	c := evalCtx{rec: rec}
	return p.outputs[i].value(&c)
}

// Group returns the rule's grouping.
func (p *Program) Group() Group { return p.group }

// EventIDs returns the Sysmon event ids a selected record can have, sorted;
// nil when the rule does not restrict them (then every record that passes
// the prefilter must be evaluated), empty when no record can match.
func (p *Program) EventIDs() []int {
	if p.eventIDs == nil {
		return nil
	}
	return append([]int{}, p.eventIDs...)
}

// Sources returns the raw fields Match and OutputValue may ask a Record
// for, sorted: what a parser must extract for this rule.
func (p *Program) Sources() []cim.Source { return append([]cim.Source(nil), p.sources...) }

// Prefilter returns the raw-text tokens a record must hold for Match to be
// able to return true.
func (p *Program) Prefilter() Prefilter { return p.prefilter }
