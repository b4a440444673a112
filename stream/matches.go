package stream

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/window"
)

// inPos is a record's position in the input topic.
type inPos struct {
	topic     string
	partition int32
	offset    int64
}

// seenKey is a match's identity: a record selected by two rules makes two.
type seenKey struct {
	rule int
	in   inPos
}

type inPart struct {
	topic     string
	partition int32
}

// logEntry maps a matches-topic offset to the input position of its match.
type logEntry struct {
	mo int64
	in inPos
}

// matchesWorker is stage B for one matches partition. The matches topic is
// keyed by host, so every event of a (host, second) bucket is in one
// matches partition: each worker owns its own windows, one per rule, fed
// in offset order. It adds each match to its rule's window (with the ORIGINAL input position as the
// event's source, so alerts point at the Sysmon records), ticks the window
// with the wall clock, publishes alerts, and commits the matches offset
// below which no open or revisable bucket holds an event, once every alert
// emitted before that point is acknowledged.
type matchesWorker struct {
	p    *Pipeline
	part int
	key  tp
	f    *kafkaio.Fetcher
	o    *offsets
	// windows holds one window per rule, in the pipeline's rule order.
	windows []*window.Window

	// pos is the next matches offset to process.
	pos int64
	// log lists, in matches-offset order, the matches added to the window
	// from log[head] on; earlier ones are no longer needed.
	log  []logEntry
	head int
	// seen holds the input positions added (copies after an input replay
	// are skipped); floor holds per input partition the highest floor read
	// (a match below it is a copy of one read earlier).
	seen  map[seenKey]struct{}
	floor map[inPart]int64

	// emitted: alerts were sent since the last barrier.
	emitted bool
	// commitMarker.broken is also set when an alert could not be sent.
	commitMarker
	lastTick time.Time
	// sendCtx bounds emit's Send: the drain context, also while consuming.
	sendCtx context.Context
	emitErr error

	mr       matchRecord
	badShown bool

	// heal receives the alerts written to the alerts topic after the
	// restore whose hosts belong to this partition (tailAlerts).
	heal chan *window.Alert
	// lease is the generation's (see lease): a drain without it discards.
	lease *lease

	applied, dups, bad, alerts, revisions, late, healed int64
	// foreign counts matches of rules this member does not run; byRule
	// the new alerts (revision 1) emitted per rule.
	foreign int64
	byRule  []int64
	// last is the windows' summed Stats at the last flushCounters.
	last window.Stats
}

func (p *Pipeline) newMatchesWorker(a kafka.PartitionAssignment, o *offsets, restored []*window.Alert, l *lease) (*matchesWorker, error) {
	ws := make([]*window.Window, len(p.rules))
	for i, r := range p.rules {
		w, err := window.New(p.cfg.windowConfig(r, len(p.rules)))
		if err != nil {
			return nil, fmt.Errorf("%w: rule %s: %v", ErrConfig, r.Rule.ID, err)
		}
		ws[i] = w
	}
	for _, al := range restored {
		ri, ok := p.ruleIndex[al.RuleID]
		if !ok {
			continue // restore keeps only the rules run
		}
		if err := ws[ri].Restore(al); err != nil {
			p.log.Warn("alert not restored", "alert_id", al.AlertID, "err", err)
		}
	}
	return &matchesWorker{
		p: p, part: a.ID, o: o, windows: ws,
		key:    tp{p.cfg.MatchesTopic, a.ID},
		f:      p.newFetcher(p.cfg.MatchesTopic, a.ID, a.Offset, p.cfg.FetchMaxWait),
		pos:    a.Offset,
		seen:   map[seenKey]struct{}{},
		floor:  map[inPart]int64{},
		heal:   make(chan *window.Alert, 256),
		lease:  l,
		byRule: make([]int64, len(p.rules)),
	}, nil
}

func (w *matchesWorker) run(end, drain context.Context) (clean bool, err error) {
	defer w.f.Close()
	defer w.p.parts.setWindow(w.part, 0, 0, 0)
	// Not end: records already fetched are still processed after end is
	// done, and an alert they emit has left the window, so no later flush
	// sends it again. A Send abandoned because consumption is ending would
	// lose it and break the partition's drain (Send picks ctx.Done at
	// random even with room in the queue); sent, it is simply part of what
	// the drain waits for. The input worker can keep end: a record whose
	// Send fails is not marked processed and is read again.
	w.sendCtx = drain
	w.lastMark = time.Now()
	for end.Err() == nil {
		err := w.f.Fetch(end, values(w.process))
		if w.pos < 0 && w.f.Offset() >= 0 {
			w.pos = w.f.Offset()
		}
		w.healFromTopic()
		if err == nil && end.Err() == nil {
			if now := w.p.cfg.now(); now.Sub(w.lastTick) >= DefaultTickInterval {
				w.lastTick = now
				for _, win := range w.windows {
					win.Advance(now, w.emit)
				}
			}
		}
		w.flushCounters()
		w.p.parts.setLag(w.key, w.f.Lag(), w.f.HighWatermark())
		if w.emitErr != nil && end.Err() == nil {
			if w.p.alerts.Err() != nil {
				return false, w.p.alerts.Err()
			}
			return false, w.emitErr
		}
		if err != nil && end.Err() == nil {
			return false, err
		}
		w.maybeCommit(end)
	}
	derr := w.drain(drain)
	w.flushCounters()
	if derr != nil {
		w.p.log.Warn("partition drain incomplete", "topic", w.key.topic, "partition", w.part, "reason", derr)
		return false, nil
	}
	return true, nil
}

func (w *matchesWorker) process(offset int64, value []byte) error {
	if err := decodeMatch(value, &w.mr); err != nil {
		w.bad++
		if !w.badShown {
			w.badShown = true
			w.p.log.Error("skipping records of the matches topic that do not decode (written by another program?)",
				"topic", w.key.topic, "partition", w.part, "offset", offset, "err", err)
		}
		w.pos = offset + 1
		return nil
	}
	mr := &w.mr
	ri, ok := w.p.ruleIndex[mr.RuleID]
	if !ok {
		// A rule this member does not run (the matches topic outlives a
		// rule set's change): nothing to add it to.
		w.foreign++
		w.pos = offset + 1
		return nil
	}
	topic := mr.Topic
	if topic == w.p.cfg.Topic {
		topic = w.p.cfg.Topic // share one string
	}
	ip := inPart{topic, mr.Partition}
	if mr.Floor > w.floor[ip] {
		w.floor[ip] = mr.Floor
	}
	key := inPos{topic, mr.Partition, mr.Offset}
	if mr.Offset < w.floor[ip] {
		w.dups++
		w.pos = offset + 1
		return nil
	}
	if _, ok := w.seen[seenKey{ri, key}]; ok {
		w.dups++
		w.pos = offset + 1
		return nil
	}
	w.seen[seenKey{ri, key}] = struct{}{}
	w.windows[ri].Add(window.Event{
		Host:   mr.Host,
		Time:   mr.Time,
		Values: mr.Values,
		Source: window.Source{Topic: topic, Partition: mr.Partition, Offset: mr.Offset},
	}, w.p.cfg.now(), w.emit)
	w.applied++
	w.log = append(w.log, logEntry{mo: offset, in: key})
	w.pos = offset + 1
	return w.emitErr
}

// healFromTopic hands the alerts read back since the last call to the
// window (window.Heal), which emits again what a stale record hides.
func (w *matchesWorker) healFromTopic() {
	for {
		select {
		case a := <-w.heal:
			if ri, ok := w.p.ruleIndex[a.RuleID]; ok && w.windows[ri].Heal(a, w.emit) {
				w.healed++
			}
		default:
			return
		}
	}
}

// emit publishes an alert; the window calls it synchronously.
func (w *matchesWorker) emit(a *window.Alert) {
	if w.emitErr != nil {
		return
	}
	msg := kafka.Message{
		Topic: w.p.cfg.alertsTopicOf(a.RuleID),
		Key:   []byte(a.AlertID),
		Value: a.AppendJSON(make([]byte, 0, 1024)),
		Headers: []kafka.Header{
			{Key: HeaderRuleID, Value: []byte(a.RuleID)},
			{Key: HeaderRuleVersion, Value: []byte(w.p.ruleVersion(a.RuleID))},
			{Key: HeaderRevision, Value: strconv.AppendInt(nil, int64(a.Revision), 10)},
		},
		Time: w.p.cfg.now(),
	}
	if err := w.p.alerts.Send(w.sendCtx, msg); err != nil {
		w.emitErr = err
		w.broken = fmt.Errorf("sending alert %s: %w", a.AlertID, err)
		return
	}
	w.emitted = true
	w.p.delays.observeAlert(a, msg.Time)
	if a.Revision == 1 {
		if ri, ok := w.p.ruleIndex[a.RuleID]; ok {
			w.byRule[ri]++
		}
		w.alerts++
	} else {
		w.revisions++
	}
	if a.Late {
		w.late++
	}
}

func (w *matchesWorker) flushCounters() {
	c := &w.p.c
	for _, x := range []struct {
		n *int64
		c interface{ Add(int64) int64 }
	}{{&w.applied, &c.applied}, {&w.dups, &c.dups}, {&w.bad, &c.badMatch}, {&w.alerts, &c.alerts}, {&w.revisions, &c.revisions}, {&w.late, &c.late}, {&w.healed, &c.healed}, {&w.foreign, &c.foreignRule}} {
		if *x.n > 0 {
			x.c.Add(*x.n)
			*x.n = 0
		}
	}
	for i, n := range w.byRule {
		if n > 0 {
			c.byRule[i].Add(n)
			w.byRule[i] = 0
		}
	}
	var st window.Stats
	for _, win := range w.windows {
		st.Add(win.Stats())
	}
	for _, x := range []struct {
		now, last int64
		c         interface{ Add(int64) int64 }
	}{
		{st.Evicted, w.last.Evicted, &c.evicted}, {st.TruncatedAlerts, w.last.TruncatedAlerts, &c.truncatedAlerts},
		{st.OmittedValues, w.last.OmittedValues, &c.omitted}, {st.MemoryEvicted, w.last.MemoryEvicted, &c.memoryEvicted},
		{st.ForcedEmissions, w.last.ForcedEmissions, &c.forced}, {st.HostsEvicted, w.last.HostsEvicted, &c.evictedHosts},
	} {
		if d := x.now - x.last; d > 0 {
			x.c.Add(d)
		}
	}
	w.last = st
	w.p.parts.setWindow(w.part, st.Open, st.Revisable, st.Memory)
}

// safe returns the matches offset to commit: the first match still held by
// an open or revisable bucket, else the next offset to process. It also
// forgets what is no longer needed.
func (w *matchesWorker) safe() int64 {
	sp := w.windows[0].SafePositions()
	for _, win := range w.windows[1:] {
		for k, v := range win.SafePositions() {
			if s, ok := sp[k]; !ok || v < s {
				sp[k] = v
			}
		}
	}
	for w.head < len(w.log) {
		e := w.log[w.head]
		if s, ok := sp[window.Partition{Topic: e.in.topic, Partition: e.in.partition}]; ok && e.in.offset >= s {
			// Possibly needed. Within one input partition the matches of a
			// host arrive in input order (modulo copies, skipped), so the
			// first such entry is the first one truly needed.
			break
		}
		w.head++
	}
	if w.head > 1024 && w.head > len(w.log)/2 {
		w.log = append(w.log[:0], w.log[w.head:]...)
		w.head = 0
	}
	if len(w.seen) > 1024 {
		for k := range w.seen {
			if k.in.offset < w.floor[inPart{k.in.topic, k.in.partition}] {
				delete(w.seen, k)
			}
		}
	}
	if w.head < len(w.log) {
		return w.log[w.head].mo
	}
	return w.pos
}

// maybeCommit completes a pending barrier and, every CommitInterval, makes
// the safe position committable: directly when no alert was sent since the
// last mark, else behind a new barrier on the alerts producer.
func (w *matchesWorker) maybeCommit(ctx context.Context) {
	if !w.due(time.Now(), w.p.cfg.CommitInterval, w.commitAt) {
		return
	}
	off := w.safe()
	if !w.emitted {
		w.commitAt(off)
		return
	}
	ch, err := w.p.alerts.Barrier(ctx)
	if err != nil {
		return
	}
	w.pending = &pendingCommit{off: off, ch: ch}
	w.emitted = false
}

func (w *matchesWorker) commitAt(off int64) {
	if off >= 0 {
		w.o.set(w.key, off)
	}
}

// drain flushes the window (every open bucket is emitted), waits for the
// alerts to be acknowledged and makes the safe offset committable.
// It returns why it could not, or nil.
func (w *matchesWorker) drain(ctx context.Context) error {
	if w.broken != nil {
		return w.broken
	}
	if err := w.lease.Valid(); err != nil {
		return err // flushing would publish stale alerts after the new owner's
	}
	for _, win := range w.windows {
		win.Flush(w.emit)
	}
	if w.broken != nil {
		return w.broken
	}
	off := w.safe()
	if err := finalBarrier(ctx, w.p.alerts); err != nil {
		return err
	}
	w.commitAt(off)
	return nil
}
