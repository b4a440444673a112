package detector

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/msiguard/msiguard/rules/cim"
)

// TestRuleEdges runs every edge of rule-semantics.md through every shape.
func TestRuleEdges(t *testing.T) {
	base := sysmonEvent()
	tests := []struct {
		name   string
		ev     ev
		want   bool
		reason Reason // when an error is expected
	}{
		{"atomic cmd parent", base, true, ""},
		{"MsiExec.exe -Embedding under svchost", base.with(func(e *ev) {
			e.data["Image"] = `C:\Windows\SysWOW64\msiexec.exe`
			e.data["CommandLine"] = `C:\Windows\syswow64\MsiExec.exe -Embedding 5A3E5C8A2C1B4F4DAE3C1B1E0E9C6F21 C`
			e.data["ParentImage"] = `C:\Windows\System32\svchost.exe`
		}), true, ""},
		{"MSIEXEC.EXE upper case", base.with(func(e *ev) {
			e.data["CommandLine"] = `C:\WINDOWS\system32\MSIEXEC.EXE /i x.msi`
			e.data["Image"] = `C:\WINDOWS\system32\MSIEXEC.EXE`
		}), true, ""},
		{"powershell parent with quoted path", base.with(func(e *ev) {
			e.data["CommandLine"] = `"C:\Windows\System32\msiexec.exe" /i "C:\Users\bob\LogMeInIgnition.msi" /quiet`
			e.data["ParentImage"] = `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`
		}), true, ""},
		{"msiexecutor.exe is not the token", base.with(func(e *ev) {
			e.data["Image"] = `C:\tools\msiexecutor.exe`
			e.data["CommandLine"] = `msiexecutor.exe /run`
			e.data["ParentCommandLine"] = `cmd.exe`
		}), false, ""},
		{"xmsiexec.exe is not the token", base.with(func(e *ev) {
			e.data["Image"] = `C:\tools\xmsiexec.exe`
			e.data["CommandLine"] = `xmsiexec.exe /run`
			e.data["ParentCommandLine"] = `cmd.exe`
		}), false, ""},
		{"msiexec only in the parent command line of cmd -> conhost", base.with(func(e *ev) {
			e.data["Image"] = `C:\Windows\System32\conhost.exe`
			e.data["CommandLine"] = `\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1`
			e.data["ParentImage"] = `C:\Windows\System32\cmd.exe`
			e.data["ParentCommandLine"] = `"cmd.exe" /c msiexec /y C:\AtomicRedTeam\MSIRunner.dll`
		}), true, ""},
		{"dsregcmd.exe parent contains cmd.exe", base.with(func(e *ev) {
			e.data["ParentImage"] = `C:\Windows\System32\dsregcmd.exe`
		}), true, ""},
		{"taskhostw.exe parent", base.with(func(e *ev) {
			e.data["ParentImage"] = `C:\Windows\System32\taskhostw.exe`
		}), false, ""},
		{"taskhost.exe parent", base.with(func(e *ev) {
			e.data["ParentImage"] = `C:\Windows\System32\taskhost.exe`
		}), true, ""},
		{"powershell_ise.exe parent", base.with(func(e *ev) {
			e.data["ParentImage"] = `C:\Windows\System32\WindowsPowerShell\v1.0\powershell_ise.exe`
		}), false, ""},
		{"pwsh parent in upper case", base.with(func(e *ev) {
			e.data["ParentImage"] = `C:\Program Files\PowerShell\7\PWSH.EXE`
		}), true, ""},
		{"explorer parent", base.with(func(e *ev) {
			e.data["ParentImage"] = `C:\Windows\explorer.exe`
		}), false, ""},
		{"ParentImage -", base.with(func(e *ev) { e.data["ParentImage"] = "-" }), false, ""},
		{"ParentImage absent", base.with(func(e *ev) { delete(e.data, "ParentImage") }), false, ""},
		{"event id 13 mentioning msiexec", base.with(func(e *ev) {
			e.eventID = 13
			e.data = map[string]any{"UtcTime": e.utcTime, "Image": `C:\Windows\system32\CompatTelRunner.exe`,
				"TargetObject": `HKLM\...\UninstallString`, "Details": "MsiExec.exe /I{34DB4181-0770-4B5A-B561-68758A077B0F}",
				"ParentImage": `C:\Windows\System32\svchost.exe`}
		}), false, ""},
		{"event id 10 mentioning msiexec", base.with(func(e *ev) { e.eventID = 10 }), false, ""},
		{"event id 1 as a string", base.with(func(e *ev) { e.eventID = "1" }), true, ""},
		{"event id 1 from the Security channel", base.with(func(e *ev) {
			e.channel, e.provider = "security", "Microsoft-Windows-Security-Auditing"
		}), false, ""},
		{"forwarded events channel, Sysmon provider", base.with(func(e *ev) { e.channel = "ForwardedEvents" }), true, ""},
		{"missing host", base.with(func(e *ev) { e.computer = "" }), false, ReasonMissingHost},
		{"unparseable UtcTime", base.with(func(e *ev) { e.utcTime = "yesterday" }), false, ReasonBadTime},
		{"no time at all", base.with(func(e *ev) { e.utcTime, e.envelope = "", "" }), false, ReasonBadTime},
	}
	d := mustSeed(t)
	for _, tt := range tests {
		for _, shape := range Shapes() {
			t.Run(tt.name+"/"+shape.String(), func(t *testing.T) {
				ev := tt.ev
				if shape == ShapeXML && ev.envelope == "" && ev.utcTime == "" {
					ev.envelope = "" // XML keeps an empty SystemTime attribute: still no time
				}
				raw := ev.build(shape)
				m, ok, err := d.Evaluate([]byte(raw))
				if tt.reason != "" {
					var de *Error
					if !errors.As(err, &de) || de.Reason != tt.reason {
						t.Fatalf("Evaluate = %v, %v; want error %s\n%s", ok, err, tt.reason, raw)
					}
					return
				}
				if err != nil {
					t.Fatalf("Evaluate error: %v\n%s", err, raw)
				}
				if ok != tt.want {
					t.Fatalf("Evaluate = %v, want %v\n%s", ok, tt.want, raw)
				}
				if ok && m.Shape != shape {
					t.Errorf("shape = %v, want %v", m.Shape, shape)
				}
			})
		}
	}
}

// TestExtraction checks every output field and the host and time in every shape.
func TestExtraction(t *testing.T) {
	d := mustSeed(t)
	base := sysmonEvent()
	want := map[string]string{
		"user":                      `CORP\alice`,
		"process":                   `msiexec /q /i "C:\AtomicRedTeam\atomics\T1218.007\src\T1218.007_JScript.msi"`,
		"process_current_directory": `C:\Users\alice\`,
		"process_exec":              "msiexec.exe",
		"process_guid":              "{81056205-569e-64dc-3f04-000000000800}",
		"process_hash":              "SHA256=1F1D918EC49E0B7C59B704FF412E1A6E224DA81C08CDA657E1CB482ABAAC146C,IMPHASH=94F3EFC2DF40ECD7229B904540DD83CF",
		"process_id":                "7932",
		"process_integrity_level":   "High",
		"process_name":              "msiexec.exe",
		"process_path":              `C:\Windows\System32\msiexec.exe`,
		"parent_process_exec":       "cmd.exe",
		"parent_process_guid":       "{81056205-569e-64dc-3e04-000000000800}",
		"parent_process_id":         "7588",
		"parent_process_name":       "cmd.exe",
		"parent_process_path":       `C:\Windows\System32\cmd.exe`,
	}
	wantTime := time.Date(2025, 3, 6, 10, 0, 0, 120e6, time.UTC).UnixNano()
	for _, shape := range Shapes() {
		t.Run(shape.String(), func(t *testing.T) {
			raw := base.build(shape)
			m, ok, err := d.Evaluate([]byte(raw))
			if err != nil || !ok {
				t.Fatalf("Evaluate = %v, %v\n%s", ok, err, raw)
			}
			if m.Host != "WKS-001.corp.example" {
				t.Errorf("host = %q, want the endpoint, never the collector", m.Host)
			}
			if m.Time != wantTime {
				t.Errorf("time = %v, want %v (UtcTime wins over the envelope time)", time.Unix(0, m.Time).UTC(), time.Unix(0, wantTime).UTC())
			}
			got := fieldMap(d, m)
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("unexpected field %s = %q", k, got[k])
				}
			}
		})
	}
}

func TestIntProcessIds(t *testing.T) {
	d := mustSeed(t)
	e := sysmonEvent().with(func(e *ev) { e.data["ProcessId"] = 10116; e.data["ParentProcessId"] = 7972 })
	for _, shape := range []Shape{ShapeEVTXMap, ShapeFlat, ShapeWinlogbeat, ShapeWinlogbeatECS} {
		m, ok, err := d.Evaluate([]byte(e.build(shape)))
		if err != nil || !ok {
			t.Fatalf("%v: Evaluate = %v, %v", shape, ok, err)
		}
		f := fieldMap(d, m)
		if f["process_id"] != "10116" || f["parent_process_id"] != "7972" {
			t.Errorf("%v: ids = %q, %q, want decimal text", shape, f["process_id"], f["parent_process_id"])
		}
	}
}

// TestEnvelopeTimeFallback: without UtcTime the shape's own event time is used.
func TestEnvelopeTimeFallback(t *testing.T) {
	d := mustSeed(t)
	e := sysmonEvent().with(func(e *ev) { e.utcTime = ""; e.envelope = "2024-10-26 15:13:47.3559412" })
	want := time.Date(2024, 10, 26, 15, 13, 47, 355941200, time.UTC).UnixNano()
	for _, shape := range Shapes() {
		m, ok, err := d.Evaluate([]byte(e.build(shape)))
		if err != nil || !ok {
			t.Fatalf("%v: Evaluate = %v, %v", shape, ok, err)
		}
		if m.Time != want {
			t.Errorf("%v: time = %v, want %v", shape, time.Unix(0, m.Time).UTC(), time.Unix(0, want).UTC())
		}
	}
}

func TestErrors(t *testing.T) {
	d := mustSeed(t)
	tests := []struct {
		raw    string
		reason Reason
	}{
		{`{"EventID":1,"CommandLine":"msiexec /i x.msi"`, ReasonMalformed},
		{`not json msiexec`, ReasonMalformed},
		{`[{"EventID":1,"CommandLine":"msiexec /i x.msi"}]`, ReasonUnknownShape},
		{`{"message":"msiexec /i x.msi"}`, ReasonUnknownShape},
		{`<Event><System><EventID>1</EventID></System><EventData><Data Name='CommandLine'>msiexec</Data></EventData>`, ReasonMalformed},
		{`<Event><System><EventID>1</EventID></System><EventData><Data Name='CommandLine'>msiexec</Datum></EventData></Event>`, ReasonMalformed},
		{`<Event><System><EventID>1</EventID></System><EventData><Data Name='CommandLine'>msiexec &bogus;</Data></EventData></Event>`, ReasonMalformed},
		{`<Events><Data>msiexec</Data></Events>`, ReasonUnknownShape},
	}
	for _, tt := range tests {
		_, ok, err := d.Evaluate([]byte(tt.raw))
		var de *Error
		if ok || !errors.As(err, &de) || de.Reason != tt.reason {
			t.Errorf("Evaluate(%q) = %v, %v; want %s", tt.raw, ok, err, tt.reason)
		}
	}
	// Without the term, the same broken records are never parsed.
	for _, tt := range tests {
		raw := strings.ReplaceAll(tt.raw, "msiexec", "notepad")
		if _, ok, err := d.Evaluate([]byte(raw)); ok || err != nil {
			t.Errorf("Evaluate(%q) = %v, %v; want no match and no error (prefilter rejects)", raw, ok, err)
		}
	}
}

func TestForcedShape(t *testing.T) {
	raw := []byte(sysmonEvent().build(ShapeFlat))
	d, err := NewDefault(Options{Shape: ShapeFlat})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := d.Evaluate(raw); !ok || err != nil {
		t.Fatalf("forced flat on a flat record: %v, %v", ok, err)
	}
	d, _ = NewDefault(Options{Shape: ShapeWinlogbeat6})
	_, _, err = d.Evaluate(raw)
	var de *Error
	if !errors.As(err, &de) || de.Reason != ReasonUnknownShape {
		t.Fatalf("forced winlogbeat6 on a flat record: %v, want unknown_shape", err)
	}
	d, _ = NewDefault(Options{Shape: ShapeFlat})
	_, _, err = d.Evaluate([]byte(sysmonEvent().build(ShapeXML)))
	if !errors.As(err, &de) || de.Reason != ReasonUnknownShape {
		t.Fatalf("forced flat on an XML record: %v, want unknown_shape", err)
	}
}

func TestShapeNames(t *testing.T) {
	for _, s := range append(Shapes(), ShapeAuto) {
		got, err := ParseShape(s.String())
		if err != nil || got != s {
			t.Errorf("ParseShape(%q) = %v, %v", s.String(), got, err)
		}
	}
	if _, err := ParseShape("splunk"); err == nil || !strings.Contains(err.Error(), "winlogbeat-ecs") {
		t.Errorf("ParseShape(splunk) error = %v, want one listing the shapes", err)
	}
}

// A variant of the seed rule (another parent, another table) runs from
// its SPL alone.
func TestRuleVariant(t *testing.T) {
	d := seedVariant(t, Options{}, seedParent, `(?i)explorer\.exe`, "user process, process_*, "+seedTable, "process, parent_process")
	e := sysmonEvent().with(func(e *ev) { e.data["ParentImage"] = `C:\Windows\explorer.exe` })
	m, ok, err := d.Evaluate([]byte(e.build(ShapeFlat)))
	if err != nil || !ok {
		t.Fatalf("variant: %v, %v", ok, err)
	}
	outs := d.Rules()[0].Program.Outputs()
	if len(m.Values) != 2 || outs[0] != "process" || outs[1] != "parent_process" || m.Values[1] != e.data["ParentCommandLine"] {
		t.Errorf("variant outputs %q, values %q", outs, m.Values)
	}
	if _, ok, _ := d.Evaluate([]byte(sysmonEvent().build(ShapeFlat))); ok {
		t.Error("variant matched a cmd.exe parent")
	}
	if _, err := NewDefault(Options{Shape: 99}); err == nil {
		t.Error("New accepted shape 99")
	}
}

func TestBasename(t *testing.T) {
	tests := []struct{ in, want string }{
		{`C:\Windows\System32\cmd.exe`, "cmd.exe"},
		{`C:\Windows\explorer`, "explorer"},
		{`-`, "-"},
		{``, ``},
		{`cmd.exe`, "cmd.exe"},
		{`C:\dir\my app`, `C:\dir\my app`},
		{`C:\a.b\c d`, `C:\a.b\c d`},
		{`C:\Program Files\x.y\tool.`, "tool."},
		{`C:\a\b c\d.exe`, "d.exe"},
		{`C:\a\d.exe\`, `C:\a\d.exe\`},
		{`C:\a\x.exe` + "\n" + `C:\b\y.exe`, "x.exe\ny.exe"},
		{`\\server\share\pwsh.exe`, "pwsh.exe"},
		{`C:\a\tool-1.2`, "tool-1.2"},
		{`C:\a\tool-1`, `C:\a\tool-1`},
	}
	for _, tt := range tests {
		if got := cim.Basename(tt.in); got != tt.want {
			t.Errorf("cim.Basename(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2020-09-18 17:06:07.797", time.Date(2020, 9, 18, 17, 6, 7, 797e6, time.UTC), true},
		{"2024-10-26 15:13:47.3559412", time.Date(2024, 10, 26, 15, 13, 47, 355941200, time.UTC), true},
		{"2025-11-26T05:11:27.927693Z", time.Date(2025, 11, 26, 5, 11, 27, 927693000, time.UTC), true},
		{"2025-11-26T05:11:27.123456789Z", time.Date(2025, 11, 26, 5, 11, 27, 123456789, time.UTC), true},
		{"2025-11-26T05:11:27.1234567891Z", time.Date(2025, 11, 26, 5, 11, 27, 123456789, time.UTC), true},
		{"2020-09-18 13:06:07", time.Date(2020, 9, 18, 13, 6, 7, 0, time.UTC), true},
		{"2025-03-06T11:00:00+01:00", time.Date(2025, 3, 6, 10, 0, 0, 0, time.UTC), true},
		{"2025-03-06T09:30:00-0030", time.Date(2025, 3, 6, 10, 0, 0, 0, time.UTC), true},
		{"2024-02-29 00:00:00", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), true},
		{"2023-02-29 00:00:00", time.Time{}, false},
		{"2020-09-18", time.Time{}, false},
		{"2020-09-18 25:00:00", time.Time{}, false},
		{"2020-09-18 13:06:07.", time.Time{}, false},
		{"2020-09-18 13:06:07 PST", time.Time{}, false},
		{"18/09/2020 13:06:07", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := parseTime(tt.in)
		if ok != tt.ok || (ok && got != tt.want.UnixNano()) {
			t.Errorf("parseTime(%q) = %v, %v; want %v, %v", tt.in, time.Unix(0, got).UTC(), ok, tt.want, tt.ok)
		}
	}
}

// TestMatchDoesNotAliasInput: values must survive the caller reusing its buffer.
func TestMatchDoesNotAliasInput(t *testing.T) {
	d := mustSeed(t)
	for _, shape := range Shapes() {
		raw := []byte(sysmonEvent().build(shape))
		m, ok, err := d.Evaluate(raw)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		before := strings.Join(append([]string{m.Host}, m.Values...), "|")
		for i := range raw {
			raw[i] = 'Z'
		}
		if after := strings.Join(append([]string{m.Host}, m.Values...), "|"); after != before {
			t.Fatalf("%v: match changed when the input buffer was overwritten", shape)
		}
	}
}

// TestSeed: Seed is the seed rule of rules/24143.44553.yml (id
// '24143.44553'), and it selects the hand-built attack record.
func TestSeed(t *testing.T) {
	d := Seed()
	rs := d.Rules()
	if len(rs) != 1 || rs[0].Rule.ID != "24143.44553" {
		t.Fatalf("Seed's rules = %v, want the one rule 24143.44553", rs)
	}
	if _, ok, err := d.Evaluate([]byte(sysmonEvent().build(ShapeFlat))); !ok || err != nil {
		t.Fatalf("Seed does not select the attack record: ok %v, err %v", ok, err)
	}
}
