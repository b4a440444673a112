package cim

import (
	"flag"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

type mapRecord map[Source]string

func (m mapRecord) Value(s Source) (string, bool) { v, ok := m[s]; return v, ok }

// TestEvent1Fields checks event 1's table against the fields and values
// derived by hand from rule-semantics.md ("CIM fields from Sysmon
// fields": the add-on's FIELDALIAS copies and its basename EVAL), on a
// record whose every field is distinct.
func TestEvent1Fields(t *testing.T) {
	ev, _ := EventByID(1)
	raw := map[string]string{
		"User": `CORP\alice`, "CommandLine": "msiexec /i a.msi", "CurrentDirectory": `C:\Users\alice\`,
		"Image": `C:\Windows\System32\msiexec.exe`, "ProcessGuid": "{p-guid}", "Hashes": "SHA256=AB,IMPHASH=CD",
		"ProcessId": "4242", "IntegrityLevel": "Medium", "ParentCommandLine": `cmd.exe /c msiexec /i a.msi`,
		"ParentImage": `C:\Windows\System32\cmd.exe`, "ParentProcessGuid": "{pp-guid}", "ParentProcessId": "77",
	}
	want := map[string]string{
		"user": `CORP\alice`, "process": "msiexec /i a.msi", "process_current_directory": `C:\Users\alice\`,
		"process_exec": "msiexec.exe", "process_guid": "{p-guid}", "process_hash": "SHA256=AB,IMPHASH=CD",
		"process_id": "4242", "process_integrity_level": "Medium", "process_name": "msiexec.exe",
		"process_path": `C:\Windows\System32\msiexec.exe`, "parent_process": `cmd.exe /c msiexec /i a.msi`,
		"parent_process_exec": "cmd.exe", "parent_process_guid": "{pp-guid}", "parent_process_id": "77",
		"parent_process_name": "cmd.exe", "parent_process_path": `C:\Windows\System32\cmd.exe`,
	}
	names := slices.Sorted(maps.Keys(want))
	if got := ev.FieldNames(); !slices.Equal(got, names) {
		t.Fatalf("event 1 fields\n got %q\nwant %q", got, names)
	}
	rec := mapRecord{}
	for k, v := range raw {
		s, ok := SourceByName(k)
		if !ok {
			t.Fatalf("no source %s", k)
		}
		rec[s] = v
	}
	for _, name := range names {
		mp, _ := ev.Lookup(name)
		if got, _ := mp.Value(rec); got != want[name] {
			t.Errorf("%s = %q, want %q", name, got, want[name])
		}
	}
}

// referenceBasename is the add-on's
// replace(X, "(.*\\)(?=.*(\.\w*)$|(\w+)$)", "") as the detector once
// implemented it on its own, kept as an independent reference for Basename.
func referenceBasename(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = referenceBasenameLine(l)
	}
	return strings.Join(lines, "\n")
}

func referenceBasenameLine(s string) string {
	isWord := func(c byte) bool {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
	}
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] != '\\' {
			continue
		}
		rest := s[i+1:]
		ext := false
		for j := len(rest) - 1; j >= 0; j-- {
			if rest[j] == '.' {
				ext = true
				break
			}
			if !isWord(rest[j]) {
				break
			}
		}
		word := rest != ""
		for j := 0; j < len(rest); j++ {
			word = word && isWord(rest[j])
		}
		if ext || word {
			return rest
		}
	}
	return s
}

// TestBasenameAgreesWithReference compares Basename with the reference on
// random image paths.
func TestBasenameAgreesWithReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pieces := []string{`\`, `C:`, `Windows`, `cmd.exe`, `.`, `x y`, `-`, `_a1`, `.e`, `/`, "\n", `é`}
	for range 20000 {
		var b strings.Builder
		for range r.IntN(6) + 1 {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		img := b.String()
		if got, want := Basename(img), referenceBasename(img); got != want {
			t.Fatalf("Basename(%q) = %q, reference %q", img, got, want)
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
