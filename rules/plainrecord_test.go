package rules_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"

	"github.com/msiguard/msiguard/rules/cim"
)

// plainRecord is a minimal, independent field accessor for tests: the raw
// fields of a record read with encoding/json or encoding/xml, shape by
// shape as scripts/oracle/README.md specifies them (the oracle's "views").
// It is not the detector's parser and shares no code with it; the real
// accessor comes with the integration.
type plainRecord map[cim.Source]string

func (r plainRecord) Value(s cim.Source) (string, bool) { v, ok := r[s]; return v, ok }

var errNoShape = errors.New("no shape")

// val is the oracle's notion of a present value: strings other than "",
// numbers as their literal text; null, booleans, objects, arrays are absent.
func val(x any) (string, bool) {
	switch v := x.(type) {
	case string:
		return v, v != ""
	case json.Number:
		return string(v), true
	}
	return "", false
}

func dig(o map[string]any, path ...string) any {
	var cur any = o
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func (r plainRecord) set(s cim.Source, x any) {
	if v, ok := val(x); ok {
		r[s] = v
	}
}

func (r plainRecord) fields(d any) {
	m, ok := d.(map[string]any)
	if !ok {
		return
	}
	for k, x := range m {
		if s, ok := cim.SourceByName(k); ok && !s.IsEnvelope() {
			r.set(s, x)
		}
	}
}

func parsePlain(raw []byte) (plainRecord, error) {
	s := bytes.TrimLeft(raw, " \t\r\n")
	s = bytes.TrimPrefix(s, []byte("\ufeff"))
	s = bytes.TrimLeft(s, " \t\r\n")
	if len(s) > 0 && s[0] == '<' {
		return parseXML(s)
	}
	dec := json.NewDecoder(bytes.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data")
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, errNoShape
	}
	r := plainRecord{}
	eventID := func(x any, evtx bool) {
		if m, ok := x.(map[string]any); ok && evtx {
			x = m["#text"]
		}
		r.set(cim.EventCode, x)
	}
	switch {
	case isMap(o["Event"]):
		sys, _ := dig(o, "Event", "System").(map[string]any)
		ed := dig(o, "Event", "EventData")
		data := dig(o, "Event", "EventData", "Data")
		_, isList := data.([]any)
		if m, ok := data.(map[string]any); ok {
			_, isList = m["@Name"]
		}
		eventID(sys["EventID"], true)
		r.set(cim.Computer, sys["Computer"])
		r.set(cim.Channel, sys["Channel"])
		if isList {
			r.set(cim.SourceName, dig(sys, "Provider", "@Name"))
			items, ok := data.([]any)
			if !ok {
				items = []any{data}
			}
			for _, it := range items {
				m, ok := it.(map[string]any)
				if !ok {
					continue
				}
				name, ok1 := val(m["@Name"])
				src, ok2 := cim.SourceByName(name)
				if !ok1 || !ok2 || src.IsEnvelope() {
					continue
				}
				if _, done := r[src]; !done {
					r.set(src, m["#text"]) // the first non-empty entry wins
				}
			}
		} else {
			r.set(cim.SourceName, dig(sys, "Provider", "#attributes", "Name"))
			r.fields(ed)
		}
	case isMap(o["winlog"]):
		w := o["winlog"].(map[string]any)
		if x := w["event_id"]; hasVal(x) || isMap(x) {
			eventID(x, false)
		} else {
			eventID(dig(o, "event", "code"), false)
		}
		r.set(cim.Computer, w["computer_name"])
		r.set(cim.Channel, w["channel"])
		r.set(cim.SourceName, w["provider_name"])
		r.fields(w["event_data"])
		_, hasImage := r[cim.Image]
		_, hasParent := r[cim.ParentImage]
		if isMap(o["process"]) && !hasImage && !hasParent { // ECS
			for src, path := range map[cim.Source][]string{
				cim.Image: {"process", "executable"}, cim.CommandLine: {"process", "command_line"},
				cim.ProcessId: {"process", "pid"}, cim.ProcessGuid: {"process", "entity_id"},
				cim.CurrentDirectory: {"process", "working_directory"}, cim.ParentImage: {"process", "parent", "executable"},
				cim.ParentCommandLine: {"process", "parent", "command_line"}, cim.ParentProcessId: {"process", "parent", "pid"},
				cim.ParentProcessGuid: {"process", "parent", "entity_id"},
			} {
				if _, ok := r[src]; !ok {
					r.set(src, dig(o, path...))
				}
			}
			if _, ok := r[cim.User]; !ok {
				if name, ok := val(dig(o, "user", "name")); ok {
					if dom, ok := val(dig(o, "user", "domain")); ok {
						name = dom + `\` + name
					}
					r[cim.User] = name
				}
			}
		}
	case (isMap(o["event_data"]) && (has(o, "event_id") || has(o, "computer_name") || has(o, "log_name"))) ||
		(hasVal(o["event_id"]) && (hasVal(o["computer_name"]) || hasVal(o["log_name"]))):
		eventID(o["event_id"], false)
		r.set(cim.Computer, o["computer_name"])
		r.set(cim.Channel, o["log_name"])
		r.set(cim.SourceName, o["source_name"])
		r.fields(o["event_data"])
	case has(o, "EventID"):
		eventID(o["EventID"], false)
		if !hasVal(o["Computer"]) {
			r.set(cim.Computer, o["Hostname"])
		} else {
			r.set(cim.Computer, o["Computer"])
		}
		r.set(cim.Channel, o["Channel"])
		if hasVal(o["SourceName"]) {
			r.set(cim.SourceName, o["SourceName"])
		} else {
			r.set(cim.SourceName, o["Provider"])
		}
		r.fields(o)
	default:
		return nil, errNoShape
	}
	return r, nil
}

func isMap(x any) bool                    { _, ok := x.(map[string]any); return ok }
func hasVal(x any) bool                   { _, ok := val(x); return ok }
func has(o map[string]any, k string) bool { _, ok := o[k]; return ok }

type xmlEvent struct {
	XMLName xml.Name
	System  struct {
		Provider struct {
			Name string `xml:"Name,attr"`
		}
		EventID  string
		Channel  string
		Computer string
	}
	EventData struct {
		Data []struct {
			Name string `xml:"Name,attr"`
			Text string `xml:",chardata"`
		}
	}
}

func parseXML(s []byte) (plainRecord, error) {
	var e xmlEvent
	if err := xml.Unmarshal(s, &e); err != nil {
		return nil, err
	}
	if e.XMLName.Local != "Event" {
		return nil, errNoShape
	}
	r := plainRecord{}
	r.set(cim.EventCode, e.System.EventID)
	r.set(cim.Channel, e.System.Channel)
	r.set(cim.Computer, e.System.Computer)
	r.set(cim.SourceName, e.System.Provider.Name)
	for _, d := range e.EventData.Data {
		src, ok := cim.SourceByName(d.Name)
		if !ok || src.IsEnvelope() || strings.TrimSpace(d.Name) == "" {
			continue
		}
		if _, done := r[src]; !done {
			r.set(src, d.Text)
		}
	}
	return r, nil
}
