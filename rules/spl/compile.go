package spl

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/msiguard/msiguard/rules/cim"
	"github.com/msiguard/msiguard/rules/segment"
)

// Program is a compiled rule search: immutable, safe for concurrent use.
//
// A record is selected when Match returns true: the first search's terms
// hold on its raw bytes and its field comparisons on its fields, then every
// later | search and | regex stage holds, in order. Selected records are
// grouped by Group; each carries the Outputs fields.
type Program struct {
	search  *node
	stages  []stage
	outputs []fieldRef
	group   Group

	prefilter Prefilter
	eventIDs  []int
	sources   []cim.Source

	// for Explain
	searchAST *expr
	stageAST  []stageAST
	tableAST  []string
}

// Group is the rule's grouping: `| bin span=Span | stats ... by By`.
type Group struct {
	// Span is the bucket width; buckets are aligned to the Unix epoch in UTC
	// (bin's default alignment; msiguard's _time is UTC).
	Span time.Duration
	// By lists the group-by fields as written: always _time and host.
	By []string
	// Count: the rule's stats computes count (the number of events in the
	// bucket, the alert's event_count).
	Count bool
	// Values: the rule's stats computes values(*) as *: every output field's
	// distinct values.
	Values bool
}

// Bucket returns the start of the bucket holding t (Unix nanoseconds).
func (g Group) Bucket(t int64) int64 {
	s := int64(g.Span)
	b := t / s * s
	if t < 0 && b != t {
		b -= s
	}
	return b
}

type stage struct {
	node  *node          // | search
	re    *regexp.Regexp // | regex
	ref   fieldRef       // | regex: the field (raw: _raw)
	neg   bool           // | regex field!=
	regex bool
}

type stageAST struct {
	cmd   string
	expr  *expr
	field string
	neg   bool
	re    string
	tok   token
}

// Compile compiles src, expanding macros from macros (which may be nil when
// src uses none). Every error is an *Error whose position is in src's file
// (or, inside a macro, in the macros file, with the uses in Via).
func Compile(src Text, macros Macros) (*Program, error) {
	toks, err := lexAll(src, macros)
	if err != nil {
		return nil, err
	}
	segs := splitPipes(toks)
	c := &compiler{p: &Program{}, end: endToken(src, toks)}
	if err := c.compile(segs); err != nil {
		return nil, err
	}
	return c.p, nil
}

func endToken(src Text, toks []token) token {
	if len(toks) > 0 {
		return toks[len(toks)-1]
	}
	return token{pos: src.position(0)}
}

func splitPipes(toks []token) [][]token {
	var segs [][]token
	cur := []token{}
	for _, t := range toks {
		if t.kind == tPipe {
			segs = append(segs, cur)
			cur = []token{{kind: tPipe, pos: t.pos, via: t.via, text: "|"}}
			continue
		}
		cur = append(cur, t)
	}
	return append(segs, cur)
}

type compiler struct {
	p   *Program
	end token
	// visible: after table, the fields later stages may name (nil: all).
	visible map[string]bool
}

func (c *compiler) compile(segs [][]token) error {
	first := segs[0]
	if len(first) > 0 && isKeyword(first[0], "search") {
		first = first[1:]
	}
	if len(first) == 0 && len(segs) > 1 {
		t := segs[1][0]
		if len(segs[1]) > 1 {
			t = segs[1][1]
		}
		return t.errorf("the search starts with a pipe: generating commands (%s) are not supported; %s", t.text, Supported)
	}
	pr := &parser{toks: first, rawTerms: true, cmd: "search"}
	ast, err := pr.parseExpr(0)
	if err != nil {
		return err
	}
	if pr.i < len(first) {
		return first[pr.i].errorf("unexpected %s", first[pr.i].text)
	}
	ast = rewriteEventID(ast)
	c.p.searchAST = ast

	// Parse every later command first: the event ids they imply decide
	// which CIM mappings field names resolve to.
	type cmd struct {
		name string
		toks []token
		head token
	}
	var cmds []cmd
	for _, s := range segs[1:] {
		if len(s) < 2 || s[1].kind != tWord {
			return s[0].errorf("a pipe must be followed by a command")
		}
		cmds = append(cmds, cmd{s[1].text, s[2:], s[1]})
	}
	var stageASTs []stageAST
	phase := 0 // 0: filters; 1: after table; 2: after bin; 3: after stats
	var tableTok, binTok token
	haveTable := false
	for _, cm := range cmds {
		if phase == 3 {
			return cm.head.errorf("| %s after | stats is not supported: stats must be the last command", cm.name)
		}
		switch cm.name {
		case "search":
			if phase >= 2 {
				return cm.head.errorf("| search after | bin is not supported: filter before bin")
			}
			pr := &parser{toks: cm.toks, cmd: "search"}
			e, err := pr.parseExpr(0)
			if err != nil {
				return err
			}
			if pr.i < len(cm.toks) {
				return cm.toks[pr.i].errorf("unexpected %s", cm.toks[pr.i].text)
			}
			if e.kind == eAll {
				return cm.head.errorf("| search with no condition")
			}
			stageASTs = append(stageASTs, stageAST{cmd: "search", expr: e, tok: cm.head})
		case "regex":
			if phase >= 2 {
				return cm.head.errorf("| regex after | bin is not supported: filter before bin")
			}
			sa, err := parseRegexArgs(cm.head, cm.toks)
			if err != nil {
				return err
			}
			stageASTs = append(stageASTs, sa)
		case "table":
			if phase >= 1 {
				return cm.head.errorf("| table may appear once, before bin and stats")
			}
			names, err := parseFieldList(cm.head, cm.toks)
			if err != nil {
				return err
			}
			c.p.tableAST = names
			haveTable, tableTok, phase = true, cm.head, 1
			stageASTs = append(stageASTs, stageAST{cmd: "table", tok: cm.head})
		case "bin", "bucket":
			if phase >= 2 {
				return cm.head.errorf("| %s may appear once, before stats", cm.name)
			}
			span, err := parseBin(cm.head, cm.toks)
			if err != nil {
				return err
			}
			c.p.group.Span, binTok, phase = span, cm.head, 2
		case "stats":
			if phase != 2 {
				return cm.head.errorf("| stats by _time needs | bin span=... before it: without it every distinct event time is its own group")
			}
			if err := c.parseStats(cm.head, cm.toks, haveTable); err != nil {
				return err
			}
			phase = 3
		default:
			return cm.head.errorf("unsupported command | %s; %s", cm.name, Supported)
		}
	}
	if phase != 3 {
		t := c.end
		if phase == 2 {
			t = binTok
		}
		return t.errorf("a rule must end with | bin span=... | stats ... by _time, host: msiguard alerts per host and time bucket")
	}

	c.p.eventIDs = eventIDs(ast, stageASTs)
	node, err := c.build(ast, true)
	if err != nil {
		return err
	}
	c.p.search = node
	c.p.prefilter = prefilterOf(ast)

	for _, sa := range stageASTs {
		switch sa.cmd {
		case "search":
			n, err := c.build(sa.expr, false)
			if err != nil {
				return err
			}
			c.p.stages = append(c.p.stages, stage{node: n})
			c.p.stageAST = append(c.p.stageAST, sa)
		case "regex":
			st, err := c.regexStage(sa)
			if err != nil {
				return err
			}
			c.p.stages = append(c.p.stages, st)
			c.p.stageAST = append(c.p.stageAST, sa)
		case "table":
			if err := c.table(tableTok); err != nil {
				return err
			}
		}
	}
	if !haveTable && c.p.group.Values {
		return c.end.errorf("values(*) needs a | table before it (without one it would collect _raw and every indexed field)")
	}
	c.p.sources = c.collectSources()
	return nil
}

// rewriteEventID turns Splunk's two spellings of an event-id test, the
// classic-log term TERM(EventCode=N) and the XML literal "<EventID>N<", into
// one test of the record's event id (rule-semantics.md, "Decisions for a
// stream of JSON (and XML) records"): alone, or as alternatives of one OR
// that name the same N.
func rewriteEventID(e *expr) *expr {
	if id, xml, ok := eventIDLeaf(e); ok {
		return &expr{kind: eEventID, id: id, xml: xml, tok: e.tok}
	}
	if e.kind == eOr {
		id, xml, ok := -1, false, true
		for _, k := range e.kids {
			kid, kx, kok := eventIDLeaf(k)
			if !kok || (id >= 0 && kid != id) {
				ok = false
				break
			}
			id, xml = kid, xml || kx
		}
		if ok {
			return &expr{kind: eEventID, id: id, xml: xml, tok: e.tok}
		}
	}
	for i, k := range e.kids {
		e.kids[i] = rewriteEventID(k)
	}
	return e
}

func eventIDLeaf(e *expr) (id int, xml, ok bool) {
	var digits string
	switch {
	case e.kind == eTermD && len(e.text) > 10 && strings.EqualFold(e.text[:10], "eventcode="):
		digits = e.text[10:]
	case e.kind == ePhrase && len(e.text) > 10 && strings.EqualFold(e.text[:9], "<eventid>") && e.text[len(e.text)-1] == '<':
		digits, xml = e.text[9:len(e.text)-1], true
	default:
		return 0, false, false
	}
	n, ok := decimal(digits)
	return n, xml, ok
}

// decimal parses a canonical non-negative decimal (no sign, no leading
// zero) of at most 9 digits.
func decimal(s string) (int, bool) {
	if s == "" || len(s) > 9 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// eventIDs derives the event ids a record must have from the conjuncts of
// the search and of the later | search stages; nil means any.
func eventIDs(search *expr, stages []stageAST) []int {
	var sets [][]int
	collect := func(e *expr) {
		for _, k := range conjuncts(e) {
			if ids, ok := idSet(k); ok {
				sets = append(sets, ids)
			}
		}
	}
	collect(search)
	for _, s := range stages {
		if s.cmd == "search" {
			collect(s.expr)
		}
	}
	if len(sets) == 0 {
		return nil
	}
	out := sets[0]
	for _, s := range sets[1:] {
		out = slices.DeleteFunc(slices.Clone(out), func(id int) bool { return !slices.Contains(s, id) })
	}
	if out == nil {
		out = []int{}
	}
	return out
}

func conjuncts(e *expr) []*expr {
	if e.kind == eAnd {
		var out []*expr
		for _, k := range e.kids {
			out = append(out, conjuncts(k)...)
		}
		return out
	}
	return []*expr{e}
}

// idSet reports the event ids e admits when e is an event-id test or an OR
// of them.
func idSet(e *expr) ([]int, bool) {
	switch e.kind {
	case eEventID:
		return []int{e.id}, true
	case eCmp:
		if src, ok := cim.SourceByName(e.field); ok && src == cim.EventCode && !e.neg {
			if n, ok := decimal(e.text); ok {
				return []int{n}, true
			}
		}
	case eOr:
		var all []int
		for _, k := range e.kids {
			ids, ok := idSet(k)
			if !ok {
				return nil, false
			}
			all = append(all, ids...)
		}
		slices.Sort(all)
		return slices.Compact(all), true
	}
	return nil, false
}

// reserved are Splunk fields that have no meaning for a record on a topic.
var reserved = map[string]string{
	"_raw":       "filter _raw with terms in the first search or | regex \"re\"",
	"_time":      "msiguard's _time is Sysmon's UtcTime and only groups",
	"index":      "the input topic is the endpoint data: there is no index (use the macros)",
	"source":     "the input topic is the endpoint data: there is no source (use Channel)",
	"sourcetype": "the input topic is the endpoint data: there is no sourcetype (use Channel)",
	"eventtype":  "event types are not supported",
	"tag":        "tags are not supported",
}

// resolve turns a field name into a reference, checking that some event the
// rule can select has it.
func (c *compiler) resolve(name string, t token) (fieldRef, error) {
	if why, ok := reserved[name]; ok {
		return fieldRef{}, t.errorf("field %s is not supported: %s", name, why)
	}
	if c.visible != nil && !c.visible[name] {
		return fieldRef{}, t.errorf("field %s is not kept by | table, so it is null here", name)
	}
	if src, ok := cim.SourceByName(name); ok {
		return fieldRef{name: name, src: src}, nil
	}
	if !cim.IsField(name) {
		return fieldRef{}, t.errorf("unknown field %s: not an envelope field (EventCode, Channel, SourceName, Computer or host), a Sysmon field, or a CIM field of event ids %s (rules/FIELDS.md)", name, idList(mappedIDs()))
	}
	ref := fieldRef{name: name}
	var has []int
	for _, ev := range cim.Events() {
		if m, ok := ev.Lookup(name); ok {
			has = append(has, ev.ID)
			if c.p.eventIDs == nil || slices.Contains(c.p.eventIDs, ev.ID) {
				ref.maps = append(ref.maps, eventMapping{ev.ID, m})
			}
		}
	}
	if len(ref.maps) == 0 {
		return fieldRef{}, t.errorf("field %s is not a CIM field of event id %s, which the rule selects (it is one of event ids %s; rules/FIELDS.md)", name, idList(c.p.eventIDs), idList(has))
	}
	return ref, nil
}

func mappedIDs() []int {
	var ids []int
	for _, e := range cim.Events() {
		ids = append(ids, e.ID)
	}
	return ids
}

func idList(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, ", ")
}

func (c *compiler) build(e *expr, first bool) (*node, error) {
	n := &node{kind: e.kind}
	switch e.kind {
	case eAll:
	case eAnd, eOr, eNot:
		for _, k := range e.kids {
			kn, err := c.build(k, first)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, kn)
		}
	case eTerm:
		// A bare term with minor breakers is searched as the phrase of its
		// pieces (Splunk Search Manual, "Use CASE() and TERM() to match
		// phrases": without TERM, such a term is matched as a phrase).
		n.pat = segment.NewPattern(e.text, edge(e.text[0]), edge(e.text[len(e.text)-1]))
	case ePhrase:
		n.pat = segment.NewPattern(e.text, edge(e.text[0]), edge(e.text[len(e.text)-1]))
	case eTermD:
		left := segment.Any
		if hasBreaker(e.text) {
			left = segment.Major
		}
		n.pat = segment.NewPattern(e.text, left, segment.Any)
	case ePrefix:
		n.pat = segment.NewPattern(e.text, segment.Any, segment.Free)
	case eEventID:
		n.id, n.idText, n.xml = e.id, strconv.Itoa(e.id), e.xml
		n.pat = segment.NewPattern("<EventID>"+n.idText+"<", segment.Free, segment.Free)
	case eCmp:
		ref, err := c.resolve(e.field, e.tok)
		if err != nil {
			return nil, err
		}
		n.ref, n.neg, n.glob = ref, e.neg, newGlob(e.text)
	}
	return n, nil
}

// edge is the bound a phrase needs at an end: none when the phrase itself
// ends in a breaker there, else a breaker of the record.
func edge(c byte) segment.Bound {
	if isBreaker(c) {
		return segment.Free
	}
	return segment.Any
}

func parseRegexArgs(head token, toks []token) (stageAST, error) {
	sa := stageAST{cmd: "regex", tok: head, field: "_raw"}
	switch {
	case len(toks) == 1 && toks[0].kind == tString:
		sa.re = decodeRegex(toks[0].text)
	case len(toks) == 3 && toks[0].kind == tWord && (toks[1].kind == tEq || toks[1].kind == tNe) && (toks[2].kind == tString || toks[2].kind == tWord):
		sa.field, sa.neg, sa.re = toks[0].text, toks[1].kind == tNe, decodeRegex(toks[2].text)
	default:
		t := head
		if len(toks) > 0 {
			t = toks[0]
		}
		return sa, t.errorf("| regex takes field=\"re\", field!=\"re\" or \"re\"; %s", Supported)
	}
	return sa, nil
}

func (c *compiler) regexStage(sa stageAST) (stage, error) {
	re, err := regexp.Compile(sa.re)
	if err != nil {
		return stage{}, sa.tok.errorf("regex %q does not compile as RE2 (Go's regexp: PCRE-only syntax such as lookarounds and backreferences is not supported): %v", sa.re, err)
	}
	st := stage{re: re, neg: sa.neg, regex: true}
	if sa.field == "_raw" {
		if c.visible != nil {
			return stage{}, sa.tok.errorf("| regex on _raw after | table: table drops _raw")
		}
		st.ref = fieldRef{name: "_raw", raw: true}
		return st, nil
	}
	ref, err := c.resolve(sa.field, sa.tok)
	if err != nil {
		return stage{}, err
	}
	st.ref = ref
	return st, nil
}

func parseFieldList(head token, toks []token) ([]string, error) {
	var names []string
	for _, t := range toks {
		switch t.kind {
		case tComma:
		case tWord:
			names = append(names, t.text)
		default:
			return nil, t.errorf("| table takes field names and wildcards separated by spaces or commas")
		}
	}
	if len(names) == 0 {
		return nil, head.errorf("| table with no fields")
	}
	return names, nil
}

// table expands the table's names (wildcards over the CIM fields of the
// rule's event ids, the Sysmon fields and the envelope fields), keeps _time
// and host out of the outputs (they are the group keys), and restricts what
// later stages may name.
func (c *compiler) table(tok token) error {
	var cands []string
	for _, ev := range cim.Events() {
		if c.p.eventIDs == nil || slices.Contains(c.p.eventIDs, ev.ID) {
			cands = append(cands, ev.FieldNames()...)
		}
	}
	for s := cim.Source(1); int(s) < cim.NumSources; s++ {
		cands = append(cands, s.String())
	}
	slices.Sort(cands)
	cands = slices.Compact(cands)
	seen := map[string]bool{}
	visible := map[string]bool{}
	var outs []string
	for _, name := range c.p.tableAST {
		var matched []string
		if strings.Contains(name, "*") {
			g := fieldGlob(name)
			for _, cand := range cands {
				if g.MatchString(cand) {
					matched = append(matched, cand)
				}
			}
		} else {
			matched = []string{name}
		}
		for _, m := range matched {
			if seen[m] {
				continue
			}
			seen[m] = true
			visible[m] = true
			if m == "_time" || m == "host" {
				continue
			}
			outs = append(outs, m)
		}
	}
	if !seen["_time"] || !seen["host"] {
		return tok.errorf("| table drops _time or host, which | stats groups by: Splunk would produce no rows")
	}
	for _, name := range outs {
		ref, err := c.resolve(name, tok)
		if err != nil {
			return err
		}
		c.p.outputs = append(c.p.outputs, ref)
	}
	c.visible = visible
	return nil
}

// fieldGlob compiles a field-name wildcard: * matches any run of
// characters, names are case-sensitive.
func fieldGlob(name string) *regexp.Regexp {
	parts := strings.Split(name, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

var spanUnits = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
}

func parseBin(head token, toks []token) (time.Duration, error) {
	var span time.Duration
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.kind == tWord && t.text == "_time":
		case t.kind == tWord && i+2 < len(toks) && toks[i+1].kind == tEq && toks[i+2].kind == tWord:
			if t.text != "span" {
				return 0, t.errorf("| bin option %s is not supported (only span=N with unit s, m or h)", t.text)
			}
			v := toks[i+2].text
			j := 0
			for j < len(v) && v[j] >= '0' && v[j] <= '9' {
				j++
			}
			n, err := strconv.Atoi(v[:j])
			unit, ok := spanUnits[v[j:]]
			if err != nil || n <= 0 || n > 1000000 || !ok {
				return 0, toks[i+2].errorf("span=%s is not supported: use a positive whole number and s, m or h (e.g. span=1s)", v)
			}
			span = time.Duration(n) * unit
			i += 2
		default:
			return 0, t.errorf("| bin takes span=N{s,m,h} and optionally _time; %q is not supported", t.text)
		}
	}
	if span == 0 {
		return 0, head.errorf("| bin needs span=N{s,m,h}")
	}
	return span, nil
}

func (c *compiler) parseStats(head token, toks []token, haveTable bool) error {
	i := 0
	g := &c.p.group
	for i < len(toks) && !isKeyword(toks[i], "by") {
		t := toks[i]
		switch {
		case t.kind == tComma:
			i++
		case t.kind == tWord && t.text == "count" && (i+1 >= len(toks) || toks[i+1].kind != tLParen):
			if g.Count {
				return t.errorf("count listed twice")
			}
			g.Count = true
			i++
		case t.kind == tWord && t.text == "values" && i+5 < len(toks) && toks[i+1].kind == tLParen &&
			toks[i+2].kind == tWord && toks[i+2].text == "*" && toks[i+3].kind == tRParen &&
			isKeyword(toks[i+4], "as") && toks[i+5].kind == tWord && toks[i+5].text == "*":
			if g.Values {
				return t.errorf("values(*) listed twice")
			}
			g.Values = true
			i += 6
		default:
			return t.errorf("stats function %q is not supported: only count and values(*) as *", t.text)
		}
	}
	if !g.Count && !g.Values {
		return head.errorf("| stats needs count or values(*) as *")
	}
	if i >= len(toks) {
		return head.errorf("| stats needs by _time, host")
	}
	byTok := toks[i]
	for _, t := range toks[i+1:] {
		switch {
		case t.kind == tComma:
		case t.kind == tWord && (t.text == "_time" || t.text == "host"):
			if slices.Contains(g.By, t.text) {
				return t.errorf("%s listed twice in by", t.text)
			}
			g.By = append(g.By, t.text)
		default:
			return t.errorf("stats by %s is not supported: msiguard groups by _time and host only", t.text)
		}
	}
	if len(g.By) != 2 {
		return byTok.errorf("stats must group by _time and host")
	}
	return nil
}

func (c *compiler) collectSources() []cim.Source {
	var out []cim.Source
	add := func(r *fieldRef) {
		if r.raw {
			return
		}
		if r.src != cim.NoSource {
			out = append(out, r.src)
		}
		for _, m := range r.maps {
			out = append(out, m.m.From...)
		}
		if len(r.maps) > 0 {
			out = append(out, cim.EventCode)
		}
	}
	var walk func(n *node)
	walk = func(n *node) {
		if n.kind == eCmp {
			add(&n.ref)
		}
		if n.kind == eEventID {
			out = append(out, cim.EventCode)
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(c.p.search)
	for i := range c.p.stages {
		if c.p.stages[i].node != nil {
			walk(c.p.stages[i].node)
		} else {
			add(&c.p.stages[i].ref)
		}
	}
	for i := range c.p.outputs {
		add(&c.p.outputs[i])
	}
	slices.Sort(out)
	return slices.Compact(out)
}
