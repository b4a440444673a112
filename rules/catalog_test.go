package rules_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msiguard/msiguard/internal/corpus"

	"github.com/msiguard/msiguard/rules"
	"github.com/msiguard/msiguard/rules/spl"
	"github.com/msiguard/msiguard/rules/tokenscan"
)

// catalogAndSeed loads testdata/catalog and compiles its rules followed by
// the seed rule.
func catalogAndSeed(t *testing.T) ([]*rules.Rule, []*rules.Compiled) {
	t.Helper()
	all, err := rules.LoadDir("testdata/catalog")
	if err != nil {
		t.Fatal(err)
	}
	compiled, err := rules.CompileAll(append(all, rules.Default()), nil)
	if err != nil {
		t.Fatal(err)
	}
	return all, compiled
}

// sysmonJSON renders a flat (NXLog-style) Sysmon record.
func sysmonJSON(eid int, host string, data map[string]string) []byte {
	m := map[string]any{"EventID": eid, "Computer": host, "Channel": "Microsoft-Windows-Sysmon/Operational",
		"SourceName": "Microsoft-Windows-Sysmon", "UtcTime": "2025-03-06 10:00:00.120"}
	for k, v := range data {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

type catalogCase struct {
	name string
	raw  []byte
	want bool
}

// TestCatalogRules compiles each rule of testdata/catalog/ and runs it on
// hand-made records it must select and reject.
func TestCatalogRules(t *testing.T) {
	cases := catalogCases
	files, _ := os.ReadDir("testdata/catalog")
	if len(files) != len(cases) {
		t.Errorf("%d catalog files, %d with cases", len(files), len(cases))
	}
	all, compiled := catalogAndSeed(t)
	for _, c := range compiled[:len(all)] {
		name := c.Rule.File[strings.LastIndexByte(c.Rule.File, '/')+1:]
		t.Run(name, func(t *testing.T) {
			tcs, ok := cases[name]
			if !ok {
				t.Fatal("no cases")
			}
			for _, tc := range tcs {
				rec, err := parsePlain(tc.raw)
				if err != nil {
					t.Fatal(err)
				}
				if got := c.Program.Match(tc.raw, rec); got != tc.want {
					t.Errorf("%s: selected %v, want %v\n%s", tc.name, got, tc.want, tc.raw)
				}
			}
			var b strings.Builder
			c.Explain(&b)
			if !strings.Contains(b.String(), "prefilter tokens:") || strings.Contains(b.String(), "(none: every record is evaluated)") {
				t.Errorf("explain:\n%s", b.String())
			}
		})
	}
}

// TestTunedSeed runs the tuned variant of issue 18 against the seed rule on
// records where they must differ, and on the seed's own positives.
func TestTunedSeed(t *testing.T) {
	tuned, err := rules.LoadFile("testdata/tuned-seed.yml")
	if err != nil {
		t.Fatal(err)
	}
	tc, err := rules.Compile(tuned, nil)
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := rules.Compile(rules.Default(), nil)
	mk := func(host, parent string) []byte {
		return sysmonJSON(1, host, map[string]string{"Image": `C:\Windows\System32\msiexec.exe`, "CommandLine": "msiexec /i x.msi", "ParentImage": parent})
	}
	tests := []struct {
		name        string
		raw         []byte
		seed, tuned bool
	}{
		{"cmd parent", mk("WS1", `C:\Windows\System32\cmd.exe`), true, true},
		{"rundll32 parent (added)", mk("WS1", `C:\Windows\System32\rundll32.exe`), false, true},
		{"deployment server (excluded host)", mk("sccm-01.corp", `C:\Windows\System32\cmd.exe`), true, false},
		{"deployment agent (excluded parent path)", mk("WS1", `C:\Program Files\DeployAgent\cmd.exe`), true, false},
	}
	for _, tt := range tests {
		rec, _ := parsePlain(tt.raw)
		if got := sc.Program.Match(tt.raw, rec); got != tt.seed {
			t.Errorf("%s: seed %v, want %v", tt.name, got, tt.seed)
		}
		if got := tc.Program.Match(tt.raw, rec); got != tt.tuned {
			t.Errorf("%s: tuned %v, want %v", tt.name, got, tt.tuned)
		}
	}
}

// TestRulesTogether runs the seed rule and the catalog rules through one
// tokenscan.Scanner over every golden record, the no-match corpus and the
// hand-made records, and checks that the prefilter is a necessary
// condition: a rule that selects a record always has its tokens found.
func TestRulesTogether(t *testing.T) {
	_, compiled := catalogAndSeed(t)
	var pfs []spl.Prefilter
	for _, c := range compiled {
		pfs = append(pfs, c.Program.Prefilter())
	}
	sc, err := tokenscan.New(pfs)
	if err != nil {
		t.Fatal(err)
	}
	h := sc.NewHits()
	files, _ := filepath.Glob("../detector/testdata/golden/*/input.*")
	files = append(files, "../detector/testdata/nomatch-corpus.jsonl")
	var lines [][]byte
	for _, f := range files {
		lines = append(lines, corpus.Lines(t, f)...)
	}
	for _, cs := range catalogCases {
		for _, c := range cs {
			lines = append(lines, c.raw)
		}
	}
	selected := make([]int, len(compiled))
	for _, l := range lines {
		sc.Scan(l, h)
		rec, err := parsePlain(l)
		if err != nil {
			rec = plainRecord{}
		}
		for i, c := range compiled {
			if c.Program.Match(l, rec) {
				selected[i]++
				if !h.Has(i) {
					t.Errorf("%s selects a record its prefilter rejects:\n%s", c.Rule.ID, l)
				}
			}
		}
	}
	for i, c := range compiled {
		if selected[i] == 0 {
			t.Errorf("%s selected nothing", c.Rule.ID)
		}
	}
	t.Logf("%d records; selected per rule: %v", len(lines), selected)
}

// catalogCases are hand-made records for each rule of testdata/catalog/.
var catalogCases = map[string][]catalogCase{
	"net-lolbin-outbound.yml": {
		{"certutil to a public address", sysmonJSON(3, "WS1", map[string]string{"Image": `C:\Windows\System32\certutil.exe`, "Initiated": "true", "DestinationIp": "203.0.113.7", "DestinationPort": "443", "Protocol": "tcp", "User": `CORP\a`}), true},
		{"bitsadmin, any case", sysmonJSON(3, "WS1", map[string]string{"Image": `C:\Windows\System32\BITSADMIN.EXE`, "Initiated": "true", "DestinationIp": "198.51.100.1"}), true},
		{"private address", sysmonJSON(3, "WS1", map[string]string{"Image": `C:\Windows\System32\certutil.exe`, "Initiated": "true", "DestinationIp": "10.1.2.3"}), false},
		{"inbound", sysmonJSON(3, "WS1", map[string]string{"Image": `C:\Windows\System32\certutil.exe`, "Initiated": "false", "DestinationIp": "203.0.113.7"}), false},
		{"other binary named in the command line only", sysmonJSON(3, "WS1", map[string]string{"Image": `C:\Tools\certutil-helper.exe`, "Initiated": "true", "DestinationIp": "203.0.113.7"}), false},
		{"process creation, not a connection", sysmonJSON(1, "WS1", map[string]string{"Image": `C:\Windows\System32\certutil.exe`, "Initiated": "true", "DestinationIp": "203.0.113.7"}), false},
	},
	"office-script-engine-load.yml": {
		{"winword loads vbscript.dll", sysmonJSON(7, "WS2", map[string]string{"Image": `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`, "ImageLoaded": `C:\Windows\System32\vbscript.dll`}), true},
		{"excel loads jscript9.dll", sysmonJSON(7, "WS2", map[string]string{"Image": `C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE`, "ImageLoaded": `C:\Windows\SysWOW64\jscript9.dll`}), true},
		{"explorer loads jscript.dll", sysmonJSON(7, "WS2", map[string]string{"Image": `C:\Windows\explorer.exe`, "ImageLoaded": `C:\Windows\System32\jscript.dll`}), false},
		{"winword loads another dll", sysmonJSON(7, "WS2", map[string]string{"Image": `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`, "ImageLoaded": `C:\Windows\System32\vbscript2.dll`}), false},
	},
	"startup-folder-drop.yml": {
		{"lnk in a user's Startup", sysmonJSON(11, "WS3", map[string]string{"Image": `C:\Users\a\AppData\Local\Temp\x.exe`, "TargetFilename": `C:\Users\a\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup\update.lnk`}), true},
		{"vbs in all users' Startup", sysmonJSON(11, "WS3", map[string]string{"Image": `C:\Windows\System32\wscript.exe`, "TargetFilename": `C:\ProgramData\Microsoft\Windows\Start Menu\Programs\Startup\a.VBS`}), true},
		{"desktop.ini", sysmonJSON(11, "WS3", map[string]string{"Image": `C:\Windows\explorer.exe`, "TargetFilename": `C:\ProgramData\Microsoft\Windows\Start Menu\Programs\Startup\desktop.ini`}), false},
		{"lnk elsewhere", sysmonJSON(11, "WS3", map[string]string{"Image": `C:\Windows\explorer.exe`, "TargetFilename": `C:\Users\a\Desktop\Startup notes.lnk`}), false},
	},
	"run-key-suspicious-value.yml": {
		{"HKCU Run to AppData", sysmonJSON(13, "WS4", map[string]string{"Image": `C:\Users\a\AppData\Local\Temp\drop.exe`, "EventType": "SetValue", "TargetObject": `HKU\S-1-5-21-1\Software\Microsoft\Windows\CurrentVersion\Run\Updater`, "Details": `C:\Users\a\AppData\Roaming\upd.exe`}), true},
		{"HKLM RunOnce to mshta", sysmonJSON(13, "WS4", map[string]string{"Image": `C:\Windows\regedit.exe`, "TargetObject": `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce\x`, "Details": `mshta vbscript:Execute("x")`}), true},
		{"Run to Program Files", sysmonJSON(13, "WS4", map[string]string{"Image": `C:\Windows\System32\msiexec.exe`, "TargetObject": `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\Vendor`, "Details": `"C:\Program Files\Vendor\tray.exe"`}), false},
		{"other key", sysmonJSON(13, "WS4", map[string]string{"Image": `C:\x.exe`, "TargetObject": `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunServices\x`, "Details": `C:\Users\a\AppData\x.exe`}), false},
	},
	"dns-tunnel-paste-services.yml": {
		{"powershell resolves ngrok", sysmonJSON(22, "WS5", map[string]string{"Image": `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, "QueryName": "4f2a-203-0-113-7.ngrok-free.app", "QueryResults": "::ffff:203.0.113.7;"}), true},
		{"rundll32 resolves pastebin", sysmonJSON(22, "WS5", map[string]string{"Image": `C:\Windows\System32\rundll32.exe`, "QueryName": "PASTEBIN.com"}), true},
		{"chrome resolves pastebin", sysmonJSON(22, "WS5", map[string]string{"Image": `C:\Program Files\Google\Chrome\Application\chrome.exe`, "QueryName": "pastebin.com"}), false},
		{"lookalike domain", sysmonJSON(22, "WS5", map[string]string{"Image": `C:\x\agent.exe`, "QueryName": "pastebin.com.evil.example"}), false},
	},
}
