package sysmongen

import (
	"testing"
)

// BenchmarkNext measures generation throughput (MB/s of record bytes) for
// the default mix of shapes and for each shape alone.
func BenchmarkNext(b *testing.B) {
	run := func(b *testing.B, cfg Config) {
		g := mustNew(b, cfg)
		buf := make([]byte, 0, 64<<10)
		var total int64
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			buf = g.Next(buf[:0])
			total += int64(len(buf))
		}
		b.SetBytes(total / int64(b.N))
	}
	b.Run("mixed", func(b *testing.B) { run(b, Config{Seed: 1}) })
	for _, s := range Shapes() {
		b.Run(s.String(), func(b *testing.B) { run(b, Config{Seed: 1, Shapes: []Shape{s}}) })
	}
}
