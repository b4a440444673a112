// Package segment holds Splunk's default segmentation (segmenters.conf) and
// the raw-text tests that the search command runs on _raw: a term bounded by
// breakers, TERM(), a quoted phrase, and a term with a trailing wildcard.
//
// The breaker table and the boundary rule are the detector's
// (detector/prefilter.go), copied byte for byte; TestAgreesWithDetector pins
// them to detector.Prefilter through its exported API so that the two cannot
// drift apart before the detector imports this package.
//
// Every test is ASCII case-insensitive ("By default, searches are
// case-insensitive", Splunk Search Manual, "Use CASE() and TERM() to match
// phrases"); bytes >= 0x80 are compared as they are and are never breakers.
// Nothing here allocates. It imports only the standard library.
package segment

import "bytes"

// majorBreakers and minorBreakers are Splunk's default breakers
// (segmenters.conf, [default] MAJOR and MINOR), as
// shared/reference/rule-semantics.md lists them.
const (
	majorBreakers = "[]<>(){}|!;,'\"*\n\r \t&?+"
	minorBreakers = "/:=@.-$#%\\_"
)

var breakers, majors = func() (all, major [256]bool) {
	for _, c := range []byte(majorBreakers) {
		all[c], major[c] = true, true
	}
	for _, c := range []byte(minorBreakers) {
		all[c] = true
	}
	return
}()

// IsBreaker reports whether c is a major or minor breaker.
func IsBreaker(c byte) bool { return breakers[c] }

// IsMajor reports whether c is a major breaker.
func IsMajor(c byte) bool { return majors[c] }

// HasBreaker reports whether s contains a breaker.
func HasBreaker(s string) bool {
	for i := 0; i < len(s); i++ {
		if breakers[s[i]] {
			return true
		}
	}
	return false
}

// HasMajor reports whether s contains a major breaker.
func HasMajor(s string) bool {
	for i := 0; i < len(s); i++ {
		if majors[s[i]] {
			return true
		}
	}
	return false
}

// encodedMajor lists the hex digits of the URL-encoded major breakers in
// segmenters.conf (%21 %26 %3B %7C %20 %2B %3D %5D %5B %3A %0A %2C %28 %29).
// A token right after one of them starts at a boundary although the byte
// before it is a hex digit.
var encodedMajor = [...]string{"21", "26", "3B", "7C", "20", "2B", "3D", "5D", "5B", "3A", "0A", "2C", "28", "29"}

// EncodedMajorAt reports whether b[i-3:i] is a URL-encoded major breaker.
func EncodedMajorAt(b []byte, i int) bool {
	if i < 3 || b[i-3] != '%' {
		return false
	}
	hi, lo := upper(b[i-2]), upper(b[i-1])
	for _, e := range encodedMajor {
		if e[0] == hi && e[1] == lo {
			return true
		}
	}
	return false
}

// LeftBounded reports whether a token starting at b[i] is bounded on the
// left: i is 0, b[i-1] is a breaker, or b[i-3:i] is a URL-encoded major
// breaker (the detector's rule).
func LeftBounded(b []byte, i int) bool {
	return i == 0 || breakers[b[i-1]] || EncodedMajorAt(b, i)
}

// LeftMajorBounded is LeftBounded with major breakers only: where a
// TERM() whose text holds minor breakers may start.
func LeftMajorBounded(b []byte, i int) bool {
	return i == 0 || majors[b[i-1]] || EncodedMajorAt(b, i)
}

// RightBounded reports whether a token ending before b[j] is bounded on the
// right: j is len(b) or b[j] is a breaker.
func RightBounded(b []byte, j int) bool { return j == len(b) || breakers[b[j]] }

var lowerTable = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] = byte(i + 'a' - 'A')
		}
	}
	return t
}()

// Lower folds an ASCII upper-case letter to lower case and returns any
// other byte unchanged.
func Lower(c byte) byte { return lowerTable[c] }

// LowerString returns s with ASCII letters folded to lower case.
func LowerString(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerTable[b[j]]
			}
			return string(b)
		}
	}
	return s
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// Bound says what must surround a match on one side.
type Bound uint8

const (
	// Free: nothing is required.
	Free Bound = iota
	// Any: a breaker of either kind (LeftBounded or RightBounded).
	Any
	// Major: on the left, a major breaker (LeftMajorBounded); on the right
	// it means the same as Any (a prefix of a major segment that ends at a
	// minor breaker is indexed too, rule-semantics.md item 2).
	Major
)

// Pattern is a compiled raw-text test: Text occurs in any case with the
// required bounds. Build it with NewPattern; the zero Pattern matches
// nothing.
type Pattern struct {
	lower       []byte // the text in lower case
	left, right Bound
	anchor      int  // index in lower of the byte scanned for
	lo, up      byte // that byte in lower and upper case
}

// rarity ranks alphanumerics from rarest to commonest in real Sysmon JSON
// (the detector's measurement, detector/prefilter.go).
const rarity = "jzqkxh7968vfpyg45ub13lw2mnidcro0tase"

// NewPattern compiles a test for text with the given bounds. An empty text
// gives a Pattern that matches nothing.
func NewPattern(text string, left, right Bound) Pattern {
	p := Pattern{lower: []byte(LowerString(text)), left: left, right: right}
	if len(p.lower) == 0 {
		return p
	}
	best := len(rarity) + 1
	for i, c := range p.lower {
		r := bytes.IndexByte([]byte(rarity), c)
		if r < 0 {
			r = -1 // punctuation and other bytes: assume rare
		}
		if r < best {
			best, p.anchor = r, i
		}
	}
	p.lo = p.lower[p.anchor]
	p.up = upper(p.lo)
	return p
}

// Text returns the pattern's text in lower case.
func (p *Pattern) Text() string { return string(p.lower) }

// Bounds returns the pattern's left and right bounds.
func (p *Pattern) Bounds() (left, right Bound) { return p.left, p.right }

// Match reports whether b holds the pattern. It does not allocate or
// retain b, and its cost is linear in len(b): every byte is searched at
// most once per case of the anchor byte, and each anchor found is checked
// once (TestMatchWorkIsLinear counts it).
func (p *Pattern) Match(b []byte) bool { return p.walk(b, nil) }

// work counts what walk does: bytes handed to bytes.IndexByte, and
// anchors checked.
type work struct{ searched, checks int }

// walk is Match, counting its work in w when w is not nil.
func (p *Pattern) walk(b []byte, w *work) bool {
	if len(p.lower) == 0 {
		return false
	}
	search := func(c byte, from int) int {
		i := indexFrom(b, c, from)
		if w != nil {
			if i < 0 {
				w.searched += max(len(b)-from, 0)
			} else {
				w.searched += i + 1 - from
			}
		}
		return i
	}
	check := func(i int) bool {
		if w != nil {
			w.checks++
		}
		return p.at(b, i)
	}
	if p.lo == p.up {
		from := 0
		for {
			i := search(p.lo, from)
			if i < 0 {
				return false
			}
			if check(i) {
				return true
			}
			from = i + 1
		}
	}
	// Two anchors: walk both occurrence streams in order.
	nlo, nup := -2, -2 // -2: not looked up yet; -1: none left
	from := 0
	for {
		if nlo == -2 || (nlo >= 0 && nlo < from) {
			nlo = search(p.lo, from)
		}
		if nup == -2 || (nup >= 0 && nup < from) {
			nup = search(p.up, from)
		}
		var i int
		switch {
		case nlo < 0 && nup < 0:
			return false
		case nlo < 0:
			i = nup
		case nup < 0:
			i = nlo
		default:
			i = min(nlo, nup)
		}
		if check(i) {
			return true
		}
		from = i + 1
	}
}

func indexFrom(b []byte, c byte, from int) int {
	if from >= len(b) {
		return -1
	}
	i := bytes.IndexByte(b[from:], c)
	if i < 0 {
		return -1
	}
	return from + i
}

// at reports whether the pattern, aligned so that its anchor sits at b[i],
// is present there with its bounds.
func (p *Pattern) at(b []byte, i int) bool {
	start := i - p.anchor
	end := start + len(p.lower)
	if start < 0 || end > len(b) {
		return false
	}
	for k, c := range p.lower {
		if lowerTable[b[start+k]] != c {
			return false
		}
	}
	if p.right != Free && !RightBounded(b, end) {
		return false
	}
	switch p.left {
	case Any:
		return LeftBounded(b, start)
	case Major:
		return LeftMajorBounded(b, start)
	}
	return true
}

// Segments returns the breaker-free pieces of s in lower case, in order,
// without empty pieces: the tokens a match of s as a phrase or TERM() must
// contain. It allocates; it is meant for compile time.
func Segments(s string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || breakers[s[i]] {
			if start >= 0 {
				out = append(out, LowerString(s[start:i]))
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return out
}
