package sysmongen

import (
	"encoding/binary"
	"unicode/utf8"
	"unsafe"
)

// jsonSafe[c] is true for the ASCII bytes that appear unescaped inside a
// JSON string: printable ASCII other than '"' and '\\'. Other bytes are
// looked at one rune at a time.
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// jsonSpecial reports, for the 8 bytes of w, whether any may need escaping
// (a control character, '"', '\\', or a byte >= 0x80, which may start
// invalid UTF-8). It may report a byte that needs none (after a real one),
// never the reverse.
func jsonSpecial(w uint64) bool {
	m := (w - lsb*0x20) &^ w
	x := w ^ (lsb * '"')
	m |= (x - lsb) &^ x
	x = w ^ (lsb * '\\')
	m |= (x - lsb) &^ x
	m |= w
	return m&msb != 0
}

func load64(s string, i int) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a quoted JSON string (see appendJSONInner).
func appendJSONString(dst []byte, s string, asciiOnly bool) []byte {
	dst = append(dst, '"')
	dst = appendJSONInner(dst, s, asciiOnly)
	return append(dst, '"')
}

// appendJSONInner appends s escaped for the inside of a JSON string.
// Control characters are escaped as \n, \r, \t or \u00XX. With asciiOnly,
// every non-ASCII rune is written as \uXXXX (a surrogate pair above
// U+FFFF), as Python's json.dumps does by default: some real exports
// (OTRF) look like that. Invalid UTF-8 is written as \ufffd, as
// encoding/json (and so Winlogbeat) writes it: every record is valid JSON
// text, whatever a value described by hand holds.
func appendJSONInner(dst []byte, s string, asciiOnly bool) []byte {
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && !jsonSpecial(load64(s, i)) {
			i += 8
			continue
		}
		c := s[i]
		if jsonSafe[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf && !asciiOnly {
			if r, size := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError || size > 1 {
				i += size
				continue
			}
		}
		dst = append(dst, s[start:i]...)
		switch {
		case c == '"':
			dst = append(dst, '\\', '"')
		case c == '\\':
			dst = append(dst, '\\', '\\')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default: // non-ASCII: asciiOnly, or not UTF-8
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, `\ufffd`...)
			} else if r > 0xffff {
				r -= 0x10000
				dst = appendU4(dst, 0xd800+(r>>10))
				dst = appendU4(dst, 0xdc00+(r&0x3ff))
			} else {
				dst = appendU4(dst, r)
			}
			i += size
			start = i
			continue
		}
		i++
		start = i
	}
	return append(dst, s[start:]...)
}

func appendU4(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// xmlSafe[c] is true for the bytes that appear unescaped in XML text and
// in attribute values of either quote.
var xmlSafe = func() (t [256]bool) {
	for c := 0; c < 0x100; c++ {
		t[c] = c != '&' && c != '<' && c != '>' && c != '\'' && c != '"' && (c >= 0x20 || c == '\t')
	}
	return t
}()

// appendXMLText appends s with &, <, >, ' and " written as entities and
// the control characters XML 1.0 allows (\n, \r) as character references,
// so that a record stays on one line. Other control characters, which XML
// 1.0 cannot carry at all, become U+FFFD.
func appendXMLText(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if xmlSafe[c] {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '&':
			dst = append(dst, "&amp;"...)
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		case '\'':
			dst = append(dst, "&apos;"...)
		case '"':
			dst = append(dst, "&quot;"...)
		case '\n':
			dst = append(dst, "&#10;"...)
		case '\r':
			dst = append(dst, "&#13;"...)
		default:
			dst = append(dst, "\uFFFD"...)
		}
		start = i + 1
	}
	return append(dst, s[start:]...)
}

// appendUint appends n in decimal.
func appendUint(dst []byte, n uint64) []byte {
	var b [20]byte
	i := len(b)
	for n >= 10 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	i--
	b[i] = byte('0' + n)
	return append(dst, b[i:]...)
}

// appendHex appends n in lower-case hexadecimal without leading zeros.
func appendHex(dst []byte, n uint64) []byte {
	var b [16]byte
	i := len(b)
	for n >= 16 {
		i--
		b[i] = hexDigits[n&0xf]
		n >>= 4
	}
	i--
	b[i] = hexDigits[n]
	return append(dst, b[i:]...)
}

// appendHexFixed appends the low 4*width bits of n as width hex digits.
func appendHexFixed(dst []byte, n uint64, width int) []byte {
	for shift := 4 * (width - 1); shift >= 0; shift -= 4 {
		dst = append(dst, hexDigits[n>>uint(shift)&0xf])
	}
	return dst
}

// appendPad appends n in decimal, zero-padded to width digits.
func appendPad(dst []byte, n, width int) []byte {
	var b [10]byte
	for i := width - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return append(dst, b[:width]...)
}
