package sysmongen

import (
	"strings"
	"unsafe"
)

// channel is an event log channel and its provider.
type channel struct {
	name, provider string
	guid           string // {lower-case}, as the event log renders it
	guidUpper      string // UPPER-CASE without braces, as evtx_dump writes it
	sysmon         bool
}

func newChannel(name, provider, guid string, sysmon bool) *channel {
	return &channel{name, provider, guid, strings.ToUpper(guid[1 : len(guid)-1]), sysmon}
}

var (
	chSysmon     = newChannel("Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon", "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}", true)
	chSecurity   = newChannel("Security", "Microsoft-Windows-Security-Auditing", "{54849625-5478-4994-a5ba-3e3b0328c30d}", false)
	chPowerShell = newChannel("Microsoft-Windows-PowerShell/Operational", "Microsoft-Windows-PowerShell", "{a0c1853b-5c40-4b15-8766-3cf1c58f985a}", false)
)

// eidInfo is what the event log says about one event id.
type eidInfo struct {
	id       int
	idText   string // decimal
	ch       *channel
	title    string // first line of the rendered message
	task     string // task display name (winlog.task, NXLog Category)
	taskNum  int
	version  int
	level    int
	keywords string
	ecs      string // ECS event.category and event.type, as JSON members
}

func sysmonEID(id int, idText, title, rule, ecs string, version int) *eidInfo {
	return &eidInfo{id: id, idText: idText, ch: chSysmon, title: title, task: title + " (rule: " + rule + ")",
		taskNum: id, version: version, level: 4, keywords: "0x8000000000000000", ecs: ecs}
}

var (
	eid1  = sysmonEID(1, "1", "Process Create", "ProcessCreate", `"category":["process"],"type":["start"]`, 5)
	eid3  = sysmonEID(3, "3", "Network connection detected", "NetworkConnect", `"category":["network"],"type":["connection","start","protocol"]`, 5)
	eid5  = sysmonEID(5, "5", "Process terminated", "ProcessTerminate", `"category":["process"],"type":["end"]`, 3)
	eid7  = sysmonEID(7, "7", "Image loaded", "ImageLoad", `"category":["process"],"type":["change"]`, 3)
	eid9  = sysmonEID(9, "9", "RawAccessRead detected", "RawAccessRead", `"category":["file"],"type":["access"]`, 2)
	eid10 = sysmonEID(10, "10", "Process accessed", "ProcessAccess", `"category":["process"],"type":["access"]`, 3)
	eid11 = sysmonEID(11, "11", "File created", "FileCreate", `"category":["file"],"type":["creation"]`, 2)
	eid12 = sysmonEID(12, "12", "Registry object added or deleted", "RegistryEvent", `"category":["configuration","registry"],"type":["change"]`, 2)
	eid13 = sysmonEID(13, "13", "Registry value set", "RegistryEvent", `"category":["configuration","registry"],"type":["change"]`, 2)
	eid18 = sysmonEID(18, "18", "Pipe Connected", "PipeEvent", `"category":["file"],"type":["access"]`, 1)
	eid22 = sysmonEID(22, "22", "Dns query", "DnsQuery", `"category":["network"],"type":["connection","protocol","info"]`, 5)
	eid23 = sysmonEID(23, "23", "File Delete archived", "FileDelete", `"category":["file"],"type":["deletion"]`, 5)

	eid4624 = &eidInfo{id: 4624, idText: "4624", ch: chSecurity, title: "An account was successfully logged on.", task: "Logon", taskNum: 12544, version: 2, level: 0, keywords: "0x8020000000000000"}
	eid4688 = &eidInfo{id: 4688, idText: "4688", ch: chSecurity, title: "A new process has been created.", task: "Process Creation", taskNum: 13312, version: 2, level: 0, keywords: "0x8020000000000000"}
	eid4104 = &eidInfo{id: 4104, idText: "4104", ch: chPowerShell, title: "Creating Scriptblock text (1 of 1):", task: "Execute a Remote Command", taskNum: 2, version: 1, level: 5, keywords: "0x0"}
)

// valType says how a field's value is typed where a shape keeps types
// (evtx_dump's map form); every other shape writes strings.
type valType uint8

const (
	vStr valType = iota
	vNum
	vBool
	vLit // a number or boolean given by hand (Event.Data): bare in every JSON shape
)

type field struct {
	name string
	val  string
	typ  valType
}

// event is one record before rendering. Its strings point into the
// catalog or into Generator.arena, valid until the next record.
type event struct {
	info    *eidInfo
	h       *host
	channel string // the channel as this host spells it
	t       int64  // UtcTime, Unix ns, millisecond precision
	logged  int64  // TimeCreated: when the event log wrote it (100 ns precision)
	record  uint64 // EventRecordID
	execPID uint32 // the publishing process (Sysmon service, lsass, powershell)
	execTID uint32
	fields  []field

	// What the renderers write as given (render.go): the shape's times,
	// formatted by stamp (or by hand, Event), and the exceptions a record
	// described by hand or a dead letter may need.
	ts         [3]string
	idQuoted   bool   // write the event id as a JSON string where a shape's may be either
	noComputer bool   // leave the endpoint's computer name out
	message    string // the rendered message; "" = composed from the fields
}

// arenaString returns arena[start:] as a string. The bytes are never
// written again before the next record: arena only grows within a record
// (a reallocation leaves the old array, and the strings, intact).
func (g *Generator) arenaString(start int) string {
	b := g.arena[start:]
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func (g *Generator) add(name, val string) {
	g.ev.fields = append(g.ev.fields, field{name, val, vStr})
}

// addProcHeader adds the fields that open most process-scoped events:
// RuleName, UtcTime (t), ProcessGuid and ProcessId.
func (g *Generator) addProcHeader(t int64, guid, pid string) {
	g.add("RuleName", "-")
	g.add("UtcTime", g.utc(t))
	g.add("ProcessGuid", guid)
	g.addNum("ProcessId", pid)
}

func (g *Generator) addNum(name, val string) {
	g.ev.fields = append(g.ev.fields, field{name, val, vNum})
}

func (g *Generator) addUint(name string, n uint64) {
	start := len(g.arena)
	g.arena = appendUint(g.arena, n)
	g.addNum(name, g.arenaString(start))
}

func (g *Generator) addBool(name string, b bool) {
	v := "false"
	if b {
		v = "true"
	}
	g.ev.fields = append(g.ev.fields, field{name, v, vBool})
}

// begin starts a record of event info on host h at event time t.
func (g *Generator) begin(h *host, info *eidInfo, t int64) {
	e := &g.ev
	e.info = info
	e.h = h
	e.channel = info.ch.name
	if info.ch == chSecurity && h.lowerSecurity {
		e.channel = "security"
	}
	e.t = t
	e.logged = t + int64(1000+g.intn(150_000))*100 // 0.1 to 15 ms later
	h.recordID += 1 + uint64(g.intn(3))
	e.record = h.recordID
	switch info.ch {
	case chSysmon:
		e.execPID = h.sysmonPID
		e.execTID = h.sysmonTIDs[g.intn(len(h.sysmonTIDs))]
	case chSecurity:
		e.execPID = h.res[rLsass].pid
		e.execTID = h.sysmonTIDs[0] + 4
	default:
		e.execPID = g.pid()
		e.execTID = g.pid()
	}
	e.fields = e.fields[:0]
	e.noComputer = false
}

// utc formats t as Sysmon's UtcTime.
func (g *Generator) utc(t int64) string {
	start := len(g.arena)
	g.arena = appendTime(g.arena, t, layoutUtcTime)
	return g.arenaString(start)
}

// pid returns a plausible Windows process id.
func (g *Generator) pid() uint32 { return uint32(4 * (100 + g.intn(16_000))) }

// procGUID formats a Sysmon process GUID: a per-host prefix, the process
// start time in seconds (low, then high 16 bits), a counter, a tail.
func (g *Generator) procGUID(h *host, startSec int64, counter uint16) string {
	start := len(g.arena)
	g.arena = appendGUID(g.arena, h.guidPrefix, uint32(startSec), counter, h.guidTail)
	return g.arenaString(start)
}

func appendGUID(dst []byte, prefix, startSec uint32, counter uint16, tail string) []byte {
	dst = appendGUIDHead(dst, prefix, startSec)
	dst = appendHexFixed(dst, uint64(counter&0xff)<<8|uint64(counter>>8), 4)
	dst = append(dst, '-')
	dst = append(dst, tail...)
	return append(dst, '}')
}

// appendGUIDHead appends what Sysmon's process and logon GUIDs start
// with: "{", the host's prefix, and a time in seconds, low then high 16
// bits, each group followed by "-".
func appendGUIDHead(dst []byte, prefix, sec uint32) []byte {
	dst = append(dst, '{')
	dst = appendHexFixed(dst, uint64(prefix), 8)
	dst = append(dst, '-')
	dst = appendHexFixed(dst, uint64(sec&0xffff), 4)
	dst = append(dst, '-')
	dst = appendHexFixed(dst, uint64(sec>>16), 4)
	return append(dst, '-')
}

// newProc makes up a process just started on h: its GUID and PID.
func (g *Generator) newProc(h *host, t int64) (guid, pid string) {
	h.guidCounter++
	guid = g.procGUID(h, t/1e9, h.guidCounter)
	start := len(g.arena)
	g.arena = appendUint(g.arena, uint64(g.pid()))
	return guid, g.arenaString(start)
}

// resident returns the GUID, PID (decimal) and image of resident r on h.
func (g *Generator) resident(h *host, r int) (guid, pid string) {
	p := &h.res[r]
	guid = g.procGUID(h, p.start, p.counter)
	start := len(g.arena)
	g.arena = appendUint(g.arena, uint64(p.pid))
	return guid, g.arenaString(start)
}

// account returns the user name, logon id and logon GUID of a user kind.
func (h *host) account(k userKind) (user, logonID, logonGUID string) {
	a := &h.accounts[k]
	return a.user, a.logonID, a.logonGUID
}

// expand fills the placeholders of a catalog template (see catalog.go).
func (g *Generator) expand(h *host, s string) string {
	i := strings.IndexByte(s, '{')
	if i < 0 {
		return s
	}
	start := len(g.arena)
	for i >= 0 {
		g.arena = append(g.arena, s[:i]...)
		s = s[i:]
		end := strings.IndexByte(s, '}')
		if end < 0 || end > 4 {
			g.arena = append(g.arena, '{')
			s = s[1:]
		} else {
			if !g.placeholder(h, s[1:end]) {
				g.arena = append(g.arena, s[:end+1]...)
			}
			s = s[end+1:]
		}
		i = strings.IndexByte(s, '{')
	}
	g.arena = append(g.arena, s...)
	return g.arenaString(start)
}

// placeholder appends the value of one placeholder, or reports false
// when name is not one (the braces are then kept).
func (g *Generator) placeholder(h *host, name string) bool {
	switch name {
	case "u":
		g.arena = append(g.arena, h.userName...)
	case "h":
		g.arena = append(g.arena, h.short...)
	case "d":
		g.arena = append(g.arena, g.netbios...)
	case "dns":
		g.arena = append(g.arena, g.cfg.Domain...)
	case "s":
		g.arena = append(g.arena, h.userSID...)
	case "ip":
		g.arena = append(g.arena, h.ip...)
	case "n":
		g.arena = appendUint(g.arena, uint64(1+g.intn(60)))
	case "p":
		g.arena = appendUint(g.arena, uint64(g.pid()))
	case "g":
		g.arena = appendRandGUID(g.arena, g.u64(), g.u64())
	case "x":
		g.arena = appendHexFixed(g.arena, g.u64(), 16)
	case "X":
		b := len(g.arena)
		g.arena = appendHexFixed(g.arena, g.u64(), 8)
		upper(g.arena[b:])
	default:
		return false
	}
	return true
}

// appendRandGUID appends a random upper-case GUID in braces.
func appendRandGUID(dst []byte, a, b uint64) []byte {
	start := len(dst)
	dst = append(dst, '{')
	dst = appendHexFixed(dst, a>>32, 8)
	dst = append(dst, '-')
	dst = appendHexFixed(dst, a>>16, 4)
	dst = append(dst, '-')
	dst = appendHexFixed(dst, a, 4)
	dst = append(dst, '-')
	dst = appendHexFixed(dst, b>>48, 4)
	dst = append(dst, '-')
	dst = appendHexFixed(dst, b, 12)
	dst = append(dst, '}')
	upper(dst[start:])
	return dst
}

func upper(b []byte) {
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
}

// product returns an image's Product as h's pipeline writes it.
func (h *host) product(x *exe) string {
	if h.mojibake && x.product == msProduct {
		return msProductMojibake
	}
	return x.product
}

// basename returns the part of a Windows path after the last backslash.
func basename(p string) string { return p[strings.LastIndexByte(p, '\\')+1:] }
