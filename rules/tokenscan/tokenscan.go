// Package tokenscan finds, in one pass over a record, which rules'
// prefilter conditions hold: every rule's tokens at once, as Splunk tokens
// (any case, bounded on each side by a breaker or the record's edge, the
// URL-encoded major breakers counting on the left; the detector's exact
// test, from package segment).
//
// A token bounded on both sides is a whole run of non-breaker bytes (or,
// after %XX of an encoded major breaker, the run less its first two bytes),
// so the scan splits the record into runs once and looks each run of a
// possible length up in a small hash table of all rules' tokens. Its cost
// is one table lookup per byte plus one probe per run, whatever the number
// of rules. With at most five distinct tokens, each is searched on its own
// with the detector's memchr-driven matcher instead, which is faster there.
// DESIGN.md ("The multi-rule pass") gives the measurements that chose
// this over an Aho-Corasick automaton.
//
// A Scanner is immutable and safe for concurrent use; a Hits is one
// goroutine's result buffer. It imports rules/spl and rules/segment.
package tokenscan

import (
	"errors"
	"fmt"

	"github.com/msiguard/msiguard/rules/segment"
	"github.com/msiguard/msiguard/rules/spl"
)

// maxPatterns is the most tokens searched one by one rather than in one
// pass: measured on the no-match corpus, 1 token 7.5 GB/s, 4 tokens
// 1.2 GB/s, 6 tokens 0.70 GB/s, against 0.54-0.63 GB/s for the one pass
// whatever the count.
const maxPatterns = 5

// maxTokenLen bounds a token's length; longer tokens are refused (no
// Sysmon field value needs one, and the length filter is a 64-bit mask).
const maxTokenLen = 63

// Scanner holds every rule's prefilter condition.
type Scanner struct {
	tokens []string // by token id, lower case
	slots  []slot   // open addressing, power of two
	mask   uint64
	// firstLen[c] has bit L set when some token starts with byte c (lower
	// case) and has length L: most runs are rejected by it unhashed.
	firstLen [256]uint64

	// pats, for at most maxPatterns tokens: each token found by its own
	// memchr-driven segment.Pattern, which is faster than one pass over
	// every run up to about five tokens (BenchmarkScan, DESIGN.md).
	pats []segment.Pattern

	rules    [][][]int32 // per rule: clauses of token ids
	always   []int32     // rules without a condition
	byToken  [][]int32   // token id -> rules mentioning it
	numRules int
}

type slot struct {
	hash uint64
	id   int32 // -1: empty
}

// New builds a Scanner for rules' prefilters, rule i at index i. A
// prefilter with no clauses holds for every record.
func New(prefilters []spl.Prefilter) (*Scanner, error) {
	s := &Scanner{numRules: len(prefilters)}
	ids := map[string]int32{}
	for ri, p := range prefilters {
		if len(p.Clauses) == 0 {
			s.always = append(s.always, int32(ri))
			s.rules = append(s.rules, nil)
			continue
		}
		var clauses [][]int32
		for _, c := range p.Clauses {
			if len(c) == 0 {
				return nil, fmt.Errorf("rule %d: empty prefilter clause", ri)
			}
			var cl []int32
			for _, tok := range c {
				if err := checkToken(tok); err != nil {
					return nil, fmt.Errorf("rule %d: %w", ri, err)
				}
				id, ok := ids[tok]
				if !ok {
					id = int32(len(s.tokens))
					ids[tok] = id
					s.tokens = append(s.tokens, tok)
					s.byToken = append(s.byToken, nil)
				}
				cl = append(cl, id)
				if n := len(s.byToken[id]); n == 0 || s.byToken[id][n-1] != int32(ri) {
					s.byToken[id] = append(s.byToken[id], int32(ri))
				}
			}
			clauses = append(clauses, cl)
		}
		s.rules = append(s.rules, clauses)
	}
	size := 16
	for size < 4*len(s.tokens) {
		size *= 2
	}
	s.slots = make([]slot, size)
	for i := range s.slots {
		s.slots[i].id = -1
	}
	s.mask = uint64(size - 1)
	for id, tok := range s.tokens {
		h := hashLower([]byte(tok))
		i := h & s.mask
		for s.slots[i].id >= 0 {
			i = (i + 1) & s.mask
		}
		s.slots[i] = slot{h, int32(id)}
		s.firstLen[tok[0]] |= 1 << len(tok)
	}
	if len(s.tokens) <= maxPatterns {
		for _, tok := range s.tokens {
			s.pats = append(s.pats, segment.NewPattern(tok, segment.Any, segment.Any))
		}
	}
	return s, nil
}

// onePass returns a copy of s that always makes the one pass (for
// benchmarks and tests).
func (s *Scanner) onePass() *Scanner {
	c := *s
	c.pats = nil
	return &c
}

func checkToken(tok string) error {
	switch {
	case tok == "":
		return errors.New("empty token")
	case len(tok) > maxTokenLen:
		return fmt.Errorf("token %q is longer than %d bytes", tok, maxTokenLen)
	case segment.HasBreaker(tok):
		return fmt.Errorf("token %q holds a breaker", tok)
	case segment.LowerString(tok) != tok:
		return fmt.Errorf("token %q is not in lower case", tok)
	}
	return nil
}

// Tokens returns the distinct tokens, by id.
func (s *Scanner) Tokens() []string { return append([]string(nil), s.tokens...) }

// NumRules returns the number of rules.
func (s *Scanner) NumRules() int { return s.numRules }

// Hits is the result of a scan: which rules' conditions held. Make it with
// NewHits and reuse it; it is not safe for concurrent use.
type Hits struct {
	rules  []uint64
	tokens []uint64
	seen   []uint64 // rules evaluated in this scan
	any    bool     // some token was found
}

// NewHits returns a result buffer for s.
func (s *Scanner) NewHits() *Hits {
	return &Hits{
		rules:  make([]uint64, (s.numRules+63)/64),
		seen:   make([]uint64, (s.numRules+63)/64),
		tokens: make([]uint64, (len(s.tokens)+63)/64),
	}
}

// Has reports whether rule i's condition held in the last scan.
func (h *Hits) Has(i int) bool { return h.rules[i/64]&(1<<(i%64)) != 0 }

// Token reports whether token id i was present in the last scan.
func (h *Hits) Token(i int) bool { return h.tokens[i/64]&(1<<(i%64)) != 0 }

// Rules appends the indexes of the rules whose conditions held to dst.
func (h *Hits) Rules(dst []int) []int {
	for w, bits := range h.rules {
		for bits != 0 {
			b := trailingZeros(bits)
			dst = append(dst, w*64+b)
			bits &= bits - 1
		}
	}
	return dst
}

func trailingZeros(x uint64) int {
	n := 0
	for x&1 == 0 {
		x >>= 1
		n++
	}
	return n
}

// Large reports whether the Scanner has more than 64 rules or tokens, so
// that Any needs a scratch Hits.
func (s *Scanner) Large() bool { return s.numRules > 64 || len(s.tokens) > 64 }

// Any reports whether some rule's condition holds in raw: Scan without a
// Hits to keep, for the common question asked of every record. Unless the
// Scanner is Large its result buffer lives on the stack and scratch is not
// used; a Large one scans into scratch (from NewHits; nil allocates one).
// It does not retain raw, and allocates only for a Large Scanner given no
// scratch.
func (s *Scanner) Any(raw []byte, scratch *Hits) bool {
	if len(s.always) > 0 {
		return true
	}
	if len(s.tokens) == 1 && s.pats != nil {
		// Every rule's clauses name this token alone: a rule holds exactly
		// when it is present (the seed rule's case).
		return s.pats[0].Match(raw)
	}
	if s.Large() {
		if scratch == nil {
			scratch = s.NewHits()
		}
		s.Scan(raw, scratch)
		for _, w := range scratch.rules {
			if w != 0 {
				return true
			}
		}
		return false
	}
	var r, t, seen [1]uint64
	h := Hits{rules: r[:], tokens: t[:], seen: seen[:]}
	s.Scan(raw, &h)
	return r[0] != 0
}

// Scan finds which rules' conditions hold in raw and writes them to h. It
// does not allocate or retain raw.
func (s *Scanner) Scan(raw []byte, h *Hits) {
	clear(h.rules)
	clear(h.tokens)
	h.any = false
	if len(s.tokens) > 0 {
		s.findTokens(raw, h)
	}
	for _, r := range s.always {
		h.rules[r/64] |= 1 << (r % 64)
	}
	if !h.any {
		return
	}
	clear(h.seen)
	for w, bits := range h.tokens {
		for bits != 0 {
			id := w*64 + trailingZeros(bits)
			bits &= bits - 1
			for _, r := range s.byToken[id] {
				if h.seen[r/64]&(1<<(r%64)) != 0 {
					continue
				}
				h.seen[r/64] |= 1 << (r % 64)
				if s.holds(r, h) {
					h.rules[r/64] |= 1 << (r % 64)
				}
			}
		}
	}
}

func (s *Scanner) holds(r int32, h *Hits) bool {
	for _, c := range s.rules[r] {
		ok := false
		for _, id := range c {
			if h.tokens[id/64]&(1<<(id%64)) != 0 {
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

var breakers = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = segment.IsBreaker(byte(c))
	}
	return t
}()

func (s *Scanner) findTokens(b []byte, h *Hits) {
	if s.pats != nil {
		for id := range s.pats {
			if s.pats[id].Match(b) {
				h.tokens[id/64] |= 1 << (id % 64)
				h.any = true
			}
		}
		return
	}
	n := len(b)
	i := 0
	for i < n {
		for i < n && breakers[b[i]] {
			i++
		}
		start := i
		for i < n && !breakers[b[i]] {
			i++
		}
		if l := i - start; l > 0 {
			if l <= maxTokenLen && s.firstLen[segment.Lower(b[start])]&(1<<l) != 0 {
				s.lookup(b[start:i], h)
			}
			// After %XX of a URL-encoded major breaker a token starts two
			// bytes into the run (segment.LeftBounded).
			if l > 2 && start > 0 && segment.EncodedMajorAt(b, start+2) {
				if l-2 <= maxTokenLen && s.firstLen[segment.Lower(b[start+2])]&(1<<(l-2)) != 0 {
					s.lookup(b[start+2:i], h)
				}
			}
		}
	}
}

func (s *Scanner) lookup(run []byte, h *Hits) {
	hash := hashLower(run)
	for i := hash & s.mask; ; i = (i + 1) & s.mask {
		sl := s.slots[i]
		if sl.id < 0 {
			return
		}
		if sl.hash == hash && equalLower(run, s.tokens[sl.id]) {
			h.tokens[sl.id/64] |= 1 << (sl.id % 64)
			h.any = true
			return
		}
	}
}

// hashLower is FNV-1a over the ASCII-lower-cased bytes.
func hashLower(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(segment.Lower(c))
		h *= 1099511628211
	}
	return h
}

func equalLower(run []byte, tok string) bool {
	if len(run) != len(tok) {
		return false
	}
	for i := range run {
		if segment.Lower(run[i]) != tok[i] {
			return false
		}
	}
	return true
}
