package sysmongen

import (
	"strings"
	"time"
	"unsafe"
)

// Renderers: one per shape, each writing the members in the order the real
// shipper does (sysmon-formats.md, PROVENANCE.md of the real datasets).
// They append to dst and never allocate once dst and the generator's
// buffers have grown. They draw no random numbers: the generator's stamp
// does, and a record described by hand (Event) has none to draw. This is
// the only Sysmon renderer in Go; scripts/oracle has its own, in Python.

const xmlns = "http://schemas.microsoft.com/win/2004/08/events/event"

// render appends e in its host's shape and returns the shape written.
func (g *Generator) render(dst []byte, e *event) ([]byte, Shape) {
	shape, variant := e.h.shape, e.h.variant
	if shape == ShapeWinlogbeatECS && !e.info.ch.sysmon {
		// The sysmon module only maps Sysmon's channel; other channels
		// reach the topic as plain Winlogbeat 8 records.
		shape, variant = ShapeWinlogbeat, 1
	}
	g.stamp(e, shape, variant)
	return g.write(dst, e, shape, variant), shape
}

// stamp formats e's times for shape into e.ts, as write's renderers use
// them, drawing the shipper's delays (event.created, ingested, NXLog's
// receipt).
func (g *Generator) stamp(e *event, shape Shape, variant int) {
	ms := func(n int) int64 { return int64(n) * 1e6 }
	e.idQuoted = shape == ShapeWinlogbeat && variant == 1
	e.message = ""
	switch shape {
	case ShapeWinlogbeat:
		e.ts[0] = g.timeString(e.logged, layoutISOms)
		e.ts[1] = g.timeString(e.logged+ms(500+g.intn(2500)), layoutISOms) // event.created
	case ShapeWinlogbeatECS:
		e.ts[0] = g.timeString(e.t, layoutISOms)
		e.ts[1] = g.timeString(e.logged+ms(1000+g.intn(4000)), layoutISOms) // event.ingested
		e.ts[2] = g.timeString(e.logged+ms(200+g.intn(800)), layoutISOms)   // event.created
	case ShapeWinlogbeat6:
		e.ts[0] = g.timeString(e.logged, layoutISOms)
	case ShapeFlat:
		switch variant {
		case 1: // NXLog: EventReceivedTime and EventTime in local time, @timestamp Logstash's
			local := e.logged + e.h.tzOffset
			e.ts[0] = g.timeString(local+ms(200+g.intn(2000)), layoutPlain)
			e.ts[1] = g.timeString(local, layoutPlain)
			e.ts[2] = g.timeString(e.logged+ms(500+g.intn(3000)), layoutISOms)
		case 2: // Sentinel: TimeCreated, TimeGenerated
			e.ts[0] = g.timeString(msFloor(e.logged)+e.h.envSkew, layoutISOms)
			e.ts[1] = g.timeString(e.logged, layoutISOms)
		default: // OTRF: TimeCreated and @timestamp
			e.ts[0] = g.timeString(msFloor(e.logged)+e.h.envSkew, layoutISOms)
		}
	case ShapeEVTXList:
		e.ts[0] = g.timeString(e.logged, layoutSpace7)
	case ShapeEVTXMap:
		e.ts[0] = g.timeString(e.logged, layoutISO6)
	case ShapeXML:
		e.ts[0] = g.timeString(e.logged, layoutISO7)
	}
}

// timeString formats ns in layout l into the arena.
func (g *Generator) timeString(ns int64, l timeLayout) string {
	start := len(g.arena)
	g.arena = appendTime(g.arena, ns, l)
	return g.arenaString(start)
}

// write appends e in shape and variant (see buildHosts) with e.ts as its
// times.
func (g *Generator) write(dst []byte, e *event, shape Shape, variant int) []byte {
	switch shape {
	case ShapeWinlogbeat:
		return g.renderWinlogbeat(dst, e, variant == 1)
	case ShapeWinlogbeatECS:
		return g.renderECS(dst, e)
	case ShapeWinlogbeat6:
		return g.renderWinlogbeat6(dst, e)
	case ShapeFlat:
		switch variant {
		case 1:
			return g.renderNXLog(dst, e)
		case 2:
			return g.renderSentinel(dst, e)
		}
		return g.renderOTRF(dst, e)
	case ShapeEVTXList:
		return g.renderEVTXList(dst, e)
	case ShapeEVTXMap:
		return g.renderEVTXMap(dst, e)
	case ShapeXML:
		return g.renderXML(dst, e)
	}
	panic("sysmongen: no renderer for " + shape.String())
}

// appendComputer appends member (`,"computer_name":`, say) and the
// endpoint's name, unless the record leaves it out.
func appendComputer(dst []byte, e *event, member string, asciiOnly bool) []byte {
	if e.noComputer {
		return dst
	}
	dst = append(dst, member...)
	return appendJSONString(dst, e.h.name, asciiOnly)
}

// appendFields appends fields as JSON members (no braces). typed writes
// numbers and booleans bare, as evtx_dump does; otherwise all values are
// strings, as the event log renders them.
func appendFields(dst []byte, fields []field, typed, asciiOnly bool) []byte {
	for i := range fields {
		f := &fields[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, f.name...)
		dst = append(dst, '"', ':')
		if (typed && f.typ != vStr || f.typ == vLit) && f.val != "" {
			dst = append(dst, f.val...)
		} else {
			dst = appendJSONString(dst, f.val, asciiOnly)
		}
	}
	return dst
}

// escapeFields JSON-escapes every field value of e once into g.esc, for
// shapes that write each value twice (as a field and in the message).
func (g *Generator) escapeFields(e *event, asciiOnly bool) {
	g.esc = g.esc[:0]
	g.escEnd = g.escEnd[:0]
	for i := range e.fields {
		g.esc = appendJSONInner(g.esc, e.fields[i].val, asciiOnly)
		g.escEnd = append(g.escEnd, len(g.esc))
	}
}

// escaped returns field i's value as escaped by escapeFields.
func (g *Generator) escaped(i int) []byte {
	start := 0
	if i > 0 {
		start = g.escEnd[i-1]
	}
	return g.esc[start:g.escEnd[i]]
}

// appendEscapedFields is appendFields (untyped) from g.esc.
func (g *Generator) appendEscapedFields(dst []byte, e *event) []byte {
	for i := range e.fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, e.fields[i].name...)
		dst = append(dst, '"', ':')
		if e.fields[i].typ == vLit {
			dst = append(dst, g.escaped(i)...)
			continue
		}
		dst = append(dst, '"')
		dst = append(dst, g.escaped(i)...)
		dst = append(dst, '"')
	}
	return dst
}

// appendEscapedMessage appends the rendered message as a JSON string: the
// event's title, then "Name: value" per field (from g.esc), separated by
// nl (already JSON-escaped: `\n` or `\r\n`).
func (g *Generator) appendEscapedMessage(dst []byte, e *event, nl string, asciiOnly bool) []byte {
	if e.message != "" {
		return appendJSONString(dst, e.message, asciiOnly)
	}
	dst = append(dst, '"')
	dst = appendJSONInner(dst, e.info.title, asciiOnly)
	if e.info.ch.sysmon {
		dst = append(dst, ':')
	}
	for i := range e.fields {
		dst = append(dst, nl...)
		dst = append(dst, e.fields[i].name...)
		dst = append(dst, ':', ' ')
		dst = append(dst, g.escaped(i)...)
	}
	return append(dst, '"')
}

func logLevel(e *event) string {
	if e.info.level == 5 {
		return "verbose"
	}
	return "information"
}

// renderWinlogbeat writes Winlogbeat 7 (v8=false: record ids as numbers)
// or 8 (v8: as strings) without the sysmon module; event ids are strings
// when e.idQuoted (stamp sets it for Winlogbeat 8).
func (g *Generator) renderWinlogbeat(dst []byte, e *event, v8 bool) []byte {
	h := e.h
	g.escapeFields(e, false)
	dst = append(dst, `{"@timestamp":`...)
	dst = appendJSONString(dst, e.ts[0], false)
	dst = append(dst, `,"message":`...)
	dst = g.appendEscapedMessage(dst, e, `\n`, false)
	dst = append(dst, `,"winlog":{"event_data":{`...)
	dst = g.appendEscapedFields(dst, e)
	dst = append(dst, `},"api":"wineventlog","opcode":"Info","version":`...)
	dst = appendUint(dst, uint64(e.info.version))
	dst = append(dst, `,"process":{"pid":`...)
	dst = appendUint(dst, uint64(e.execPID))
	dst = append(dst, `,"thread":{"id":`...)
	dst = appendUint(dst, uint64(e.execTID))
	dst = append(dst, `}},"event_id":`...)
	dst = appendMaybeQuoted(dst, e.info.idText, e.idQuoted)
	dst = append(dst, `,"provider_name":"`...)
	dst = append(dst, e.info.ch.provider...)
	dst = append(dst, `","provider_guid":"`...)
	dst = append(dst, e.info.ch.guid...)
	dst = append(dst, '"')
	dst = appendComputer(dst, e, `,"computer_name":`, false)
	dst = append(dst, `,"task":"`...)
	dst = append(dst, e.info.task...)
	dst = append(dst, `","user":{"domain":"NT AUTHORITY","type":"User","identifier":"S-1-5-18","name":"SYSTEM"},"channel":"`...)
	dst = append(dst, e.channel...)
	dst = append(dst, `","record_id":`...)
	dst = appendMaybeQuotedUint(dst, e.record, v8)
	dst = append(dst, `},"event":{"created":`...)
	dst = appendJSONString(dst, e.ts[1], false)
	dst = append(dst, `,"kind":"event","code":`...)
	dst = appendMaybeQuoted(dst, e.info.idText, e.idQuoted)
	dst = append(dst, `,"action":"`...)
	dst = append(dst, e.info.task...)
	dst = append(dst, `","provider":"`...)
	dst = append(dst, e.info.ch.provider...)
	dst = append(dst, `"},"log":{"level":"`...)
	dst = append(dst, logLevel(e)...)
	dst = append(dst, `"},"host":{"name":`...)
	dst = appendJSONString(dst, h.collector, false)
	dst = append(dst, `},"agent":{"type":"winlogbeat","version":"`...)
	if v8 {
		dst = append(dst, `8.15.3`...)
	} else {
		dst = append(dst, `7.17.9`...)
	}
	dst = append(dst, `","hostname":`...)
	dst = appendJSONString(dst, h.collector, false)
	dst = append(dst, `,"id":"`...)
	dst = append(dst, h.agentID...)
	dst = append(dst, `"},"ecs":{"version":"1.12.0"}}`...)
	return dst
}

func appendMaybeQuoted(dst []byte, digits string, quoted bool) []byte {
	if quoted {
		dst = append(dst, '"')
		dst = append(dst, digits...)
		return append(dst, '"')
	}
	return append(dst, digits...)
}

func appendMaybeQuotedUint(dst []byte, n uint64, quoted bool) []byte {
	if quoted {
		dst = append(dst, '"')
		dst = appendUint(dst, n)
		return append(dst, '"')
	}
	return appendUint(dst, n)
}

// appendPID appends the member "pid" with the number pid, unless pid is
// empty (a record described by hand may have none).
func appendPID(dst []byte, pid string) []byte {
	if pid == "" {
		return dst
	}
	dst = append(dst, `,"pid":`...)
	return append(dst, pid...)
}

// ecsProcess holds the Sysmon fields the sysmon module maps to ECS.
type ecsProcess struct {
	exe, cmd, pid, guid, cwd, tid     string
	pexe, pcmd, ppid, pguid, user, rn string
}

// renderECS writes Winlogbeat 8 / Elastic Agent with the sysmon module:
// ECS process.* and user.*, @timestamp from UtcTime, and what ECS has no
// place for left in winlog.event_data.
func (g *Generator) renderECS(dst []byte, e *event) []byte {
	h := e.h
	g.escapeFields(e, false)
	var p ecsProcess
	rest := g.rest[:0]
	for _, f := range e.fields {
		switch f.name {
		case "Image", "SourceImage":
			p.exe = f.val
		case "CommandLine":
			p.cmd = f.val
		case "ProcessId", "SourceProcessId":
			p.pid = f.val
		case "ProcessGuid", "SourceProcessGUID":
			p.guid = f.val
		case "CurrentDirectory":
			p.cwd = f.val
		case "SourceThreadId":
			p.tid = f.val
		case "ParentImage":
			p.pexe = f.val
		case "ParentCommandLine":
			p.pcmd = f.val
		case "ParentProcessId":
			p.ppid = f.val
		case "ParentProcessGuid":
			p.pguid = f.val
		case "User", "SourceUser":
			p.user = f.val
		case "RuleName":
			p.rn = f.val
		case "UtcTime":
			// becomes @timestamp, unless the module cannot parse it
			if _, err := time.Parse(UtcTimeLayout, f.val); err != nil {
				rest = append(rest, f)
			}
		default:
			rest = append(rest, f)
		}
	}
	g.rest = rest
	dst = append(dst, `{"@timestamp":`...)
	dst = appendJSONString(dst, e.ts[0], false)
	dst = append(dst, `,"agent":{"name":`...)
	dst = appendJSONString(dst, h.collector, false)
	dst = append(dst, `,"id":"`...)
	dst = append(dst, h.agentID...)
	dst = append(dst, `","type":"filebeat","version":"8.15.3"},"process":{`...)
	dst = append(dst, `"entity_id":`...)
	dst = appendJSONString(dst, p.guid, false)
	dst = appendPID(dst, p.pid)
	dst = append(dst, `,"executable":`...)
	dst = appendJSONString(dst, p.exe, false)
	dst = append(dst, `,"name":`...)
	dst = appendJSONString(dst, basename(p.exe), false)
	if p.cmd != "" {
		dst = append(dst, `,"command_line":`...)
		dst = appendJSONString(dst, p.cmd, false)
	}
	if p.cwd != "" {
		dst = append(dst, `,"working_directory":`...)
		dst = appendJSONString(dst, p.cwd, false)
	}
	if p.tid != "" {
		dst = append(dst, `,"thread":{"id":`...)
		dst = append(dst, p.tid...)
		dst = append(dst, '}')
	}
	if p.pexe != "" {
		dst = append(dst, `,"parent":{"entity_id":`...)
		dst = appendJSONString(dst, p.pguid, false)
		dst = appendPID(dst, p.ppid)
		dst = append(dst, `,"executable":`...)
		dst = appendJSONString(dst, p.pexe, false)
		dst = append(dst, `,"name":`...)
		dst = appendJSONString(dst, basename(p.pexe), false)
		dst = append(dst, `,"command_line":`...)
		dst = appendJSONString(dst, p.pcmd, false)
		dst = append(dst, '}')
	}
	dst = append(dst, `},"winlog":{`...)
	if !e.noComputer {
		dst = append(dst, `"computer_name":`...)
		dst = appendJSONString(dst, h.name, false)
		dst = append(dst, ',')
	}
	dst = append(dst, `"process":{"pid":`...)
	dst = appendUint(dst, uint64(e.execPID))
	dst = append(dst, `,"thread":{"id":`...)
	dst = appendUint(dst, uint64(e.execTID))
	dst = append(dst, `}},"channel":"`...)
	dst = append(dst, e.channel...)
	dst = append(dst, `","event_data":{`...)
	dst = appendFields(dst, rest, false, false)
	dst = append(dst, `},"opcode":"Info","version":`...)
	dst = appendUint(dst, uint64(e.info.version))
	dst = append(dst, `,"record_id":"`...)
	dst = appendUint(dst, e.record)
	dst = append(dst, `","event_id":"`...)
	dst = append(dst, e.info.idText...)
	dst = append(dst, `","task":"`...)
	dst = append(dst, e.info.task...)
	dst = append(dst, `","provider_guid":"`...)
	dst = append(dst, e.info.ch.guid...)
	dst = append(dst, `","api":"wineventlog","provider_name":"`...)
	dst = append(dst, e.info.ch.provider...)
	dst = append(dst, `","user":{"identifier":"S-1-5-18","domain":"NT AUTHORITY","name":"SYSTEM","type":"User"}},"log":{"level":"information"},"event":{"agent_id_status":"verified","ingested":`...)
	dst = appendJSONString(dst, e.ts[1], false)
	dst = append(dst, `,"code":"`...)
	dst = append(dst, e.info.idText...)
	dst = append(dst, `","provider":"`...)
	dst = append(dst, e.info.ch.provider...)
	dst = append(dst, `","kind":"event","created":`...)
	dst = appendJSONString(dst, e.ts[2], false)
	dst = append(dst, `,"module":"sysmon","action":"`...)
	dst = append(dst, e.info.task...)
	dst = append(dst, `",`...)
	dst = append(dst, e.info.ecs...)
	dst = append(dst, `,"dataset":"windows.sysmon_operational"}`...)
	if p.user != "" {
		dom, name, ok := strings.Cut(p.user, `\`)
		dst = append(dst, `,"user":{`...)
		if ok {
			dst = append(dst, `"domain":`...)
			dst = appendJSONString(dst, dom, false)
			dst = append(dst, ',')
		} else {
			name = dom
		}
		dst = append(dst, `"name":`...)
		dst = appendJSONString(dst, name, false)
		dst = append(dst, '}')
	}
	if p.rn != "" && p.rn != "-" {
		dst = append(dst, `,"rule":{"name":`...)
		dst = appendJSONString(dst, p.rn, false)
		dst = append(dst, '}')
	}
	dst = append(dst, `,"host":{"name":`...)
	dst = appendJSONString(dst, h.collector, false)
	dst = append(dst, `},"message":`...)
	dst = g.appendEscapedMessage(dst, e, `\n`, false)
	dst = append(dst, `,"ecs":{"version":"8.11.0"},"data_stream":{"namespace":"default","type":"logs","dataset":"windows.sysmon_operational"}}`...)
	return dst
}

// renderWinlogbeat6 writes Winlogbeat 6.x: top-level event_id,
// computer_name, log_name, source_name and event_data.
func (g *Generator) renderWinlogbeat6(dst []byte, e *event) []byte {
	h := e.h
	g.escapeFields(e, false)
	dst = append(dst, `{"@timestamp":`...)
	dst = appendJSONString(dst, e.ts[0], false)
	dst = append(dst, `,"@metadata":{"beat":"winlogbeat","type":"doc","version":"6.8.23","topic":"winlogbeat"},"level":"Information","record_number":"`...)
	dst = appendUint(dst, e.record)
	dst = append(dst, `","opcode":"Info"`...)
	dst = appendComputer(dst, e, `,"computer_name":`, false)
	dst = append(dst, `,"task":"`...)
	dst = append(dst, e.info.task...)
	dst = append(dst, `","user":{"identifier":"S-1-5-18","name":"SYSTEM","domain":"NT AUTHORITY","type":"User"},"version":`...)
	dst = appendUint(dst, uint64(e.info.version))
	dst = append(dst, `,"source_name":"`...)
	dst = append(dst, e.info.ch.provider...)
	dst = append(dst, `","provider_guid":"`...)
	dst = append(dst, e.info.ch.guid...)
	dst = append(dst, `","log_name":"`...)
	dst = append(dst, e.channel...)
	dst = append(dst, `","beat":{"name":`...)
	dst = appendJSONString(dst, h.collector, false)
	dst = append(dst, `,"hostname":`...)
	dst = appendJSONString(dst, h.collector, false)
	dst = append(dst, `,"version":"6.8.23"},"host":{"name":`...)
	dst = appendJSONString(dst, h.collector, false)
	dst = append(dst, `},"thread_id":`...)
	dst = appendUint(dst, uint64(e.execTID))
	dst = append(dst, `,"message":`...)
	dst = g.appendEscapedMessage(dst, e, `\n`, false)
	dst = append(dst, `,"type":"wineventlog","event_id":`...)
	dst = appendMaybeQuoted(dst, e.info.idText, e.idQuoted)
	dst = append(dst, `,"process_id":`...)
	dst = appendUint(dst, uint64(e.execPID))
	dst = append(dst, `,"event_data":{`...)
	dst = g.appendEscapedFields(dst, e)
	return append(dst, `}}`...)
}

// renderOTRF writes the flat OTRF/Mordor export (format F2): Hostname,
// SourceName, TimeCreated and @timestamp (19 h off on some hosts),
// Message with CRLF, non-ASCII escaped as \uXXXX.
func (g *Generator) renderOTRF(dst []byte, e *event) []byte {
	g.escapeFields(e, true)
	dst = append(dst, `{"SourceName":"`...)
	dst = append(dst, e.info.ch.provider...)
	dst = append(dst, `","ProviderGuid":"`...)
	dst = append(dst, e.info.ch.guid...)
	dst = append(dst, `","Level":"`...)
	dst = appendUint(dst, uint64(e.info.level))
	dst = append(dst, `","Keywords":"`...)
	dst = append(dst, e.info.keywords...)
	dst = append(dst, `","Channel":"`...)
	dst = append(dst, e.channel...)
	dst = append(dst, '"')
	dst = appendComputer(dst, e, `,"Hostname":`, true)
	dst = append(dst, `,"TimeCreated":`...)
	dst = appendJSONString(dst, e.ts[0], true)
	dst = append(dst, `,"@timestamp":`...)
	dst = appendJSONString(dst, e.ts[0], true)
	dst = append(dst, `,"EventID":`...)
	dst = appendMaybeQuoted(dst, e.info.idText, e.idQuoted)
	dst = append(dst, `,"Message":`...)
	dst = g.appendEscapedMessage(dst, e, `\r\n`, true)
	dst = append(dst, `,"Task":"`...)
	dst = appendUint(dst, uint64(e.info.taskNum))
	dst = append(dst, `",`...)
	dst = g.appendEscapedFields(dst, e)
	return append(dst, '}')
}

func nxlogSeverity(level int) (string, string) {
	if level == 5 {
		return "1", "DEBUG"
	}
	return "2", "INFO"
}

// renderNXLog writes NXLog im_msvistalog through Logstash (format F3):
// EventTime in local time without a zone, host = the collector.
func (g *Generator) renderNXLog(dst []byte, e *event) []byte {
	h := e.h
	g.escapeFields(e, false)
	sevValue, sev := nxlogSeverity(e.info.level)
	hasEventType := false
	for i := range e.fields {
		if e.fields[i].name == "EventType" {
			hasEventType = true
			break
		}
	}
	dst = append(dst, `{"SeverityValue":`...)
	dst = append(dst, sevValue...)
	dst = append(dst, `,"EventReceivedTime":`...)
	dst = appendJSONString(dst, e.ts[0], false)
	dst = append(dst, `,"EventID":`...)
	dst = appendMaybeQuoted(dst, e.info.idText, e.idQuoted)
	dst = append(dst, `,"ExecutionProcessID":`...)
	dst = appendUint(dst, uint64(e.execPID))
	dst = append(dst, `,"Channel":"`...)
	dst = append(dst, e.channel...)
	dst = append(dst, `","host":`...)
	dst = appendJSONString(dst, h.collector, false)
	dst = append(dst, `,"AccountType":"User","Opcode":"Info","EventTime":`...)
	dst = appendJSONString(dst, e.ts[1], false)
	dst = append(dst, `,"SourceModuleType":"im_msvistalog","AccountName":"SYSTEM","Domain":"NT AUTHORITY","@version":"1","OpcodeValue":0,"Severity":"`...)
	dst = append(dst, sev...)
	dst = append(dst, `","SourceName":"`...)
	dst = append(dst, e.info.ch.provider...)
	dst = append(dst, `","ProviderGuid":"`...)
	dst = append(dst, e.info.ch.guid...)
	dst = append(dst, `","Category":"`...)
	dst = append(dst, e.info.task...)
	dst = append(dst, `","UserID":"S-1-5-18","ThreadID":`...)
	dst = appendUint(dst, uint64(e.execTID))
	if !hasEventType {
		dst = append(dst, `,"EventType":"`...)
		dst = append(dst, sev...)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"@timestamp":`...)
	dst = appendJSONString(dst, e.ts[2], false)
	dst = append(dst, `,"port":`...)
	dst = append(dst, h.port...)
	dst = append(dst, `,"RecordNumber":`...)
	dst = appendUint(dst, e.record)
	dst = append(dst, `,"Task":`...)
	dst = appendUint(dst, uint64(e.info.taskNum))
	dst = append(dst, `,"SourceModuleName":"eventlog","Version":`...)
	dst = appendUint(dst, uint64(e.info.version))
	dst = append(dst, `,"Message":`...)
	dst = g.appendEscapedMessage(dst, e, `\r\n`, false)
	dst = append(dst, ',')
	dst = g.appendEscapedFields(dst, e)
	dst = appendComputer(dst, e, `,"Hostname":`, false)
	return append(dst, `,"tags":["sysmon","wec"]}`...)
}

// renderSentinel writes a Microsoft Sentinel / Log Analytics export
// (format F6): Computer, TimeGenerated (right), TimeCreated (local time
// labelled Z), the EventData XML as a string, and flat fields.
func (g *Generator) renderSentinel(dst []byte, e *event) []byte {
	h := e.h
	g.escapeFields(e, false)
	dst = append(dst, `{"EventSourceName":"`...)
	dst = append(dst, e.info.ch.provider...)
	dst = append(dst, `","Provider":"`...)
	dst = append(dst, e.info.ch.provider...)
	dst = append(dst, `","Level":"`...)
	dst = appendUint(dst, uint64(e.info.level))
	dst = append(dst, `","Channel":"`...)
	dst = append(dst, e.channel...)
	dst = append(dst, '"')
	dst = appendComputer(dst, e, `,"Computer":`, false)
	dst = append(dst, `,"TimeCreated":`...)
	dst = appendJSONString(dst, e.ts[0], false)
	dst = append(dst, `,"TimeGenerated":`...)
	dst = appendJSONString(dst, e.ts[1], false)
	dst = append(dst, `,"EventRecordID":"`...)
	dst = appendUint(dst, e.record)
	dst = append(dst, `","EventID":`...)
	dst = appendMaybeQuoted(dst, e.info.idText, e.idQuoted)
	dst = append(dst, `,"Message":`...)
	dst = g.appendEscapedMessage(dst, e, `\r\n`, false)
	g.tmp = append(g.tmp[:0], `<EventData xmlns="`+xmlns+`">`...)
	for i := range e.fields {
		f := &e.fields[i]
		g.tmp = append(g.tmp, `<Data Name="`...)
		g.tmp = append(g.tmp, f.name...)
		g.tmp = append(g.tmp, '"', '>')
		g.tmp = appendXMLText(g.tmp, f.val)
		g.tmp = append(g.tmp, `</Data>`...)
	}
	g.tmp = append(g.tmp, `</EventData>`...)
	dst = append(dst, `,"EventData":`...)
	dst = appendJSONString(dst, unsafe.String(unsafe.SliceData(g.tmp), len(g.tmp)), false)
	dst = append(dst, `,"Task":"`...)
	dst = appendUint(dst, uint64(e.info.taskNum))
	dst = append(dst, `",`...)
	dst = g.appendEscapedFields(dst, e)
	dst = append(dst, `,"TenantId":"`...)
	dst = append(dst, h.agentID...)
	return append(dst, `","Type":"Event"}`...)
}

// securityUserID is the System/Security UserID of e, "" for none.
func securityUserID(e *event) string {
	switch e.info.ch {
	case chSysmon:
		return "S-1-5-18"
	case chPowerShell:
		return e.h.userSID
	}
	return ""
}

// renderEVTXList writes EVTX converted to JSON with EventData.Data as a
// list of {"@Name", "#text"} (EvtxECmd and similar): every value a string,
// SystemTime with 7 digits and no zone.
func (g *Generator) renderEVTXList(dst []byte, e *event) []byte {
	dst = append(dst, `{"Event":{"@xmlns":"`+xmlns+`","System":{"Provider":{"@Name":"`...)
	dst = append(dst, e.info.ch.provider...)
	dst = append(dst, `","@Guid":"`...)
	dst = append(dst, e.info.ch.guid...)
	dst = append(dst, `"},"EventID":"`...)
	dst = append(dst, e.info.idText...)
	dst = append(dst, `","Version":"`...)
	dst = appendUint(dst, uint64(e.info.version))
	dst = append(dst, `","Level":"`...)
	dst = appendUint(dst, uint64(e.info.level))
	dst = append(dst, `","Task":"`...)
	dst = appendUint(dst, uint64(e.info.taskNum))
	dst = append(dst, `","Opcode":"0","Keywords":"`...)
	dst = append(dst, e.info.keywords...)
	dst = append(dst, `","TimeCreated":{"@SystemTime":`...)
	dst = appendJSONString(dst, e.ts[0], false)
	dst = append(dst, `},"EventRecordID":"`...)
	dst = appendUint(dst, e.record)
	dst = append(dst, `","Correlation":null,"Execution":{"@ProcessID":"`...)
	dst = appendUint(dst, uint64(e.execPID))
	dst = append(dst, `","@ThreadID":"`...)
	dst = appendUint(dst, uint64(e.execTID))
	dst = append(dst, `"},"Channel":"`...)
	dst = append(dst, e.channel...)
	dst = append(dst, '"')
	dst = appendComputer(dst, e, `,"Computer":`, false)
	if uid := securityUserID(e); uid != "" {
		dst = append(dst, `,"Security":{"@UserID":"`...)
		dst = append(dst, uid...)
		dst = append(dst, `"}`...)
	} else {
		dst = append(dst, `,"Security":null`...)
	}
	dst = append(dst, `},"EventData":{"Data":[`...)
	for i := range e.fields {
		f := &e.fields[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"@Name":"`...)
		dst = append(dst, f.name...)
		dst = append(dst, '"')
		if f.val != "" {
			dst = append(dst, `,"#text":`...)
			if f.typ == vLit {
				dst = append(dst, f.val...)
			} else {
				dst = appendJSONString(dst, f.val, false)
			}
		}
		dst = append(dst, '}')
	}
	return append(dst, `]}}}`...)
}

// renderEVTXMap writes evtx_dump's JSON (format F7): #attributes, typed
// numbers, SystemTime with 6 digits and Z.
func (g *Generator) renderEVTXMap(dst []byte, e *event) []byte {
	dst = append(dst, `{"Event":{"#attributes":{"xmlns":"`+xmlns+`"},"System":{"Provider":{"#attributes":{"Name":"`...)
	dst = append(dst, e.info.ch.provider...)
	dst = append(dst, `","Guid":"`...)
	dst = append(dst, e.info.ch.guidUpper...)
	dst = append(dst, `"}},"EventID":`...)
	dst = appendMaybeQuoted(dst, e.info.idText, e.idQuoted)
	dst = append(dst, `,"Version":`...)
	dst = appendUint(dst, uint64(e.info.version))
	dst = append(dst, `,"Level":`...)
	dst = appendUint(dst, uint64(e.info.level))
	dst = append(dst, `,"Task":`...)
	dst = appendUint(dst, uint64(e.info.taskNum))
	dst = append(dst, `,"Opcode":0,"Keywords":"`...)
	dst = append(dst, e.info.keywords...)
	dst = append(dst, `","TimeCreated":{"#attributes":{"SystemTime":`...)
	dst = appendJSONString(dst, e.ts[0], false)
	dst = append(dst, `}},"EventRecordID":`...)
	dst = appendUint(dst, e.record)
	dst = append(dst, `,"Correlation":null,"Execution":{"#attributes":{"ProcessID":`...)
	dst = appendUint(dst, uint64(e.execPID))
	dst = append(dst, `,"ThreadID":`...)
	dst = appendUint(dst, uint64(e.execTID))
	dst = append(dst, `}},"Channel":"`...)
	dst = append(dst, e.channel...)
	dst = append(dst, '"')
	dst = appendComputer(dst, e, `,"Computer":`, false)
	if uid := securityUserID(e); uid != "" {
		dst = append(dst, `,"Security":{"#attributes":{"UserID":"`...)
		dst = append(dst, uid...)
		dst = append(dst, `"}}`...)
	} else {
		dst = append(dst, `,"Security":null`...)
	}
	dst = append(dst, `},"EventData":{`...)
	dst = appendFields(dst, e.fields, true, false)
	return append(dst, `}}}`...)
}

// renderXML writes the rendered event XML with single-quoted attributes,
// as Splunk's XmlWinEventLog stores it; variant 1 adds RenderingInfo (WEF
// "RenderedText").
func (g *Generator) renderXML(dst []byte, e *event) []byte {
	dst = append(dst, `<Event xmlns='`+xmlns+`'><System><Provider Name='`...)
	dst = append(dst, e.info.ch.provider...)
	dst = append(dst, `' Guid='`...)
	dst = append(dst, e.info.ch.guid...)
	dst = append(dst, `'/><EventID>`...)
	dst = append(dst, e.info.idText...)
	dst = append(dst, `</EventID><Version>`...)
	dst = appendUint(dst, uint64(e.info.version))
	dst = append(dst, `</Version><Level>`...)
	dst = appendUint(dst, uint64(e.info.level))
	dst = append(dst, `</Level><Task>`...)
	dst = appendUint(dst, uint64(e.info.taskNum))
	dst = append(dst, `</Task><Opcode>0</Opcode><Keywords>`...)
	dst = append(dst, e.info.keywords...)
	dst = append(dst, `</Keywords><TimeCreated SystemTime='`...)
	dst = appendXMLText(dst, e.ts[0])
	dst = append(dst, `'/><EventRecordID>`...)
	dst = appendUint(dst, e.record)
	dst = append(dst, `</EventRecordID><Correlation/><Execution ProcessID='`...)
	dst = appendUint(dst, uint64(e.execPID))
	dst = append(dst, `' ThreadID='`...)
	dst = appendUint(dst, uint64(e.execTID))
	dst = append(dst, `'/><Channel>`...)
	dst = append(dst, e.channel...)
	dst = append(dst, `</Channel>`...)
	if !e.noComputer {
		dst = append(dst, `<Computer>`...)
		dst = appendXMLText(dst, e.h.name)
		dst = append(dst, `</Computer>`...)
	}
	if uid := securityUserID(e); uid != "" {
		dst = append(dst, `<Security UserID='`...)
		dst = append(dst, uid...)
		dst = append(dst, `'/>`...)
	} else {
		dst = append(dst, `<Security/>`...)
	}
	dst = append(dst, `</System><EventData>`...)
	for i := range e.fields {
		f := &e.fields[i]
		dst = append(dst, `<Data Name='`...)
		dst = append(dst, f.name...)
		dst = append(dst, `'>`...)
		dst = appendXMLText(dst, f.val)
		dst = append(dst, `</Data>`...)
	}
	dst = append(dst, `</EventData>`...)
	if e.h.variant == 1 {
		dst = append(dst, `<RenderingInfo Culture='en-US'><Message>`...)
		dst = appendXMLText(dst, e.info.title)
		if e.info.ch.sysmon {
			dst = append(dst, ':')
		}
		for i := range e.fields {
			f := &e.fields[i]
			dst = append(dst, "&#13;&#10;"...)
			dst = append(dst, f.name...)
			dst = append(dst, ':', ' ')
			dst = appendXMLText(dst, f.val)
		}
		dst = append(dst, `</Message><Level>Information</Level><Task>`...)
		dst = appendXMLText(dst, e.info.task)
		dst = append(dst, `</Task><Opcode>Info</Opcode><Channel>`...)
		dst = append(dst, e.channel...)
		dst = append(dst, `</Channel><Provider>`...)
		dst = append(dst, e.info.ch.provider...)
		dst = append(dst, `</Provider><Keywords></Keywords></RenderingInfo>`...)
	}
	return append(dst, `</Event>`...)
}
