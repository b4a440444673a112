// Package sysmontest is test support: it renders one Sysmon event in each of
// the seven record shapes the detector reads (winlogbeat, winlogbeat-ecs,
// winlogbeat6, flat, evtx-list, evtx-map, xml), as the shippers described in
// sysmon-formats.md do. It is shared by the detector's tests and by
// stream/streamtest, and is not used by msiguard itself.
//
// It must not import the detector package: the detector's in-package tests
// import it. Shapes are therefore named by their strings, as
// detector.Shape.String returns them.
package sysmontest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// UtcTimeLayout is the layout of Sysmon's UtcTime field.
const UtcTimeLayout = "2006-01-02 15:04:05.000"

// Event describes a Sysmon event independent of its shape.
type Event struct {
	EventID   any    // 1, "1", 13...
	Channel   string // "" = Sysmon's
	Provider  string // "" = Sysmon's
	Computer  string // "" = none: the shape carries no endpoint name
	UtcTime   string // "" = none; replaces Data["UtcTime"]
	Envelope  string // the shape's own event time (@timestamp, SystemTime)
	Collector string // a collector host name the shape may carry
	Message   string // rendered message (flat and winlog shapes); "" = none
	Data      map[string]any

	// Full adds what stream/streamtest's records carry beyond the detector
	// tests' leaner ones: winlogbeat's agent and event.kind/provider,
	// winlogbeat 6's beat.version, and more fields kept in the ECS shape's
	// event_data (TerminalSessionId, Description, Product, Company).
	Full bool
}

// Build renders e in the named shape. It panics on an unknown name.
func (e Event) Build(shape string) string {
	channel := orDefault(e.Channel, "Microsoft-Windows-Sysmon/Operational")
	provider := orDefault(e.Provider, "Microsoft-Windows-Sysmon")
	data := map[string]any{}
	for k, v := range e.Data {
		data[k] = v
	}
	if e.UtcTime == "" {
		delete(data, "UtcTime")
	} else {
		data["UtcTime"] = e.UtcTime
	}
	switch shape {
	case "winlogbeat":
		event := map[string]any{"code": e.EventID}
		rec := map[string]any{
			"@timestamp": e.Envelope,
			"winlog": map[string]any{
				"event_id": e.EventID, "channel": channel, "provider_name": provider,
				"event_data": data, "user": map[string]any{"name": "SYSTEM", "domain": "NT AUTHORITY"},
			},
			"event": event,
			"host":  map[string]any{"name": e.Collector},
		}
		if e.Full {
			event["kind"], event["provider"] = "event", provider
			rec["agent"] = map[string]any{"type": "winlogbeat", "version": "8.11.1"}
		}
		if e.Computer != "" {
			rec["winlog"].(map[string]any)["computer_name"] = e.Computer
		}
		if e.Message != "" {
			rec["message"] = e.Message
		}
		return mustJSON(rec)
	case "winlogbeat-ecs":
		keep := []string{"IntegrityLevel", "Hashes", "RuleName", "LogonId"}
		if e.Full {
			keep = append(keep, "TerminalSessionId", "Description", "Product", "Company")
		}
		ed := map[string]any{}
		for _, k := range keep {
			if v, ok := data[k]; ok {
				ed[k] = v
			}
		}
		proc := map[string]any{}
		parent := map[string]any{}
		set := func(m map[string]any, k, src string) {
			if v, ok := data[src]; ok {
				m[k] = v
			}
		}
		set(proc, "executable", "Image")
		set(proc, "command_line", "CommandLine")
		set(proc, "pid", "ProcessId")
		set(proc, "entity_id", "ProcessGuid")
		set(proc, "working_directory", "CurrentDirectory")
		set(parent, "executable", "ParentImage")
		set(parent, "command_line", "ParentCommandLine")
		set(parent, "pid", "ParentProcessId")
		set(parent, "entity_id", "ParentProcessGuid")
		proc["parent"] = parent
		// The sysmon module moves UtcTime into @timestamp; a UtcTime it
		// cannot parse stays in event_data.
		ts := e.Envelope
		if e.UtcTime != "" {
			if t, err := time.Parse(UtcTimeLayout, e.UtcTime); err == nil {
				ts = t.UTC().Format(time.RFC3339Nano)
			} else {
				ed["UtcTime"] = e.UtcTime
			}
		}
		rec := map[string]any{
			"@timestamp": ts,
			"winlog": map[string]any{
				"event_id": fmt.Sprint(e.EventID), "channel": channel, "provider_name": provider,
				"event_data": ed,
			},
			"event":   map[string]any{"code": fmt.Sprint(e.EventID), "module": "sysmon"},
			"process": proc,
			"host":    map[string]any{"name": e.Collector},
		}
		if u, ok := data["User"].(string); ok {
			dom, name, _ := strings.Cut(u, `\`)
			rec["user"] = map[string]any{"domain": dom, "name": name}
		}
		if e.Computer != "" {
			rec["winlog"].(map[string]any)["computer_name"] = e.Computer
		}
		return mustJSON(rec)
	case "winlogbeat6":
		beat := map[string]any{"hostname": e.Collector}
		if e.Full {
			beat["version"] = "6.8.23"
		}
		rec := map[string]any{
			"@timestamp": e.Envelope, "log_name": channel, "source_name": provider,
			"event_id": e.EventID, "event_data": data,
			"host": map[string]any{"name": e.Collector}, "beat": beat,
			"user": map[string]any{"name": "SYSTEM", "domain": "NT AUTHORITY"},
		}
		if e.Computer != "" {
			rec["computer_name"] = e.Computer
		}
		if e.Message != "" {
			rec["message"] = e.Message
		}
		return mustJSON(rec)
	case "flat":
		rec := map[string]any{
			"EventID": e.EventID, "Channel": channel, "SourceName": provider,
			"@timestamp": e.Envelope, "EventTime": "2025-03-06 05:00:00", "host": e.Collector,
		}
		for k, v := range data {
			rec[k] = v
		}
		if e.Computer != "" {
			rec["Hostname"] = e.Computer
		}
		if e.Message != "" {
			rec["Message"] = e.Message
		}
		return mustJSON(rec)
	case "evtx-list", "evtx-map":
		sys := map[string]any{"EventID": e.EventID, "Channel": channel}
		if e.Computer != "" {
			sys["Computer"] = e.Computer
		}
		var eventData any
		if shape == "evtx-list" {
			sys["EventID"] = fmt.Sprint(e.EventID)
			sys["Provider"] = map[string]any{"@Name": provider}
			sys["TimeCreated"] = map[string]any{"@SystemTime": e.Envelope}
			var list []any
			for _, k := range sortedKeys(data) {
				list = append(list, map[string]any{"@Name": k, "#text": data[k]})
			}
			eventData = map[string]any{"Data": list}
		} else {
			sys["Provider"] = map[string]any{"#attributes": map[string]any{"Name": provider}}
			sys["TimeCreated"] = map[string]any{"#attributes": map[string]any{"SystemTime": e.Envelope}}
			eventData = data
		}
		return mustJSON(map[string]any{"Event": map[string]any{"System": sys, "EventData": eventData}})
	case "xml":
		var b strings.Builder
		fmt.Fprintf(&b, "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='%s' Guid='{5770385f-c22a-43e0-bf4c-06f5698ffbd9}'/><EventID>%v</EventID><Version>5</Version><TimeCreated SystemTime='%s'/><Channel>%s</Channel>",
			xmlEscape(provider), e.EventID, xmlEscape(e.Envelope), xmlEscape(channel))
		if e.Computer != "" {
			fmt.Fprintf(&b, "<Computer>%s</Computer>", xmlEscape(e.Computer))
		}
		b.WriteString("<Security UserID='S-1-5-18'/></System><EventData>")
		for _, k := range sortedKeys(data) {
			fmt.Fprintf(&b, "<Data Name='%s'>%s</Data>", k, xmlEscape(fmt.Sprint(data[k])))
		}
		b.WriteString("</EventData></Event>")
		return b.String()
	}
	panic(fmt.Sprintf("sysmontest: no such shape %q", shape))
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", `"`, "&quot;").Replace(s)
}
