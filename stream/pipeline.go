package stream

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/rules"
	"github.com/msiguard/msiguard/sink"
	"github.com/msiguard/msiguard/window"
)

// Pipeline runs the rule over a consumer group: stage A reads the input
// topic, evaluates every record and writes matches (keyed by host) and dead
// letters; stage B reads the matches topic, groups matches into alerts with
// one window per matches partition and publishes them. See the package
// documentation.
type Pipeline struct {
	cfg Config
	// rules are the compiled rules (cfg.Rules), in the detector's order;
	// ruleIndex finds one by id.
	rules     []*rules.Compiled
	ruleIndex map[string]int
	versions  []string

	// rulesMu guards the rule set's swap by Reload (pending, restart,
	// ruleAlerts' map, and rules/det between two runs).
	rulesMu sync.Mutex
	// ruleAlerts counts new alerts per rule id, over every rule set run.
	ruleAlerts map[string]*atomic.Int64
	// pending is the rule set Run switches to once the current one has
	// drained; restart cancels the current one (nil when not running).
	pending *reloaded
	restart context.CancelFunc
	det     *detector.Detector
	dialer  *kafka.Dialer
	client  *kafka.Client
	log     *slog.Logger

	// Set by setup: the matches topic's partition count, the
	// max.message.bytes of the topics written, and how much of its original
	// a dead letter keeps.
	matchesPartitions int
	limits            map[string]int
	deadLetterBytes   int

	c      counters
	parts  *partStats
	ready  readiness // see Ready
	delays delays    // see EmissionDelays

	prodMu sync.Mutex
	// guarded by prodMu: the producers, set while Run runs.
	alerts, records *sink.Producer
}

// New checks cfg and prepares a Pipeline. It does not touch the network.
func New(cfg Config) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	det, err := detector.New(cfg.Rules, detector.Options{Shape: cfg.Shape, Limits: cfg.Limits})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	dialer, tr, err := cfg.Cluster.Clients()
	if err != nil {
		return nil, err
	}
	p := &Pipeline{
		cfg:    cfg,
		det:    det,
		dialer: dialer,
		client: &kafka.Client{Addr: cfg.Cluster.Addr(), Transport: tr, Timeout: 10 * time.Second},
		log:    cfg.Logger,
		parts:  newPartStats(),
	}
	p.setRules(cfg.Rules)
	return p, nil
}

// setRules makes rs, in the detector's order, the rules run. The caller
// holds rulesMu or is New.
func (p *Pipeline) setRules(rs []*rules.Compiled) {
	p.rules = rs
	p.ruleIndex = make(map[string]int, len(rs))
	p.versions = make([]string, len(rs))
	p.c.byRule = make([]*atomic.Int64, len(rs))
	if p.ruleAlerts == nil {
		p.ruleAlerts = map[string]*atomic.Int64{}
	}
	for i, r := range rs {
		p.ruleIndex[r.Rule.ID] = i
		p.versions[i] = r.Version()
		n := p.ruleAlerts[r.Rule.ID]
		if n == nil {
			n = new(atomic.Int64)
			p.ruleAlerts[r.Rule.ID] = n
		}
		p.c.byRule[i] = n
	}
}

// reloaded is a validated rule set waiting for the running one to drain.
type reloaded struct {
	rules []*rules.Compiled
	det   *detector.Detector
}

// apply makes r the rule set; no worker runs. The caller holds rulesMu.
func (p *Pipeline) apply(r *reloaded) {
	p.setRules(r.rules)
	p.det = r.det
	p.cfg.Rules = r.rules
	p.c.reloads.Add(1)
}

// ErrReloadRefused is wrapped by Reload's error when the new rules cannot
// run: they do not load or compile, two share an id, or their records do
// not fit the topics. The running rules stay.
var ErrReloadRefused = errors.New("rule reload refused")

// Reload replaces the rules with those load returns. When they cannot run
// (load fails, ids repeat, a window configuration is invalid, records would
// not fit the topics), it returns an error wrapping ErrReloadRefused, logs
// it and counts it (Stats.RuleReloadFailures): the running rules go on
// and readiness is unaffected. When every rule is the same (ids and
// versions), it returns (false, nil). Otherwise Run drains as on
// shutdown (windows flushed, output acknowledged, offsets committed),
// leaves the group and rejoins with the new rules, which restore their
// windows from the alerts topic as after a restart; Reload returns
// (true, nil) without waiting. Safe for concurrent use.
func (p *Pipeline) Reload(load func() ([]*rules.Compiled, error)) (changed bool, err error) {
	defer func() {
		if err != nil {
			p.c.reloadFailures.Add(1)
			p.log.Error("rule reload refused; the running rules stay", "err", err)
		}
	}()
	rs, err := load()
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrReloadRefused, err)
	}
	if len(rs) == 0 {
		return false, fmt.Errorf("%w: no rules", ErrReloadRefused)
	}
	p.rulesMu.Lock()
	next := p.cfg // apply writes cfg.Rules under rulesMu
	p.rulesMu.Unlock()
	next.Rules = rs
	next.RuleAlertsTopics = nil // checked by New; a reload may drop a routed rule
	if err := next.Validate(); err != nil {
		return false, fmt.Errorf("%w: %w", ErrReloadRefused, err)
	}
	for _, id := range p.cfg.unloadedRoutes(rs) {
		p.log.Warn("rule reload: a rule routed to its own alerts topic is no longer loaded; the route waits for it", "rule", id, "topic", p.cfg.RuleAlertsTopics[id])
	}
	det, err := detector.New(rs, detector.Options{Shape: p.cfg.Shape, Limits: p.cfg.Limits})
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrReloadRefused, err)
	}
	p.rulesMu.Lock()
	defer p.rulesMu.Unlock()
	if p.limits != nil {
		if _, err := p.sizes(p.limits, rs); err != nil {
			return false, fmt.Errorf("%w: %w", ErrReloadRefused, err)
		}
	}
	same := len(rs) == len(p.rules)
	for i := 0; same && i < len(rs); i++ {
		same = rs[i].Rule.ID == p.rules[i].Rule.ID && rs[i].Version() == p.versions[i]
	}
	if same && p.pending == nil {
		p.log.Info("rule reload: the rules are unchanged", "rules", p.ruleIDs())
		return false, nil
	}
	r := &reloaded{rules: rs, det: det}
	if p.restart == nil { // not running: nothing to drain
		p.apply(r)
		return true, nil
	}
	p.pending = r
	p.log.Info("rule reload: draining to switch rules", "from", p.ruleIDs(), "to", ids(rs))
	p.restart()
	return true, nil
}

// Run consumes until ctx is cancelled, then drains: flushes the windows,
// waits for the brokers to acknowledge every alert and match, commits what
// is safe and leaves the group, within Config.ShutdownTimeout. It returns
// nil after a complete drain, an error wrapping ErrDrainIncomplete when
// the drain ran out of time (nothing is lost: uncommitted records are read
// again on restart), and otherwise the fatal error that stopped it (a
// *kafkaio.FatalError for broker refusals, whose message says what to fix).
func (p *Pipeline) Run(ctx context.Context) error {
	for {
		ictx, cancel := context.WithCancel(ctx)
		p.rulesMu.Lock()
		p.restart = cancel
		p.rulesMu.Unlock()
		err := p.runOnce(ictx)
		cancel()
		p.rulesMu.Lock()
		next := p.pending
		p.pending, p.restart = nil, nil
		if next != nil && ctx.Err() == nil && (err == nil || errors.Is(err, ErrDrainIncomplete)) {
			p.apply(next)
		} else {
			next = nil
		}
		p.rulesMu.Unlock()
		if next == nil {
			return err
		}
		if err != nil {
			p.log.Warn("the drain before the rule reload was incomplete; what was not acknowledged is read again", "err", err)
		}
		p.log.Info("rules reloaded; rejoining the consumer group", "rules", p.ruleIDs())
	}
}

// runOnce is Run with one rule set: it returns after its drain when ctx
// is cancelled, by the caller or by Reload.
func (p *Pipeline) runOnce(ctx context.Context) (err error) {
	// hard ends the drain ShutdownTimeout after ctx is cancelled.
	hard, cancelHard := context.WithCancelCause(context.Background())
	defer cancelHard(nil)
	runDone := make(chan struct{})
	defer close(runDone)
	go func() {
		select {
		case <-ctx.Done():
		case <-runDone:
			return
		}
		t := time.NewTimer(p.cfg.ShutdownTimeout)
		defer t.Stop()
		select {
		case <-t.C:
			cancelHard(fmt.Errorf("shutdown timeout (%v) exceeded", p.cfg.ShutdownTimeout))
		case <-runDone:
		}
	}()

	if err := p.setup(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	alerts, err := sink.NewProducer(sink.Config{
		Cluster: &p.cfg.Cluster, Name: "alerts topic " + strings.Join(p.cfg.alertsTopics(), ", "), Queue: p.cfg.AlertQueue, Logger: p.log,
		MaxRecordBytes: p.limits, Reject: p.rejectAlert,
	}, p.cfg.AlertsTopic)
	if err != nil {
		return err
	}
	records, err := sink.NewProducer(sink.Config{
		Cluster: &p.cfg.Cluster, Name: "matches/dead-letter topics", Queue: p.cfg.RecordQueue, Logger: p.log,
		MaxRecordBytes: p.limits, Reject: p.rejectRecord,
	}, "")
	if err != nil {
		alerts.Close(hard)
		return err
	}
	p.prodMu.Lock()
	p.alerts, p.records = alerts, records
	p.prodMu.Unlock()
	defer func() {
		// Everything that must be acknowledged was waited for by the
		// generation's drain; Close only releases the writers.
		cctx, cancel := context.WithTimeout(hard, 5*time.Second)
		defer cancel()
		alerts.Close(cctx)
		records.Close(cctx)
	}()

	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                p.cfg.Group,
		Brokers:           p.cfg.Cluster.Brokers,
		Dialer:            p.dialer,
		Topics:            []string{p.cfg.Topic, p.cfg.MatchesTopic},
		HeartbeatInterval: p.cfg.HeartbeatInterval,
		SessionTimeout:    p.cfg.SessionTimeout,
		RebalanceTimeout:  p.cfg.RebalanceTimeout,
		JoinGroupBackoff:  time.Second,
		StartOffset:       kafka.FirstOffset,
		Timeout:           5 * time.Second,
		Logger:            kafkaLogger{p.log, slog.LevelDebug},
		ErrorLogger:       kafkaLogger{p.log, slog.LevelDebug},
	})
	if err != nil {
		return fmt.Errorf("%w: consumer group: %v", ErrConfig, err)
	}
	// Closing the group when ctx is cancelled ends the current generation
	// (our generation function then drains) and leaves the group.
	closed := make(chan struct{})
	var closeOnce sync.Once
	closeGroup := func() {
		closeOnce.Do(func() {
			go func() {
				cg.Close()
				close(closed)
			}()
		})
	}
	stopClose := context.AfterFunc(ctx, closeGroup)
	defer func() {
		stopClose()
		closeGroup()
		select {
		case <-closed:
		case <-hard.Done():
			if err == nil {
				err = fmt.Errorf("%w: leaving the consumer group timed out", ErrDrainIncomplete)
			}
		case <-time.After(p.cfg.SessionTimeout):
			p.log.Warn("leaving the consumer group timed out; the group will notice after the session timeout")
		}
	}()

	p.log.Info("pipeline started", "config", p.cfg, "rules", p.ruleIDs(), "matches_partitions", p.matchesPartitions,
		"max_message_bytes", p.limits, "dead_letter_bytes", p.deadLetterBytes)
	// Between generations too, a producer that fails for good ends Run.
	joinCtx, cancelJoin := context.WithCancel(ctx)
	defer cancelJoin()
	go func() {
		select {
		case <-alerts.Failed():
		case <-records.Failed():
		case <-joinCtx.Done():
		}
		cancelJoin()
	}()
	joinFailures := 0
	for {
		gen, err := cg.Next(joinCtx)
		if err != nil {
			if perr := cmp.Or(alerts.Err(), records.Err()); perr != nil {
				return perr
			}
			if ctx.Err() != nil || errors.Is(err, kafka.ErrGroupClosed) {
				return nil
			}
			if c := kafkaio.Classify(err); kafkaio.IsFatal(c) {
				return fmt.Errorf("joining consumer group %q: %w", p.cfg.Group, c)
			}
			joinFailures++
			level := slog.LevelDebug
			if joinFailures > 3 {
				level = slog.LevelWarn
			}
			p.log.Log(ctx, level, "joining the consumer group failed; retrying", "group", p.cfg.Group, "err", err)
			continue
		}
		joinFailures = 0
		p.c.rebalances.Add(1)
		done := make(chan error, 1)
		gen.Start(func(gctx context.Context) { done <- p.generation(ctx, hard, gctx, gen) })
		if err := <-done; err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// ErrDrainIncomplete is wrapped by Run's error when the shutdown drain did
// not finish within Config.ShutdownTimeout.
var ErrDrainIncomplete = errors.New("shutdown drain incomplete: records not acknowledged in time will be read again on restart")

// kafkaLogger adapts slog to kafka-go's Logger.
type kafkaLogger struct {
	l     *slog.Logger
	level slog.Level
}

func (k kafkaLogger) Printf(format string, args ...any) {
	if k.l.Enabled(context.Background(), k.level) {
		k.l.Log(context.Background(), k.level, strings.TrimSpace(fmt.Sprintf(format, args...)), "component", "kafka-go")
	}
}

// offsets are the committable offsets of a generation's partitions.
type offsets struct {
	mu sync.Mutex
	// guarded by mu: the offset each partition may commit, and the last
	// offset committed.
	committable map[tp]int64
	committed   map[tp]int64
}

func (o *offsets) set(k tp, off int64) {
	o.mu.Lock()
	if cur, ok := o.committable[k]; !ok || off > cur {
		o.committable[k] = off
	}
	o.mu.Unlock()
}

// pending returns the committable offsets not committed yet.
func (o *offsets) pending() map[string]map[int]int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out map[string]map[int]int64
	for k, off := range o.committable {
		if c, ok := o.committed[k]; ok && c == off {
			continue
		}
		if out == nil {
			out = map[string]map[int]int64{}
		}
		if out[k.topic] == nil {
			out[k.topic] = map[int]int64{}
		}
		out[k.topic][k.partition] = off
	}
	return out
}

func (o *offsets) markCommitted(m map[string]map[int]int64) {
	o.mu.Lock()
	for t, ps := range m {
		for part, off := range ps {
			o.committed[tp{t, part}] = off
		}
	}
	o.mu.Unlock()
}

// commit commits the pending offsets of the generation and returns why it
// could not.
func (p *Pipeline) commit(gen *kafka.Generation, o *offsets) error {
	m := o.pending()
	if m == nil {
		return nil
	}
	if err := gen.CommitOffsets(m); err != nil {
		var ke kafka.Error
		if errors.As(err, &ke) && (ke == kafka.RebalanceInProgress || ke == kafka.IllegalGeneration || ke == kafka.UnknownMemberId) {
			p.log.Debug("commit refused: the generation is ending", "generation", gen.ID, "err", err)
		} else {
			p.log.Warn("committing offsets failed; will retry", "generation", gen.ID, "err", err)
		}
		return err
	}
	o.markCommitted(m)
	for t, ps := range m {
		for part, off := range ps {
			p.parts.setCommitted(tp{t, part}, off)
		}
	}
	return nil
}

// finalCommitPatience bounds the retries of the final commit.
const finalCommitPatience = 5 * time.Second

// finalCommit commits what the drain made committable, trying again while
// drain lasts, and returns why it could not.
func (p *Pipeline) finalCommit(drain context.Context, gen *kafka.Generation, o *offsets) error {
	drain, cancel := context.WithTimeout(drain, finalCommitPatience)
	defer cancel()
	backoff := 100 * time.Millisecond
	for {
		err := p.commit(gen, o)
		if err == nil {
			return nil
		}
		var ke kafka.Error
		if errors.As(err, &ke) && (ke == kafka.IllegalGeneration || ke == kafka.UnknownMemberId) {
			return err // no retry helps: the generation is gone
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-drain.Done():
			t.Stop()
			return err
		}
		backoff = min(2*backoff, time.Second)
	}
}

// generation runs one consumer group generation: a goroutine per assigned
// partition, a commit every CommitInterval, and, when the generation ends
// (rebalance) or ctx is cancelled (shutdown), a drain: every worker flushes
// and waits for acknowledgements, the final offsets are committed, and only
// then does the generation function return and let the next one start.
func (p *Pipeline) generation(ctx, hard, gctx context.Context, gen *kafka.Generation) error {
	log := p.log.With("generation", gen.ID)
	inParts := assigned(gen, p.cfg.Topic)
	mParts := assigned(gen, p.cfg.MatchesTopic)
	log.Info("partitions assigned", "input", partitionIDs(inParts), "matches", partitionIDs(mParts))
	defer p.parts.reset()

	// end stops consumption; drain bounds the work after it.
	end, cancelEnd := context.WithCancel(context.Background())
	defer cancelEnd()
	defer context.AfterFunc(gctx, cancelEnd)()
	defer context.AfterFunc(ctx, cancelEnd)()
	drain, cancelDrain := context.WithCancelCause(hard)
	defer cancelDrain(nil)
	p.ready.begin(gen.ID, len(inParts), len(mParts))
	// The member's own evidence that it still holds the generation: the
	// producers write nothing once it lapses, and the drain flushes
	// nothing (see lease).
	l := newLease(p.cfg.SessionTimeout, time.Now())
	leaseCtx, stopLease := context.WithCancel(context.Background())
	defer stopLease()
	go p.keepLease(leaseCtx, gen, l, p.cfg.HeartbeatInterval)
	p.alerts.SetFence(l)
	p.records.SetFence(l)
	defer context.AfterFunc(end, func() { p.ready.end(gen.ID) })()
	defer p.ready.end(gen.ID)
	go func() {
		<-end.Done()
		if ctx.Err() != nil {
			return // shutdown: hard bounds the drain
		}
		// Heartbeats stopped with the generation: past the session
		// timeout the coordinator may drop us and refuse the commit.
		limit := min(p.cfg.RebalanceTimeout/2, p.cfg.SessionTimeout*2/3)
		t := time.NewTimer(limit)
		defer t.Stop()
		select {
		case <-t.C:
			cancelDrain(fmt.Errorf("rebalance drain limit (%v) exceeded", limit))
		case <-drain.Done():
		}
	}()

	o := &offsets{committable: map[tp]int64{}, committed: map[tp]int64{}}
	var (
		wg       sync.WaitGroup
		fatalMu  sync.Mutex
		fatal    error
		cleanAll = true
	)
	report := func(clean bool, err error) {
		fatalMu.Lock()
		defer fatalMu.Unlock()
		if !clean {
			cleanAll = false
		}
		if err != nil && fatal == nil {
			fatal = err
			cancelEnd()
			cancelDrain(fmt.Errorf("stopping after a fatal error: %w", err))
		}
	}
	for _, a := range inParts {
		w := p.newInputWorker(a, o, l)
		wg.Go(func() { report(w.run(end, drain)) })
	}
	if len(mParts) > 0 {
		wg.Go(func() {
			restored, ends, err := p.restore(end, mParts)
			if err != nil {
				if end.Err() == nil {
					report(false, err)
				}
				return
			}
			p.ready.restoredDone(gen.ID)
			heal := make(map[int]chan *window.Alert, len(mParts))
			var mwg sync.WaitGroup
			for _, a := range mParts {
				w, err := p.newMatchesWorker(a, o, restored[a.ID], l)
				if err != nil {
					report(false, err)
					continue
				}
				heal[a.ID] = w.heal
				mwg.Go(func() { report(w.run(end, drain)) })
			}
			mwg.Go(func() { p.tailAlerts(end, ends, heal) })
			mwg.Wait()
		})
	}
	workersDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(workersDone)
	}()

	tick := time.NewTicker(p.cfg.CommitInterval)
	defer tick.Stop()
	alertsFailed, recordsFailed := p.alerts.Failed(), p.records.Failed()
loop:
	for {
		select {
		case <-tick.C:
			_ = p.commit(gen, o) // retried at the next tick
		case <-alertsFailed:
			// A producer that failed for good stops the member at once,
			// not at its workers' next Send or barrier.
			alertsFailed = nil
			report(false, p.alerts.Err())
		case <-recordsFailed:
			recordsFailed = nil
			report(false, p.records.Err())
		case <-workersDone:
			break loop
		}
	}
	fatalMu.Lock()
	err, clean := fatal, cleanAll
	fatalMu.Unlock()
	if err != nil {
		log.Error("stopping after a fatal error", "err", err)
		return err
	}
	if zerr := l.Valid(); zerr != nil {
		// A zombie: what its windows hold belongs to the partitions' new
		// owner, which replays it from the committed offsets.
		p.c.zombies.Add(1)
		log.Warn("this member lost its generation while it stalled; its windows and unacknowledged output are discarded, not flushed", "reason", zerr)
		p.alerts.Discard()
		p.records.Discard()
		if ctx.Err() != nil {
			return ErrDrainIncomplete
		}
		return nil
	}
	if cerr := p.finalCommit(drain, gen, o); cerr != nil {
		// The drain flushed and everything was acknowledged, but the
		// positions are not committed: what follows them is read again
		// (identical copies at most). Not a clean drain.
		log.Warn("final commit failed: the records since the last commit will be read again", "err", cerr)
		clean = false
	}
	if !clean {
		// Some partition's drain did not complete: its offsets were not
		// committed, so its records will be read again. Make sure nothing
		// still queued from it reaches the brokers after that.
		log.Warn("drain incomplete: unacknowledged records discarded; they will be read again from the committed offsets")
		p.alerts.Discard()
		p.records.Discard()
		if ctx.Err() != nil {
			return ErrDrainIncomplete
		}
	}
	log.Info("generation ended", "clean", clean)
	return nil
}

func assigned(gen *kafka.Generation, topic string) []kafka.PartitionAssignment {
	a := slices.Clone(gen.Assignments[topic])
	slices.SortFunc(a, func(x, y kafka.PartitionAssignment) int { return x.ID - y.ID })
	return a
}

func partitionIDs(a []kafka.PartitionAssignment) []int {
	ids := make([]int, len(a))
	for i, x := range a {
		ids[i] = x.ID
	}
	return ids
}

// pendingCommit is an offset waiting for a producer barrier.
type pendingCommit struct {
	off int64
	ch  <-chan error
}

// finalBarrier waits until p has acknowledged every record sent before the
// call: a worker's last step before its position may be committed. The
// error says which step failed.
func finalBarrier(ctx context.Context, p *sink.Producer) error {
	ch, err := p.Barrier(ctx)
	if err != nil {
		return fmt.Errorf("queueing the final barrier: %w", err)
	}
	select {
	case err := <-ch:
		if err != nil {
			return fmt.Errorf("final barrier failed: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for acknowledgements: %w", context.Cause(ctx))
	}
}

// commitMarker is the commit bookkeeping both kinds of partition worker
// share: at most one barrier in flight, carrying the position it makes
// committable once every record sent before it is acknowledged.
type commitMarker struct {
	pending *pendingCommit
	// broken says why nothing is committed any more in this generation, or
	// is nil.
	broken   error
	lastMark time.Time
}

// due completes a barrier that has finished, passing its position to commit,
// and reports whether interval has passed since the last mark with no barrier
// in flight: then the caller marks a new position (a direct commit, or a new
// barrier). A failed barrier sets broken.
func (c *commitMarker) due(now time.Time, interval time.Duration, commit func(int64)) bool {
	if c.broken != nil {
		return false
	}
	if c.pending != nil {
		select {
		case err := <-c.pending.ch:
			if err != nil {
				c.broken = fmt.Errorf("barrier failed: %w", err)
				return false
			}
			commit(c.pending.off)
			c.pending = nil
		default:
		}
	}
	if c.pending != nil || now.Sub(c.lastMark) < interval {
		return false
	}
	c.lastMark = now
	return true
}

// ruleVersion returns the version of the rule id (rules.Compiled.Version).
func (p *Pipeline) ruleVersion(id string) string {
	if i, ok := p.ruleIndex[id]; ok {
		return p.versions[i]
	}
	return ""
}

// ruleIDs lists the rules' ids, for a log line.
func (p *Pipeline) ruleIDs() []string { return ids(p.rules) }

func ids(rs []*rules.Compiled) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Rule.ID
	}
	return out
}
