// The gjson-based reader of JSON records: the first implementation, kept as
// an independent reference that FuzzJSONReaders compares the production
// scanner (json.go) against.

package detector

import (
	"github.com/tidwall/gjson"
)

// text renders a JSON value as the rule sees it: strings unescaped, numbers in
// the decimal text the record holds, booleans as true/false. null, objects and
// arrays have no text and count as absent.
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

// top holds the top-level members of a JSON record that shape detection and
// the flat shape need, gathered in one pass.
type top struct {
	winlog, eventData, event, process, user, ecsEvent gjson.Result

	eventID, eventIDWLB6 gjson.Result
	computer, hostname   string
	computerName         string // Winlogbeat 6
	channel, logName     string
	sourceName, provider string
	sourceNameWLB6       string
	timestamp            string // @timestamp
	timeCreated          string
	timeGenerated        string

	flat [numSysFields]string
}

func (t *top) gather(root gjson.Result) {
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "winlog":
			t.winlog = v
		case "event_data":
			t.eventData = v
		case "Event":
			t.event = v
		case "process":
			t.process = v
		case "user":
			t.user = v
		case "event":
			t.ecsEvent = v
		case "EventID":
			t.eventID = v
		case "event_id":
			t.eventIDWLB6 = v
		case "Computer":
			setFirst(&t.computer, text(v))
		case "Hostname":
			setFirst(&t.hostname, text(v))
		case "computer_name":
			setFirst(&t.computerName, text(v))
		case "Channel":
			setFirst(&t.channel, text(v))
		case "log_name":
			setFirst(&t.logName, text(v))
		case "SourceName":
			setFirst(&t.sourceName, text(v))
		case "Provider":
			setFirst(&t.provider, text(v))
		case "source_name":
			setFirst(&t.sourceNameWLB6, text(v))
		case "@timestamp":
			setFirst(&t.timestamp, text(v))
		case "TimeCreated":
			setFirst(&t.timeCreated, text(v))
		case "TimeGenerated":
			setFirst(&t.timeGenerated, text(v))
		default:
			if f, ok := sysFieldByName(k.Str); ok {
				setFirst(&t.flat[f], text(v))
			}
		}
		return true
	})
}

// detectShape picks the shape of a JSON record from its top-level members.
func (t *top) detectShape() Shape {
	switch {
	case t.event.IsObject():
		data := t.event.Get("EventData.Data")
		if data.IsArray() || (data.IsObject() && data.Get(`\@Name`).Exists()) {
			return ShapeEVTXList
		}
		return ShapeEVTXMap
	case t.winlog.IsObject():
		ed := t.winlog.Get("event_data")
		if t.process.IsObject() && text(ed.Get("Image")) == "" && text(ed.Get("ParentImage")) == "" {
			return ShapeWinlogbeatECS
		}
		return ShapeWinlogbeat
	case t.eventData.IsObject() && (t.eventIDWLB6.Exists() || t.computerName != "" || t.logName != ""),
		text(t.eventIDWLB6) != "" && (t.computerName != "" || t.logName != ""):
		return ShapeWinlogbeat6
	case t.eventID.Exists():
		return ShapeFlat
	}
	return ShapeAuto
}

// evalJSON fills r from a JSON record of the given shape (ShapeAuto: detect).
func evalJSONReference(s string, shape Shape, r *record) *Error {
	if !gjson.Valid(s) {
		return malformed(shape, "invalid JSON")
	}
	root := gjson.Parse(s)
	if !root.IsObject() {
		return &Error{Reason: ReasonUnknownShape, Shape: shape, Detail: "top-level JSON value is not an object"}
	}
	var t top
	t.gather(root)
	detected := t.detectShape()
	if shape == ShapeAuto {
		if detected == ShapeAuto {
			return &Error{Reason: ReasonUnknownShape, Detail: "JSON object has none of the members that identify a Sysmon shape (winlog, event_data, Event, EventID)"}
		}
		shape = detected
	}
	r.shape = shape
	switch shape {
	case ShapeWinlogbeat, ShapeWinlogbeatECS:
		if !t.winlog.IsObject() {
			return wrongShape(shape, "winlog")
		}
		readWinlog(&t, r)
	case ShapeWinlogbeat6:
		if !t.eventData.IsObject() && text(t.eventIDWLB6) == "" {
			return wrongShape(shape, "event_data or event_id")
		}
		r.eventID = text(t.eventIDWLB6)
		r.host = t.computerName
		r.channel = t.logName
		r.provider = t.sourceNameWLB6
		readEventData(t.eventData, r)
		r.eventTime, r.eventTimeOK = t.timestamp, t.timestamp != ""
	case ShapeFlat:
		if !t.eventID.Exists() {
			return wrongShape(shape, "EventID")
		}
		r.eventID = text(t.eventID)
		r.host = t.computer
		if r.host == "" {
			r.host = t.hostname
		}
		r.channel = t.channel
		r.provider = t.sourceName
		if r.provider == "" {
			r.provider = t.provider
		}
		r.sys = t.flat
		for _, ts := range [...]string{t.timeGenerated, t.timestamp, t.timeCreated} {
			if ts != "" {
				r.eventTime, r.eventTimeOK = ts, true
				break
			}
		}
	case ShapeEVTXList, ShapeEVTXMap:
		if !t.event.IsObject() {
			return wrongShape(shape, "Event")
		}
		readEVTX(t.event, shape, r)
	default:
		return &Error{Reason: ReasonUnknownShape, Shape: shape, Detail: "shape " + shape.String() + " is not a JSON shape"}
	}
	return nil
}

// readEventData copies the Sysmon fields of an EventData-like object.
func readEventData(obj gjson.Result, r *record) {
	obj.ForEach(func(k, v gjson.Result) bool {
		if f, ok := sysFieldByName(k.Str); ok {
			r.set(f, text(v))
		}
		return true
	})
}

// readWinlog reads Winlogbeat 7/8, with or without the sysmon module. The raw
// Sysmon value in winlog.event_data wins; ECS fields fill what the module moved
// out of event_data.
func readWinlog(t *top, r *record) {
	var eventData gjson.Result
	t.winlog.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "event_id":
			setFirst(&r.eventID, text(v))
		case "channel":
			setFirst(&r.channel, text(v))
		case "provider_name":
			setFirst(&r.provider, text(v))
		case "computer_name":
			setFirst(&r.host, text(v))
		case "event_data":
			eventData = v
		}
		return true
	})
	if eventData.IsObject() {
		readEventData(eventData, r)
	}
	if r.eventID == "" {
		r.eventID = text(t.ecsEvent.Get("code"))
	}
	if t.process.IsObject() {
		p := t.process
		r.set(fImage, text(p.Get("executable")))
		r.set(fCommandLine, text(p.Get("command_line")))
		r.set(fProcessId, text(p.Get("pid")))
		r.set(fProcessGuid, text(p.Get("entity_id")))
		r.set(fCurrentDirectory, text(p.Get("working_directory")))
		r.set(fParentImage, text(p.Get("parent.executable")))
		r.set(fParentCommandLine, text(p.Get("parent.command_line")))
		r.set(fParentProcessId, text(p.Get("parent.pid")))
		r.set(fParentProcessGuid, text(p.Get("parent.entity_id")))
	}
	if r.sys[fUser] == "" && t.user.IsObject() && t.process.IsObject() {
		// ECS user.* is the process's user only under the sysmon module
		// (signalled by ECS process.*); elsewhere it may be the publisher.
		name, domain := text(t.user.Get("name")), text(t.user.Get("domain"))
		switch {
		case name != "" && domain != "":
			r.sys[fUser] = domain + `\` + name
		case name != "":
			r.sys[fUser] = name
		}
	}
	r.eventTime, r.eventTimeOK = t.timestamp, t.timestamp != ""
}

// readEVTX reads EVTX converted to JSON, list or map form.
func readEVTX(evt gjson.Result, shape Shape, r *record) {
	evt.Get("System").ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "EventID":
			if v.IsObject() { // {"#text": "1", "@Qualifiers": ""}
				v = v.Get(`\#text`)
			}
			setFirst(&r.eventID, text(v))
		case "Channel":
			setFirst(&r.channel, text(v))
		case "Computer":
			setFirst(&r.host, text(v))
		case "Provider":
			r.provider = attr(v, "Name")
		case "TimeCreated":
			if ts := attr(v, "SystemTime"); ts != "" {
				r.eventTime, r.eventTimeOK = ts, true
			}
		}
		return true
	})
	ed := evt.Get("EventData")
	data := ed.Get("Data")
	if !data.IsArray() && !data.IsObject() {
		// Map form (a list is read as a list whatever the forced shape).
		readEventData(ed, r)
		return
	}
	item := func(v gjson.Result) {
		name := attr(v, "Name")
		if f, ok := sysFieldByName(name); ok {
			r.set(f, text(v.Get(`\#text`)))
		}
	}
	if data.IsArray() {
		data.ForEach(func(_, v gjson.Result) bool { item(v); return true })
	} else if data.IsObject() {
		item(data)
	}
}

// attr reads an XML attribute as XML-to-JSON converters spell it: "@Name",
// "#attributes": {"Name": ...}, or a plain "Name" member.
func attr(obj gjson.Result, name string) string {
	var out string
	obj.ForEach(func(k, v gjson.Result) bool {
		switch {
		case k.Str == "#attributes":
			setFirst(&out, text(v.Get(name)))
		case len(k.Str) == len(name)+1 && k.Str[0] == '@' && k.Str[1:] == name,
			k.Str == name:
			setFirst(&out, text(v))
			return out == ""
		}
		return true
	})
	return out
}
