package sysmongen

// noiseKind is one kind of ordinary Sysmon event, weighted by how often
// it appears in real logs (event ids 10, 7, 12 and 13 dominate;
// PROVENANCE.md of the real datasets).
type noiseKind struct {
	weight int
	build  func(g *Generator, h *host, t int64)
}

var noiseKinds = []noiseKind{
	{380, (*Generator).noiseAccess},
	{200, (*Generator).noiseImageLoad},
	{160, (*Generator).noiseRegCreate},
	{110, (*Generator).noiseRegSet},
	{40, (*Generator).noiseNetwork},
	{30, (*Generator).noiseFileCreate},
	{25, (*Generator).noiseProcessCreate},
	{15, (*Generator).noiseTerminate},
	{15, (*Generator).noisePipe},
	{12, (*Generator).noiseDNS},
	{8, (*Generator).noiseFileDelete},
	{5, (*Generator).noiseRawRead},
}

// Lookup tables for weighted draws (see weighted).
var (
	accessTable     = weighted(accessPairs, func(p accessPair) int { return p.weight })
	grantedTable    = weighted(grantedAccess, func(a accessMask) int { return a.weight })
	netTable        = weighted(netImages, func(n netImage) int { return n.weight })
	regCreateTable  = weighted(regCreates, func(k regKey) int { return k.weight })
	regSetTable     = weighted(regSets, func(k regKey) int { return k.weight })
	fileCreateTable = weighted(fileCreates, func(f fileTarget) int { return f.weight })
	fileDeleteTable = weighted(fileDeletes, func(f fileTarget) int { return f.weight })
)

var noiseScenarios = map[int]string{
	1: "noise-eid1", 3: "noise-eid3", 5: "noise-eid5", 7: "noise-eid7", 9: "noise-eid9", 10: "noise-eid10",
	11: "noise-eid11", 12: "noise-eid12", 13: "noise-eid13", 18: "noise-eid18", 22: "noise-eid22", 23: "noise-eid23",
}

func (g *Generator) buildNoise(h *host, t int64) {
	noiseKinds[g.pick(g.noiseTable)].build(g, h, t)
	g.meta.Kind = KindNoise
	g.meta.Scenario = noiseScenarios[g.ev.info.id]
}

// procHeader adds RuleName, UtcTime, ProcessGuid, ProcessId and Image for
// resident r, the fields most Sysmon events start with.
func (g *Generator) procHeader(h *host, r int, t int64) {
	guid, pid := g.resident(h, r)
	g.addProcHeader(t, guid, pid)
	g.add("Image", g.expand(h, residents[r].exe.path))
}

func (g *Generator) userOf(h *host, r int) string {
	u, _, _ := h.account(residents[r].user)
	return u
}

// noiseAccess is Sysmon event 10, process accessed.
func (g *Generator) noiseAccess(h *host, t int64) {
	g.begin(h, eid10, t)
	p := accessPairs[g.pick(accessTable)]
	src, dst := residents[p.src], residents[p.dst]
	sguid, spid := g.resident(h, p.src)
	tguid, tpid := g.resident(h, p.dst)
	g.add("RuleName", "-")
	g.add("UtcTime", g.utc(t))
	g.add("SourceProcessGUID", sguid)
	g.addNum("SourceProcessId", spid)
	g.addUint("SourceThreadId", uint64(g.pid()))
	g.add("SourceImage", src.exe.path)
	g.add("TargetProcessGUID", tguid)
	g.addNum("TargetProcessId", tpid)
	g.add("TargetImage", dst.exe.path)
	mask := grantedAccess[g.pick(grantedTable)].mask
	g.add("GrantedAccess", mask)
	g.add("CallTrace", g.callTrace(src.exe.path))
	g.add("SourceUser", g.userOf(h, p.src))
	g.add("TargetUser", g.userOf(h, p.dst))
}

// callTrace makes up a call stack through image.
func (g *Generator) callTrace(image string) string {
	start := len(g.arena)
	g.arena = append(g.arena, `C:\Windows\SYSTEM32\ntdll.dll+9d4c4|C:\Windows\System32\KERNELBASE.dll+2c13e|`...)
	for range 3 + g.intn(6) {
		g.arena = append(g.arena, image...)
		g.arena = append(g.arena, '+')
		g.arena = appendHex(g.arena, uint64(0x1000+g.intn(0xfffff)))
		g.arena = append(g.arena, '|')
	}
	g.arena = append(g.arena, `C:\Windows\System32\KERNEL32.DLL+17034|C:\Windows\SYSTEM32\ntdll.dll+526a1`...)
	return g.arenaString(start)
}

// noiseImageLoad is Sysmon event 7, image loaded.
func (g *Generator) noiseImageLoad(h *host, t int64) {
	g.begin(h, eid7, t)
	r := g.intn(numResidents)
	d := dlls[g.intn(len(dlls))]
	g.procHeader(h, r, t)
	g.addImageFields(h, d, "ImageLoaded")
	g.add("Signed", "true")
	g.add("Signature", "Microsoft Windows")
	g.add("SignatureStatus", "Valid")
	g.add("User", g.userOf(h, r))
}

// addImageFields adds the PE description fields of x (and x's path under
// pathName when set).
func (g *Generator) addImageFields(h *host, x *exe, pathName string) {
	if pathName != "" {
		g.add(pathName, x.path)
	}
	g.add("FileVersion", x.version)
	g.add("Description", x.desc)
	g.add("Product", h.product(x))
	g.add("Company", x.company)
	g.add("OriginalFileName", x.orig)
	g.add("Hashes", x.hashes)
}

// regHeader adds the fields registry events share, for key k.
func (g *Generator) regHeader(h *host, k *regKey, eventType string, t int64) (user string) {
	g.add("RuleName", "-")
	g.add("EventType", eventType)
	g.add("UtcTime", g.utc(t))
	if k.r >= 0 {
		guid, pid := g.resident(h, k.r)
		g.add("ProcessGuid", guid)
		g.addNum("ProcessId", pid)
		g.add("Image", residents[k.r].exe.path)
		user = g.userOf(h, k.r)
	} else {
		guid, pid := g.newProc(h, t-int64(g.intn(60))*1e9)
		g.add("ProcessGuid", guid)
		g.addNum("ProcessId", pid)
		g.add("Image", k.image.path)
		user = h.accounts[uSystem].user
	}
	g.add("TargetObject", g.expand(h, k.target))
	return user
}

// noiseRegCreate is Sysmon event 12.
func (g *Generator) noiseRegCreate(h *host, t int64) {
	g.begin(h, eid12, t)
	et := "CreateKey"
	if g.chance(0.2) {
		et = "DeleteKey"
	}
	user := g.regHeader(h, &regCreates[g.pick(regCreateTable)], et, t)
	g.add("User", user)
}

// noiseRegSet is Sysmon event 13.
func (g *Generator) noiseRegSet(h *host, t int64) {
	g.begin(h, eid13, t)
	k := &regSets[g.pick(regSetTable)]
	user := g.regHeader(h, k, "SetValue", t)
	g.add("Details", g.expand(h, k.details))
	g.add("User", user)
}

// noiseNetwork is Sysmon event 3.
func (g *Generator) noiseNetwork(h *host, t int64) {
	g.begin(h, eid3, t)
	r := netImages[g.pick(netTable)].r
	d := &dests[g.intn(len(dests))]
	g.procHeader(h, r, t)
	g.add("User", g.userOf(h, r))
	g.add("Protocol", d.proto)
	g.addBool("Initiated", true)
	g.addBool("SourceIsIpv6", false)
	g.add("SourceIp", h.ip)
	g.add("SourceHostname", h.fqdn)
	g.addUint("SourcePort", uint64(49152+g.intn(16000)))
	g.add("SourcePortName", "-")
	g.addBool("DestinationIsIpv6", false)
	g.add("DestinationIp", d.ip)
	g.add("DestinationHostname", g.expand(h, d.host))
	g.addNum("DestinationPort", d.port)
	g.add("DestinationPortName", d.portName)
}

// noiseFileCreate is Sysmon event 11.
func (g *Generator) noiseFileCreate(h *host, t int64) {
	g.begin(h, eid11, t)
	f := &fileCreates[g.pick(fileCreateTable)]
	g.procHeader(h, f.r, t)
	g.add("TargetFilename", g.expand(h, f.target))
	created := t
	if g.chance(0.3) {
		created -= int64(g.intn(30*86400)) * 1e9
	}
	g.add("CreationUtcTime", g.utc(created))
	g.add("User", g.userOf(h, f.r))
}

// noiseFileDelete is Sysmon event 23.
func (g *Generator) noiseFileDelete(h *host, t int64) {
	g.begin(h, eid23, t)
	f := &fileDeletes[g.pick(fileDeleteTable)]
	guid, pid := g.resident(h, f.r)
	g.addProcHeader(t, guid, pid)
	g.add("User", g.userOf(h, f.r))
	g.add("Image", residents[f.r].exe.path)
	g.add("TargetFilename", g.expand(h, f.target))
	g.add("Hashes", f.hashes)
	g.addBool("IsExecutable", false)
	g.add("Archived", "true")
}

// noisePipe is Sysmon event 18.
func (g *Generator) noisePipe(h *host, t int64) {
	g.begin(h, eid18, t)
	p := pipes[g.intn(len(pipes))]
	guid, pid := g.resident(h, p.r)
	g.add("RuleName", "-")
	g.add("EventType", "ConnectPipe")
	g.add("UtcTime", g.utc(t))
	g.add("ProcessGuid", guid)
	g.addNum("ProcessId", pid)
	g.add("PipeName", g.expand(h, p.name))
	g.add("Image", residents[p.r].exe.path)
	g.add("User", g.userOf(h, p.r))
}

// noiseDNS is Sysmon event 22.
func (g *Generator) noiseDNS(h *host, t int64) {
	g.begin(h, eid22, t)
	d := &dests[g.intn(len(dests))]
	r := []int{rChrome, rEdge, rSvcNetwork, rTeams, rOutlook, rOneDrive}[g.intn(6)]
	guid, pid := g.resident(h, r)
	g.addProcHeader(t, guid, pid)
	g.add("QueryName", g.expand(h, d.query))
	g.add("QueryStatus", "0")
	g.add("QueryResults", g.expand(h, d.results))
	g.add("Image", residents[r].exe.path)
	g.add("User", g.userOf(h, r))
}

// noiseRawRead is Sysmon event 9.
func (g *Generator) noiseRawRead(h *host, t int64) {
	g.begin(h, eid9, t)
	r := []int{rSvcSchedule, rMsMpEng, rWmiPrvSE, rSearchIdx}[g.intn(4)]
	g.procHeader(h, r, t)
	g.add("Device", []string{`\Device\HarddiskVolume3`, `\Device\Harddisk0\DR0`}[g.intn(2)])
	g.add("User", g.userOf(h, r))
}

// procSpec describes a process creation (Sysmon event 1).
type procSpec struct {
	exe                   *exe
	cmd, cwd              string
	user                  userKind
	integrity             string
	parentGUID, parentPID string
	parentImage           string
	parentCmd             string
	parentUser            userKind
}

// addProcessCreate adds the fields of Sysmon event 1 for p, as Sysmon 15
// orders them.
func (g *Generator) addProcessCreate(h *host, p *procSpec, t int64) {
	guid, pid := g.newProc(h, t)
	user, logonID, logonGUID := h.account(p.user)
	g.addProcHeader(t, guid, pid)
	g.add("Image", g.expand(h, p.exe.path))
	g.add("FileVersion", p.exe.version)
	g.add("Description", p.exe.desc)
	g.add("Product", h.product(p.exe))
	g.add("Company", p.exe.company)
	g.add("OriginalFileName", p.exe.orig)
	g.add("CommandLine", g.expand(h, p.cmd))
	g.add("CurrentDirectory", g.expand(h, p.cwd))
	g.add("User", user)
	g.add("LogonGuid", logonGUID)
	g.add("LogonId", logonID)
	g.addNum("TerminalSessionId", h.accounts[p.user].session)
	g.add("IntegrityLevel", p.integrity)
	g.add("Hashes", p.exe.hashes)
	g.add("ParentProcessGuid", p.parentGUID)
	g.addNum("ParentProcessId", p.parentPID)
	g.add("ParentImage", g.expand(h, p.parentImage))
	g.add("ParentCommandLine", g.expand(h, p.parentCmd))
	pu, _, _ := h.account(p.parentUser)
	g.add("ParentUser", pu)
}

// fromSpawn fills p from a noise template: a resident parent, or a
// transient one started a moment before t.
func (g *Generator) fromSpawn(h *host, s *spawn, t int64, p *procSpec) {
	*p = procSpec{exe: s.child, cmd: s.cmd, cwd: s.cwd, user: s.user, integrity: s.integrity}
	if s.parentExe != nil {
		p.parentGUID, p.parentPID = g.newProc(h, t-int64(g.intn(5000))*1e6)
		p.parentImage = s.parentExe.path
		p.parentCmd = s.parentCmd
		p.parentUser = residents[s.parentOf].user
		return
	}
	p.parentGUID, p.parentPID = g.resident(h, s.parent)
	p.parentImage = residents[s.parent].exe.path
	p.parentCmd = residents[s.parent].cmd
	p.parentUser = residents[s.parent].user
}

// noiseProcessCreate is Sysmon event 1 from an ordinary template.
func (g *Generator) noiseProcessCreate(h *host, t int64) {
	g.begin(h, eid1, t)
	var p procSpec
	g.fromSpawn(h, &noiseSpawns[g.pick(g.spawnTable)], t, &p)
	g.addProcessCreate(h, &p, t)
}

// noiseTerminate is Sysmon event 5.
func (g *Generator) noiseTerminate(h *host, t int64) {
	g.begin(h, eid5, t)
	s := &noiseSpawns[g.pick(g.spawnTable)]
	guid, pid := g.newProc(h, t-int64(1+g.intn(600))*1e9)
	g.addProcHeader(t, guid, pid)
	g.add("Image", g.expand(h, s.child.path))
	u, _, _ := h.account(s.user)
	g.add("User", u)
}
