package rules

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msiguard/msiguard/rules/spl"
)

func TestDefault(t *testing.T) {
	r := Default()
	if r.ID != "24143.44553" || r.Title != "Suspicious Parent Process for msiexec.exe" || r.LogicFormat != "Splunk" ||
		strings.Join(r.TechniqueIDs, ",") != "T1218.007" || len(r.References) != 1 || r.DataCategory[0] != "Windows Sysmon" ||
		r.Techniques[0] != "defense-evasion:system binary proxy execution:msiexec" {
		t.Errorf("Default() = %+v", r)
	}
	if _, err := Compile(r, nil); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultMacros(t *testing.T) {
	m := DefaultMacros()
	if got := strings.Join(m.Names(), ","); got != "get_endpoint_data,get_endpoint_data_sysmon" {
		t.Errorf("names %s", got)
	}
	d, _ := m.Get("get_endpoint_data_sysmon")
	if d.Definition != "((NOT Channel=* NOT SourceName=*) OR Channel=*sysmon* OR SourceName=*sysmon*)" {
		t.Errorf("definition %q", d.Definition)
	}
}

func TestParseErrors(t *testing.T) {
	const ok = "id: x\nlogic_format: Splunk\nlogic: a | bin span=1s | stats count by _time, host\n"
	tests := []struct{ src, want string }{
		{ok + "severity: high\n", "r.yml:4:1: unknown key \"severity\" (known: id, title,"},
		{"logic_format: Splunk\nlogic: a\n", "r.yml:1:1: the rule has no id"},
		{"id: x\nlogic_format: Splunk\n", "r.yml:1:1: the rule has no logic"},
		{"id: x\nlogic: a\n", "r.yml:1:1: the rule has no logic_format"},
		{"id: x\nlogic_format: Sigma\nlogic: a\n", "r.yml:2:15: logic_format is \"Sigma\": only Splunk is supported"},
		{"id: x\nid: y\nlogic_format: Splunk\nlogic: a\n", "r.yml:2:1: key id given twice (first at line 1)"},
		{"id: 'a b'\nlogic_format: Splunk\nlogic: a\n", "r.yml:1:1: id \"a b\" must be non-empty"},
		{ok + "technique_id: [T1218.7]\n", "r.yml:4:16: technique_id \"T1218.7\" is not a MITRE ATT&CK technique id"},
		{ok + "technique_id: [T1218.007\n", "invalid YAML: did not find expected ',' or ']'"},
		{ok + "references: x\n", "r.yml:4:13: references must be a list"},
		{"- a\n", "r.yml:1:1: the file must be a mapping"},
		{ok + "---\nid: y\n", "a second YAML document"},
		{"", "r.yml: the file is empty"},
	}
	for _, tt := range tests {
		_, err := Parse("r.yml", []byte(tt.src))
		var fe *FileError
		if err == nil || !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want %s", tt.src, err, tt.want)
		}
	}
}

// TestLogicPositions checks that SPL errors point into the YAML file
// through line folding, ” escapes and literal blocks.
func TestLogicPositions(t *testing.T) {
	tests := []struct{ src, want string }{
		{"id: x\nlogic_format: Splunk\nlogic: 'a \"''q''\"\n  b\n    | eval y=1'\n", "r.yml:5:7: unsupported command | eval"},
		{"id: x\nlogic_format: Splunk\nlogic: |\n  a\n  | rex \"x\"\n", "r.yml:5:5: unsupported command | rex"},
		{"id: x\nlogic_format: Splunk\nlogic: |\n  a\n\n  b\n   | rex \"x\"\n", "r.yml:7:6: unsupported command | rex"},
		{"id: x\nlogic_format: Splunk\nlogic: a   b\n  c | dedup x\n", "r.yml:4:7: unsupported command | dedup"},
		{"id: x\nlogic_format: Splunk\nlogic: \"a\\\n  \\\"b\\\" | fields x\"\n", "r.yml:4:11: unsupported command | fields"},
	}
	for _, tt := range tests {
		r, err := Parse("r.yml", []byte(tt.src))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Compile(r, nil)
		var se *spl.Error
		if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want %s", tt.src, err, tt.want)
		}
	}
	// In a macro: the error is in the macros file, with the use in the rule.
	m, err := ParseMacros("m.yml", []byte("bad:\n  definition: 'a | eval x=1'\n"))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := Parse("r.yml", []byte("id: x\nlogic_format: Splunk\nlogic: '`bad` b'\n"))
	_, err = Compile(r, DefaultMacros().With(m))
	if want := "m.yml:2:20: unsupported command | eval; supported:"; err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "(in a macro used at r.yml:3:9)") {
		t.Errorf("macro error %v", err)
	}
}

func TestMacrosErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"m(1):\n  definition: a\n", "m.yml:1:1: macro name \"m(1)\""},
		{"m:\n  definition: a\n  args: x\n", "m.yml:3:3: macro m has args"},
		{"m:\n  description: a\n", "m.yml:2:3: macro m has no definition"},
		{"m:\n  definiton: a\n", "m.yml:2:3: unknown key \"definiton\" in macro m"},
		{"m: a\n", "m.yml:1:4: macro m must be a mapping"},
	}
	for _, tt := range tests {
		if _, err := ParseMacros("m.yml", []byte(tt.src)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseMacros(%q) = %v, want %s", tt.src, err, tt.want)
		}
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const logic = "logic_format: Splunk\nlogic: a | bin span=1s | stats count by _time, host\n"
	write("a.yml", "id: one\n"+logic)
	write("b.yaml", "id: two\n"+logic)
	write("macros.yml", "m:\n  definition: a\n")
	write("notes.txt", "not a rule")
	rs, err := LoadDir(dir)
	if err != nil || len(rs) != 2 || rs[0].ID != "one" || rs[1].ID != "two" {
		t.Fatalf("LoadDir = %v, %v", rs, err)
	}
	write("c.yml", "id: one\n"+logic)
	_, err = LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "c.yml")+": rule id one is also the id of "+filepath.Join(dir, "a.yml")) {
		t.Errorf("duplicate ids: %v", err)
	}
	// A Kubernetes config map's layout: each file a symlink into a
	// timestamped directory through ..data.
	cm := t.TempDir()
	if err := os.MkdirAll(filepath.Join(cm, "..2026_12_04"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cm, "..2026_12_04", "r.yml"), []byte("id: cm\n"+logic), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, l := range [][2]string{{"..2026_12_04", "..data"}, {"..data/r.yml", "r.yml"}, {"..2026_12_04", "dir.yml"}} {
		if err := os.Symlink(l[0], filepath.Join(cm, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	if rs, err := LoadDir(cm); err != nil || len(rs) != 1 || rs[0].ID != "cm" {
		t.Errorf("config-map layout: LoadDir = %v, %v; want the rule cm", rs, err)
	}

	write("c.yml", "id: three\nlogic: a\n")
	write("d.yml", "id: four\nextra: 1\n"+logic)
	_, err = LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), "c.yml:1:1: the rule has no logic_format") || !strings.Contains(err.Error(), "d.yml:2:1: unknown key") {
		t.Errorf("every failing file is reported: %v", err)
	}
}
