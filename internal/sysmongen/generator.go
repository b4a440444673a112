package sysmongen

import (
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// account is one logon session as Sysmon reports it.
type account struct {
	user, logonID, logonGUID string
	session                  string // TerminalSessionId
}

// residentProc is a resident process instantiated on one host.
type residentProc struct {
	pid     uint32
	start   int64 // start time, Unix seconds
	counter uint16
}

// host is one endpoint and the pipeline that ships its events.
type host struct {
	index       int
	name        string // Computer, as the records spell it
	short, fqdn string
	shape       Shape
	variant     int    // shape sub-variant, see render.go
	collector   string // the shipper's host name (host.name, NXLog host)
	envSkew     int64  // added to envelope times (mislabelled local time)
	tzOffset    int64  // NXLog EventTime local offset from UTC
	port        string // NXLog/Logstash source port
	agentID     string

	userName, user, userSID string
	accounts                [uUser + 1]account
	ip                      string

	guidPrefix  uint32
	guidTail    string
	guidCounter uint16
	recordID    uint64
	sysmonPID   uint32
	sysmonTIDs  [4]uint32
	res         [numResidents]residentProc

	mojibake      bool // writes Microsoft® as MicrosoftÂ® (some NXLog hosts)
	lowerSecurity bool // spells the Security channel "security"
}

// Generator produces a deterministic stream of raw Sysmon records. It is
// not safe for concurrent use; run one Generator per goroutine (with
// different seeds) to generate in parallel.
type Generator struct {
	cfg     Config
	pcg     *rand.PCG
	hosts   []host
	slots   []int32 // host indices, repeated by activity weight
	netbios string

	startNs int64
	eps     uint64
	seq     uint64 // records produced
	jitter  int64
	late    int64

	// Decision thresholds, cumulative, per non-burst record.
	pAttack, pDecoy, pForeign, pDead float64

	noiseTable   []uint8 // weighted noise event kinds
	spawnTable   []uint8
	decoyTable   []uint8
	attackTable  []uint8
	foreignTable []uint8

	// The record being built.
	arena []byte
	tmp   []byte  // scratch for nested renderings (Sentinel's EventData XML)
	rest  []field // scratch for the ECS renderer
	// Field values JSON-escaped once per record (escapeFields): esc holds
	// them back to back, escEnd[i] is where value i ends.
	esc    []byte
	escEnd []int
	ev     event
	meta   Meta

	// An attack burst in progress: steps[next:] remain.
	burst      []attackStep
	burstNext  int
	burstShift int64 // jitter/late subtracted from the burst's times
	burstLate  bool
	burstHost  *host
	deadSteps  []attackStep // scratch for dead letters

	st      statsCounters
	buckets map[bucketKey]struct{}
}

type bucketKey struct {
	host int32
	sec  int64
}

type statsCounters struct {
	records, bytes                  int64
	byShape                         [16]int64
	byEventID                       map[int]int64
	noise, decoys, foreign, attacks int64
	deadLetters                     int64
	bursts, buckets, late           int64
	minTime, maxTime                int64
	hasTime                         bool
}

// New returns a Generator for cfg, or an error wrapping ErrConfig.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	g := &Generator{
		cfg:     cfg,
		pcg:     rand.NewPCG(cfg.Seed, 0x6d736967756172), // "msiguar"
		startNs: cfg.Start.UnixNano(),
		eps:     uint64(cfg.EventsPerSecond),
		jitter:  int64(cfg.Jitter),
		late:    int64(cfg.Late),
		arena:   make([]byte, 0, 16<<10),
		tmp:     make([]byte, 0, 4<<10),
		buckets: make(map[bucketKey]struct{}),
	}
	g.st.byEventID = make(map[int]int64)
	g.ev.fields = make([]field, 0, 32)
	label, _, _ := strings.Cut(cfg.Domain, ".")
	g.netbios = strings.ToUpper(label)
	g.buildTables()
	g.buildHosts()

	// Per decision: an attack burst of mean size m with probability pa, a
	// decoy pd, a foreign record pf, else noise. The expected fraction of
	// attack records is pa*m/E with E = 1 + pa*(m-1) records per decision.
	m := meanBurst()
	a := cfg.AttackRate
	pa := a / (m - a*(m-1))
	e := 1 + pa*(m-1)
	g.pAttack = pa
	g.pDecoy = pa + cfg.DecoyRate*e
	g.pForeign = g.pDecoy + cfg.ForeignRate*e
	g.pDead = g.pForeign + cfg.DeadLetterRate*e
	return g, nil
}

// Config returns the configuration in use, defaults applied.
func (g *Generator) Config() Config {
	c := g.cfg
	c.Shapes = slices.Clone(c.Shapes)
	return c
}

// Random numbers. Every draw comes from the one PCG, in a fixed order, so
// the stream depends on nothing but the seed and the config.

func (g *Generator) u64() uint64 { return g.pcg.Uint64() }

// intn returns a number in [0, n) for 0 < n < 2^32 (multiply-shift; its
// bias, below 2^-32, does not matter here).
func (g *Generator) intn(n int) int { return int((g.pcg.Uint64() >> 32) * uint64(n) >> 32) }

// chance reports true with probability p.
func (g *Generator) chance(p float64) bool {
	return float64(g.pcg.Uint64()>>11)*(1.0/(1<<53)) < p
}

func (g *Generator) float() float64 { return float64(g.pcg.Uint64()>>11) * (1.0 / (1 << 53)) }

// weighted expands weights into a lookup table of indices.
func weighted[T any](items []T, weight func(T) int) []uint8 {
	var t []uint8
	for i, it := range items {
		for range weight(it) {
			t = append(t, uint8(i))
		}
	}
	return t
}

func (g *Generator) pick(table []uint8) int { return int(table[g.intn(len(table))]) }

func (g *Generator) buildTables() {
	g.noiseTable = weighted(noiseKinds, func(k noiseKind) int { return k.weight })
	g.spawnTable = weighted(noiseSpawns, func(s spawn) int { return s.weight })
	g.decoyTable = weighted(decoys, func(d decoy) int { return d.weight })
	g.attackTable = weighted(incidents, func(k incident) int { return k.weight })
	g.foreignTable = weighted(foreigns, func(f foreign) int { return f.weight })
}

func (g *Generator) buildHosts() {
	cfg := &g.cfg
	g.hosts = make([]host, cfg.Hosts)
	sidA, sidB, sidC := 1000000000+g.intn(1<<31-1000000000), 1000000000+g.intn(1<<31-1000000000), 1000000000+g.intn(1<<31-1000000000)
	tails := []string{"000000000800", "000000000a00", "000000000700", "000000001000"}
	for i := range g.hosts {
		h := &g.hosts[i]
		h.index = i
		weight := 1 + g.intn(3)
		switch {
		case i == 0:
			h.short = "DC01"
			weight = 6
		case i%20 == 1:
			h.short = "SRV-" + serverRoles[(i/20)%len(serverRoles)] + "-" + string(appendPad(nil, i/20+1, 2))
			weight = 4
		default:
			h.short = "WS-" + departments[i%len(departments)] + "-" + string(appendPad(nil, i, 4))
		}
		h.fqdn = h.short + "." + cfg.Domain
		h.name = h.fqdn
		if g.chance(cfg.ShortNames) {
			h.name = h.short
		}
		for range weight {
			g.slots = append(g.slots, int32(i))
		}

		h.shape = cfg.Shapes[i%len(cfg.Shapes)]
		round := i / len(cfg.Shapes)
		switch h.shape {
		case ShapeWinlogbeat:
			h.variant = round % 2 // 0: Winlogbeat 7 (ints), 1: Winlogbeat 8 (strings)
		case ShapeFlat:
			h.variant = round % 3 // 0: OTRF export, 1: NXLog, 2: Sentinel export
		case ShapeXML:
			h.variant = round % 2 // 1: with RenderingInfo
		}
		c := collectors[g.intn(len(collectors))]
		if c != "WECServer" {
			c += "." + cfg.Domain
		}
		h.collector = c
		if h.shape == ShapeFlat {
			switch h.variant {
			case 0:
				if g.chance(0.5) {
					h.envSkew = -19 * int64(time.Hour) // OTRF: @timestamp 19 h before UtcTime
				}
			case 1:
				h.collector = "nxlog-" + c
				h.tzOffset = []int64{-4, -5, 1, 2}[g.intn(4)] * int64(time.Hour)
				h.mojibake = g.chance(0.3)
			case 2:
				h.envSkew = 8 * int64(time.Hour) // Sentinel: TimeCreated is local time labelled Z
			}
		}
		h.port = string(appendUint(nil, uint64(49152+g.intn(16000))))
		h.agentID = string(appendRandGUID(nil, g.u64(), g.u64()))
		h.agentID = strings.ToLower(h.agentID[1 : len(h.agentID)-1])
		h.lowerSecurity = g.chance(0.3)

		first, last := firstNames[g.intn(len(firstNames))], lastNames[g.intn(len(lastNames))]
		h.userName = first + "." + last
		h.user = g.netbios + `\` + h.userName
		h.userSID = "S-1-5-21-" + itoa(sidA) + "-" + itoa(sidB) + "-" + itoa(sidC) + "-" + itoa(1100+i)
		h.ip = "10." + itoa(1+i/65536%250) + "." + itoa(i/256%256) + "." + itoa(10+i%240)

		h.guidPrefix = uint32(g.u64())
		h.guidTail = tails[g.intn(len(tails))]
		boot := g.startNs/1e9 - int64(3600+g.intn(10*86400))
		logon := boot + int64(60+g.intn(600))
		userLogon := uint64(0x30000 + g.intn(0xfffff))
		h.accounts[uSystem] = account{`NT AUTHORITY\SYSTEM`, "0x3e7", string(appendLogonGUID(nil, h.guidPrefix, uint32(boot), 0x3e7)), "0"}
		h.accounts[uNetworkService] = account{`NT AUTHORITY\NETWORK SERVICE`, "0x3e4", string(appendLogonGUID(nil, h.guidPrefix, uint32(boot), 0x3e4)), "0"}
		h.accounts[uLocalService] = account{`NT AUTHORITY\LOCAL SERVICE`, "0x3e5", string(appendLogonGUID(nil, h.guidPrefix, uint32(boot), 0x3e5)), "0"}
		h.accounts[uUser] = account{h.user, "0x" + string(appendHex(nil, userLogon)), string(appendLogonGUID(nil, h.guidPrefix, uint32(logon), userLogon)), itoa(1 + g.intn(2))}

		h.recordID = uint64(10_000 + g.intn(5_000_000))
		h.sysmonPID = g.pid()
		for j := range h.sysmonTIDs {
			h.sysmonTIDs[j] = g.pid()
		}
		for r := range h.res {
			start := boot + int64(r)
			if residents[r].user == uUser {
				start = logon + int64(r)
			}
			h.guidCounter++
			h.res[r] = residentProc{pid: g.pid(), start: start, counter: h.guidCounter}
		}
	}
}

func itoa(n int) string { return string(appendUint(nil, uint64(n))) }

// appendLogonGUID formats Sysmon's LogonGuid: prefix, logon time, and the
// logon id's little-endian bytes.
func appendLogonGUID(dst []byte, prefix, logonSec uint32, id uint64) []byte {
	dst = appendGUIDHead(dst, prefix, logonSec)
	dst = appendHexFixed(dst, id&0xff, 2)
	dst = appendHexFixed(dst, id>>8&0xff, 2)
	dst = append(dst, '-')
	dst = appendHexFixed(dst, id>>16&0xff, 2)
	dst = appendHexFixed(dst, id>>24&0xff, 2)
	dst = append(dst, "00000000"...)
	return append(dst, '}')
}

// nominal returns the nominal event time of record i, in Unix ns.
func (g *Generator) nominal(i uint64) int64 {
	return g.startNs + int64(i/g.eps)*1e9 + int64(i%g.eps*1e9/g.eps)
}

// shift draws how far back in event time a record (or burst) moves.
func (g *Generator) shift() (int64, bool) {
	var d int64
	if g.jitter > 0 {
		d = int64(g.u64() % uint64(g.jitter))
	}
	if g.cfg.LateRate > 0 && g.chance(g.cfg.LateRate) {
		return d + g.late, true
	}
	return d, false
}

func msFloor(t int64) int64 { return t - t%1e6 }

// Next appends one record to dst and returns the extended slice. The
// record is a single line of JSON or XML, without a trailing newline. Next
// never fails.
func (g *Generator) Next(dst []byte) []byte {
	g.arena = g.arena[:0]
	i := g.seq
	g.seq++
	nominal := g.nominal(i)
	late, truncate := false, false
	var h *host
	m := &g.meta
	*m = Meta{}

	if g.burstNext < len(g.burst) {
		step := &g.burst[g.burstNext]
		g.burstNext++
		h, late = g.burstHost, g.burstLate
		g.buildAttack(h, step, msFloor(nominal-g.burstShift))
	} else {
		u := g.float()
		switch {
		case u < g.pAttack:
			h = &g.hosts[g.intn(len(g.hosts))]
			g.startBurst(h, i, nominal)
			late = g.burstLate
			step := &g.burst[0]
			g.burstNext = 1
			g.buildAttack(h, step, msFloor(nominal-g.burstShift))
		case u < g.pDecoy:
			h = &g.hosts[g.slots[g.intn(len(g.slots))]]
			var d int64
			d, late = g.shift()
			g.buildDecoy(h, msFloor(nominal-d))
		case u < g.pForeign:
			h = &g.hosts[g.slots[g.intn(len(g.slots))]]
			var d int64
			d, late = g.shift()
			g.buildForeign(h, msFloor(nominal-d))
		case u < g.pDead:
			h = &g.hosts[g.slots[g.intn(len(g.slots))]]
			var d int64
			d, late = g.shift()
			truncate = g.buildDeadLetter(h, msFloor(nominal-d))
		default:
			h = &g.hosts[g.slots[g.intn(len(g.slots))]]
			var d int64
			d, late = g.shift()
			g.buildNoise(h, msFloor(nominal-d))
		}
	}
	start := len(dst)
	dst, shape := g.render(dst, &g.ev)
	if truncate {
		dst = dst[:start+(len(dst)-start)/2]
	}

	m.Shape = shape
	m.Sysmon = g.ev.info.ch.sysmon
	m.EventID = g.ev.info.id
	m.Host = h.name
	m.HostIndex = h.index
	m.Time = time.Unix(0, g.ev.t).UTC()
	m.Late = late
	g.count(m, g.ev.t, int64(len(dst)-start))
	return dst
}

// startBurst draws an attack incident on h and fits it into one second.
func (g *Generator) startBurst(h *host, i uint64, nominal int64) {
	g.burstShift, g.burstLate = g.shift()
	t0 := msFloor(nominal - g.burstShift)
	inc := &incidents[g.pick(g.attackTable)]
	g.burst = inc.build(g, h, t0, g.burst[:0])
	g.burstHost = h
	// Keep only the steps whose time falls in the first one's second: the
	// point of a burst is several events in one bucket.
	sec := t0 / 1e9
	k := 1
	for k < len(g.burst) && msFloor(g.nominal(i+uint64(k))-g.burstShift)/1e9 == sec {
		k++
	}
	g.burst = g.burst[:k]
	g.st.bursts++
}

// Meta describes the record last returned by Next.
func (g *Generator) Meta() Meta { return g.meta }

func (g *Generator) count(m *Meta, t int64, n int64) {
	s := &g.st
	s.records++
	s.bytes += n
	s.byShape[m.Shape]++
	s.byEventID[m.EventID]++
	switch m.Kind {
	case KindNoise:
		s.noise++
	case KindDecoy:
		s.decoys++
	case KindForeign:
		s.foreign++
	case KindDeadLetter:
		s.deadLetters++
	case KindAttack:
		s.attacks++
		k := bucketKey{int32(m.HostIndex), floorDiv(t, 1e9)}
		if _, ok := g.buckets[k]; !ok {
			g.buckets[k] = struct{}{}
			s.buckets++
			if len(g.buckets) > 1<<14 {
				g.pruneBuckets()
			}
		}
	}
	if m.Late {
		s.late++
	}
	if !s.hasTime || t < s.minTime {
		s.minTime = t
	}
	if !s.hasTime || t > s.maxTime {
		s.maxTime = t
	}
	s.hasTime = true
}

// pruneBuckets forgets attack buckets too old for any later record to
// fall into (records are at most Jitter + Late behind the nominal time).
func (g *Generator) pruneBuckets() {
	horizon := floorDiv(g.nominal(g.seq)-g.jitter-g.late, 1e9) - 2
	for k := range g.buckets {
		if k.sec < horizon {
			delete(g.buckets, k)
		}
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// Stats returns what the generator has produced so far.
func (g *Generator) Stats() Stats {
	s := &g.st
	out := Stats{
		Records: s.records, Bytes: s.bytes,
		ByShape:   make(map[Shape]int64),
		ByEventID: make(map[int]int64, len(s.byEventID)),
		Noise:     s.noise, Decoys: s.decoys, Foreign: s.foreign, Attacks: s.attacks, DeadLetters: s.deadLetters,
		AttackBursts: s.bursts, AttackBuckets: s.buckets, Late: s.late,
	}
	for sh, n := range s.byShape {
		if n > 0 {
			out.ByShape[Shape(sh)] = n
		}
	}
	for id, n := range s.byEventID {
		out.ByEventID[id] = n
	}
	if s.hasTime {
		out.MinTime = time.Unix(0, s.minTime).UTC()
		out.MaxTime = time.Unix(0, s.maxTime).UTC()
	}
	return out
}

// Hosts returns the endpoints' computer names, as the records spell them,
// indexed by Meta.HostIndex.
func (g *Generator) Hosts() []string {
	out := make([]string, len(g.hosts))
	for i := range g.hosts {
		out[i] = g.hosts[i].name
	}
	return out
}
