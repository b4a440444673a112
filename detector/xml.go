package detector

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// readXML reads a rendered Windows event (XmlWinEventLog):
//
//	<Event xmlns='...'><System><Provider Name='Microsoft-Windows-Sysmon' .../>
//	<EventID>1</EventID>...<TimeCreated SystemTime='...'/>...
//	<Channel>...</Channel><Computer>...</Computer>...</System>
//	<EventData><Data Name='Image'>...</Data>...</EventData></Event>
//
// The verdict is encoding/xml's (readXMLStd). encoding/xml costs about 24 µs
// for such a record, so the usual rendering is first read by xmlFast, a
// scanner that accepts only a plain subset of XML and answers only when it
// is sure that readXMLStd would accept the record and read the same values;
// for anything else (comments, CDATA, declarations, namespace prefixes,
// carriage returns, any syntax problem...) it gives up and readXMLStd
// decides. FuzzXML checks both against a reference built on encoding/xml.
func readXML(s string, raw []byte, r *record) *Error {
	if xmlFast(s, r) {
		return nil
	}
	*r = record{}
	return readXMLStd(raw, r)
}

// The elements and attributes read, by local name (namespaces are ignored):
//
//	Event/System/EventID, Channel, Computer      text (event id, channel, host)
//	Event/System/Provider@Name                   provider
//	Event/System/TimeCreated@SystemTime          event time
//	Event/EventData/Data@Name                    text: the EventData field Name
//
// An element's text is all the character data inside it, that of child
// elements and CDATA sections included, after entity and character
// reference decoding. Repeated elements or attributes: the first non-empty
// value wins, as in the JSON shapes.

// readXMLStd reads an event with encoding/xml. The record must be
// well-formed as encoding/xml's strict Decoder.Token sees it, with exactly
// one root element and only whitespace as character data outside it;
// elements may nest maxDepth deep. Reading stops at the first problem in
// document order (malformed or too_deep); a well-formed record whose root
// is not <Event> is unknown_shape.
func readXMLStd(raw []byte, r *record) *Error {
	r.shape = ShapeXML
	dec := xml.NewDecoder(bytes.NewReader(raw))
	var path [3]string // local names of the open elements, levels 1-3
	depth, roots := 0, 0
	// The element whose text is being collected, at level 3, and where the
	// text goes.
	var (
		capDepth int
		capDst   *string
		capField sysField
		capData  bool
		capText  []byte
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return malformed(ShapeXML, "not well-formed: "+clip(se.Msg))
			}
			return malformed(ShapeXML, "not well-formed")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxDepth {
				return &Error{Reason: ReasonTooDeep, Shape: ShapeXML, Detail: "XML elements nest deeper than " + strconv.Itoa(maxDepth) + " levels"}
			}
			if depth == 1 {
				if roots++; roots > 1 {
					return malformed(ShapeXML, "more than one root element")
				}
			}
			if depth <= len(path) {
				path[depth-1] = t.Name.Local
			}
			if depth != 3 || capDepth != 0 || path[0] != "Event" {
				break
			}
			switch {
			case path[1] == "System":
				capDst = r.systemElement(t.Name.Local, xmlStdAttr(t, "Name"), xmlStdAttr(t, "SystemTime"))
				if capDst != nil {
					capDepth, capData, capText = 3, false, capText[:0]
				}
			case path[1] == "EventData" && t.Name.Local == "Data":
				if f, ok := sysFieldByName(xmlStdAttr(t, "Name")); ok {
					capDepth, capData, capField, capText = 3, true, f, capText[:0]
				}
			}
		case xml.EndElement:
			if depth == capDepth {
				if capData {
					r.data.set(capField, string(capText))
				} else {
					setFirst(capDst, string(capText))
				}
				capDepth, capDst = 0, nil
			}
			depth--
		case xml.CharData:
			switch {
			case depth == 0:
				if !isXMLSpaceOnly(t) {
					return malformed(ShapeXML, "text outside the root element")
				}
			case capDepth != 0:
				capText = append(capText, t...)
			}
		}
	}
	if roots == 0 {
		return malformed(ShapeXML, "no root element")
	}
	if path[0] != "Event" {
		return &Error{Reason: ReasonUnknownShape, Shape: ShapeXML, Detail: "XML root element is <" + clip(path[0]) + ">, not <Event>"}
	}
	return nil
}

// systemElement applies what r reads from the attributes of
// Event/System/name (Provider's Name, TimeCreated's SystemTime) and returns
// where the element's text goes (EventID, Channel, Computer), or nil. Both
// XML readers call it, so they read the same elements into the same fields.
func (r *record) systemElement(name, nameAttr, systemTime string) *string {
	switch name {
	case "EventID":
		return &r.eventID
	case "Channel":
		return &r.channel
	case "Computer":
		return &r.host
	case "Provider":
		setFirst(&r.provider, nameAttr)
	case "TimeCreated":
		setFirst(&r.eventTime, systemTime)
	}
	return nil
}

// xmlStdAttr returns the first non-empty attribute name (without a
// namespace) of an element.
func xmlStdAttr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Space == "" && a.Name.Local == name && a.Value != "" {
			return a.Value
		}
	}
	return ""
}

func isXMLSpaceOnly(b []byte) bool {
	for _, c := range b {
		if !isXMLSpace(c) {
			return false
		}
	}
	return true
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// xmlFast reads the usual rendering of an event into r and reports true,
// or reports false, with r in any state, when the record is anything but
// the plain subset it knows: ASCII names of letters, digits, '_', '.' and '-'
// (no namespace prefixes); start tags with quoted attributes, each after
// whitespace; end tags; text and attribute values with the five predefined
// entities and character references; valid UTF-8 without control
// characters other than tab and newline (no carriage return, which
// encoding/xml rewrites); no comments, processing instructions, CDATA or
// declarations; whitespace only outside the root, which is <Event>; at most
// 32 levels; no element inside an element whose text is read. Within that
// subset it reads exactly what readXMLStd would.
func xmlFast(s string, r *record) bool {
	if !xmlPlainChars(s) {
		return false
	}
	r.shape = ShapeXML
	var stack [32]string
	depth, roots := 0, 0
	capStart := -1 // where the text of the element being read starts
	var capDst *string
	var capField sysField
	capData := false
	i := 0
	for {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			if depth != 0 || !isXMLSpaceString(s[i:]) {
				return false
			}
			break
		}
		text := s[i : i+lt]
		if depth == 0 {
			if !isXMLSpaceString(text) {
				return false
			}
		} else if !xmlTextOK(text) {
			return false
		}
		i += lt + 1
		if i >= len(s) {
			return false
		}
		if s[i] == '/' { // end tag
			n := xmlNameLen(s[i+1:])
			if n == 0 || depth == 0 || s[i+1:i+1+n] != stack[depth-1] {
				return false
			}
			j := i + 1 + n
			for j < len(s) && isXMLSpace(s[j]) {
				j++
			}
			if j >= len(s) || s[j] != '>' {
				return false
			}
			if capStart >= 0 && depth == 3 {
				v, ok := xmlUnescape(s[capStart : i-1])
				if !ok {
					return false
				}
				if capData {
					r.data.set(capField, v)
				} else {
					setFirst(capDst, v)
				}
				capStart, capDst = -1, nil
			}
			depth--
			i = j + 1
			continue
		}
		// Start tag.
		n := xmlNameLen(s[i:])
		if n == 0 || capStart >= 0 || depth == len(stack) {
			return false
		}
		name := s[i : i+n]
		if depth == 0 {
			if roots++; roots > 1 || name != "Event" {
				return false
			}
		}
		j := i + n
		// Attributes: the ones read are kept as raw values.
		var nameAttr, systemTime string
		for {
			k := j
			for k < len(s) && isXMLSpace(s[k]) {
				k++
			}
			if k == len(s) {
				return false
			}
			if s[k] == '>' || s[k] == '/' {
				j = k
				break
			}
			an := xmlNameLen(s[k:])
			if an == 0 || k == j { // attributes must follow whitespace
				return false
			}
			aname := s[k : k+an]
			k += an
			for k < len(s) && isXMLSpace(s[k]) {
				k++
			}
			if k == len(s) || s[k] != '=' {
				return false
			}
			k++
			for k < len(s) && isXMLSpace(s[k]) {
				k++
			}
			if k == len(s) || (s[k] != '\'' && s[k] != '"') {
				return false
			}
			end := strings.IndexByte(s[k+1:], s[k])
			if end < 0 {
				return false
			}
			raw := s[k+1 : k+1+end]
			if strings.IndexByte(raw, '<') >= 0 {
				return false
			}
			v, ok := xmlUnescape(raw)
			if !ok {
				return false
			}
			switch aname {
			case "Name":
				setFirst(&nameAttr, v)
			case "SystemTime":
				setFirst(&systemTime, v)
			}
			j = k + 1 + end + 1
		}
		selfClose := s[j] == '/'
		if selfClose {
			if j+1 >= len(s) || s[j+1] != '>' {
				return false
			}
			j++
		}
		i = j + 1
		depth++
		stack[depth-1] = name
		if depth == 3 && stack[0] == "Event" {
			switch {
			case stack[1] == "System":
				capDst = r.systemElement(name, nameAttr, systemTime)
				if capDst != nil {
					capStart, capData = i, false
				}
			case stack[1] == "EventData" && name == "Data":
				if f, ok := sysFieldByName(nameAttr); ok {
					capStart, capData, capField = i, true, f
				}
			}
		}
		if selfClose {
			// An empty element: its text is "", which changes nothing.
			capStart, capDst = -1, nil
			depth--
		}
	}
	return roots == 1
}

// xmlPlainChars reports whether s is valid UTF-8 made of XML characters,
// without control characters other than tab and newline. Eight bytes are
// tested at a time: a word without a high bit nor a byte below 0x20 (the
// usual case) needs no further look.
func xmlPlainChars(s string) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	ascii := true
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// (x - 0x20 in each byte) &^ x has the high bit set in every byte
		// below 0x20 (bytes with the high bit are caught by x & highs).
		if (x|(x-0x20*ones)&^x)&highs == 0 {
			continue
		}
		for _, c := range []byte(s[i : i+8]) {
			if c < 0x20 && c != '\t' && c != '\n' {
				return false
			}
			if c >= 0x80 {
				ascii = false
			}
		}
	}
	for ; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\t' && c != '\n' {
			return false
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	if ascii {
		return true
	}
	// U+FFFE and U+FFFF are not XML characters; valid UTF-8 has no
	// surrogates.
	return utf8.ValidString(s) && !strings.Contains(s, "\uFFFE") && !strings.Contains(s, "\uFFFF")
}

func isXMLSpaceString(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isXMLSpace(s[i]) {
			return false
		}
	}
	return true
}

// xmlNameLen returns the length of the plain name at the start of s: an
// ASCII letter or '_', then letters, digits, '_', '.' or '-'; 0 if none.
func xmlNameLen(s string) int {
	if s == "" || !(isASCIILetter(s[0]) || s[0] == '_') {
		return 0
	}
	n := 1
	for n < len(s) {
		c := s[n]
		if !(isASCIILetter(c) || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			break
		}
		n++
	}
	return n
}

func isASCIILetter(c byte) bool { return 'A' <= c&^0x20 && c&^0x20 <= 'Z' }

// xmlTextOK reports whether the character data between two tags is in the
// plain subset: encoding/xml rejects "]]>" there, and its entities must
// decode.
func xmlTextOK(text string) bool {
	if strings.IndexByte(text, ']') >= 0 && strings.Contains(text, "]]>") {
		return false
	}
	for {
		amp := strings.IndexByte(text, '&')
		if amp < 0 {
			return true
		}
		text = text[amp+1:]
		semi := strings.IndexByte(text, ';')
		if semi < 0 {
			return false
		}
		switch ent := text[:semi]; ent {
		case "amp", "lt", "gt", "quot", "apos":
		default:
			if _, ok := charRef(ent); !ok {
				return false
			}
		}
		text = text[semi+1:]
	}
}

// xmlUnescape decodes the five predefined entities and character
// references (decimal, or hexadecimal after a lower-case x, as encoding/xml
// reads them) that denote XML characters. It returns s itself when there is
// nothing to decode, and false for anything else, on which encoding/xml
// must decide.
func xmlUnescape(s string) (string, bool) {
	amp := strings.IndexByte(s, '&')
	if amp < 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for amp >= 0 {
		b = append(b, s[:amp]...)
		s = s[amp+1:]
		semi := strings.IndexByte(s, ';')
		if semi < 0 {
			return "", false
		}
		ent := s[:semi]
		s = s[semi+1:]
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
			r, ok := charRef(ent)
			if !ok {
				return "", false
			}
			b = utf8.AppendRune(b, r)
		}
		amp = strings.IndexByte(s, '&')
	}
	return string(append(b, s...)), true
}

// charRef decodes the body of a character reference ("#65", "#x41") that
// denotes an XML character other than a surrogate.
func charRef(ent string) (rune, bool) {
	if len(ent) < 2 || ent[0] != '#' || len(ent) > 10 {
		return 0, false
	}
	digits, base := ent[1:], 10
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if digits == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, base, 32)
	if err != nil {
		return 0, false
	}
	r := rune(n)
	ok := r == 0x09 || r == 0x0A || r == 0x0D ||
		0x20 <= r && r <= 0xD7FF || 0xE000 <= r && r <= 0xFFFD || 0x10000 <= r && r <= 0x10FFFF
	return r, ok
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
