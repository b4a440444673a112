package cim

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/msiguard/msiguard/detector"
)

type mapRecord map[Source]string

func (m mapRecord) Value(s Source) (string, bool) { v, ok := m[s]; return v, ok }

// TestEvent1AgreesWithDetector checks that event 1's table is the
// detector's: the same 16 names, and the same value for each on a record
// whose every field is distinct.
func TestEvent1AgreesWithDetector(t *testing.T) {
	ev, _ := EventByID(1)
	known := detector.KnownFields()
	slices.Sort(known)
	if got := ev.FieldNames(); !slices.Equal(got, known) {
		t.Fatalf("event 1 fields\n got %q\nwant %q (detector.KnownFields)", got, known)
	}
	raw := map[string]any{
		"EventID": 1, "Computer": "WS1", "Channel": "Microsoft-Windows-Sysmon/Operational",
		"UtcTime": "2025-01-02 03:04:05.678", "User": `CORP\alice`, "CommandLine": "msiexec /i a.msi",
		"CurrentDirectory": `C:\Users\alice\`, "Image": `C:\Windows\System32\msiexec.exe`,
		"ProcessGuid": "{p-guid}", "Hashes": "SHA256=AB,IMPHASH=CD", "ProcessId": "4242",
		"IntegrityLevel": "Medium", "ParentCommandLine": `cmd.exe /c msiexec /i a.msi`,
		"ParentImage": `C:\Windows\System32\cmd.exe`, "ParentProcessGuid": "{pp-guid}", "ParentProcessId": "77",
	}
	line, _ := json.Marshal(raw)
	rule := detector.SeedRule()
	rule.Fields = detector.KnownFields()
	d, err := detector.New(rule, detector.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, ok, err := d.Evaluate(line)
	if !ok || err != nil {
		t.Fatalf("detector: ok %v, err %v", ok, err)
	}
	rec := mapRecord{}
	for k, v := range raw {
		if s, ok := SourceByName(k); ok {
			rec[s] = fmt.Sprint(v)
		}
	}
	for i, name := range rule.Fields {
		mp, ok := ev.Lookup(name)
		if !ok {
			t.Fatalf("no mapping for %s", name)
		}
		got, _ := mp.Value(rec)
		if got != m.Values[i] {
			t.Errorf("%s = %q, detector %q", name, got, m.Values[i])
		}
	}
}

// TestBasenameAgreesWithDetector compares Basename with the detector's
// parent_process_name on random image paths.
func TestBasenameAgreesWithDetector(t *testing.T) {
	rule := detector.SeedRule()
	rule.ParentPattern = "" // matches every parent name
	rule.Fields = []string{"parent_process_name"}
	d, err := detector.New(rule, detector.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	pieces := []string{`\`, `C:`, `Windows`, `cmd.exe`, `.`, `x y`, `-`, `_a1`, `.e`, `/`, "\n", `é`}
	for range 20000 {
		var b strings.Builder
		for range r.IntN(6) + 1 {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		img := b.String()
		line, _ := json.Marshal(map[string]any{"EventID": 1, "Computer": "h", "UtcTime": "2025-01-01 00:00:00.000",
			"CommandLine": "msiexec", "ParentImage": img})
		m, ok, err := d.Evaluate(line)
		if !ok || err != nil {
			t.Fatalf("%q: detector ok %v err %v", img, ok, err)
		}
		if got := Basename(img); got != m.Values[0] {
			t.Fatalf("Basename(%q) = %q, detector %q", img, got, m.Values[0])
		}
	}
}

func TestTransforms(t *testing.T) {
	tests := []struct {
		m    Mapping
		rec  mapRecord
		want string
		ok   bool
	}{
		{Mapping{"dest", []Source{DestinationHostname, DestinationIp}, Coalesce}, mapRecord{DestinationIp: "10.0.0.1"}, "10.0.0.1", true},
		{Mapping{"dest", []Source{DestinationHostname, DestinationIp}, Coalesce}, mapRecord{DestinationHostname: "-", DestinationIp: "10.0.0.1"}, "-", true},
		{Mapping{"dest", []Source{DestinationHostname, DestinationIp}, Coalesce}, mapRecord{}, "", false},
		{Mapping{"direction", []Source{Initiated}, Direction}, mapRecord{Initiated: "true"}, "outbound", true},
		{Mapping{"direction", []Source{Initiated}, Direction}, mapRecord{Initiated: "false"}, "inbound", true},
		{Mapping{"direction", []Source{Initiated}, Direction}, mapRecord{}, "", false},
		{Mapping{"file_name", []Source{TargetFilename}, LastSegment}, mapRecord{TargetFilename: `C:\Temp\a.ps1`}, "a.ps1", true},
		{Mapping{"file_name", []Source{TargetFilename}, LastSegment}, mapRecord{TargetFilename: `C:\Temp\`}, "", false},
		{Mapping{"registry_key_name", []Source{TargetObject}, KeyName}, mapRecord{TargetObject: `HKLM\Software\Run\evil`}, "evil", true},
		{Mapping{"registry_key_name", []Source{TargetObject}, KeyName}, mapRecord{TargetObject: `\evil`}, `\evil`, true},
		{Mapping{"process_name", []Source{Image}, BaseName}, mapRecord{Image: "-"}, "-", true},
		{Mapping{"user", []Source{User}, Copy}, mapRecord{User: ""}, "", false},
	}
	for _, tt := range tests {
		got, ok := tt.m.Value(tt.rec)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s(%v) = %q, %v; want %q, %v", tt.m.Field, tt.rec, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSourceByName(t *testing.T) {
	for s := Source(1); s < numSources; s++ {
		if got, ok := SourceByName(s.String()); !ok || got != s {
			t.Errorf("SourceByName(%q) = %v, %v", s, got, ok)
		}
	}
	for name, want := range map[string]Source{"EventID": EventCode, "host": Computer, "EventChannel": Channel} {
		if got, _ := SourceByName(name); got != want {
			t.Errorf("SourceByName(%q) = %v, want %v", name, got, want)
		}
	}
	if _, ok := SourceByName("parentimage"); ok {
		t.Error("field names must be case-sensitive")
	}
}

var update = flag.Bool("update", false, "rewrite the table in ../FIELDS.md")

// TestFieldsDoc keeps ../FIELDS.md's table equal to the code's.
func TestFieldsDoc(t *testing.T) {
	const begin, end = "<!-- table: begin -->\n", "<!-- table: end -->\n"
	doc, err := os.ReadFile("../FIELDS.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("FIELDS.md lacks the table markers")
	}
	want := RenderTable()
	if got := s[i+len(begin) : j]; got != want {
		if *update {
			os.WriteFile("../FIELDS.md", []byte(s[:i+len(begin)]+want+s[j:]), 0o644)
			return
		}
		t.Errorf("FIELDS.md table differs from the code; run go test ./rules/cim -run TestFieldsDoc -update\n%s", want)
	}
}
