package backtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/window"
)

// ErrUsed is returned by a second Run on the same Engine.
var ErrUsed = errors.New("backtest: an Engine runs once; make a new one")

// Engine replays one input (a list of files, or one topic range) through the
// detector and a backtest-mode window. Make one with New, run it once with
// RunFiles or RunTopic. Progress may be called from any goroutine while it
// runs.
type Engine struct {
	cfg  Config
	det  *detector.Detector
	used atomic.Bool

	// Progress counters, written by the pipeline, read by Progress.
	inRead   atomic.Int64 // input bytes read (as stored: compressed size for compressed files)
	inTotal  atomic.Int64 // input bytes in all, -1 unknown
	records  atomic.Int64 // records applied
	bytes    atomic.Int64 // record bytes applied (uncompressed)
	hits     atomic.Int64
	matches  atomic.Int64
	alerts   atomic.Int64 // distinct alert ids emitted
	dead     atomic.Int64
	offDone  atomic.Int64 // topic: offsets of the range consumed
	offTotal atomic.Int64 // topic: offsets in the range
}

// New returns an Engine for cfg.
func New(cfg Config) (*Engine, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	for _, wc := range cfg.windows() {
		if err := wc.Validate(); err != nil {
			return nil, fmt.Errorf("rule %s: %w", wc.RuleID, err)
		}
	}
	e := &Engine{cfg: cfg, det: cfg.Detector}
	e.inTotal.Store(-1)
	return e, nil
}

// Progress is a snapshot of a running Engine's counters.
type Progress struct {
	Records       int64
	Bytes         int64 // record bytes (uncompressed)
	InputBytes    int64 // bytes read from the inputs as stored
	PrefilterHits int64
	Matches       int64
	Alerts        int64
	DeadLetters   int64
	// Done is the fraction of the input consumed, in [0, 1]: of the files'
	// size on disk, or of the topic's offset range. -1 when unknown (stdin,
	// a pipe).
	Done float64
}

// Progress returns the current counters. Safe for concurrent use.
func (e *Engine) Progress() Progress {
	p := Progress{
		Records:       e.records.Load(),
		Bytes:         e.bytes.Load(),
		InputBytes:    e.inRead.Load(),
		PrefilterHits: e.hits.Load(),
		Matches:       e.matches.Load(),
		Alerts:        e.alerts.Load(),
		DeadLetters:   e.dead.Load(),
		Done:          -1,
	}
	if t := e.offTotal.Load(); t > 0 {
		p.Done = min(float64(e.offDone.Load())/float64(t), 1)
	} else if t := e.inTotal.Load(); t > 0 {
		p.Done = min(float64(p.InputBytes)/float64(t), 1)
	} else if t == 0 {
		p.Done = 1
	}
	return p
}

// block is the unit of work: whole lines of one file, or a batch of topic
// records. The reader fills data or recs; a worker scans it and fills the
// results; the sequencer applies the results in seq order.
type block struct {
	seq   int64
	input int    // index of the file
	data  []byte // whole lines; returned to the pool by the worker
	pool  chan []byte
	recs  []Record
	topic string

	// Results.
	lines int64 // newline-terminated lines, plus an unterminated last one
	size  int64 // bytes scanned
	hits  int64
	near  map[detector.NearMiss]int64
	items []item
	found []detector.Match // EvaluateAll's, reused
}

// item is one prefilter hit that matched a rule (one item per rule
// matched) or became a dead letter.
type item struct {
	pos  int64 // file: line within the block, 1-based; topic: index in recs
	m    detector.Match
	err  *detector.Error
	text []byte // dead letters only: a copy of the record
}

// evaluate runs the detector on one hit and records what it found.
func (b *block) evaluate(d *detector.Detector, raw []byte, pos int64) {
	b.hits++
	ms, near, err := d.EvaluateAll(raw, b.found[:0])
	b.found = ms
	if near != "" {
		if b.near == nil {
			b.near = map[detector.NearMiss]int64{}
		}
		b.near[near]++
	}
	if err != nil {
		var de *detector.Error
		if !errors.As(err, &de) {
			de = &detector.Error{Reason: detector.ReasonMalformed, Detail: err.Error()}
		}
		b.items = append(b.items, item{pos: pos, err: de, text: slices.Clone(raw)})
		return
	}
	for _, m := range ms {
		b.items = append(b.items, item{pos: pos, m: m})
	}
}

// pipeline is one run's shared state: the context every goroutine of the
// run stops on, and the first error, which stops them all.
type pipeline struct {
	e      *Engine
	ctx    context.Context
	cancel context.CancelFunc

	errOnce sync.Once
	err     error
}

func (p *pipeline) fail(err error) {
	p.errOnce.Do(func() { p.err = err })
	p.cancel()
}

// inputFailed records err, an input's error, without stopping the workers
// and the sequencer: the blocks read before it are still applied, so that
// a partial result covers exactly the input before the error.
func (p *pipeline) inputFailed(err error) {
	p.errOnce.Do(func() { p.err = err })
}

// send hands b to the workers; false when the run is stopping.
func (p *pipeline) send(todo chan<- *block, b *block) bool {
	select {
	case todo <- b:
		return true
	case <-p.ctx.Done():
		return false
	}
}

func (e *Engine) start() error {
	if e.used.Swap(true) {
		return ErrUsed
	}
	return nil
}

// execute runs produce on one goroutine, cfg.Workers scanners, and the
// sequencer on the caller's goroutine, and returns the summary.
func (e *Engine) execute(parent context.Context, sum *Summary, produce func(p *pipeline, todo chan<- *block) error) error {
	began := time.Now()
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	p := &pipeline{e: e, ctx: ctx, cancel: cancel}
	todo := make(chan *block, e.cfg.Workers)
	done := make(chan *block, e.cfg.Workers)

	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(todo)
		if err := produce(p, todo); err != nil {
			p.inputFailed(err)
		}
	})
	var workers sync.WaitGroup
	for range e.cfg.Workers {
		workers.Go(func() {
			for b := range todo {
				e.scan(b)
				select {
				case done <- b:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wg.Go(func() {
		workers.Wait()
		close(done)
	})

	seq, err := newSequencer(e, sum)
	if err == nil {
		err = seq.run(ctx, done)
	}
	if err != nil {
		p.fail(err)
	}
	wg.Wait()
	if seq != nil {
		if p.err == nil {
			p.err = seq.finish(true)
		} else if seq.err == nil {
			// Keep what was found: the caller may save it as a partial
			// result. A write error from here does not hide the first.
			seq.finish(false)
		}
		sum.finish(seq.stats(), time.Since(began))
	}
	sum.setStatus(parent, p.err)
	return p.err
}

// scan dispatches a block to the file or the topic scanner.
func (e *Engine) scan(b *block) {
	if b.recs != nil {
		e.scanRecords(b)
		return
	}
	e.scanLines(b)
}

// sequencer applies block results to the windows in block order and
// writes the output. It runs on the caller's goroutine and owns the
// windows, one per rule.
type sequencer struct {
	e       *Engine
	sum     *Summary
	windows []*window.Window

	next    int64
	pending map[int64]*block

	input    int   // file of the previous block
	lineBase int64 // lines of that file before the current block

	alerts *bufio.Writer
	dlq    *bufio.Writer
	line   []byte // scratch for one output line
	finals map[string]*window.Alert
	err    error // first output error; stops the run
	emit   func(*window.Alert)
	names  []string // file names by input index
	// partial is set once the run failed or was cancelled: alerts are
	// still written, no longer passed to OnAlert.
	partial bool
}

func newSequencer(e *Engine, sum *Summary) (*sequencer, error) {
	var ws []*window.Window
	for _, wc := range e.cfg.windows() {
		w, err := window.New(wc)
		if err != nil {
			return nil, err
		}
		ws = append(ws, w)
	}
	s := &sequencer{
		e:       e,
		sum:     sum,
		windows: ws,
		pending: make(map[int64]*block),
		input:   -1,
		alerts:  bufio.NewWriterSize(e.cfg.Alerts, 256<<10),
		finals:  make(map[string]*window.Alert),
		names:   sum.Inputs,
	}
	if e.cfg.DeadLetters != nil {
		s.dlq = bufio.NewWriterSize(e.cfg.DeadLetters, 64<<10)
	}
	s.emit = s.onAlert
	return s, nil
}

func (s *sequencer) run(ctx context.Context, done <-chan *block) error {
	for b := range done {
		s.pending[b.seq] = b
		for {
			nb, ok := s.pending[s.next]
			if !ok {
				break
			}
			delete(s.pending, s.next)
			s.next++
			s.apply(nb)
			if s.err != nil {
				return s.err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return nil
}

// apply adds one block's matches to the window and writes its dead letters.
func (s *sequencer) apply(b *block) {
	e := s.e
	if b.recs == nil && b.input != s.input {
		s.input, s.lineBase = b.input, 0
	}
	for i := range b.items {
		it := &b.items[i]
		var src window.Source
		if b.recs != nil {
			r := &b.recs[it.pos]
			src = window.Source{Topic: b.topic, Partition: int32(r.Partition), Offset: r.Offset}
		} else {
			src = window.Source{File: s.names[b.input], Line: s.lineBase + it.pos}
		}
		if it.err != nil {
			s.deadLetter(it, src)
			continue
		}
		e.matches.Add(1)
		s.sum.Matches++
		s.sum.TruncatedValues += int64(it.m.Truncated)
		s.windows[it.m.Rule].Add(window.Event{Host: it.m.Host, Time: it.m.Time, Values: it.m.Values, Source: src}, time.Time{}, s.emit)
	}
	s.lineBase += b.lines
	s.sum.Records += b.lines
	s.sum.Bytes += b.size
	s.sum.PrefilterHits += b.hits
	for k, n := range b.near {
		s.sum.NearMisses[string(k)] += n
	}
	e.records.Add(b.lines)
	e.bytes.Add(b.size)
	e.hits.Add(b.hits)
	b.items, b.recs, b.near = nil, nil, nil
}

func (s *sequencer) deadLetter(it *item, src window.Source) {
	s.e.dead.Add(1)
	s.sum.DeadLetters[string(it.err.Reason)]++
	s.sum.DeadLettersTotal++
	if s.dlq == nil || s.err != nil {
		return
	}
	s.line = appendDeadLetter(s.line[:0], it.err, src, it.text, s.e.cfg.DeadLetterBytes)
	if _, err := s.dlq.Write(s.line); err != nil {
		s.err = fmt.Errorf("writing dead letters: %w", err)
	}
}

// onAlert is the window's emit callback.
func (s *sequencer) onAlert(a *window.Alert) {
	if a.Revision == 1 {
		s.e.alerts.Add(1)
		if a.Late {
			s.sum.LateAlerts++
		}
	}
	if s.e.cfg.EmitRevisions {
		s.write(a)
		return
	}
	if old, ok := s.finals[a.AlertID]; ok && old.Revision > a.Revision {
		return
	}
	s.finals[a.AlertID] = a.Clone()
}

func (s *sequencer) write(a *window.Alert) {
	if s.err != nil {
		return
	}
	s.line = a.AppendJSON(s.line[:0])
	if f := s.e.cfg.OnAlert; f != nil && !s.partial {
		if err := f(a, s.line); err != nil {
			s.err = fmt.Errorf("publishing alert %s: %w", a.AlertID, err)
			return
		}
	}
	s.line = append(s.line, '\n')
	if _, err := s.alerts.Write(s.line); err != nil {
		s.err = fmt.Errorf("writing alerts: %w", err)
		return
	}
	s.sum.AlertsWritten++
}

// finish flushes the window, writes the final alerts in order and flushes
// the writers. complete is false after a failure or cancellation: the
// alerts found until then are still written, but not passed to OnAlert
// (nothing incomplete is published).
func (s *sequencer) finish(complete bool) error {
	if !complete {
		s.partial = true
	}
	for _, w := range s.windows {
		w.Flush(s.emit)
	}
	if !s.e.cfg.EmitRevisions {
		finals := make([]*window.Alert, 0, len(s.finals))
		for _, a := range s.finals {
			finals = append(finals, a)
		}
		slices.SortFunc(finals, compareAlerts)
		for _, a := range finals {
			s.write(a)
		}
	}
	if s.err != nil {
		return s.err
	}
	if err := s.alerts.Flush(); err != nil {
		return fmt.Errorf("writing alerts: %w", err)
	}
	if s.dlq != nil {
		if err := s.dlq.Flush(); err != nil {
			return fmt.Errorf("writing dead letters: %w", err)
		}
	}
	return nil
}

// stats sums the windows' counters.
func (s *sequencer) stats() window.Stats {
	var t window.Stats
	for _, w := range s.windows {
		t.Add(w.Stats())
	}
	return t
}

// compareAlerts orders alerts by (_time, host), on-time before late, then
// alert_id (which differs by rule): a total order, so the output never
// depends on map order.
func compareAlerts(a, b *window.Alert) int {
	if a.Time != b.Time {
		if a.Time < b.Time {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.Host, b.Host); c != 0 {
		return c
	}
	if a.Late != b.Late {
		if !a.Late {
			return -1
		}
		return 1
	}
	return strings.Compare(a.AlertID, b.AlertID)
}
