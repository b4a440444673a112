package detector

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// ev describes a Sysmon event independent of its shape; build renders it.
type ev struct {
	eventID   any    // 1, "1", 13...
	channel   string // "" = Sysmon's
	provider  string // "" = Sysmon's
	computer  string
	utcTime   string
	envelope  string // the shape's own event time (@timestamp, SystemTime)
	collector string // a collector host name the shape may carry
	data      map[string]any
	message   string // rendered message (flat and winlog shapes)
}

func sysmonEvent() ev {
	return ev{
		eventID:   1,
		computer:  "WKS-001.corp.example",
		utcTime:   "2025-03-06 10:00:00.120",
		envelope:  "2025-03-06T10:00:00.125Z",
		collector: "wec.internal.example",
		data: map[string]any{
			"RuleName":          "-",
			"UtcTime":           "2025-03-06 10:00:00.120",
			"ProcessGuid":       "{81056205-569e-64dc-3f04-000000000800}",
			"ProcessId":         "7932",
			"Image":             `C:\Windows\System32\msiexec.exe`,
			"CommandLine":       `msiexec /q /i "C:\AtomicRedTeam\atomics\T1218.007\src\T1218.007_JScript.msi"`,
			"CurrentDirectory":  `C:\Users\alice\`,
			"User":              `CORP\alice`,
			"IntegrityLevel":    "High",
			"Hashes":            "SHA256=1F1D918EC49E0B7C59B704FF412E1A6E224DA81C08CDA657E1CB482ABAAC146C,IMPHASH=94F3EFC2DF40ECD7229B904540DD83CF",
			"ParentProcessGuid": "{81056205-569e-64dc-3e04-000000000800}",
			"ParentProcessId":   "7588",
			"ParentImage":       `C:\Windows\System32\cmd.exe`,
			"ParentCommandLine": `"C:\Windows\system32\cmd.exe" /c msiexec /q /i ...`,
		},
	}
}

func (e ev) with(f func(*ev)) ev {
	d := make(map[string]any, len(e.data))
	for k, v := range e.data {
		d[k] = v
	}
	e.data = d
	f(&e)
	return e
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

// build renders e in shape s, as the shippers in sysmon-formats.md do.
func (e ev) build(s Shape) string {
	channel := orDefault(e.channel, "Microsoft-Windows-Sysmon/Operational")
	provider := orDefault(e.provider, "Microsoft-Windows-Sysmon")
	data := map[string]any{}
	for k, v := range e.data {
		data[k] = v
	}
	if e.utcTime == "" {
		delete(data, "UtcTime")
	} else {
		data["UtcTime"] = e.utcTime
	}
	switch s {
	case ShapeWinlogbeat:
		rec := map[string]any{
			"@timestamp": e.envelope,
			"winlog": map[string]any{
				"event_id": e.eventID, "channel": channel, "provider_name": provider,
				"event_data": data, "user": map[string]any{"name": "SYSTEM", "domain": "NT AUTHORITY"},
			},
			"event": map[string]any{"code": e.eventID},
			"host":  map[string]any{"name": e.collector},
		}
		if e.computer != "" {
			rec["winlog"].(map[string]any)["computer_name"] = e.computer
		}
		if e.message != "" {
			rec["message"] = e.message
		}
		return mustJSON(rec)
	case ShapeWinlogbeatECS:
		ed := map[string]any{}
		for _, k := range []string{"IntegrityLevel", "Hashes", "RuleName", "LogonId"} {
			if v, ok := data[k]; ok {
				ed[k] = v
			}
		}
		proc := map[string]any{}
		parent := map[string]any{}
		set := func(m map[string]any, k string, src string) {
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
		ts := e.envelope
		if e.utcTime != "" {
			if ns, ok := parseTime(e.utcTime); ok {
				ts = time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
			} else {
				ed["UtcTime"] = e.utcTime
			}
		}
		rec := map[string]any{
			"@timestamp": ts,
			"winlog": map[string]any{
				"event_id": fmt.Sprint(e.eventID), "channel": channel, "provider_name": provider,
				"event_data": ed,
			},
			"event":   map[string]any{"code": fmt.Sprint(e.eventID), "module": "sysmon"},
			"process": proc,
			"host":    map[string]any{"name": e.collector},
		}
		if u, ok := data["User"].(string); ok {
			dom, name, _ := strings.Cut(u, `\`)
			rec["user"] = map[string]any{"domain": dom, "name": name}
		}
		if e.computer != "" {
			rec["winlog"].(map[string]any)["computer_name"] = e.computer
		}
		return mustJSON(rec)
	case ShapeWinlogbeat6:
		rec := map[string]any{
			"@timestamp": e.envelope, "log_name": channel, "source_name": provider,
			"event_id": e.eventID, "event_data": data,
			"host": map[string]any{"name": e.collector}, "beat": map[string]any{"hostname": e.collector},
			"user": map[string]any{"name": "SYSTEM", "domain": "NT AUTHORITY"},
		}
		if e.computer != "" {
			rec["computer_name"] = e.computer
		}
		if e.message != "" {
			rec["message"] = e.message
		}
		return mustJSON(rec)
	case ShapeFlat:
		rec := map[string]any{
			"EventID": e.eventID, "Channel": channel, "SourceName": provider,
			"@timestamp": e.envelope, "EventTime": "2025-03-06 05:00:00", "host": e.collector,
		}
		for k, v := range data {
			rec[k] = v
		}
		if e.computer != "" {
			rec["Hostname"] = e.computer
		}
		if e.message != "" {
			rec["Message"] = e.message
		}
		return mustJSON(rec)
	case ShapeEVTXList, ShapeEVTXMap:
		sys := map[string]any{"EventID": e.eventID, "Channel": channel}
		if e.computer != "" {
			sys["Computer"] = e.computer
		}
		var eventData any
		if s == ShapeEVTXList {
			sys["EventID"] = fmt.Sprint(e.eventID)
			sys["Provider"] = map[string]any{"@Name": provider}
			sys["TimeCreated"] = map[string]any{"@SystemTime": e.envelope}
			var list []any
			for _, k := range sortedKeys(data) {
				list = append(list, map[string]any{"@Name": k, "#text": data[k]})
			}
			eventData = map[string]any{"Data": list}
		} else {
			sys["Provider"] = map[string]any{"#attributes": map[string]any{"Name": provider}}
			sys["TimeCreated"] = map[string]any{"#attributes": map[string]any{"SystemTime": e.envelope}}
			eventData = data
		}
		return mustJSON(map[string]any{"Event": map[string]any{"System": sys, "EventData": eventData}})
	case ShapeXML:
		var b strings.Builder
		fmt.Fprintf(&b, "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='%s' Guid='{5770385f-c22a-43e0-bf4c-06f5698ffbd9}'/><EventID>%v</EventID><Version>5</Version><TimeCreated SystemTime='%s'/><Channel>%s</Channel>",
			xmlEscape(provider), e.eventID, xmlEscape(e.envelope), xmlEscape(channel))
		if e.computer != "" {
			fmt.Fprintf(&b, "<Computer>%s</Computer>", xmlEscape(e.computer))
		}
		b.WriteString("<Security UserID='S-1-5-18'/></System><EventData>")
		for _, k := range sortedKeys(data) {
			fmt.Fprintf(&b, "<Data Name='%s'>%s</Data>", k, xmlEscape(fmt.Sprint(data[k])))
		}
		b.WriteString("</EventData></Event>")
		return b.String()
	}
	panic("no such shape")
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

func mustSeed(t testing.TB) *Detector {
	t.Helper()
	d, err := New(SeedRule(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// fieldMap returns a match's values by field name, present ones only.
func fieldMap(d *Detector, m Match) map[string]string {
	out := map[string]string{}
	for i, name := range d.rule.Fields {
		if m.Values[i] != "" {
			out[name] = m.Values[i]
		}
	}
	return out
}
