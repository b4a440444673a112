package detector

import "bytes"

// breakers marks the bytes that Splunk's default segmenters.conf treats as
// major or minor breakers:
//
//	major: [ ] < > ( ) { } | ! ; , ' " * \n \r space \t & ? +
//	minor: / : = @ . - $ # % \ _
//
// A token is bounded on each side by a breaker or the edge of the record.
var breakers = func() (t [256]bool) {
	for _, c := range []byte("[]<>(){}|!;,'\"*\n\r \t&?+" + "/:=@.-$#%\\_") {
		t[c] = true
	}
	return t
}()

func isBreaker(c byte) bool { return breakers[c] }

// encodedMajor lists the two hex digits of the URL-encoded major breakers in
// segmenters.conf (%21 %26 %3B %7C %20 %2B %3D %5D %5B %3A %0A %2C %28 %29;
// %2526 and %2520 end in one of these too). A token right after one of them
// starts at a boundary even though the byte before it is a hex digit.
var encodedMajor = [...]string{"21", "26", "3B", "7C", "20", "2B", "3D", "5D", "5B", "3A", "0A", "2C", "28", "29"}

// leftBoundary reports whether a token starting at b[i] is bounded on the left.
func leftBoundary(b []byte, i int) bool {
	if i == 0 || breakers[b[i-1]] {
		return true
	}
	if i >= 3 && b[i-3] == '%' {
		hi, lo := upper(b[i-2]), upper(b[i-1])
		for _, e := range encodedMajor {
			if e[0] == hi && e[1] == lo {
				return true
			}
		}
	}
	return false
}

// lowerTable folds ASCII upper-case letters to lower case and leaves every
// other byte as it is.
var lowerTable = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] = byte(i + 'a' - 'A')
		}
	}
	return t
}()

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// tokenMatcher finds a term as a case-insensitive Splunk token. It scans for
// the term's rarest byte (in both cases) with bytes.IndexByte, which runs at
// memory speed, and checks the whole term and its boundaries only around those
// anchors.
type tokenMatcher struct {
	lower  []byte // term in lower case
	anchor int    // index in term of the byte scanned for
	lo, up byte   // the anchor byte in lower and upper case (equal if not a letter)
}

// rarity ranks alphanumerics from rarest to commonest in real Sysmon JSON
// (measured over the datasets in shared/datasets/real, case folded).
const rarity = "jzqkxh7968vfpyg45ub13lw2mnidcro0tase"

func newTokenMatcher(term string) tokenMatcher {
	m := tokenMatcher{lower: bytes.ToLower([]byte(term))}
	best := len(rarity) + 1
	for i, c := range m.lower {
		r := bytes.IndexByte([]byte(rarity), c)
		if r < 0 { // punctuation and other bytes: assume rare
			r = -1
		}
		if r < best {
			best, m.anchor = r, i
		}
	}
	m.lo = m.lower[m.anchor]
	m.up = upper(m.lo)
	return m
}

// match reports whether b holds the term as a token.
func (m *tokenMatcher) match(b []byte) bool { return m.walk(b, nil) }

// scanWork counts what one walk did, for TestPrefilterWorkIsLinear.
type scanWork struct {
	searched int // bytes handed to bytes.IndexByte
	checks   int // anchors checked with at
}

// walk is match, counting its work into w unless w is nil. Its cost is
// linear in len(b) whatever b holds: each of the two anchor streams (the
// anchor byte in lower and in upper case) hands every byte of b to
// bytes.IndexByte at most once, because a stream is searched again only
// after its occurrence was checked, from just after it; each occurrence
// costs one check of at most len(term) bytes. The upper-case stream is
// usually far rarer, so its cursor rarely moves.
func (m *tokenMatcher) walk(b []byte, w *scanWork) bool {
	nlo, nup := -2, -2 // next occurrence at or after from; -2: not looked up yet; -1: none left
	if m.lo == m.up {
		nup = -1 // a caseless anchor: one stream
	}
	from := 0
	for {
		if nlo == -2 || (nlo >= 0 && nlo < from) {
			nlo = indexFrom(b, m.lo, from)
			if w != nil {
				w.searched += searchedTo(b, from, nlo)
			}
		}
		if nup == -2 || (nup >= 0 && nup < from) {
			nup = indexFrom(b, m.up, from)
			if w != nil {
				w.searched += searchedTo(b, from, nup)
			}
		}
		var p int
		switch {
		case nlo < 0 && nup < 0:
			return false
		case nlo < 0:
			p = nup
		case nup < 0:
			p = nlo
		default:
			p = min(nlo, nup)
		}
		if w != nil {
			w.checks++
		}
		if m.at(b, p) {
			return true
		}
		from = p + 1
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

// searchedTo is how many bytes a search from from examined to find p (-1:
// none found, the rest of b examined).
func searchedTo(b []byte, from, p int) int {
	if p < 0 {
		return max(len(b)-from, 0)
	}
	return p + 1 - from
}

// at reports whether the term, aligned so that its anchor byte sits at b[p],
// is present there as a bounded token.
func (m *tokenMatcher) at(b []byte, p int) bool {
	start := p - m.anchor
	end := start + len(m.lower)
	if start < 0 || end > len(b) {
		return false
	}
	for i, c := range m.lower {
		if lowerTable[b[start+i]] != c {
			return false
		}
	}
	if end < len(b) && !breakers[b[end]] {
		return false
	}
	return leftBoundary(b, start)
}
