package sysmongen

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/msiguard/msiguard/detector"
)

// TestShapesAreTheDetectors: the detector reads a Shape by its number
// (stream/streamtest converts Meta.Shape) and gen's --shapes by its name.
func TestShapesAreTheDetectors(t *testing.T) {
	if got, want := len(Shapes()), len(detector.Shapes()); got != want {
		t.Fatalf("%d shapes, the detector has %d", got, want)
	}
	for _, s := range Shapes() {
		ds, err := detector.ParseShape(s.String())
		if err != nil || ds != detector.Shape(s) {
			t.Errorf("shape %d %q is the detector's %v (%v)", s, s, ds, err)
		}
		if p, err := ParseShape(strings.ToUpper(s.String())); err != nil || p != s {
			t.Errorf("ParseShape(%q) = %v, %v", strings.ToUpper(s.String()), p, err)
		}
	}
	if _, err := ParseShape("auto"); err == nil {
		t.Error(`ParseShape("auto") succeeded: auto is no shape a record is written in`)
	}
}

// handEvent is an attack described by hand.
func handEvent() Event {
	return Event{
		EventID: 1, Computer: "WKS-7.corp.example", UtcTime: "2025-03-06 10:00:00.120",
		Envelope: "2025-03-06T10:00:00.125Z", Collector: "wec.corp.example",
		Data: map[string]any{
			"Image": `C:\Windows\System32\msiexec.exe`, "CommandLine": `msiexec /q /i "C:\x y\a.msi"`,
			"ParentImage": `C:\Windows\System32\cmd.exe`, "ProcessId": 7932, "User": `CORP\o'brien`,
			"ProcessGuid": "{81056205-569e-64dc-3f04-000000000800}",
		},
	}
}

// TestEventByHand: a record described by hand is read back, in every
// shape, as it was described: host (never the collector), time, values,
// and the exceptions a test asks for.
func TestEventByHand(t *testing.T) {
	d := detector.Seed()
	fields := d.Rules()[0].Program.Outputs()
	value := func(m detector.Match, name string) string {
		for i, f := range fields {
			if f == name {
				return m.Values[i]
			}
		}
		t.Fatalf("no field %s", name)
		return ""
	}
	for _, s := range Shapes() {
		t.Run(s.String(), func(t *testing.T) {
			rec := handEvent().Render(nil, s)
			checkWellFormed(t, s, rec)
			m, ok, err := d.Evaluate(rec)
			if err != nil || !ok {
				t.Fatalf("Evaluate = %v, %v\n%s", ok, err, rec)
			}
			if m.Shape != detector.Shape(s) || m.Host != "WKS-7.corp.example" || m.Time != 1741255200120000000 {
				t.Errorf("shape %v host %q time %d\n%s", m.Shape, m.Host, m.Time, rec)
			}
			if got := value(m, "process"); got != `msiexec /q /i "C:\x y\a.msi"` {
				t.Errorf("process = %q", got)
			}
			if got := value(m, "process_id"); got != "7932" {
				t.Errorf("process_id = %q", got)
			}

			noHost := handEvent()
			noHost.Computer = ""
			rec = noHost.Render(nil, s)
			var de *detector.Error
			if _, _, err := d.Evaluate(rec); !errors.As(err, &de) || de.Reason != detector.ReasonMissingHost {
				t.Errorf("without a computer: %v, want missing_host\n%s", err, rec)
			}
			badTime := handEvent()
			badTime.UtcTime = "yesterday"
			rec = badTime.Render(nil, s)
			if _, _, err := d.Evaluate(rec); !errors.As(err, &de) || de.Reason != detector.ReasonBadTime {
				t.Errorf("UtcTime yesterday: %v, want bad_time\n%s", err, rec)
			}
		})
	}
}

// TestEventByHandTypes: an integer value and event id are JSON numbers, a
// string event id a JSON string where the shape lets it be either, and a
// given message replaces the composed one.
func TestEventByHandTypes(t *testing.T) {
	decode := func(rec []byte) map[string]any {
		var v map[string]any
		if err := json.Unmarshal(rec, &v); err != nil {
			t.Fatalf("%v\n%s", err, rec)
		}
		return v
	}
	e := handEvent()
	wlb := decode(e.Render(nil, ShapeWinlogbeat))["winlog"].(map[string]any)
	if _, ok := wlb["event_id"].(float64); !ok {
		t.Errorf("winlogbeat event_id %#v, want a number", wlb["event_id"])
	}
	if _, ok := wlb["event_data"].(map[string]any)["ProcessId"].(float64); !ok {
		t.Errorf("winlogbeat ProcessId %#v, want a number", wlb["event_data"].(map[string]any)["ProcessId"])
	}
	e.EventID = "1"
	e.Message = "a message given by hand"
	for _, s := range []Shape{ShapeWinlogbeat, ShapeWinlogbeat6, ShapeFlat} {
		v := decode(e.Render(nil, s))
		id, msg := v["event_id"], v["message"]
		switch s {
		case ShapeWinlogbeat:
			id = v["winlog"].(map[string]any)["event_id"]
		case ShapeFlat:
			id, msg = v["EventID"], v["Message"]
		}
		if id != "1" || msg != e.Message {
			t.Errorf("%v: event id %#v, message %#v", s, id, msg)
		}
	}
	e.EventID = map[string]any{"#text": "1"}
	ev := decode(e.Render(nil, ShapeEVTXMap))["Event"].(map[string]any)["System"].(map[string]any)["EventID"]
	if ev.(map[string]any)["#text"] != "1" {
		t.Errorf("evtx-map EventID %#v, want the object given", ev)
	}
	if got := (Event{EventID: 13, Channel: "Security", Data: map[string]any{"X": true}}).Build("xml"); !strings.Contains(got, "<EventID>13</EventID>") || !strings.Contains(got, "<Channel>Security</Channel>") || !strings.Contains(got, "<Data Name='X'>true</Data>") {
		t.Errorf("xml: %s", got)
	}
}
