// An independent reader of JSON records for differential tests. It is built
// on encoding/json's tokenizer, not on gjson, and it applies the detector's
// documented reading rules (DESIGN.md, section Detector) as plainly as
// possible, without the production reader's structure: the record is first
// read into a tree that keeps every member of every object in document order
// (duplicate keys included), and each rule is then a query over that tree.

package detector

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// jnode is one JSON value.
type jnode struct {
	kind byte   // 'o' object, 'a' array, 's' string, 'n' number, 't' true, 'f' false, 'z' null
	text string // string value (decoded) or number literal
	keys []string
	vals []*jnode // object members (with keys) or array elements
}

// refParseJSON reads one JSON text. It returns the reason the detector must
// give when the text is not acceptable: ReasonMalformed for anything that is
// not a single RFC 8259 value (surrounded by whitespace only), ReasonTooDeep
// when arrays and objects nest deeper than maxDepth before any syntax error.
func refParseJSON(raw []byte) (*jnode, Reason) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // numbers keep their literal text, whatever their size
	var root *jnode
	var stack []*jnode
	var pendingKey []*string // per open object: the key read, waiting for its value
	add := func(n *jnode) {
		if len(stack) == 0 {
			root = n
			return
		}
		top := stack[len(stack)-1]
		if top.kind == 'o' {
			top.keys = append(top.keys, *pendingKey[len(pendingKey)-1])
			pendingKey[len(pendingKey)-1] = nil
		}
		top.vals = append(top.vals, n)
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, ReasonMalformed // io.EOF here means an empty or truncated text
		}
		// In an object, a string token with no key pending is a key.
		if len(stack) > 0 && stack[len(stack)-1].kind == 'o' && pendingKey[len(pendingKey)-1] == nil {
			if s, ok := tok.(string); ok {
				pendingKey[len(pendingKey)-1] = &s
				continue
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				n := &jnode{kind: 'o'}
				if t == '[' {
					n.kind = 'a'
				}
				add(n)
				stack = append(stack, n)
				pendingKey = append(pendingKey, nil)
				if len(stack) > maxDepth {
					return nil, ReasonTooDeep
				}
			default:
				stack = stack[:len(stack)-1]
				pendingKey = pendingKey[:len(pendingKey)-1]
			}
		case string:
			add(&jnode{kind: 's', text: t})
		case json.Number:
			add(&jnode{kind: 'n', text: string(t)})
		case bool:
			if t {
				add(&jnode{kind: 't'})
			} else {
				add(&jnode{kind: 'f'})
			}
		case nil:
			add(&jnode{kind: 'z'})
		}
		if len(stack) == 0 {
			break
		}
	}
	// One value only: the rest must be whitespace.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, ReasonMalformed
	}
	return root, ""
}

// val is a value as the rule reads it: strings as decoded, numbers as
// written, booleans as true/false; null, "", objects and arrays are absent ("").
func (n *jnode) val() string {
	switch n.kind {
	case 's', 'n':
		return n.text
	case 't':
		return "true"
	case 'f':
		return "false"
	}
	return ""
}

// members returns every value of key in n, in document order; none when n
// is not an object.
func (n *jnode) members(key string) []*jnode {
	var out []*jnode
	if n != nil && n.kind == 'o' {
		for i, k := range n.keys {
			if k == key {
				out = append(out, n.vals[i])
			}
		}
	}
	return out
}

// path returns every value reached from the nodes by the keys, in document
// order: a duplicated key at any level contributes all its values.
func path(nodes []*jnode, keys ...string) []*jnode {
	for _, k := range keys {
		var next []*jnode
		for _, n := range nodes {
			next = append(next, n.members(k)...)
		}
		nodes = next
	}
	return nodes
}

// first returns the first present value among nodes.
func first(nodes []*jnode) string {
	for _, n := range nodes {
		if v := n.val(); v != "" {
			return v
		}
	}
	return ""
}

func anyObject(nodes []*jnode) bool {
	for _, n := range nodes {
		if n.kind == 'o' {
			return true
		}
	}
	return false
}

func objects(nodes []*jnode) []*jnode {
	var out []*jnode
	for _, n := range nodes {
		if n.kind == 'o' {
			out = append(out, n)
		}
	}
	return out
}

// attr reads an XML attribute as XML-to-JSON converters spell it in an
// element object: "@Name", "#attributes": {"Name": ...} or "Name"; the first
// present one in document order.
func attr(nodes []*jnode, name string) string {
	for _, n := range objects(nodes) {
		for i, k := range n.keys {
			var cands []*jnode
			switch k {
			case "#attributes":
				cands = n.vals[i].members(name)
			case name, "@" + name:
				cands = []*jnode{n.vals[i]}
			}
			if v := first(cands); v != "" {
				return v
			}
		}
	}
	return ""
}

// refRecord is what the reference reads from a record.
type refRecord struct {
	shape                                     Shape
	eventID, channel, provider, host, evtTime string
	data                                      map[string]string // EventData by name, first present value
}

func (r *refRecord) setData(name, v string) {
	if _, ok := r.data[name]; !ok && v != "" {
		r.data[name] = v
	}
}

// refReadJSON reads a JSON record (leading whitespace and byte order marks
// already removed) in the given shape (ShapeAuto: detect). On failure it
// returns the reason.
func refReadJSON(raw []byte, shape Shape) (refRecord, Reason) {
	root, reason := refParseJSON(raw)
	return refReadTree(root, reason, shape)
}

// refReadTree is refReadJSON on what refParseJSON returned.
func refReadTree(root *jnode, reason Reason, shape Shape) (refRecord, Reason) {
	if reason != "" {
		return refRecord{}, reason
	}
	if root.kind != 'o' {
		return refRecord{}, ReasonUnknownShape
	}
	top := []*jnode{root}
	isEvent := anyObject(path(top, "Event"))
	isWinlog := anyObject(path(top, "winlog"))
	eventDataObj := anyObject(path(top, "event_data"))
	wlb6Key := first(path(top, "event_id")) != "" || first(path(top, "computer_name")) != "" || first(path(top, "log_name")) != ""
	isWLB6 := eventDataObj && wlb6Key ||
		first(path(top, "event_id")) != "" && (first(path(top, "computer_name")) != "" || first(path(top, "log_name")) != "")
	isFlat := len(path(top, "EventID")) > 0

	detected := ShapeAuto
	switch {
	case isEvent:
		detected = ShapeEVTXMap
		for _, d := range path(top, "Event", "EventData", "Data") {
			if d.kind == 'a' || d.kind == 'o' && len(d.members("@Name")) > 0 {
				detected = ShapeEVTXList
			}
		}
	case isWinlog:
		detected = ShapeWinlogbeat
		if anyObject(path(top, "process")) &&
			first(path(top, "winlog", "event_data", "Image")) == "" &&
			first(path(top, "winlog", "event_data", "ParentImage")) == "" {
			detected = ShapeWinlogbeatECS
		}
	case isWLB6:
		detected = ShapeWinlogbeat6
	case isFlat:
		detected = ShapeFlat
	}
	if shape == ShapeAuto {
		if detected == ShapeAuto {
			return refRecord{}, ReasonUnknownShape
		}
		shape = detected
	}
	r := refRecord{shape: shape, data: map[string]string{}}
	switch shape {
	case ShapeWinlogbeat, ShapeWinlogbeatECS:
		if !isWinlog {
			return refRecord{}, ReasonUnknownShape
		}
		r.eventID = first(path(top, "winlog", "event_id"))
		if r.eventID == "" {
			r.eventID = first(path(top, "event", "code"))
		}
		r.channel = first(path(top, "winlog", "channel"))
		r.provider = first(path(top, "winlog", "provider_name"))
		r.host = first(path(top, "winlog", "computer_name"))
		for _, ed := range objects(path(top, "winlog", "event_data")) {
			for i, k := range ed.keys {
				r.setData(k, ed.vals[i].val())
			}
		}
		for name, p := range map[string][]string{
			"Image": {"process", "executable"}, "CommandLine": {"process", "command_line"},
			"ProcessId": {"process", "pid"}, "ProcessGuid": {"process", "entity_id"},
			"CurrentDirectory": {"process", "working_directory"},
			"ParentImage":      {"process", "parent", "executable"}, "ParentCommandLine": {"process", "parent", "command_line"},
			"ParentProcessId": {"process", "parent", "pid"}, "ParentProcessGuid": {"process", "parent", "entity_id"},
		} {
			r.setData(name, first(path(top, p...)))
		}
		if anyObject(path(top, "user")) && anyObject(path(top, "process")) {
			name, domain := first(path(top, "user", "name")), first(path(top, "user", "domain"))
			if name != "" && domain != "" {
				r.setData("User", domain+`\`+name)
			}
			r.setData("User", name)
		}
		r.evtTime = first(path(top, "@timestamp"))
	case ShapeWinlogbeat6:
		if !eventDataObj && first(path(top, "event_id")) == "" {
			return refRecord{}, ReasonUnknownShape
		}
		r.eventID = first(path(top, "event_id"))
		r.host = first(path(top, "computer_name"))
		r.channel = first(path(top, "log_name"))
		r.provider = first(path(top, "source_name"))
		for _, ed := range objects(path(top, "event_data")) {
			for i, k := range ed.keys {
				r.setData(k, ed.vals[i].val())
			}
		}
		r.evtTime = first(path(top, "@timestamp"))
	case ShapeFlat:
		if !isFlat {
			return refRecord{}, ReasonUnknownShape
		}
		r.eventID = first(path(top, "EventID"))
		r.host = first(path(top, "Computer"))
		if r.host == "" {
			r.host = first(path(top, "Hostname"))
		}
		r.channel = first(path(top, "Channel"))
		r.provider = first(path(top, "SourceName"))
		if r.provider == "" {
			r.provider = first(path(top, "Provider"))
		}
		for i, k := range root.keys {
			r.setData(k, root.vals[i].val())
		}
		for _, k := range []string{"TimeGenerated", "@timestamp", "TimeCreated"} {
			if r.evtTime = first(path(top, k)); r.evtTime != "" {
				break
			}
		}
	case ShapeEVTXList, ShapeEVTXMap:
		if !isEvent {
			return refRecord{}, ReasonUnknownShape
		}
		system := path(top, "Event", "System")
		var ids []*jnode
		for _, id := range path(system, "EventID") {
			if id.kind == 'o' {
				ids = append(ids, id.members("#text")...)
			} else {
				ids = append(ids, id)
			}
		}
		r.eventID = first(ids)
		r.channel = first(path(system, "Channel"))
		r.host = first(path(system, "Computer"))
		r.provider = attr(path(system, "Provider"), "Name")
		r.evtTime = attr(path(system, "TimeCreated"), "SystemTime")
		for _, ed := range objects(path(top, "Event", "EventData")) {
			for i, k := range ed.keys {
				v := ed.vals[i]
				var entries []*jnode
				switch {
				case k == "Data" && v.kind == 'a':
					entries = objects(v.vals)
				case k == "Data" && v.kind == 'o' && len(v.members("@Name")) > 0:
					entries = []*jnode{v}
				default:
					r.setData(k, v.val())
					continue
				}
				for _, e := range entries {
					if name := attr([]*jnode{e}, "Name"); name != "" {
						r.setData(name, first(e.members("#text")))
					}
				}
			}
		}
	default:
		return refRecord{}, ReasonUnknownShape
	}
	return r, ""
}

// refTrimStart removes what the detector skips before a record's first
// value: ASCII whitespace (space, tab, CR, LF) and UTF-8 byte order marks,
// in any order and number.
func refTrimStart(raw []byte) []byte {
	for {
		switch {
		case len(raw) > 0 && strings.IndexByte(" \t\r\n", raw[0]) >= 0:
			raw = raw[1:]
		case bytes.HasPrefix(raw, []byte("\ufeff")):
			raw = raw[3:]
		default:
			return raw
		}
	}
}

// fixUTF8 replaces each byte of an invalid UTF-8 sequence with U+FFFD, as
// encoding/json does when it decodes a string: the production reader keeps
// such bytes as they are, the reference cannot.
func fixUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
