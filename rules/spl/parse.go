package spl

import (
	"strings"

	"github.com/msiguard/msiguard/rules/segment"
)

var (
	hasMajor   = segment.HasMajor
	hasBreaker = segment.HasBreaker
	isBreaker  = segment.IsBreaker
)

// exprKind is the kind of a node of a search expression.
type exprKind uint8

const (
	eAll     exprKind = iota // matches every record (`*`, or an empty search)
	eAnd                     // every kid
	eOr                      // any kid
	eNot                     // not the only kid
	eTerm                    // bare term: a token, or a phrase when it holds breakers
	ePhrase                  // "quoted phrase"
	eTermD                   // TERM(x)
	ePrefix                  // term* : a token starting with text
	eCmp                     // field=value, field!=value
	eEventID                 // the event-id idiom (TERM(EventCode=N) OR "<EventID>N<")
)

type expr struct {
	kind  exprKind
	kids  []*expr
	text  string // decoded term, phrase or value
	field string // eCmp: the field name
	neg   bool   // eCmp: !=
	id    int    // eEventID
	xml   bool   // eEventID: the "<EventID>N<" literal was among the alternatives
	tok   token  // where it was written
}

type parser struct {
	toks []token
	i    int
	// rawTerms: whether raw-text terms are allowed (the first search only).
	rawTerms bool
	cmd      string
}

func (p *parser) peek() token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	t := token{kind: tEOF}
	if len(p.toks) > 0 {
		t.pos, t.via = p.toks[len(p.toks)-1].pos, p.toks[len(p.toks)-1].via
	}
	return t
}

func (p *parser) next() token { t := p.peek(); p.i++; return t }

func isKeyword(t token, kw string) bool { return t.kind == tWord && t.text == kw }

// parseExpr parses a whole search expression: conjunctions of disjunctions
// ("The search command evaluates OR before AND operators", Splunk Search
// Manual, "Boolean expressions with logical operators": parentheses, then
// NOT, then OR, then AND).
func (p *parser) parseExpr(depth int) (*expr, error) {
	var kids []*expr
	for {
		t := p.peek()
		if t.kind == tEOF || t.kind == tRParen {
			break
		}
		if isKeyword(t, "AND") {
			if len(kids) == 0 {
				return nil, t.errorf("AND without a left operand")
			}
			p.next()
			if nt := p.peek(); nt.kind == tEOF || nt.kind == tRParen {
				return nil, t.errorf("AND without a right operand")
			}
		}
		e, err := p.parseOr(depth)
		if err != nil {
			return nil, err
		}
		kids = append(kids, e)
	}
	switch len(kids) {
	case 0:
		return &expr{kind: eAll, tok: p.peek()}, nil
	case 1:
		return kids[0], nil
	}
	return &expr{kind: eAnd, kids: kids, tok: kids[0].tok}, nil
}

func (p *parser) parseOr(depth int) (*expr, error) {
	first, err := p.parseUnary(depth)
	if err != nil {
		return nil, err
	}
	kids := []*expr{first}
	for isKeyword(p.peek(), "OR") {
		t := p.next()
		if nt := p.peek(); nt.kind == tEOF || nt.kind == tRParen || isKeyword(nt, "AND") || isKeyword(nt, "OR") {
			return nil, t.errorf("OR without a right operand")
		}
		e, err := p.parseUnary(depth)
		if err != nil {
			return nil, err
		}
		kids = append(kids, e)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &expr{kind: eOr, kids: kids, tok: first.tok}, nil
}

func (p *parser) parseUnary(depth int) (*expr, error) {
	t := p.peek()
	if depth > 64 {
		return nil, t.errorf("expression nested deeper than 64 levels")
	}
	if isKeyword(t, "NOT") {
		p.next()
		if nt := p.peek(); nt.kind == tEOF || nt.kind == tRParen || isKeyword(nt, "AND") || isKeyword(nt, "OR") {
			return nil, t.errorf("NOT without an operand")
		}
		e, err := p.parseUnary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &expr{kind: eNot, kids: []*expr{e}, tok: t}, nil
	}
	return p.parsePrimary(depth)
}

func (p *parser) parsePrimary(depth int) (*expr, error) {
	t := p.next()
	switch t.kind {
	case tLParen:
		e, err := p.parseExpr(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, t.errorf("parenthesis not closed")
		}
		return e, nil
	case tRParen:
		return nil, t.errorf("unexpected )")
	case tString:
		if !p.rawTerms {
			return nil, p.rawTermRefused(t)
		}
		text, err := decodeSearch(t)
		if err != nil {
			return nil, err
		}
		if strings.Contains(text, "*") {
			return nil, t.errorf("wildcards inside a quoted phrase are not supported; " + Supported)
		}
		if text == "" {
			return nil, t.errorf("empty quoted phrase")
		}
		return &expr{kind: ePhrase, text: text, tok: t}, nil
	case tTerm:
		if !p.rawTerms {
			return nil, p.rawTermRefused(t)
		}
		return p.termDirective(t)
	case tWord:
		if nt := p.peek(); nt.kind == tEq || nt.kind == tNe {
			return p.comparison(t)
		}
		if nt := p.peek(); nt.kind == tCmp {
			return nil, nt.errorf("comparison %s is not supported (only = and != on field values); %s", nt.text, Supported)
		}
		if nt := p.peek(); isKeyword(nt, "IN") {
			return nil, nt.errorf("IN is not supported; write (%s=a OR %s=b)", t.text, t.text)
		}
		if t.text == "AND" || t.text == "OR" {
			return nil, t.errorf("%s without a left operand", t.text)
		}
		if !p.rawTerms {
			return nil, p.rawTermRefused(t)
		}
		return p.bareTerm(t)
	case tCmp:
		return nil, t.errorf("comparison %s is not supported (only = and != on field values); %s", t.text, Supported)
	case tEq, tNe:
		return nil, t.errorf("%s without a field name before it", t.text)
	case tComma:
		return nil, t.errorf("unexpected ,")
	case tPipe:
		return nil, t.errorf("unexpected |")
	}
	return nil, t.errorf("unexpected end of search")
}

func (p *parser) rawTermRefused(t token) *Error {
	return t.errorf("raw-text term %q in | %s: raw-text terms are supported only in the first search (after a pipe, filter on fields: field=value)", t.text, p.cmd)
}

func (p *parser) termDirective(t token) (*expr, error) {
	text := t.text
	switch {
	case text == "":
		return nil, t.errorf("empty TERM()")
	case strings.ContainsAny(text, "*"):
		return nil, t.errorf("wildcards in TERM() are not supported; " + Supported)
	case strings.ContainsAny(text, "\"\\"):
		return nil, t.errorf("quotes and backslashes in TERM() are not supported")
	case hasMajor(text):
		return nil, t.errorf("TERM(%s) holds a major breaker: TERM() matches one indexed term, which major breakers end (Splunk Search Manual, \"Use CASE() and TERM() to match phrases\"); use a quoted phrase", text)
	case isBreaker(text[0]) || isBreaker(text[len(text)-1]):
		return nil, t.errorf("TERM(%s) starts or ends with a breaker, so it can never be one indexed term", text)
	}
	return &expr{kind: eTermD, text: text, tok: t}, nil
}

func (p *parser) bareTerm(t token) (*expr, error) {
	text, err := decodeSearch(t)
	if err != nil {
		return nil, err
	}
	if text == "*" {
		return &expr{kind: eAll, tok: t}, nil
	}
	if i := strings.IndexByte(text, '*'); i >= 0 {
		prefix := text[:i]
		if i != len(text)-1 || prefix == "" || hasBreaker(prefix) {
			return nil, t.errorf("wildcard term %q is not supported: only a trailing * after a term without breakers (e.g. msi*); %s", text, Supported)
		}
		return &expr{kind: ePrefix, text: prefix, tok: t}, nil
	}
	if hasMajor(text) {
		return nil, t.errorf("term %q holds a major breaker; quote it as a phrase", text)
	}
	return &expr{kind: eTerm, text: text, tok: t}, nil
}

func (p *parser) comparison(field token) (*expr, error) {
	op := p.next()
	v := p.next()
	if v.kind != tWord && v.kind != tString {
		return nil, op.errorf("%s%s needs a value after it", field.text, op.text)
	}
	value, err := decodeSearch(v)
	if err != nil {
		return nil, err
	}
	if value == "" {
		return nil, v.errorf("%s%s\"\": comparing with an empty value is not supported (msiguard treats empty values as absent; use NOT %s=* for an absent field)", field.text, op.text, field.text)
	}
	return &expr{kind: eCmp, field: field.text, neg: op.kind == tNe, text: value, tok: field}, nil
}

// decodeSearch applies the search language's backslash escapes to a word or
// quoted string: \\ is a backslash, \" a quote, \| a pipe (Splunk Search
// Manual, "Backslashes": "To pass a literal backslash ... you must escape the
// backslash by using the double-slash"). A backslash cannot escape * ("The
// backslash symbol can't be used to escape the asterisk"), and any other
// backslash sequence is refused rather than guessed.
func decodeSearch(t token) (string, error) {
	s := t.text
	if strings.IndexByte(s, '\\') < 0 {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", t.errorf("%q ends in a lone backslash: write \\\\ for a literal backslash", s)
		}
		i++
		switch s[i] {
		case '\\', '"', '|':
			b.WriteByte(s[i])
		case '*':
			return "", t.errorf("%q: a backslash cannot escape * in a search (Splunk Search Manual, \"Backslashes\"): * is always a wildcard", s)
		default:
			return "", t.errorf("%q holds the escape \\%c, which the search language does not define: write \\\\ for a literal backslash", s, s[i])
		}
	}
	return b.String(), nil
}

// decodeRegex undoes only the quoting of a regex argument: \" is a quote;
// every other backslash reaches the regular expression as written (the seed
// rule's \.exe).
func decodeRegex(s string) string { return strings.ReplaceAll(s, `\"`, `"`) }
