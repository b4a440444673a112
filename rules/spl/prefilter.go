package spl

import (
	"slices"
	"strings"

	"github.com/msiguard/msiguard/rules/segment"
)

// Prefilter is a necessary condition on a record's raw bytes, in
// conjunctive normal form: for every clause, at least one of its tokens
// occurs in the record as a Splunk token (any case, bounded on each side by
// a breaker or the record's edge, with the URL-encoded major breakers
// counting on the left: exactly detector.Prefilter's test). Tokens are in
// lower case and hold no breaker. No clauses means no condition: every
// record must be evaluated.
type Prefilter struct {
	Clauses [][]string
}

// Tokens returns the distinct tokens of every clause, sorted.
func (f Prefilter) Tokens() []string {
	var out []string
	for _, c := range f.Clauses {
		out = append(out, c...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Holds evaluates the condition given which tokens are present.
func (f Prefilter) Holds(present func(token string) bool) bool {
	for _, c := range f.Clauses {
		ok := false
		for _, t := range c {
			if present(t) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// String writes the condition as `a AND (b OR c)`; "" for none.
func (f Prefilter) String() string {
	parts := make([]string, len(f.Clauses))
	for i, c := range f.Clauses {
		if len(c) == 1 || len(f.Clauses) == 1 {
			parts[i] = strings.Join(c, " OR ")
		} else {
			parts[i] = "(" + strings.Join(c, " OR ") + ")"
		}
	}
	return strings.Join(parts, " AND ")
}

// maxClauses bounds the distribution of an OR over its kids' clauses; past
// it the OR keeps one weaker clause (still a necessary condition).
const maxClauses = 16

// prefilterOf derives the tokens the first search requires. Every token of
// a term, phrase or TERM() is bounded where the term matches: inside, by
// the term's own breakers; at its ends, by the bounds the match requires.
func prefilterOf(e *expr) Prefilter {
	return Prefilter{Clauses: simplify(cnf(e))}
}

func cnf(e *expr) [][]string {
	switch e.kind {
	case eTerm, ePhrase, eTermD:
		var out [][]string
		for _, s := range segment.Segments(e.text) {
			out = append(out, []string{s})
		}
		return out
	case eAnd:
		var out [][]string
		for _, k := range e.kids {
			out = append(out, cnf(k)...)
		}
		return simplify(out)
	case eOr:
		acc := [][]string{{}}
		for _, k := range e.kids {
			kc := simplify(cnf(k))
			if len(kc) == 0 {
				return nil // one alternative needs no token
			}
			if len(acc)*len(kc) > maxClauses {
				// Weaken: each alternative implies its longest token's
				// clause, so the OR implies their union.
				return [][]string{unionBest(e)}
			}
			var next [][]string
			for _, a := range acc {
				for _, b := range kc {
					next = append(next, append(slices.Clone(a), b...))
				}
			}
			acc = simplify(next)
		}
		return acc
	}
	return nil // NOT, field tests, prefixes, the event-id test: no token
}

func unionBest(e *expr) []string {
	var out []string
	for _, k := range e.kids {
		best := ""
		for _, c := range simplify(cnf(k)) {
			for _, t := range c {
				if len(c) == 1 && len(t) > len(best) {
					best = t
				}
			}
		}
		if best == "" {
			// no single-token clause: take a whole clause
			cs := simplify(cnf(k))
			out = append(out, cs[0]...)
			continue
		}
		out = append(out, best)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// simplify sorts and de-duplicates each clause, drops clauses implied by a
// smaller one (a superset), and sorts the clauses.
func simplify(cs [][]string) [][]string {
	var out [][]string
	for _, c := range cs {
		c = slices.Clone(c)
		slices.Sort(c)
		out = append(out, slices.Compact(c))
	}
	slices.SortFunc(out, func(a, b []string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return slices.Compare(a, b)
	})
	var kept [][]string
	for _, c := range out {
		subsumed := false
		for _, k := range kept {
			if isSubset(k, c) {
				subsumed = true
				break
			}
		}
		if !subsumed {
			kept = append(kept, c)
		}
	}
	return kept
}

func isSubset(small, big []string) bool {
	for _, t := range small {
		if _, ok := slices.BinarySearch(big, t); !ok {
			return false
		}
	}
	return true
}
