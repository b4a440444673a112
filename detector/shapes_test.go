package detector

import (
	"testing"

	"github.com/msiguard/msiguard/internal/ruletest"
	"github.com/msiguard/msiguard/internal/sysmontest"
	"github.com/msiguard/msiguard/rules"
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

// build renders e in shape s, as the shippers in sysmon-formats.md do.
func (e ev) build(s Shape) string {
	return sysmontest.Event{
		EventID: e.eventID, Channel: e.channel, Provider: e.provider,
		Computer: e.computer, UtcTime: e.utcTime, Envelope: e.envelope,
		Collector: e.collector, Message: e.message, Data: e.data,
	}.Build(s.String())
}

func mustSeed(t testing.TB) *Detector {
	t.Helper()
	d, err := NewDefault(Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// seedVariant compiles the seed rule's SPL with each old text replaced by
// its new one (pairs), for tests that run the seed rule's family with
// another term, parent pattern or table, as their golden cases' rule.json
// or their own case asks.
func seedVariant(t testing.TB, opts Options, pairs ...string) *Detector {
	t.Helper()
	d, err := New([]*rules.Compiled{ruletest.Variant(t, "", pairs...)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The SPL the variants replace.
const (
	seedTerm   = ruletest.SeedTerm
	seedParent = ruletest.SeedParent
	seedTable  = `parent_process_name, parent_process_*`
)

// fieldMap returns a match's values by field name, present ones only.
func fieldMap(d *Detector, m Match) map[string]string {
	out := map[string]string{}
	for i, name := range outputs(d) {
		if m.Values[i] != "" {
			out[name] = m.Values[i]
		}
	}
	return out
}

// outputs returns the output fields of d's first rule, in Match.Values
// order.
func outputs(d *Detector) []string { return d.Rules()[0].Program.Outputs() }
