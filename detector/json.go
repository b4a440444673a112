package detector

import "unsafe"

func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// jsonRecord is what one pass over a JSON record collects, kept apart per
// shape until the shape is known.
type jsonRecord struct {
	// Which shape roots were present (as objects).
	hasWinlog, hasEventData, hasEvent, hasProcess, hasEventID bool
	evtxList                                                  bool // Event.EventData.Data is a list

	// Flat (top level).
	flat                          [numSysFields]string
	flatEventID                   string
	computer, hostname            string
	channel, sourceName, provider string
	timestamp, timeCreated        string
	timeGenerated                 string

	// Winlogbeat 6 (top level).
	eventIDWLB6, computerName, logName, sourceNameWLB6 string
	eventData                                          [numSysFields]string

	// Winlogbeat 7/8: winlog.* and ECS.
	wl          record
	ecs         [numSysFields]string
	ecsCode     string
	userName    string
	userDomain  string
	hasECSUser  bool
	evtx        record
	evtxEventID string
}

// evalJSON reads a JSON record of the given shape (ShapeAuto: detect) into r
// in one validating pass.
// Unescaped strings go into *scratch, which is handed back grown if needed.
func evalJSON(s string, shape Shape, r *record, scratch *[]byte) *Error {
	p := jparser{s: s, scratch: (*scratch)[:0]}
	defer func() { *scratch = p.scratch }()
	var j jsonRecord
	if p.peek() != '{' {
		p.skip()
		p.ws()
		if p.bad || p.i != len(s) {
			return malformed(shape, "invalid JSON")
		}
		return &Error{Reason: ReasonUnknownShape, Shape: shape, Detail: "top-level JSON value is not an object"}
	}
	p.object(func(key string) { j.top(&p, key) })
	p.ws()
	if p.bad || p.i != len(s) {
		return malformed(shape, "invalid JSON")
	}
	detected := j.detectShape()
	if shape == ShapeAuto {
		if detected == ShapeAuto {
			return &Error{Reason: ReasonUnknownShape, Detail: "JSON object has none of the members that identify a Sysmon shape (winlog, event_data, Event, EventID)"}
		}
		shape = detected
	}
	r.shape = shape
	switch shape {
	case ShapeWinlogbeat, ShapeWinlogbeatECS:
		if !j.hasWinlog {
			return wrongShape(shape, "winlog")
		}
		*r = j.wl
		r.shape = shape
		if r.eventID == "" {
			r.eventID = j.ecsCode
		}
		for f, v := range j.ecs {
			r.set(sysField(f), v)
		}
		// ECS user.* is the process's user only under the sysmon module
		// (signalled by ECS process.*); elsewhere it may be the publisher.
		if r.sys[fUser] == "" && j.hasECSUser && j.hasProcess {
			switch {
			case j.userName != "" && j.userDomain != "":
				from := len(p.scratch)
				p.scratch = append(append(append(p.scratch, j.userDomain...), '\\'), j.userName...)
				r.sys[fUser] = unsafeString(p.scratch[from:])
			case j.userName != "":
				r.sys[fUser] = j.userName
			}
		}
		r.eventTime, r.eventTimeOK = j.timestamp, j.timestamp != ""
	case ShapeWinlogbeat6:
		if !j.hasEventData && j.eventIDWLB6 == "" {
			return wrongShape(shape, "event_data or event_id")
		}
		r.eventID = j.eventIDWLB6
		r.host = j.computerName
		r.channel = j.logName
		r.provider = j.sourceNameWLB6
		r.sys = j.eventData
		r.eventTime, r.eventTimeOK = j.timestamp, j.timestamp != ""
	case ShapeFlat:
		if !j.hasEventID {
			return wrongShape(shape, "EventID")
		}
		r.eventID = j.flatEventID
		r.host = j.computer
		if r.host == "" {
			r.host = j.hostname
		}
		r.channel = j.channel
		r.provider = j.sourceName
		if r.provider == "" {
			r.provider = j.provider
		}
		r.sys = j.flat
		for _, ts := range [...]string{j.timeGenerated, j.timestamp, j.timeCreated} {
			if ts != "" {
				r.eventTime, r.eventTimeOK = ts, true
				break
			}
		}
	case ShapeEVTXList, ShapeEVTXMap:
		if !j.hasEvent {
			return wrongShape(shape, "Event")
		}
		*r = j.evtx
		r.shape = shape
	default:
		return &Error{Reason: ReasonUnknownShape, Shape: shape, Detail: "shape " + shape.String() + " is not a JSON shape"}
	}
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
		if j.hasProcess && j.wl.sys[fImage] == "" && j.wl.sys[fParentImage] == "" {
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

// setFirst stores v in *dst unless *dst already holds a value: with
// duplicate keys the first non-empty value wins, in every shape.
func setFirst(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// top handles one top-level member.
func (j *jsonRecord) top(p *jparser, key string) {
	switch key {
	case "winlog":
		j.hasWinlog = p.object(func(k string) { j.winlog(p, k) }) || j.hasWinlog
	case "event_data":
		j.hasEventData = p.object(func(k string) { eventDataMember(p, k, &j.eventData) }) || j.hasEventData
	case "Event":
		j.hasEvent = p.object(func(k string) { j.event(p, k) }) || j.hasEvent
	case "process":
		j.hasProcess = p.object(func(k string) { j.process(p, k, false) }) || j.hasProcess
	case "user":
		j.hasECSUser = p.object(func(k string) {
			switch k {
			case "name":
				setFirst(&j.userName, p.text())
			case "domain":
				setFirst(&j.userDomain, p.text())
			}
		}) || j.hasECSUser
	case "event":
		p.object(func(k string) {
			if k == "code" {
				setFirst(&j.ecsCode, p.text())
			}
		})
	case "EventID":
		j.hasEventID = true
		setFirst(&j.flatEventID, p.text())
	case "event_id":
		setFirst(&j.eventIDWLB6, p.text())
	case "Computer":
		setFirst(&j.computer, p.text())
	case "Hostname":
		setFirst(&j.hostname, p.text())
	case "computer_name":
		setFirst(&j.computerName, p.text())
	case "Channel":
		setFirst(&j.channel, p.text())
	case "log_name":
		setFirst(&j.logName, p.text())
	case "SourceName":
		setFirst(&j.sourceName, p.text())
	case "Provider":
		setFirst(&j.provider, p.text())
	case "source_name":
		setFirst(&j.sourceNameWLB6, p.text())
	case "@timestamp":
		setFirst(&j.timestamp, p.text())
	case "TimeCreated":
		setFirst(&j.timeCreated, p.text())
	case "TimeGenerated":
		setFirst(&j.timeGenerated, p.text())
	default:
		if f, ok := sysFieldByName(key); ok {
			setFirst(&j.flat[f], p.text())
		}
	}
}

func eventDataMember(p *jparser, key string, dst *[numSysFields]string) {
	if f, ok := sysFieldByName(key); ok {
		setFirst(&dst[f], p.text())
	}
}

func (j *jsonRecord) winlog(p *jparser, key string) {
	switch key {
	case "event_id":
		setFirst(&j.wl.eventID, p.text())
	case "channel":
		setFirst(&j.wl.channel, p.text())
	case "provider_name":
		setFirst(&j.wl.provider, p.text())
	case "computer_name":
		setFirst(&j.wl.host, p.text())
	case "event_data":
		p.object(func(k string) { eventDataMember(p, k, &j.wl.sys) })
	}
}

// process reads ECS process.* (and process.parent.* when parent is set).
func (j *jsonRecord) process(p *jparser, key string, parent bool) {
	var f sysField
	switch {
	case key == "parent" && !parent:
		p.object(func(k string) { j.process(p, k, true) })
		return
	case key == "executable":
		f = pick(parent, fParentImage, fImage)
	case key == "command_line":
		f = pick(parent, fParentCommandLine, fCommandLine)
	case key == "pid":
		f = pick(parent, fParentProcessId, fProcessId)
	case key == "entity_id":
		f = pick(parent, fParentProcessGuid, fProcessGuid)
	case key == "working_directory" && !parent:
		f = fCurrentDirectory
	default:
		return
	}
	setFirst(&j.ecs[f], p.text())
}

func pick(parent bool, ifParent, otherwise sysField) sysField {
	if parent {
		return ifParent
	}
	return otherwise
}

// event reads Event.System and Event.EventData of EVTX-to-JSON records.
func (j *jsonRecord) event(p *jparser, key string) {
	switch key {
	case "System":
		p.object(func(k string) { j.system(p, k) })
	case "EventData":
		p.object(func(k string) {
			if k == "Data" && (p.peek() == '[' || p.peek() == '{') {
				// List form: [{"@Name": ..., "#text": ...}, ...], or one item.
				if p.peek() == '[' {
					j.evtxList = true
					p.array(func() { j.dataItem(p) })
				} else if j.dataItem(p) {
					j.evtxList = true
				}
				return
			}
			eventDataMember(p, k, &j.evtx.sys)
		})
	}
}

// dataItem reads one {"@Name": ..., "#text": ...} item; it reports whether
// the item had a name.
func (j *jsonRecord) dataItem(p *jparser) bool {
	if named, ok := j.dataItemFast(p); ok {
		return named
	}
	return j.dataItemSlow(p)
}

// dataItemFast reads the usual item, an object of string members only, such
// as {"@Name":"Image","#text":"C:\\..."} in either order, without the
// general walker's per-member calls. It reports ok=false, with the cursor
// back where it was, for anything else; dataItemSlow then reads it.
func (j *jsonRecord) dataItemFast(p *jparser) (named, ok bool) {
	start := p.i
	fail := func() (bool, bool) { p.i, p.bad = start, false; return false, false }
	if p.peek() != '{' || p.depth+1 > maxJSONDepth {
		return fail()
	}
	p.i++
	var name string
	rawStart, rawEnd, rawEscaped := -1, -1, false
	for n := 0; ; n++ {
		if n == 4 || p.peek() != '"' {
			return fail()
		}
		ks, ke, kesc := p.strEnd()
		if p.bad || kesc || p.peek() != ':' {
			return fail()
		}
		p.i++
		if p.peek() != '"' {
			return fail()
		}
		switch p.s[ks:ke] {
		case "@Name", "Name":
			name, named = p.str(), true
		case "#text":
			rawStart, rawEnd, rawEscaped = p.strEnd()
		default:
			p.strEnd()
		}
		if p.bad {
			return fail()
		}
		switch p.peek() {
		case ',':
			p.i++
			continue
		case '}':
			p.i++
		default:
			return fail()
		}
		break
	}
	if f, known := sysFieldByName(name); known && rawStart >= 0 {
		value := p.s[rawStart:rawEnd]
		if rawEscaped {
			from := len(p.scratch)
			p.scratch = appendUnescaped(p.scratch, value)
			value = unsafeString(p.scratch[from:])
		}
		setFirst(&j.evtx.sys[f], value)
	}
	return named, true
}

func (j *jsonRecord) dataItemSlow(p *jparser) bool {
	var name, value string
	named := false
	// The value's raw span: it is unescaped only if the name turns out to be
	// a field the rule reads (about half of a process creation's are not).
	rawStart, rawEnd, rawEscaped := -1, -1, false
	p.object(func(k string) {
		switch k {
		case "@Name", "Name":
			name, named = p.text(), true
		case "#attributes":
			p.object(func(k string) {
				if k == "Name" {
					name, named = p.text(), true
				}
			})
		case "#text":
			if p.peek() == '"' {
				rawStart, rawEnd, rawEscaped = p.strEnd()
				value = ""
			} else {
				rawStart, value = -1, p.text()
			}
		}
	})
	f, ok := sysFieldByName(name)
	if !ok || p.bad {
		return named
	}
	if rawStart >= 0 {
		value = p.s[rawStart:rawEnd]
		if rawEscaped {
			from := len(p.scratch)
			p.scratch = appendUnescaped(p.scratch, value)
			value = unsafeString(p.scratch[from:])
		}
	}
	setFirst(&j.evtx.sys[f], value)
	return named
}

func (j *jsonRecord) system(p *jparser, key string) {
	r := &j.evtx
	switch key {
	case "EventID":
		if p.peek() == '{' { // {"#text": "1", "@Qualifiers": ""}
			p.object(func(k string) {
				if k == "#text" {
					setFirst(&r.eventID, p.text())
				}
			})
			return
		}
		setFirst(&r.eventID, p.text())
	case "Channel":
		setFirst(&r.channel, p.text())
	case "Computer":
		setFirst(&r.host, p.text())
	case "Provider":
		setFirst(&r.provider, attrValue(p, "Name"))
	case "TimeCreated":
		if ts := attrValue(p, "SystemTime"); ts != "" && !r.eventTimeOK {
			r.eventTime, r.eventTimeOK = ts, true
		}
	}
}

// attrValue reads an XML attribute as XML-to-JSON converters spell it inside
// an element object: "@Name", "#attributes": {"Name": ...}, or "Name".
func attrValue(p *jparser, name string) string {
	var out string
	p.object(func(k string) {
		switch {
		case k == "#attributes":
			p.object(func(k string) {
				if k == name {
					setFirst(&out, p.text())
				}
			})
		case k == name || (len(k) == len(name)+1 && k[0] == '@' && k[1:] == name):
			setFirst(&out, p.text())
		}
	})
	return out
}
