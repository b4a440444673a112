package sysmongen

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Event describes one Sysmon event by hand, for the tests that need a
// record the generator would not make: any event id, channel, provider or
// field values, no computer name, a time nothing parses. Render writes it
// with the generator's own renderers, so a test record and a generated one
// differ only in what they say.
//
// What a shape needs and the event does not say (record ids, the
// publishing process, agent ids) takes fixed values.
type Event struct {
	// EventID is an integer, or a string of digits. A string is written
	// as a JSON string in the shapes whose event id may be either
	// (Winlogbeat 7 and 8, Winlogbeat 6, flat, evtx-map); Winlogbeat 8 is
	// the winlogbeat variant written then. Any other value (an object
	// such as {"#text": "1"}) is written as its JSON where those shapes
	// write a number, and only there.
	EventID  any
	Channel  string // "" = Sysmon's
	Provider string // "" = Sysmon's
	Computer string // the endpoint; "" = the record names none
	// UtcTime is Sysmon's UtcTime; it replaces Data["UtcTime"], and ""
	// leaves it out. The sysmon module (winlogbeat-ecs) moves it to
	// @timestamp when it parses.
	UtcTime string
	// Envelope is the shape's own event time, written as given:
	// @timestamp (winlogbeat, winlogbeat6, flat as NXLog writes it, and
	// winlogbeat-ecs without a UtcTime it can parse) or SystemTime (EVTX,
	// XML).
	Envelope  string
	Collector string // the shipper's own host name (host.name, NXLog's host)
	// Message is the rendered message of the shapes that carry one; ""
	// composes it from the fields, as the event log does.
	Message string
	// Data holds the EventData fields by name, written in name order.
	// Values are strings, or integers, floats and booleans written as
	// JSON literals in every JSON shape.
	Data map[string]any
}

// Build renders e in the shape named shape (Shape.String) and returns the
// record. It panics on an unknown name or an unsupported value: it is
// meant for tests.
func (e Event) Build(shape string) string {
	s, err := ParseShape(shape)
	if err != nil {
		panic("sysmongen: " + err.Error())
	}
	return string(e.Render(nil, s))
}

// noEnvelopeTime is what flat records described by hand carry as NXLog's
// EventTime and EventReceivedTime: local time without a zone, which
// readers must ignore.
const noEnvelopeTime = "2025-03-06 05:00:00"

// Render appends e in shape s to dst. Flat records are written as NXLog
// writes them, the other shapes in their first variant. It panics on an
// unsupported EventID or Data value.
func (e Event) Render(dst []byte, s Shape) []byte {
	var g Generator
	ev := &g.ev
	ev.info = e.info()
	ev.channel = ev.info.ch.name
	ev.h = &host{name: e.Computer, collector: e.Collector, port: "5514", userSID: "S-1-5-18",
		agentID: "3b0e8c2a-41d6-4f7e-9c15-8a2d6e0f7b94"}
	ev.noComputer = e.Computer == ""
	ev.record, ev.execPID, ev.execTID = 48213, 3044, 4012
	ev.message = e.Message
	ev.fields = e.fields()
	_, ev.idQuoted = e.EventID.(string)

	variant := 0
	env := e.Envelope
	ev.ts = [3]string{env, env, env}
	switch s {
	case ShapeWinlogbeat:
		if ev.idQuoted {
			variant = 1
		}
	case ShapeWinlogbeatECS:
		if t, err := time.Parse(UtcTimeLayout, e.UtcTime); err == nil {
			ev.ts[0] = string(appendTime(nil, t.UnixNano(), layoutISOms))
		}
	case ShapeFlat:
		variant = 1
		ev.ts = [3]string{noEnvelopeTime, noEnvelopeTime, env}
	}
	return g.write(dst, ev, s, variant)
}

// info returns what the event log says about e's event id on e's channel.
func (e Event) info() *eidInfo {
	var id string
	switch v := e.EventID.(type) {
	case int:
		id = strconv.Itoa(v)
	case string:
		id = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("sysmongen: Event.EventID %v (%T): %v", v, v, err))
		}
		id = string(b)
	}
	n, _ := strconv.Atoi(id)
	info := eidInfo{id: n, idText: id, ch: chSysmon, title: "Event " + id, task: "None", level: 4,
		keywords: "0x8000000000000000", ecs: `"category":["host"],"type":["info"]`}
	for _, known := range []*eidInfo{eid1, eid3, eid5, eid7, eid9, eid10, eid11, eid12, eid13, eid18, eid22, eid23, eid4624, eid4688, eid4104} {
		if known.id == n {
			info = *known
			info.idText = id
		}
	}
	if e.Channel != "" || e.Provider != "" {
		c := *info.ch
		c.name = cmp.Or(e.Channel, c.name)
		c.provider = cmp.Or(e.Provider, c.provider)
		for _, known := range []*channel{chSysmon, chSecurity, chPowerShell} {
			if strings.EqualFold(c.provider, known.provider) {
				c.guid, c.guidUpper = known.guid, known.guidUpper
			}
		}
		c.sysmon = strings.Contains(strings.ToLower(c.name+c.provider), "sysmon")
		info.ch = &c
	}
	return &info
}

// fields returns e's EventData in name order, UtcTime set from e.UtcTime.
func (e Event) fields() []field {
	names := make([]string, 0, len(e.Data)+1)
	for name := range e.Data {
		if name != "UtcTime" {
			names = append(names, name)
		}
	}
	if e.UtcTime != "" {
		names = append(names, "UtcTime")
	}
	slices.Sort(names)
	out := make([]field, 0, len(names))
	for _, name := range names {
		if name == "UtcTime" {
			out = append(out, field{name, e.UtcTime, vStr})
			continue
		}
		switch v := e.Data[name].(type) {
		case string:
			out = append(out, field{name, v, vStr})
		case int, int64, uint32, uint64, float64, bool:
			out = append(out, field{name, fmt.Sprint(v), vLit})
		default:
			panic(fmt.Sprintf("sysmongen: Event.Data[%q] = %v (%T): use a string, a number or a boolean", name, v, v))
		}
	}
	return out
}
