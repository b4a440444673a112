package detector

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"

	"github.com/tidwall/gjson"
)

// checkJSON decides whether raw (leading whitespace and byte order marks
// removed) is one JSON value that the detector accepts: RFC 8259 syntax,
// surrounded by whitespace only, arrays and objects nested at most maxDepth
// deep. It returns nil or an *Error with ReasonMalformed or ReasonTooDeep.
//
// gjson.ValidBytes is the usual check, but it recurses once per nesting
// level, so a record of a million '[' would grow a goroutine stack to
// hundreds of megabytes (and ten million would crash the process). Nesting
// can only exceed maxDepth when the record holds more than maxDepth '{' and
// '[' bytes, which bytes.Count tells at memory speed; only such records take
// the second path, encoding/json's iterative tokenizer, which also tells
// "too deep" from "invalid" in document order.
func checkJSON(raw []byte, shape Shape) *Error {
	if bytes.Count(raw, []byte("{"))+bytes.Count(raw, []byte("[")) <= maxDepth {
		if !gjson.ValidBytes(raw) {
			return malformed(shape, "invalid JSON")
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // no float conversion: any number literal is accepted, as gjson does
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return malformed(shape, "invalid JSON")
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				if depth++; depth > maxDepth {
					return &Error{Reason: ReasonTooDeep, Shape: shape, Detail: "JSON arrays and objects nest deeper than " + strconv.Itoa(maxDepth) + " levels"}
				}
			default:
				depth--
			}
		}
		if depth == 0 {
			break
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return malformed(shape, "invalid JSON")
	}
	return nil
}

// text renders a JSON value as the rule reads it: strings unescaped,
// numbers as the literal text the record holds (whatever their size),
// booleans as true/false. null, objects and arrays have no text and count
// as absent, like the empty string.
func text(v gjson.Result) string {
	switch v.Type {
	case gjson.String:
		return v.Str
	case gjson.Number:
		return v.Raw
	case gjson.True:
		return "true"
	case gjson.False:
		return "false"
	}
	return ""
}

// setFirst stores v in *dst unless *dst already holds a value: with
// duplicate keys the first non-empty value wins, in every shape.
func setFirst(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// jsonRecord is what one walk over a JSON record collects, kept apart per
// shape until the shape is known. The walk visits the top-level members
// once and descends only into the objects a shape reads (winlog, Event,
// event_data, process, user, event), so its cost does not depend on how
// deep the rest of the record nests. A key that occurs more than once is
// visited at each occurrence: every value is the first non-empty one in
// document order, and a duplicated object is read as the merge of its
// occurrences.
type jsonRecord struct {
	// Which shape roots were present as objects (at any occurrence).
	hasWinlog, hasEventData, hasEvent, hasProcess, hasECSUser, hasEventID bool
	evtxList                                                              bool // Event.EventData.Data is a list or an @Name object

	// Flat (top level).
	flat                          eventData
	flatEventID                   string
	computer, hostname            string
	channel, sourceName, provider string
	timestamp, timeCreated        string
	timeGenerated                 string

	// Winlogbeat 6 (top level).
	eventIDWLB6, computerName, logName, sourceNameWLB6 string
	wlb6Data                                           eventData

	// Winlogbeat 7/8: winlog.* and ECS.
	wl         record
	ecs        eventData
	ecsCode    string
	userName   string
	userDomain string

	// EVTX-to-JSON.
	evtx record
}

// readJSON reads a JSON record of the given shape (ShapeAuto: detect) into
// r. raw has passed checkJSON; s is the same bytes as a string.
func readJSON(s string, shape Shape, r *record) *Error {
	root := gjson.Parse(s)
	if !root.IsObject() {
		return &Error{Reason: ReasonUnknownShape, Shape: shape, Detail: "top-level JSON value is not an object"}
	}
	var j jsonRecord
	root.ForEach(j.top)
	detected := j.detectShape()
	if shape == ShapeAuto {
		if detected == ShapeAuto {
			return &Error{Reason: ReasonUnknownShape, Detail: "JSON object has none of the members that identify a Sysmon shape (winlog, event_data, Event, EventID)"}
		}
		shape = detected
	}
	switch shape {
	case ShapeWinlogbeat, ShapeWinlogbeatECS:
		if !j.hasWinlog {
			return wrongShape(shape, "winlog")
		}
		*r = j.wl
		if r.eventID == "" {
			r.eventID = j.ecsCode
		}
		// ECS process.* fills what winlog.event_data lacks (the sysmon
		// module moves those fields out of it).
		for f, v := range j.ecs {
			r.data.set(sysField(f), v)
		}
		// ECS user.* is the process's user only under the sysmon module
		// (signalled by ECS process.*); elsewhere it may be the publisher.
		if j.hasECSUser && j.hasProcess {
			switch {
			case j.userName != "" && j.userDomain != "":
				r.data.set(fUser, j.userDomain+`\`+j.userName)
			case j.userName != "":
				r.data.set(fUser, j.userName)
			}
		}
		r.eventTime = j.timestamp
	case ShapeWinlogbeat6:
		if !j.hasEventData && j.eventIDWLB6 == "" {
			return wrongShape(shape, "event_data or event_id")
		}
		r.eventID = j.eventIDWLB6
		r.host = j.computerName
		r.channel = j.logName
		r.provider = j.sourceNameWLB6
		r.data = j.wlb6Data
		r.eventTime = j.timestamp
	case ShapeFlat:
		if !j.hasEventID {
			return wrongShape(shape, "EventID")
		}
		r.eventID = j.flatEventID
		r.host = j.computer
		setFirst(&r.host, j.hostname)
		r.channel = j.channel
		r.provider = j.sourceName
		setFirst(&r.provider, j.provider)
		r.data = j.flat
		for _, ts := range [...]string{j.timeGenerated, j.timestamp, j.timeCreated} {
			setFirst(&r.eventTime, ts)
		}
	case ShapeEVTXList, ShapeEVTXMap:
		if !j.hasEvent {
			return wrongShape(shape, "Event")
		}
		*r = j.evtx
	default:
		return &Error{Reason: ReasonUnknownShape, Shape: shape, Detail: "shape " + shape.String() + " is not a JSON shape"}
	}
	r.shape = shape
	return nil
}

func wrongShape(shape Shape, member string) *Error {
	return &Error{Reason: ReasonUnknownShape, Shape: shape, Detail: "record lacks the member " + member + " that shape " + shape.String() + " requires"}
}

// detectShape picks the shape from the roots present, in a fixed order.
func (j *jsonRecord) detectShape() Shape {
	switch {
	case j.hasEvent:
		if j.evtxList {
			return ShapeEVTXList
		}
		return ShapeEVTXMap
	case j.hasWinlog:
		if j.hasProcess && j.wl.data[fImage] == "" && j.wl.data[fParentImage] == "" {
			return ShapeWinlogbeatECS
		}
		return ShapeWinlogbeat
	case j.hasEventData && (j.eventIDWLB6 != "" || j.computerName != "" || j.logName != ""),
		// Winlogbeat 6 events without event_data (user_data events).
		j.eventIDWLB6 != "" && (j.computerName != "" || j.logName != ""):
		return ShapeWinlogbeat6
	case j.hasEventID:
		return ShapeFlat
	}
	return ShapeAuto
}

// top handles one top-level member.
func (j *jsonRecord) top(k, v gjson.Result) bool {
	switch k.Str {
	case "winlog":
		if v.IsObject() {
			j.hasWinlog = true
			v.ForEach(j.winlog)
		}
	case "event_data":
		if v.IsObject() {
			j.hasEventData = true
			v.ForEach(j.wlb6Data.member)
		}
	case "Event":
		if v.IsObject() {
			j.hasEvent = true
			v.ForEach(j.event)
		}
	case "process":
		if v.IsObject() {
			j.hasProcess = true
			v.ForEach(j.process)
		}
	case "user":
		if v.IsObject() {
			j.hasECSUser = true
			v.ForEach(func(k, v gjson.Result) bool {
				switch k.Str {
				case "name":
					setFirst(&j.userName, text(v))
				case "domain":
					setFirst(&j.userDomain, text(v))
				}
				return true
			})
		}
	case "event":
		eachMember(v, func(k, v gjson.Result) bool {
			if k.Str == "code" {
				setFirst(&j.ecsCode, text(v))
			}
			return true
		})
	case "EventID":
		j.hasEventID = true
		setFirst(&j.flatEventID, text(v))
	case "event_id":
		setFirst(&j.eventIDWLB6, text(v))
	case "Computer":
		setFirst(&j.computer, text(v))
	case "Hostname":
		setFirst(&j.hostname, text(v))
	case "computer_name":
		setFirst(&j.computerName, text(v))
	case "Channel":
		setFirst(&j.channel, text(v))
	case "log_name":
		setFirst(&j.logName, text(v))
	case "SourceName":
		setFirst(&j.sourceName, text(v))
	case "Provider":
		setFirst(&j.provider, text(v))
	case "source_name":
		setFirst(&j.sourceNameWLB6, text(v))
	case "@timestamp":
		setFirst(&j.timestamp, text(v))
	case "TimeCreated":
		setFirst(&j.timeCreated, text(v))
	case "TimeGenerated":
		setFirst(&j.timeGenerated, text(v))
	}
	// Flat records carry the EventData fields at the top level.
	j.flat.member(k, v)
	return true
}

func (j *jsonRecord) winlog(k, v gjson.Result) bool {
	switch k.Str {
	case "event_id":
		setFirst(&j.wl.eventID, text(v))
	case "channel":
		setFirst(&j.wl.channel, text(v))
	case "provider_name":
		setFirst(&j.wl.provider, text(v))
	case "computer_name":
		setFirst(&j.wl.host, text(v))
	case "event_data":
		eachMember(v, j.wl.data.member)
	}
	return true
}

// ecsProcess maps ECS process.* and process.parent.* members to the
// Sysmon EventData names they carry under the sysmon module.
var ecsProcess = map[string]string{
	"executable": "Image", "command_line": "CommandLine", "pid": "ProcessId",
	"entity_id": "ProcessGuid", "working_directory": "CurrentDirectory",
}

var ecsParent = map[string]string{
	"executable": "ParentImage", "command_line": "ParentCommandLine", "pid": "ParentProcessId",
	"entity_id": "ParentProcessGuid",
}

// process reads ECS process.* and process.parent.*.
func (j *jsonRecord) process(k, v gjson.Result) bool {
	if k.Str == "parent" {
		eachMember(v, func(k, v gjson.Result) bool {
			if name, ok := ecsParent[k.Str]; ok {
				j.ecs.setName(name, text(v))
			}
			return true
		})
		return true
	}
	if name, ok := ecsProcess[k.Str]; ok {
		j.ecs.setName(name, text(v))
	}
	return true
}

// event reads Event.System and Event.EventData of EVTX-to-JSON records.
func (j *jsonRecord) event(k, v gjson.Result) bool {
	switch k.Str {
	case "System":
		eachMember(v, j.system)
	case "EventData":
		eachMember(v, func(k, v gjson.Result) bool {
			if k.Str == "Data" {
				switch {
				case v.IsArray():
					// List form: [{"@Name": ..., "#text": ...}, ...].
					j.evtxList = true
					v.ForEach(func(_, item gjson.Result) bool {
						j.dataItem(item)
						return true
					})
					return true
				case v.IsObject() && hasMember(v, "@Name"):
					// List form with a single entry.
					j.evtxList = true
					j.dataItem(v)
					return true
				}
			}
			j.evtx.data.member(k, v)
			return true
		})
	}
	return true
}

// eachMember calls fn for each member of v when v is an object, and not at
// all otherwise (gjson's ForEach passes a scalar to fn as itself).
func eachMember(v gjson.Result, fn func(k, v gjson.Result) bool) {
	if v.IsObject() {
		v.ForEach(fn)
	}
}

// hasMember reports whether object v has a member named key.
func hasMember(v gjson.Result, key string) bool {
	found := false
	v.ForEach(func(k, _ gjson.Result) bool {
		found = k.Str == key
		return !found
	})
	return found
}

// dataItem reads one {"@Name": ..., "#text": ...} entry of an EVTX list in
// one walk: its name is read as an attribute (as attrValue does), its value
// is its first non-empty "#text".
func (j *jsonRecord) dataItem(item gjson.Result) {
	var name, value string
	eachMember(item, func(k, v gjson.Result) bool {
		switch k.Str {
		case "@Name", "Name":
			setFirst(&name, text(v))
		case "#attributes":
			setFirst(&name, attrMember(v, "Name"))
		case "#text":
			setFirst(&value, text(v))
		}
		return true
	})
	if name != "" {
		j.evtx.data.setName(name, value)
	}
}

func (j *jsonRecord) system(k, v gjson.Result) bool {
	r := &j.evtx
	switch k.Str {
	case "EventID":
		if v.IsObject() { // {"#text": "1", "@Qualifiers": ""}
			v.ForEach(func(k, v gjson.Result) bool {
				if k.Str == "#text" {
					setFirst(&r.eventID, text(v))
				}
				return true
			})
			break
		}
		setFirst(&r.eventID, text(v))
	case "Channel":
		setFirst(&r.channel, text(v))
	case "Computer":
		setFirst(&r.host, text(v))
	case "Provider":
		setFirst(&r.provider, attrValue(v, "Name"))
	case "TimeCreated":
		setFirst(&r.eventTime, attrValue(v, "SystemTime"))
	}
	return true
}

// attrValue reads an XML attribute as XML-to-JSON converters spell it inside
// an element object: "@Name", "#attributes": {"Name": ...}, or "Name"; the
// first non-empty one in document order. A non-object has no attributes.
func attrValue(obj gjson.Result, name string) string {
	var out string
	eachMember(obj, func(k, v gjson.Result) bool {
		switch {
		case k.Str == "#attributes":
			setFirst(&out, attrMember(v, name))
		case k.Str == name || (len(k.Str) == len(name)+1 && k.Str[0] == '@' && k.Str[1:] == name):
			setFirst(&out, text(v))
		}
		return out == ""
	})
	return out
}

// attrMember returns the first non-empty member name of an "#attributes"
// object.
func attrMember(attrs gjson.Result, name string) string {
	var out string
	eachMember(attrs, func(k, v gjson.Result) bool {
		if k.Str == name {
			setFirst(&out, text(v))
		}
		return out == ""
	})
	return out
}
