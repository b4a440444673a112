package spl

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/msiguard/msiguard/rules/cim"
)

// Explain writes what the compiled search does, one section a line, in
// words an operator can check against the rule: the prefilter tokens, the
// event constraints (event ids, channel), the raw-text terms, the field
// filters, the output fields and the grouping. It returns w's first error.
func Explain(w io.Writer, p *Program) error {
	var b strings.Builder
	line := func(label, text string) {
		if label != "" {
			label += ":"
		}
		fmt.Fprintf(&b, "%-18s %s\n", label, text)
	}

	if toks := p.prefilter.String(); toks != "" {
		line("prefilter tokens", toks)
	} else {
		line("prefilter tokens", "(none: every record is evaluated)")
	}
	var events, raws, fields []string
	for _, k := range conjuncts(p.searchAST) {
		switch {
		case k.kind == eAll:
		case isEventConstraint(k):
			events = append(events, describeEvent(k))
		case onlyRaw(k):
			raws = append(raws, render(k, false))
		default:
			fields = append(fields, render(k, false))
		}
	}
	switch ids := p.eventIDs; {
	case ids == nil:
		events = append([]string{"event id: any"}, events...)
	case len(ids) == 0:
		events = append([]string{"event id: none (the rule can never match)"}, events...)
	}
	if len(events) == 0 {
		events = []string{"(none)"}
	}
	for i, e := range events {
		line(pick(i, "event constraints"), e)
	}
	if len(raws) == 0 {
		raws = []string{"(none)"}
	}
	for i, r := range raws {
		line(pick(i, "raw-text terms"), r)
	}
	for _, s := range p.stageAST {
		switch s.cmd {
		case "search":
			fields = append(fields, "| search "+render(s.expr, true))
		case "regex":
			op := "="
			if s.neg {
				op = "!="
			}
			if s.field == "_raw" && !s.neg {
				fields = append(fields, "| regex "+quoteRegex(s.re)+" (on the raw record)")
			} else {
				fields = append(fields, "| regex "+s.field+op+quoteRegex(s.re))
			}
		}
	}
	if len(fields) == 0 {
		fields = []string{"(none)"}
	}
	for i, f := range fields {
		line(pick(i, "field filters"), f)
	}
	outs := p.Outputs()
	if len(outs) == 0 {
		line("output fields", "(none)")
	} else {
		line("output fields", strings.Join(outs, ", "))
	}
	g := p.group
	var fns []string
	if g.Count {
		fns = append(fns, "count")
	}
	if g.Values {
		fns = append(fns, "values(*) as *")
	}
	line("grouping", fmt.Sprintf("bin span=%s (epoch-aligned, UTC); stats %s by %s", spanString(g.Span.Seconds()), strings.Join(fns, ", "), strings.Join(g.By, ", ")))
	srcs := make([]string, len(p.sources))
	for i, s := range p.sources {
		srcs[i] = s.String()
	}
	line("reads fields", strings.Join(srcs, ", "))
	_, err := io.WriteString(w, b.String())
	return err
}

func pick(i int, label string) string {
	if i == 0 {
		return label
	}
	return ""
}

func spanString(secs float64) string {
	s := int64(secs)
	switch {
	case s%3600 == 0:
		return strconv.FormatInt(s/3600, 10) + "h"
	case s%60 == 0:
		return strconv.FormatInt(s/60, 10) + "m"
	}
	return strconv.FormatInt(s, 10) + "s"
}

// isEventConstraint: an event-id test, or a test of envelope fields only.
func isEventConstraint(e *expr) bool {
	if _, ok := idSet(e); ok {
		return true
	}
	envelope := true
	any := false
	var walk func(e *expr)
	walk = func(e *expr) {
		switch e.kind {
		case eCmp:
			any = true
			src, ok := cim.SourceByName(e.field)
			if !ok || (src != cim.Channel && src != cim.SourceName && src != cim.EventCode) {
				envelope = false
			}
		case eTerm, ePhrase, eTermD, ePrefix:
			envelope = false
		}
		for _, k := range e.kids {
			walk(k)
		}
	}
	walk(e)
	return any && envelope
}

func describeEvent(e *expr) string {
	if ids, ok := idSet(e); ok {
		s := "event id in {" + idList(ids) + "}"
		if e.kind == eEventID && e.xml {
			s += fmt.Sprintf(" (XML records must also hold the literal \"<EventID>%d<\")", e.id)
		}
		return s + "  [" + render(e, false) + "]"
	}
	return render(e, false)
}

func onlyRaw(e *expr) bool {
	switch e.kind {
	case eTerm, ePhrase, eTermD, ePrefix:
		return true
	case eAnd, eOr, eNot:
		for _, k := range e.kids {
			if !onlyRaw(k) {
				return false
			}
		}
		return true
	}
	return false
}

// render writes e as SPL with every AND explicit and every nested AND/OR in
// parentheses.
func render(e *expr, top bool) string {
	switch e.kind {
	case eAll:
		return "*"
	case eTerm, ePrefix:
		s := escapeSearch(e.text)
		if e.kind == ePrefix {
			s += "*"
		}
		return s
	case ePhrase:
		return `"` + escapeSearch(e.text) + `"`
	case eTermD:
		return "TERM(" + e.text + ")"
	case eEventID:
		s := "TERM(EventCode=" + strconv.Itoa(e.id) + ")"
		if e.xml {
			s = "(" + s + ` OR "<EventID>` + strconv.Itoa(e.id) + `<")`
		}
		return s
	case eCmp:
		op := "="
		if e.neg {
			op = "!="
		}
		v := escapeSearch(e.text)
		if strings.ContainsAny(v, " \t()|=,<>`") || v != e.text {
			v = `"` + v + `"`
		}
		return e.field + op + v
	case eNot:
		return "NOT " + wrap(e.kids[0])
	case eAnd, eOr:
		sep := " AND "
		if e.kind == eOr {
			sep = " OR "
		}
		parts := make([]string, len(e.kids))
		for i, k := range e.kids {
			parts[i] = wrap(k)
		}
		s := strings.Join(parts, sep)
		if !top {
			return "(" + s + ")"
		}
		return s
	}
	return "?"
}

func wrap(e *expr) string { return render(e, false) }

func escapeSearch(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return r.Replace(s)
}

func quoteRegex(re string) string { return `"` + strings.ReplaceAll(re, `"`, `\"`) + `"` }
