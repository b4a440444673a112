package backtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/msiguard/msiguard/detector"
)

// benchInput returns the file named by MSIGUARD_BENCH_FILE (a large
// recording; see BENCHMARKS.md), or a generated set of about 16 MB.
func benchInput(b *testing.B) (name string, data []byte, path string) {
	if p := os.Getenv("MSIGUARD_BENCH_FILE"); p != "" {
		if _, err := os.Stat(p); err != nil {
			b.Fatal(err)
		}
		return p, nil, p
	}
	g := generate(7, 60000)
	text := []byte(g.text("\n"))
	for len(text) < 16<<20 {
		text = append(text, text...)
	}
	return "generated", text, ""
}

// BenchmarkRunFiles measures a whole file replay (read, split, prefilter,
// detect, window, output) per block size, with the CPU count the benchmark
// runs with. Run it with MSIGUARD_BENCH_FILE=/path/to/big.jsonl for the
// figures in BENCHMARKS.md.
func BenchmarkRunFiles(b *testing.B) {
	name, data, path := benchInput(b)
	for _, mapped := range []bool{false, true} {
		for _, bs := range []int{256 << 10, 1 << 20, 4 << 20} {
			if mapped && path == "" {
				continue
			}
			b.Run(fmt.Sprintf("mapped=%v/block=%dKiB", mapped, bs>>10), func(b *testing.B) {
				d := detector.Seed()
				var size int64
				for b.Loop() {
					var in Input
					if path != "" {
						var closeIn func() error
						var err error
						in, closeIn, err = OpenFile(path)
						if err != nil {
							b.Fatal(err)
						}
						defer closeIn()
						if !mapped {
							in.Data = nil
						}
					} else {
						in = Input{Name: name, R: bytes.NewReader(data), Size: int64(len(data))}
					}
					size = in.Size
					e, err := New(Config{Detector: d, Alerts: io.Discard, BlockSize: bs})
					if err != nil {
						b.Fatal(err)
					}
					if _, err := e.RunFiles(context.Background(), []Input{in}); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(size)
			})
		}
	}
}

// BenchmarkScanBlock measures one worker's pass over 4 MiB blocks of whole
// lines (prefilter per 64 KiB, newline count, evaluation of hits), on one
// goroutine, and checks that it does not allocate when nothing hits.
func BenchmarkScanBlock(b *testing.B) {
	_, data, path := benchInput(b)
	if path != "" {
		in, closeIn, err := OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		defer closeIn()
		data = in.Data
	}
	var blocks [][]byte
	for pos := 0; pos < len(data) && len(blocks) < 64; {
		end := min(pos+4<<20, len(data))
		if i := bytes.LastIndexByte(data[pos:end], '\n'); i >= 0 && end < len(data) {
			end = pos + i + 1
		}
		blocks = append(blocks, bytes.Clone(data[pos:end]))
		pos = end
	}
	e, err := New(Config{Detector: detector.Seed(), Alerts: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	var size int64
	for _, blk := range blocks {
		size += int64(len(blk))
	}
	defer func(old int) { subBlock = old }(subBlock)
	for _, sb := range []int{8 << 10, 16 << 10, 64 << 10, 256 << 10} {
		b.Run(fmt.Sprintf("sub=%dKiB", sb>>10), func(b *testing.B) {
			subBlock = sb
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				for _, blk := range blocks {
					e.scanLines(&block{data: blk})
				}
			}
		})
	}
}
