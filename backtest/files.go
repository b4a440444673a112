package backtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
)

// Input is one file to replay.
type Input struct {
	// Name identifies the file in alert sources and dead letters ("-" for
	// standard input, by convention).
	Name string
	// R reads the file as stored: JSON lines or raw XML lines, plain or
	// compressed with gzip, zstd, xz or bzip2 (recognized by their magic
	// bytes, not the name; concatenated gzip members are read as one
	// stream). A file whose start is not text is refused (ErrNotText,
	// ErrUTF16). The engine does not close it.
	R io.Reader
	// Size is the number of bytes R holds, for progress; 0 or less when
	// unknown.
	Size int64
	// Data, when not nil, is the whole file in memory (OpenFile maps it),
	// read in place instead of through R: no copy, blocks are slices of it.
	// It must not change during the run.
	Data []byte
}

// ErrLineTooLong is wrapped by the error a run returns when a file holds a
// line longer than Config.MaxLineBytes.
var ErrLineTooLong = errors.New("line too long")

// subBlock is the size of the pieces a block is prefiltered in: big enough
// that the per-call cost vanishes (about 1% at 16 KiB), small enough that a
// piece that hits, whose lines are then prefiltered one by one (a second
// pass), is a small share of the input even where 1% of the lines hold the
// term (about 6% of 16 KiB pieces of 2 KB lines, against 21% at 64 KiB).
// A variable only so that BenchmarkScanBlock can compare sizes.
var subBlock = 16 << 10

// RunFiles replays inputs in order and returns the summary. It returns the
// first error (reading an input, writing the output, ctx's); the summary
// then covers what was applied before it.
func (e *Engine) RunFiles(ctx context.Context, inputs []Input) (Summary, error) {
	sum := newSummary()
	if err := e.start(); err != nil {
		sum.setStatus(ctx, err)
		return sum, err
	}
	var total int64
	for i, in := range inputs {
		if in.R == nil && in.Data == nil {
			err := fmt.Errorf("%w: input %d (%q) has neither R nor Data", ErrConfig, i, in.Name)
			sum.setStatus(ctx, err)
			return sum, err
		}
		sum.Inputs = append(sum.Inputs, in.Name)
		if in.Size <= 0 {
			total = -1
		} else if total >= 0 {
			total += in.Size
		}
	}
	e.inTotal.Store(total)
	err := e.execute(ctx, &sum, func(p *pipeline, todo chan<- *block) error {
		r := fileReader{p: p, todo: todo, pool: make(chan []byte, e.cfg.Workers+3)}
		for range cap(r.pool) {
			r.pool <- make([]byte, e.cfg.BlockSize)
		}
		for i, in := range inputs {
			if err := r.read(i, in); err != nil {
				return err
			}
		}
		return nil
	})
	sum.InputBytes = e.inRead.Load()
	return sum, err
}

// fileReader cuts files into blocks of whole lines.
type fileReader struct {
	p     *pipeline
	todo  chan<- *block
	pool  chan []byte
	seq   int64
	carry []byte // the unterminated tail of the previous block
}

// countingReader counts the bytes read through it into the engine's
// progress.
type countingReader struct {
	r io.Reader
	e *Engine
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.e.inRead.Add(int64(n))
	return n, err
}

// ErrUTF16 is wrapped by the error a run returns for a file that starts
// with a UTF-16 byte order mark (some Windows exports): its text holds no
// ASCII msiexec token, so replaying it as is would find nothing.
var ErrUTF16 = errors.New("file is UTF-16")

// readMapped cuts an in-memory file into blocks that are slices of it.
func (r *fileReader) readMapped(index int, in Input) error {
	e := r.p.e
	data := in.Data
	if err := checkText(in.Name, data); err != nil {
		return err
	}
	for pos := 0; pos < len(data); {
		end := min(pos+e.cfg.BlockSize, len(data))
		if end < len(data) {
			if i := bytes.LastIndexByte(data[pos:end], '\n'); i >= 0 {
				end = pos + i + 1
			} else if i := bytes.IndexByte(data[end:], '\n'); i >= 0 && end+i+1-pos <= e.cfg.MaxLineBytes {
				end += i + 1
			} else if i < 0 && len(data)-pos <= e.cfg.MaxLineBytes {
				end = len(data)
			} else {
				return fmt.Errorf("%s: line %d is longer than %d bytes: %w (is this a JSON-lines or XML-lines file?)",
					in.Name, bytes.Count(data[:pos], nl)+1, e.cfg.MaxLineBytes, ErrLineTooLong)
			}
		}
		b := &block{seq: r.seq, input: index, data: data[pos:end:end]}
		r.seq++
		e.inRead.Add(int64(end - pos))
		if !r.p.send(r.todo, b) {
			return nil
		}
		pos = end
	}
	return nil
}

func (r *fileReader) read(index int, in Input) error {
	e := r.p.e
	if in.Data != nil {
		if compressionOf(in.Data[:min(len(in.Data), magicLen)]) == formatPlain {
			return r.readMapped(index, in)
		}
		in.R = bytes.NewReader(in.Data)
	}
	br := bufio.NewReaderSize(countingReader{in.R, e}, 64<<10)
	magic, _ := br.Peek(magicLen)
	format := compressionOf(magic)
	src, release, err := decompressor(format, br)
	if err != nil {
		return fmt.Errorf("%s: reading the %s header: %w", in.Name, format, err)
	}
	defer release()
	r.carry = r.carry[:0]
	var lineBase int64 // for error messages only: lines before the current buffer
	for first := true; ; first = false {
		var buf []byte
		select {
		case buf = <-r.pool:
		case <-r.p.ctx.Done():
			return nil
		}
		buf = buf[:cap(buf)]
		n := copy(buf, r.carry)
		eof := false
		for !eof {
			for n < len(buf) {
				m, err := src.Read(buf[n:])
				n += m
				if err == io.EOF {
					eof = true
					break
				}
				if err != nil {
					// Whole lines read before the error are still
					// replayed: a partial result ends exactly there.
					if cut := bytes.LastIndexByte(buf[:n], '\n') + 1; cut > 0 {
						r.p.send(r.todo, &block{seq: r.seq, input: index, data: buf[:cut], pool: r.pool})
						r.seq++
					} else {
						r.pool <- buf
					}
					if format != formatPlain {
						return fmt.Errorf("%s: %s: %w", in.Name, format, err)
					}
					return fmt.Errorf("%s: %w", in.Name, err)
				}
			}
			if eof || bytes.LastIndexByte(buf[:n], '\n') >= 0 {
				break
			}
			// One line fills the buffer: grow it.
			if len(buf) >= e.cfg.MaxLineBytes {
				return fmt.Errorf("%s: line %d is longer than %d bytes: %w (is this a JSON-lines or XML-lines file?)",
					in.Name, lineBase+1, e.cfg.MaxLineBytes, ErrLineTooLong)
			}
			bigger := make([]byte, min(2*len(buf), e.cfg.MaxLineBytes))
			copy(bigger, buf[:n])
			buf = bigger
		}
		if first {
			if err := checkText(in.Name, buf[:n]); err != nil {
				r.pool <- buf
				return err
			}
		}
		cut := n
		if !eof {
			cut = bytes.LastIndexByte(buf[:n], '\n') + 1
		}
		r.carry = append(r.carry[:0], buf[cut:n]...)
		if cut == 0 {
			r.pool <- buf // empty input (never blocks: the buffer came from the pool)
		} else {
			b := &block{seq: r.seq, input: index, data: buf[:cut], pool: r.pool}
			r.seq++
			if !r.p.send(r.todo, b) {
				return nil
			}
		}
		if eof {
			return nil
		}
		lineBase += int64(bytes.Count(buf[:cut], nl)) // only to name a too-long line
	}
}

var nl = []byte{'\n'}

// scanLines prefilters a block of whole lines and evaluates the lines that
// hit; see the package documentation.
func (e *Engine) scanLines(b *block) {
	d := e.det
	data := b.data
	var lines int64
	counted := 0 // data[:counted] has been counted into lines
	for pos := 0; pos < len(data); {
		end := pos + subBlock
		if end >= len(data) {
			end = len(data)
		} else if i := bytes.IndexByte(data[end:], '\n'); i < 0 {
			end = len(data)
		} else {
			end += i + 1
		}
		if d.Prefilter(data[pos:end]) {
			for ls := pos; ls < end; {
				le := ls + bytes.IndexByte(data[ls:end], '\n')
				next := le + 1
				if le < ls {
					le, next = end, end
				}
				line := data[ls:le]
				if d.Prefilter(line) {
					lines += int64(bytes.Count(data[counted:ls], nl))
					counted = ls
					if n := len(line); n > 0 && line[n-1] == '\r' {
						line = line[:n-1]
					}
					b.evaluate(d, line, lines+1)
				}
				ls = next
			}
		}
		pos = end
	}
	lines += int64(bytes.Count(data[counted:], nl))
	if n := len(data); n > 0 && data[n-1] != '\n' {
		lines++ // the unterminated last line of a file
	}
	b.lines = lines
	b.size = int64(len(data))
	if b.pool != nil {
		b.pool <- data[:cap(data)]
	}
	b.data = nil
}
