// Package streamtest makes realistic streams of Sysmon records (all seven
// shapes the detector reads, about 1 KB each, with msiexec attacks modelled
// on Atomic Red Team T1218.007) and computes the alerts the pipeline must
// publish for them. It serves the pipeline's tests, crash test and
// benchmark; it is not used by msiguard itself.
//
// internal/sysmongen also generates Sysmon streams, for the demo and load
// tests: realistic event mixes, incidents, decoys, rendered fast. This
// generator is the tests' instead: each record's kind (attack, near miss,
// dead letter, benign) is drawn at a rate the test sets and reported with
// the record, dead letters include truncated records and bad hosts and
// times, and records are built through internal/sysmontest, the reference
// renderer the detector's shape tests use, so that a failure points at
// the pipeline rather than at a fast renderer.
package streamtest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/sysmontest"
)

// Kind says what a generated record is meant to be.
type Kind uint8

const (
	Benign     Kind = iota // no msiexec token: fails the prefilter
	Attack                 // matches the rule
	NearMiss               // has the msiexec token but does not match
	DeadLetter             // has the token but cannot be evaluated or grouped
)

// Record is one generated record.
type Record struct {
	Kind  Kind
	Shape detector.Shape
	Host  string
	Time  time.Time // Sysmon UtcTime
	Value []byte
}

// Generator produces a deterministic stream of records. The zero value is
// not usable; use New.
type Generator struct {
	rng   *rand.Rand
	cfg   Options
	n     int
	hosts []string
}

// Options tune a Generator. Zero fields take the defaults.
type Options struct {
	Seed uint64
	// Hosts is the number of endpoints. Default 20.
	Hosts int
	// Start is the event time of the first record. Default 2025-03-06T10:00:00Z.
	Start time.Time
	// Step is the event time between consecutive records. Default 2ms.
	Step time.Duration
	// AttackRate, NearMissRate and DeadLetterRate are the fractions of
	// those kinds. Defaults 0.02, 0.01 and 0.002; use a negative value for 0.
	AttackRate, NearMissRate, DeadLetterRate float64
	// Shapes restricts the shapes used. Default all seven.
	Shapes []detector.Shape
}

// New returns a Generator.
func New(o Options) *Generator {
	if o.Hosts == 0 {
		o.Hosts = 20
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2025, 3, 6, 10, 0, 0, 0, time.UTC)
	}
	if o.Step == 0 {
		o.Step = 2 * time.Millisecond
	}
	rate := func(v *float64, d float64) {
		switch {
		case *v == 0:
			*v = d
		case *v < 0:
			*v = 0
		}
	}
	rate(&o.AttackRate, 0.02)
	rate(&o.NearMissRate, 0.01)
	rate(&o.DeadLetterRate, 0.002)
	if len(o.Shapes) == 0 {
		o.Shapes = detector.Shapes()
	}
	g := &Generator{rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)), cfg: o}
	for i := range o.Hosts {
		g.hosts = append(g.hosts, fmt.Sprintf("WKS-%03d.corp.example", i+1))
	}
	return g
}

// Next returns the next record.
func (g *Generator) Next() Record {
	i := g.n
	g.n++
	t := g.cfg.Start.Add(time.Duration(i) * g.cfg.Step)
	host := g.hosts[g.rng.IntN(len(g.hosts))]
	shape := g.cfg.Shapes[g.rng.IntN(len(g.cfg.Shapes))]
	r := g.rng.Float64()
	kind := Benign
	switch {
	case r < g.cfg.AttackRate:
		kind = Attack
	case r < g.cfg.AttackRate+g.cfg.NearMissRate:
		kind = NearMiss
	case r < g.cfg.AttackRate+g.cfg.NearMissRate+g.cfg.DeadLetterRate:
		kind = DeadLetter
	}
	e := g.event(kind, host, t)
	value := e.Build(shape.String())
	if kind == DeadLetter && g.rng.IntN(3) == 0 {
		// A truncated record: malformed.
		value = value[:len(value)/2]
	}
	return Record{Kind: kind, Shape: shape, Host: host, Time: t, Value: []byte(value)}
}

// Records returns the next n records.
func (g *Generator) Records(n int) []Record {
	out := make([]Record, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}

var (
	benignImages = []string{
		`C:\Program Files\Google\Chrome\Application\chrome.exe`, `C:\Windows\System32\svchost.exe`,
		`C:\Windows\System32\conhost.exe`, `C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE`,
		`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, `C:\Windows\explorer.exe`,
		`C:\Windows\System32\RuntimeBroker.exe`, `C:\Windows\System32\taskhostw.exe`,
	}
	suspiciousParents = []string{
		`C:\Windows\System32\cmd.exe`, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
		`C:\Program Files\PowerShell\7\pwsh.exe`, `C:\Windows\System32\svchost.exe`, `C:\Windows\System32\spoolsv.exe`,
		`C:\Windows\System32\wininit.exe`, `C:\Windows\System32\dsregcmd.exe`,
	}
	attackLines = []string{
		`msiexec /q /i "C:\AtomicRedTeam\atomics\T1218.007\src\T1218.007_JScript.msi"`,
		`msiexec /q /i "C:\AtomicRedTeam\atomics\T1218.007\src\T1218.007_VBScript.msi"`,
		`msiexec /q /i "https://github.com/redcanaryco/atomic-red-team/raw/master/atomics/T1218.007/src/T1218.007_JScript.msi"`,
		`msiexec /y "C:\AtomicRedTeam\atomics\T1218.007\bin\MSIRunner.dll"`,
		`msiexec /z "C:\AtomicRedTeam\atomics\T1218.007\bin\MSIRunner.dll"`,
		`"C:\Windows\System32\msiexec.exe" /i "C:\Users\alice\Downloads\LogMeInIgnition.msi" /quiet`,
		`MSIEXEC.EXE /i C:\Users\Public\ScreenConnect.ClientSetup.msi /qn`,
	}
	users = []string{`CORP\alice`, `CORP\bob`, `CORP\carol`, `NT AUTHORITY\SYSTEM`, `CORP\svc_deploy`}
)

// event describes the Sysmon event behind a record of the given kind.
func (g *Generator) event(kind Kind, host string, t time.Time) sysmontest.Event {
	utc := t.UTC().Format(sysmontest.UtcTimeLayout)
	pid := 1000 + g.rng.IntN(60000)
	ppid := 1000 + g.rng.IntN(60000)
	guid := func(p int) string {
		return fmt.Sprintf("{81056205-%04x-64dc-%04x-000000000800}", g.rng.IntN(0xffff), p&0xffff)
	}
	image := benignImages[g.rng.IntN(len(benignImages))]
	parent := `C:\Windows\explorer.exe`
	cmd := `"` + image + `" --type=renderer --field-trial-handle=1784,i,1234567890 --lang=en-US --service-sandbox-type=none`
	id := any(1)
	switch kind {
	case Attack:
		image = `C:\Windows\System32\msiexec.exe`
		if g.rng.IntN(4) == 0 {
			image = `C:\Windows\SysWOW64\MsiExec.exe`
		}
		parent = suspiciousParents[g.rng.IntN(len(suspiciousParents))]
		cmd = attackLines[g.rng.IntN(len(attackLines))]
	case NearMiss:
		if g.rng.IntN(2) == 0 {
			image = `C:\Windows\System32\msiexec.exe`
			parent = `C:\Windows\System32\services.exe`
			cmd = `C:\Windows\system32\msiexec.exe /V`
		} else {
			id = 10 // process access mentioning msiexec
			cmd = `C:\Windows\System32\msiexec.exe /i package.msi`
		}
	case DeadLetter:
		image = `C:\Windows\System32\msiexec.exe`
		parent = `C:\Windows\System32\cmd.exe`
		cmd = attackLines[0]
	}
	if g.rng.IntN(2) == 0 {
		id = fmt.Sprint(id)
	}
	e := sysmontest.Event{
		EventID:   id,
		Computer:  host,
		UtcTime:   utc,
		Envelope:  t.UTC().Format(time.RFC3339Nano),
		Collector: "wec01.corp.example",
		Full:      true,
		Data: map[string]any{
			"RuleName":          "-",
			"UtcTime":           utc,
			"ProcessGuid":       guid(pid),
			"ProcessId":         fmt.Sprint(pid),
			"Image":             image,
			"Description":       "Windows Installer",
			"Product":           "Microsoft® Windows® Operating System",
			"Company":           "Microsoft Corporation",
			"OriginalFileName":  "msiexec.exe",
			"CommandLine":       cmd,
			"CurrentDirectory":  `C:\Users\alice\`,
			"User":              users[g.rng.IntN(len(users))],
			"LogonId":           "0x3e7",
			"TerminalSessionId": "1",
			"IntegrityLevel":    "High",
			"Hashes":            "SHA256=1F1D918EC49E0B7C59B704FF412E1A6E224DA81C08CDA657E1CB482ABAAC146C,IMPHASH=94F3EFC2DF40ECD7229B904540DD83CF",
			"ParentProcessGuid": guid(ppid),
			"ParentProcessId":   fmt.Sprint(ppid),
			"ParentImage":       parent,
			"ParentCommandLine": `"` + parent + `" /c start`,
		},
	}
	if kind != Attack && kind != DeadLetter && image != `C:\Windows\System32\msiexec.exe` {
		e.Data["OriginalFileName"] = "chrome.exe"
		e.Data["Description"] = "Google Chrome"
		e.Data["Product"] = "Google Chrome"
		e.Data["Company"] = "Google LLC"
	}
	if kind == DeadLetter {
		switch g.rng.IntN(2) {
		case 0:
			e.Computer = "" // missing_host
		case 1:
			e.UtcTime = "yesterday at noon" // bad_time
			e.Envelope = "not a time"
		}
	}
	return e
}
