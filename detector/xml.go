package detector

import (
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// evalXML reads a rendered Windows event (XmlWinEventLog):
//
//	<Event xmlns='...'><System><Provider Name='Microsoft-Windows-Sysmon' .../>
//	<EventID>1</EventID>...<TimeCreated SystemTime='...'/>...
//	<Channel>...</Channel><Computer>...</Computer>...</System>
//	<EventData><Data Name='Image'>...</Data>...</EventData></Event>
//
// It is a small tag scanner, not a general XML parser: it checks that tags
// nest and close, reads the elements the rule needs, and unescapes their text.
// Anything it cannot follow is reported as malformed.
func evalXML(s string, r *record, scratch *[]byte) *Error {
	r.shape = ShapeXML
	var stack [16]string // open element names
	depth := 0
	sawEvent := false
	dataField, dataKnown := sysField(0), false // the open <Data Name=...> element
	i := 0
	for {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			if trimXMLSpace(s[i:]) != "" && strings.TrimSpace(s[i:]) != "" {
				return malformed(ShapeXML, "text after the last element")
			}
			break
		}
		text := s[i : i+lt]
		i += lt
		if depth == 2 && stack[1] == "EventData" && strings.HasPrefix(s[i:], "<Data Name=") {
			if next, ok := xmlDataFast(s, i, r, scratch); ok {
				i = next
				continue
			}
		}
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i+4:], "-->")
			if end < 0 {
				return malformed(ShapeXML, "unterminated comment")
			}
			i += 4 + end + 3
			continue
		}
		if strings.HasPrefix(s[i:], "<?") {
			end := strings.Index(s[i+2:], "?>")
			if end < 0 {
				return malformed(ShapeXML, "unterminated processing instruction")
			}
			i += 2 + end + 2
			continue
		}
		gt := tagEnd(s, i+1)
		if gt < 0 {
			return malformed(ShapeXML, "unterminated tag")
		}
		tag := s[i+1 : gt]
		i = gt + 1
		if strings.HasPrefix(tag, "/") { // end tag
			name := tag[1:]
			for len(name) > 0 && isXMLSpace(name[len(name)-1]) {
				name = name[:len(name)-1]
			}
			if depth == 0 || stack[depth-1] != name {
				return malformed(ShapeXML, "end tag </"+clip(name)+"> does not close the open element")
			}
			depth--
			if dataKnown && depth == 2 && name == "Data" {
				v, ok := xmlUnescapeInto(scratch, text)
				if !ok {
					return malformed(ShapeXML, "bad character reference in <Data>")
				}
				r.data.set(dataField, v)
				dataKnown = false
				continue
			}
			if err := xmlElementText(stack[:depth+1], text, r); err != nil {
				return err
			}
			continue
		}
		selfClose := strings.HasSuffix(tag, "/")
		if selfClose {
			tag = tag[:len(tag)-1]
		}
		name, attrs := splitTag(tag)
		if name == "" {
			return malformed(ShapeXML, "element without a name")
		}
		if depth == 0 {
			if sawEvent {
				return malformed(ShapeXML, "more than one root element")
			}
			if name != "Event" {
				return &Error{Reason: ReasonUnknownShape, Shape: ShapeXML, Detail: "XML root element is <" + clip(name) + ">, not <Event>"}
			}
			sawEvent = true
		}
		if depth == 2 && name == "Data" && stack[0] == "Event" && stack[1] == "EventData" {
			dataKnown = false
			if !selfClose {
				if n, ok := xmlAttr(attrs, "Name"); ok {
					dataField, dataKnown = sysFieldByName(n)
				}
			}
		} else {
			xmlElementAttrs(stack[:depth], name, attrs, r)
		}
		if selfClose {
			continue
		}
		if depth == len(stack) {
			return malformed(ShapeXML, "elements nest deeper than "+strconv.Itoa(len(stack)))
		}
		stack[depth] = name
		depth++
	}
	if !sawEvent {
		return malformed(ShapeXML, "no <Event> element")
	}
	if depth != 0 {
		return malformed(ShapeXML, "element <"+clip(stack[depth-1])+"> is not closed")
	}
	return nil
}

// xmlDataFast reads the common form <Data Name='X'>text</Data> (or
// <Data Name='X'/>) starting at s[i] in one step. It reports false, having
// changed nothing, for anything else, which the general scanner then reads.
func xmlDataFast(s string, i int, r *record, scratch *[]byte) (int, bool) {
	j := i + len("<Data Name=")
	if j >= len(s) || (s[j] != '\'' && s[j] != '"') {
		return 0, false
	}
	q := s[j]
	end := strings.IndexByte(s[j+1:], q)
	if end < 0 {
		return 0, false
	}
	name := s[j+1 : j+1+end]
	j += 1 + end + 1
	if strings.HasPrefix(s[j:], "/>") {
		return j + 2, true
	}
	if j >= len(s) || s[j] != '>' || strings.IndexByte(name, '&') >= 0 {
		return 0, false
	}
	j++
	lt := strings.IndexByte(s[j:], '<')
	if lt < 0 || !strings.HasPrefix(s[j+lt:], "</Data>") {
		return 0, false
	}
	if f, ok := sysFieldByName(name); ok {
		v, ok := xmlUnescapeInto(scratch, s[j:j+lt])
		if !ok {
			return 0, false // the general path reports it
		}
		r.data.set(f, v)
	}
	return j + lt + len("</Data>"), true
}

// xmlUnescapeInto is xmlUnescape writing into the pooled scratch buffer.
func xmlUnescapeInto(scratch *[]byte, s string) (string, bool) {
	if strings.IndexByte(s, '&') < 0 {
		return s, true
	}
	from := len(*scratch)
	var ok bool
	*scratch, ok = appendXMLUnescaped(*scratch, s)
	if !ok {
		*scratch = (*scratch)[:from]
		return "", false
	}
	return unsafeString((*scratch)[from:]), true
}

// xmlElementText handles the text of an element at its end tag. path is the
// open element path including the element itself.
func xmlElementText(path []string, text string, r *record) *Error {
	n := len(path)
	if n == 3 && path[0] == "Event" && path[1] == "System" {
		v, ok := xmlUnescape(text)
		if !ok {
			return malformed(ShapeXML, "bad character reference in <"+path[2]+">")
		}
		switch path[2] {
		case "EventID":
			r.eventID = v
		case "Channel":
			r.channel = v
		case "Computer":
			r.host = v
		}
	}
	return nil
}

// xmlElementAttrs handles an element's attributes at its start tag; parents is
// the path of the open elements around it.
func xmlElementAttrs(parents []string, name, attrs string, r *record) {
	n := len(parents)
	switch {
	case n == 2 && parents[0] == "Event" && parents[1] == "System":
		switch name {
		case "Provider":
			if v, ok := xmlAttr(attrs, "Name"); ok {
				r.provider = v
			}
		case "TimeCreated":
			if v, ok := xmlAttr(attrs, "SystemTime"); ok {
				setFirst(&r.eventTime, v)
			}
		}
	}
}

// tagEnd returns the index of the '>' that ends the tag starting at s[i]
// (just after '<'), skipping quoted attribute values; -1 if there is none.
func tagEnd(s string, i int) int {
	for {
		j := indexTagByte(s, i)
		if j < 0 {
			return -1
		}
		switch s[j] {
		case '>':
			return j
		case '<':
			return -1
		}
		// A quoted attribute value: '>' and '<' inside it do not count.
		q := strings.IndexByte(s[j+1:], s[j])
		if q < 0 {
			return -1
		}
		i = j + 1 + q + 1
	}
}

// indexTagByte returns the index of the first '>', '<', '"' or '\” in s at or
// after from, or -1. Tags are short, so it tests eight bytes at a time with
// SWAR arithmetic instead of paying IndexByte's call overhead per tag.
func indexTagByte(s string, from int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := from
	base := unsafe.Pointer(unsafe.StringData(s))
	for ; i+8 <= len(s); i += 8 {
		x := *(*uint64)(unsafe.Add(base, i))
		a, b, c, d := x^('>'*ones), x^('<'*ones), x^('"'*ones), x^('\''*ones)
		if m := ((a-ones)&^a | (b-ones)&^b | (c-ones)&^c | (d-ones)&^d) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(s); i++ {
		switch s[i] {
		case '>', '<', '"', '\'':
			return i
		}
	}
	return -1
}

// splitTag splits "Data Name='Image'" into the name and the attribute text.
func splitTag(tag string) (name, attrs string) {
	for i := 0; i < len(tag); i++ {
		if isXMLSpace(tag[i]) {
			return tag[:i], tag[i+1:]
		}
	}
	return tag, ""
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func trimXMLSpace(s string) string {
	i := 0
	for i < len(s) && isXMLSpace(s[i]) {
		i++
	}
	return s[i:]
}

// xmlAttr returns the unescaped value of attribute key in attrs.
func xmlAttr(attrs, key string) (string, bool) {
	for {
		attrs = trimXMLSpace(attrs)
		if attrs == "" {
			return "", false
		}
		eq := strings.IndexByte(attrs, '=')
		if eq < 0 {
			return "", false
		}
		k := attrs[:eq]
		for len(k) > 0 && isXMLSpace(k[len(k)-1]) {
			k = k[:len(k)-1]
		}
		rest := trimXMLSpace(attrs[eq+1:])
		if rest == "" || (rest[0] != '\'' && rest[0] != '"') {
			return "", false
		}
		q := rest[0]
		end := strings.IndexByte(rest[1:], q)
		if end < 0 {
			return "", false
		}
		if k == key {
			return xmlUnescape(rest[1 : 1+end])
		}
		attrs = rest[1+end+1:]
	}
}

// xmlUnescape replaces the five predefined entities and numeric character
// references. It returns s itself when there is nothing to replace.
func xmlUnescape(s string) (string, bool) {
	if strings.IndexByte(s, '&') < 0 {
		return s, true
	}
	b, ok := appendXMLUnescaped(nil, s)
	return string(b), ok
}

func appendXMLUnescaped(b []byte, s string) ([]byte, bool) {
	amp := strings.IndexByte(s, '&')
	for amp >= 0 {
		b = append(b, s[:amp]...)
		s = s[amp:]
		semi := strings.IndexByte(s, ';')
		if semi < 0 {
			return b, false
		}
		ent := s[1:semi]
		switch ent {
		case "amp":
			b = append(b, '&')
		case "lt":
			b = append(b, '<')
		case "gt":
			b = append(b, '>')
		case "quot":
			b = append(b, '"')
		case "apos":
			b = append(b, '\'')
		default:
			if len(ent) < 2 || ent[0] != '#' {
				return b, false
			}
			var n uint64
			var err error
			if ent[1] == 'x' || ent[1] == 'X' {
				n, err = strconv.ParseUint(ent[2:], 16, 32)
			} else {
				n, err = strconv.ParseUint(ent[1:], 10, 32)
			}
			if err != nil || !utf8.ValidRune(rune(n)) {
				return b, false
			}
			b = utf8.AppendRune(b, rune(n))
		}
		s = s[semi+1:]
		amp = strings.IndexByte(s, '&')
	}
	return append(b, s...), true
}

func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
