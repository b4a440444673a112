// Package streamtest makes streams of Sysmon records for the pipeline's
// tests, crash test and benchmark, and computes the alerts the pipeline
// must publish for them. It is not used by msiguard itself.
//
// The records come from internal/sysmongen, the generator the demo and
// `msiguard gen` use (all seven shapes, attacks modelled on Atomic Red
// Team T1218.007, decoys, foreign channels), with rates fit for tests and
// its dead letters turned on; each record carries its kind. The alerts
// expected are computed from the records by the detector (Expect), not
// from what the generator meant.
//
// It imports detector, rules, window, kafkaio, internal/sysmongen and
// kafka-go; only tests import it.
package streamtest

import (
	"cmp"
	"fmt"
	"time"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/sysmongen"
)

// Record is one generated record.
type Record struct {
	Kind  sysmongen.Kind // what the record is meant to be for the seed rule
	Shape detector.Shape
	Host  string    // the endpoint (a dead letter may leave it out of Value)
	Time  time.Time // Sysmon UtcTime
	Value []byte
}

// Options tune a Generator. Zero fields take the defaults; a negative rate
// means none.
type Options struct {
	Seed uint64
	// Hosts is the number of endpoints, each shipping in one of the seven
	// shapes (host i in the i-th, round robin). Default 20.
	Hosts int
	// Start is the event time of the first record; records follow 2 ms
	// apart. Default sysmongen.DefaultStart, 2025-03-06T10:00:00Z.
	Start time.Time
	// AttackRate, NearMissRate (records that mention msiexec and must not
	// match: sysmongen's decoys) and DeadLetterRate are fractions of all
	// records. Defaults 0.02, 0.01 and 0.002. Foreign-channel records
	// come at sysmongen's default rate.
	AttackRate, NearMissRate, DeadLetterRate float64
}

// Generator produces a deterministic stream of records. The zero value is
// not usable; use New.
type Generator struct {
	g *sysmongen.Generator
}

// New returns a Generator. It panics on options sysmongen rejects: they
// are a test's own mistake.
func New(o Options) *Generator {
	g, err := sysmongen.New(sysmongen.Config{
		Seed: o.Seed, Hosts: cmp.Or(o.Hosts, 20), Start: o.Start, EventsPerSecond: 500,
		AttackRate:     cmp.Or(o.AttackRate, 0.02),
		DecoyRate:      cmp.Or(o.NearMissRate, 0.01),
		DeadLetterRate: cmp.Or(o.DeadLetterRate, 0.002),
	})
	if err != nil {
		panic(fmt.Sprintf("streamtest: %v", err))
	}
	return &Generator{g: g}
}

// Next returns the next record.
func (g *Generator) Next() Record {
	v := g.g.Next(nil)
	m := g.g.Meta()
	return Record{Kind: m.Kind, Shape: detector.Shape(m.Shape), Host: m.Host, Time: m.Time, Value: v}
}

// Records returns the next n records.
func (g *Generator) Records(n int) []Record {
	out := make([]Record, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}
