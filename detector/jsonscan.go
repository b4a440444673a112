package detector

import (
	"math/bits"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// jparser is a single-pass JSON reader specialised for what the detector
// needs: it validates the structure of the whole record while walking it,
// jumps over string contents with strings.IndexByte (which runs at memory
// speed), and unescapes only the values that are read.
//
// It is stricter than needed where that is cheap (objects, arrays, commas,
// colons, literals, numbers, escape sequences) and lenient where strictness
// would cost a byte-by-byte loop: raw control characters inside strings are
// accepted, as many producers emit them and they do not hinder evaluation.
//
// After the first syntax error p.bad is set and every method is a no-op; the
// caller checks p.bad once at the end.
type jparser struct {
	s       string
	i       int
	bad     bool
	depth   int
	scratch []byte // unescaped strings; allocated on first need
}

const maxJSONDepth = 64

func (p *jparser) fail() { p.bad = true; p.i = len(p.s) }

func (p *jparser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte without consuming it; 0 at the end.
func (p *jparser) peek() byte {
	p.ws()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// object walks the object at the cursor, calling member for each key with
// the cursor on the value. member must consume exactly one value (with text,
// object, array or skip) or none, in which case the value is skipped.
// It reports whether there was an object there.
func (p *jparser) object(member func(key string)) bool {
	if p.peek() != '{' {
		p.skip()
		return false
	}
	p.i++
	p.depth++
	if p.depth > maxJSONDepth {
		p.fail()
		return false
	}
	if p.peek() == '}' {
		p.i++
		p.depth--
		return true
	}
	for !p.bad {
		if p.peek() != '"' {
			p.fail()
			return false
		}
		key := p.str()
		if p.peek() != ':' {
			p.fail()
			return false
		}
		p.i++
		p.ws()
		before := p.i
		member(key)
		if p.i == before {
			p.skip()
		}
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			p.depth--
			return true
		default:
			p.fail()
		}
	}
	return false
}

// array walks the array at the cursor, calling elem with the cursor on each
// element; elem follows the same rule as object's member.
func (p *jparser) array(elem func()) bool {
	if p.peek() != '[' {
		p.skip()
		return false
	}
	p.i++
	p.depth++
	if p.depth > maxJSONDepth {
		p.fail()
		return false
	}
	if p.peek() == ']' {
		p.i++
		p.depth--
		return true
	}
	for !p.bad {
		p.ws()
		before := p.i
		elem()
		if p.i == before {
			p.skip()
		}
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			p.depth--
			return true
		default:
			p.fail()
		}
	}
	return false
}

// skip validates and consumes one value of any kind.
func (p *jparser) skip() {
	switch c := p.peek(); {
	case c == '{':
		p.object(func(string) {})
	case c == '[':
		p.array(func() {})
	case c == '"':
		p.strEnd()
	default:
		p.scalar()
	}
}

// text consumes one value and returns it as the rule reads values: strings
// unescaped, numbers as written, true/false; null, objects and arrays give "".
func (p *jparser) text() string {
	switch c := p.peek(); {
	case c == '"':
		return p.str()
	case c == '{' || c == '[':
		p.skip()
		return ""
	default:
		v := p.scalar()
		if v == "null" {
			return ""
		}
		return v
	}
}

// scalar consumes a number or literal and returns its text.
func (p *jparser) scalar() string {
	start := p.i
	s := p.s
	if strings.HasPrefix(s[p.i:], "true") {
		p.i += 4
	} else if strings.HasPrefix(s[p.i:], "false") {
		p.i += 5
	} else if strings.HasPrefix(s[p.i:], "null") {
		p.i += 4
	} else if !p.number() {
		p.fail()
		return ""
	}
	return s[start:p.i]
}

// number consumes a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *jparser) number() bool {
	s, i := p.s, p.i
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	p.i = i
	return true
}

// strEnd consumes a string (cursor on the opening quote) and returns the
// bounds of its raw contents and whether they hold escapes.
func (p *jparser) strEnd() (start, end int, escaped bool) {
	s := p.s
	start = p.i + 1
	i := start
	for {
		q := indexQuoteOrBackslash(s, i)
		if q < 0 {
			p.fail()
			return start, start, false
		}
		q -= i
		if s[i+q] == '"' {
			p.i = i + q + 1
			return start, i + q, escaped
		}
		escaped = true
		i += q + 1 // the byte after the backslash
		if i >= len(s) {
			p.fail()
			return start, start, false
		}
		switch s[i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i++
		case 'u':
			if i+5 > len(s) || !isHex4(s[i+1:i+5]) {
				p.fail()
				return start, start, false
			}
			i += 5
		default:
			p.fail()
			return start, start, false
		}
	}
}

// str consumes a string and returns its unescaped value. Without escapes the
// value aliases the input; otherwise it is decoded into p.scratch.
func (p *jparser) str() string {
	start, end, escaped := p.strEnd()
	if p.bad {
		return ""
	}
	if !escaped {
		return p.s[start:end]
	}
	// Appending never moves bytes already handed out: when the buffer
	// grows, earlier strings keep the old array alive.
	from := len(p.scratch)
	p.scratch = appendUnescaped(p.scratch, p.s[start:end])
	return unsafeString(p.scratch[from:])
}

// appendUnescaped decodes JSON escapes; raw was validated by strEnd.
func appendUnescaped(dst []byte, raw string) []byte {
	for {
		bs := strings.IndexByte(raw, '\\')
		if bs < 0 {
			return append(dst, raw...)
		}
		dst = append(dst, raw[:bs]...)
		c := raw[bs+1]
		raw = raw[bs+2:]
		switch c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := rune(hex4(raw[:4]))
			raw = raw[4:]
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(raw) >= 6 && raw[0] == '\\' && raw[1] == 'u' {
					r2 = rune(hex4(raw[2:6]))
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					raw = raw[6:]
					r = d
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
	}
}

// indexQuoteOrBackslash returns the index of the first '"' or '\\' in s at
// or after from, or -1. Keys and most values are short, so it tests eight
// bytes at a time with SWAR arithmetic (no call overhead); past 64 bytes
// (command lines, rendered messages) it switches to strings.IndexByte, which
// runs at memory speed.
func indexQuoteOrBackslash(s string, from int) int {
	const (
		ones   = 0x0101010101010101
		highs  = 0x8080808080808080
		quotes = '"' * ones
		slashs = '\\' * ones
	)
	i := from
	lim := min(from+64, len(s))
	base := unsafe.Pointer(unsafe.StringData(s))
	for ; i+8 <= lim; i += 8 {
		x := *(*uint64)(unsafe.Add(base, i)) // unaligned loads are fine on the 64-bit targets Go supports
		q, b := x^quotes, x^slashs
		if m := ((q-ones)&^q | (b-ones)&^b) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < lim; i++ {
		if c := s[i]; c == '"' || c == '\\' {
			return i
		}
	}
	if i == len(s) {
		return -1
	}
	q := strings.IndexByte(s[i:], '"')
	if q < 0 {
		return -1
	}
	if b := strings.IndexByte(s[i:i+q], '\\'); b >= 0 {
		return i + b
	}
	return i + q
}

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func hex4(s string) int {
	n := 0
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			n = n*16 + int(c-'0')
		case 'a' <= c && c <= 'f':
			n = n*16 + int(c-'a'+10)
		default:
			n = n*16 + int(c-'A'+10)
		}
	}
	return n
}
