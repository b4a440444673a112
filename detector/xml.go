package detector

import (
	"strconv"
	"strings"
	"unicode/utf8"
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
func evalXML(s string, r *record) *Error {
	r.shape = ShapeXML
	var stack [16]string // open element names
	depth := 0
	sawEvent := false
	dataField, dataKnown := sysField(0), false // the open <Data Name=...> element
	i := 0
	for {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			if strings.TrimSpace(s[i:]) != "" {
				return malformed(ShapeXML, "text after the last element")
			}
			break
		}
		text := s[i : i+lt]
		i += lt
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
			name := strings.TrimSpace(tag[1:])
			if depth == 0 || stack[depth-1] != name {
				return malformed(ShapeXML, "end tag </"+clip(name)+"> does not close the open element")
			}
			depth--
			if dataKnown && depth == 2 && name == "Data" {
				v, ok := xmlUnescape(text)
				if !ok {
					return malformed(ShapeXML, "bad character reference in <Data>")
				}
				r.set(dataField, v)
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
		} else if err := xmlElementAttrs(stack[:depth], name, attrs, r); err != nil {
			return err
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
			r.eventID = strings.TrimSpace(v)
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
func xmlElementAttrs(parents []string, name, attrs string, r *record) *Error {
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
				r.eventTime, r.eventTimeOK = v, true
			}
		}
	}
	return nil
}

// tagEnd returns the index of the '>' that ends the tag starting at s[i]
// (just after '<'), skipping quoted attribute values; -1 if there is none.
func tagEnd(s string, i int) int {
	var quote byte
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i
		case c == '<':
			return -1
		}
	}
	return -1
}

// splitTag splits "Data Name='Image'" into the name and the attribute text.
func splitTag(tag string) (name, attrs string) {
	end := strings.IndexAny(tag, " \t\r\n")
	if end < 0 {
		return tag, ""
	}
	return tag[:end], tag[end+1:]
}

// xmlAttr returns the unescaped value of attribute key in attrs.
func xmlAttr(attrs, key string) (string, bool) {
	for attrs != "" {
		attrs = strings.TrimLeft(attrs, " \t\r\n")
		eq := strings.IndexByte(attrs, '=')
		if eq < 0 {
			return "", false
		}
		k := strings.TrimSpace(attrs[:eq])
		rest := strings.TrimLeft(attrs[eq+1:], " \t\r\n")
		if rest == "" || (rest[0] != '\'' && rest[0] != '"') {
			return "", false
		}
		q := rest[0]
		end := strings.IndexByte(rest[1:], q)
		if end < 0 {
			return "", false
		}
		if k == key {
			v, ok := xmlUnescape(rest[1 : 1+end])
			return v, ok
		}
		attrs = rest[1+end+1:]
	}
	return "", false
}

// xmlUnescape replaces the five predefined entities and numeric character
// references. It returns s itself when there is nothing to replace.
func xmlUnescape(s string) (string, bool) {
	amp := strings.IndexByte(s, '&')
	if amp < 0 {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	for amp >= 0 {
		b.WriteString(s[:amp])
		s = s[amp:]
		semi := strings.IndexByte(s, ';')
		if semi < 0 {
			return "", false
		}
		ent := s[1:semi]
		switch ent {
		case "amp":
			b.WriteByte('&')
		case "lt":
			b.WriteByte('<')
		case "gt":
			b.WriteByte('>')
		case "quot":
			b.WriteByte('"')
		case "apos":
			b.WriteByte('\'')
		default:
			if len(ent) < 2 || ent[0] != '#' {
				return "", false
			}
			var n uint64
			var err error
			if ent[1] == 'x' || ent[1] == 'X' {
				n, err = strconv.ParseUint(ent[2:], 16, 32)
			} else {
				n, err = strconv.ParseUint(ent[1:], 10, 32)
			}
			if err != nil || !utf8.ValidRune(rune(n)) {
				return "", false
			}
			b.WriteRune(rune(n))
		}
		s = s[semi+1:]
		amp = strings.IndexByte(s, '&')
	}
	b.WriteString(s)
	return b.String(), true
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
