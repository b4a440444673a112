package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/msiguard/msiguard/internal/devbroker"
	"github.com/msiguard/msiguard/internal/metrics"
	"github.com/msiguard/msiguard/internal/sysmongen"
	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/rules"
	"github.com/msiguard/msiguard/sink"
	"github.com/msiguard/msiguard/stream"
	"github.com/msiguard/msiguard/window"
)

// The demo's topics and group: msiguard run's defaults.
const (
	demoTopic  = "sysmon"
	demoAlerts = "msiguard.alerts"
	demoDLQ    = "msiguard.dlq"
	demoGroup  = "msiguard-demo"
)

const demoExamples = `Examples:

  # Until Ctrl-C, 2,000 records/s from 50 hosts:
  go run ./cmd/msiguard demo

  # Ten seconds, a busier network, alerts as JSON (one per line) for jq:
  msiguard demo --duration 10s --rate 20000 --hosts 500 --json | jq .host

  # A fixed broker port, to watch the topics with another Kafka client:
  msiguard demo --listen 127.0.0.1:9092
  kcat -b 127.0.0.1:9092 -t msiguard.alerts -C          # in another terminal

Alerts go to standard output; the banner, the live status line (rewritten in place
on a terminal, every 5 seconds otherwise) and the summary go to standard error.
The first attack is sent at once, so the first alert shows within a few seconds;
later ones follow --attack-rate. Ctrl-C (or --duration) stops the generator, lets
the pipeline catch up, drains it as msiguard run does on SIGTERM, and prints a
summary comparing the alerts published with the attacks generated.
`

// demoFlags holds the values of msiguard demo's flags.
type demoFlags struct {
	duration            time.Duration
	rate                float64
	hosts, partitions   int
	maxSources          int
	attackRate          float64
	seed                uint64
	metricsAddr, listen string
	grace, idle         time.Duration
	json                bool
	capFlags
	ruleFlags
	logFlags
	metricsAddrGiven bool
}

var demoHelp = cmdHelp{
	name: "demo",
	// See cmdHelp.scoped: another command has a flag of the same name
	// that means something else.
	scoped: []string{"partitions"},
	intro: `Usage: msiguard demo [--duration D] [--rate R] [flags]

Runs everything in one process: an in-process Kafka broker (kfake) on loopback,
a generator writing a realistic mixed Sysmon stream (seven shapes, many hosts,
ordinary noise, msiexec look-alikes, and attacks modelled on Atomic Red Team
T1218.007), and the msiguard run pipeline, printing each alert as it is
published. Nothing else is needed: no Kafka, no Docker. Flags:`,
	examples: demoExamples,
}

func newDemoFlagSet(f *demoFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("msiguard demo", flag.ContinueOnError)
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long (0: run until Ctrl-C)")
	fs.Float64Var(&f.rate, "rate", 2000, "Sysmon records per second to generate")
	fs.IntVar(&f.hosts, "hosts", sysmongen.DefaultHosts, "number of endpoints in the generated network")
	fs.Float64Var(&f.attackRate, "attack-rate", sysmongen.DefaultAttackRate, "fraction of records that are attacks (msiexec launched by cmd.exe or powershell.exe)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the generated stream (the event times follow the clock)")
	fs.StringVar(&f.metricsAddr, "metrics-addr", metrics.DefaultAddr, "serve /metrics, /healthz and /readyz on this `host:port` ('' to disable)")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:0", "address of the in-process Kafka broker, `host:port` (port 0: a free port, printed)")
	fs.IntVar(&f.partitions, "partitions", 3, "partitions of the input topic")
	fs.DurationVar(&f.grace, "grace", time.Second, "window grace (msiguard run's default is 2s)")
	fs.DurationVar(&f.idle, "idle-timeout", 2*time.Second, "window idle timeout (msiguard run's default is 5s)")
	fs.IntVar(&f.maxSources, "max-sources", window.DefaultMaxSources, maxSourcesUsage)
	f.capFlags.register(fs)
	f.ruleFlags.register(fs)
	fs.BoolVar(&f.json, "json", false, "print alerts as the JSON records published, one per line")
	f.logFlags.register(fs, "warn")
	return fs
}

// parseDemoFlags parses args, then fills every flag not given on the
// command line from its environment variable.
func parseDemoFlags(args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) (f *demoFlags, err error) {
	f = &demoFlags{}
	fs := newDemoFlagSet(f)
	defer func() {
		if err != nil {
			f, err = nil, reportUsage(stderr, fs, &demoHelp, lookupEnv, err)
		}
	}()
	given, _, err := parseFlags(fs, &demoHelp, args, lookupEnv, stdout)
	if err != nil {
		return nil, err
	}
	if _, err := f.logger(io.Discard); err != nil {
		return nil, err // a bad --log-level, reported in the --log-format asked for
	}
	if err := positiveFlags(fs, "grace", "idle-timeout", "max-sources"); err != nil {
		return nil, err
	}
	if err := f.capFlags.positive(fs); err != nil {
		return nil, err
	}
	// Only an address given on the command line must be that one; the
	// default or MSIGUARD_METRICS_ADDR (msiguard run's) falls back to a free port.
	f.metricsAddrGiven = given["metrics-addr"]
	switch {
	case f.duration < 0:
		return nil, fmt.Errorf("%w: --duration %v is negative (0 runs until Ctrl-C)", errUsage, f.duration)
	case f.rate < 1 || f.rate > 1e6:
		return nil, fmt.Errorf("%w: --rate %v is out of range 1..1000000 records/s", errUsage, f.rate)
	case f.attackRate < 0 || f.attackRate > 0.5:
		return nil, fmt.Errorf("%w: --attack-rate %v is out of range 0..0.5", errUsage, f.attackRate)
	case f.partitions < 1 || f.partitions > 100:
		return nil, fmt.Errorf("%w: --partitions %d is out of range 1..100", errUsage, f.partitions)
	}
	return f, nil
}

// demoCommand is msiguard demo.
func demoCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseDemoFlags(args, nil, stdout, stderr)
	if err != nil {
		return err
	}
	log, err := f.logger(stderr)
	if err != nil {
		return err
	}
	return reportFatal(log, f.logFormat, "msiguard demo failed", runDemo(ctx, f, log, stdout, stderr))
}

// runDemo is msiguard demo once its flags are parsed.
func runDemo(ctx context.Context, f *demoFlags, log *slog.Logger, stdout, stderr io.Writer) error {
	out := newDemoPrinter(stdout, stderr)

	broker, err := devbroker.Start(devbroker.Config{
		Listen: f.listen,
		Topics: []devbroker.Topic{
			{Name: demoTopic, Partitions: f.partitions},
			{Name: demoAlerts, Partitions: 2, Compact: true},
			{Name: demoDLQ, Partitions: 1},
		},
		// About 25 s of input at the default rate: the demo can run
		// for hours without growing.
		RetentionBytes: 32 << 20,
		Logger:         log,
	})
	if err != nil {
		if errors.Is(err, devbroker.ErrConfig) {
			return fmt.Errorf("%w: --listen: %w", errUsage, err)
		}
		return err
	}
	defer broker.Close()
	cluster := kafkaio.Cluster{Brokers: []string{broker.Addr()}, ClientID: "msiguard-demo"}

	rs, err := f.compile()
	if err != nil {
		return err
	}
	cfg := stream.Config{
		Rules:   rs,
		Cluster: cluster, Topic: demoTopic, Group: demoGroup, AlertsTopic: demoAlerts, DLQTopic: demoDLQ,
		Grace: f.grace, IdleTimeout: f.idle, MaxSources: f.maxSources, ShutdownTimeout: 15 * time.Second,
		MaxValues: f.maxValues, MaxAlertBytes: int(f.maxAlertBytes), WindowMemory: int64(f.windowMemory),
		Limits: f.limits(), DeadLetterBytes: int(f.deadLetterBytes),
		SessionTimeout: 6 * time.Second, HeartbeatInterval: time.Second,
		FetchMaxWait: 250 * time.Millisecond, Logger: log,
	}
	p, err := stream.New(cfg)
	if err != nil {
		if errors.Is(err, stream.ErrConfig) {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		return err
	}

	var srv *metrics.Server
	if f.metricsAddr != "" {
		srv, err = metrics.Listen(f.metricsAddr, p, log)
		if err != nil && !f.metricsAddrGiven {
			// The default port is taken (a msiguard run, another demo):
			// a demo should still start.
			srv, err = metrics.Listen("127.0.0.1:0", p, log)
		}
		if err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
	}

	bi := readBuildInfo()
	out.info("msiguard demo: %s", bi.short())
	out.info("msiguard demo: Kafka broker (in-process kfake, development only) on %s: topics %s, %s, %s", broker.Addr(), demoTopic, demoAlerts, demoDLQ)
	out.info("msiguard demo: generating %.0f Sysmon records/s from %d hosts in 7 shapes, %.2g%% attacks (seed %d)", f.rate, f.hosts, 100*f.attackRate, f.seed)
	if srv != nil {
		out.info("msiguard demo: metrics on http://%s/metrics, probes /healthz and /readyz", srv.Addr())
	}
	out.info("msiguard demo: other clients can connect, e.g. kcat -b %s -t %s -C", broker.Addr(), demoAlerts)
	out.info("msiguard demo: Ctrl-C stops")
	log.Info("msiguard demo starting", "build", bi, "config", cfg)

	// Contexts, from the outermost: the metrics server and the alert tail
	// outlive the pipeline, which outlives the generator (ctx, --duration).
	srvCtx, stopSrv := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSrv()
	var srvDone chan error
	if srv != nil {
		srvDone = make(chan error, 1)
		go func() { srvDone <- srv.Serve(srvCtx) }()
	}
	genCtx, stopGen := context.WithCancel(ctx)
	defer stopGen()
	if f.duration > 0 {
		genCtx, stopGen = context.WithTimeout(genCtx, f.duration)
		defer stopGen()
	}
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	tailCtx, stopTail := context.WithCancel(context.WithoutCancel(ctx))
	defer stopTail()

	began := time.Now()
	runDone := make(chan error, 1)
	go func() { runDone <- p.Run(runCtx) }()

	var printed tailCount
	tailDone := make(chan error, 1)
	go func() {
		tailDone <- stream.TailAlerts(tailCtx, stream.TailConfig{Cluster: cluster, Topic: demoAlerts, FromStart: true, Logger: log},
			func(a stream.TailedAlert) error {
				out.alert(a.Alert, f.json)
				printed.add()
				return nil
			})
	}()

	genDone := make(chan demoGenResult, 1)
	go func() { genDone <- demoGenerate(genCtx, cluster, f, log) }()

	status := newDemoStatus(out, p)
	statusDone := make(chan struct{})
	go func() {
		defer close(statusDone)
		status.run(tailCtx, out.tty)
	}()

	// Wait for the generator to stop (Ctrl-C, --duration, or an error) or
	// the pipeline to fail.
	var gen demoGenResult
	var runErr error
	runEnded := false
	select {
	case gen = <-genDone:
	case runErr = <-runDone:
		runEnded = true
		stopGen()
		gen = <-genDone
	}
	if !runEnded {
		// Let the pipeline read what was generated, then drain it.
		deadline := time.Now().Add(5 * time.Second)
		// Both stages: a match stage B has not read when the drain starts
		// waits in the matches topic for the next run, unalerted.
		caughtUp := func(st stream.Stats) bool {
			return st.RecordsConsumed >= gen.acked && st.MatchesApplied+st.DuplicateMatch+st.BadMatchRecords >= st.Matches
		}
		for time.Now().Before(deadline) && !caughtUp(p.Stats()) {
			if waitOrDone(runDone, 50*time.Millisecond) {
				break
			}
		}
		stopRun()
		runErr = <-runDone
	}
	// Show every alert published before the summary.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && printed.get() < p.Stats().AlertsPublished {
		time.Sleep(20 * time.Millisecond)
	}
	stopTail()
	tailErr := <-tailDone
	<-statusDone
	out.clearStatus()

	st := p.Stats()
	elapsed := time.Since(began)
	status.rate = float64(st.RecordsConsumed) / max(elapsed.Seconds(), 1e-9)
	out.info("msiguard demo: stopped: %s", status.line(st, elapsed, false))
	verdict := demoVerdict(rs, st, gen.buckets)
	out.info("msiguard demo: generated %d records (%d attacks in %d host-seconds) in %s; published %d alerts and %d revisions: %s",
		gen.acked, gen.attacks, gen.buckets, elapsed.Round(100*time.Millisecond), st.Alerts, st.Revisions, verdict)

	stopSrv()
	if srvDone != nil {
		if err := <-srvDone; err != nil && runErr == nil {
			runErr = err
		}
	}
	switch {
	case runErr != nil:
		return runErr
	case gen.err != nil:
		return gen.err
	case tailErr != nil:
		return fmt.Errorf("reading the alerts topic: %w", tailErr)
	}
	return nil
}

// waitOrDone waits d, or less if ch has a value (put back), and reports
// whether it had one.
func waitOrDone(ch chan error, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-ch:
		ch <- err
		return true
	case <-t.C:
		return false
	}
}

type tailCount struct {
	mu sync.Mutex
	n  int64 // guarded by mu
}

func (c *tailCount) add() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

func (c *tailCount) get() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// demoGenResult is what the generator did.
type demoGenResult struct {
	acked            int64 // records acknowledged by the broker
	attacks, buckets int64 // attack records, and their (host, second) buckets: the alerts expected
	err              error
}

// demoVerdict compares the seed rule's alerts with the attack buckets the
// generator planted, which are the seed rule's: with another rule set, it
// says so instead.
func demoVerdict(rs []*rules.Compiled, st stream.Stats, buckets int64) string {
	seed, err := rules.Compile(rules.Default(), nil)
	if err != nil {
		return "not checked: " + err.Error()
	}
	i := slices.IndexFunc(rs, func(r *rules.Compiled) bool { return r.Rule.ID == seed.Rule.ID })
	if i < 0 || rs[i].Version() != seed.Version() {
		return "not checked: the generator plants attacks for the built-in seed rule, which this rule set does not run unchanged"
	}
	n := st.AlertsByRule[seed.Rule.ID]
	switch {
	case n < buckets:
		return fmt.Sprintf("%d attack buckets not alerted (stopped before the pipeline read them?)", buckets-n)
	case n > buckets:
		return fmt.Sprintf("%d alerts more than attack buckets", n-buckets)
	}
	return "every attack bucket was alerted"
}

// demoGenerate writes the demo stream to the input topic at f.rate until
// ctx is done. The event times follow the clock (Start is now, one
// second of event time per second at the target rate). The first records
// are one attack burst, taken from a generator with the same seed and
// hosts but attacks nearly always, so that the first alert does not wait
// for --attack-rate to come up.
func demoGenerate(ctx context.Context, cluster kafkaio.Cluster, f *demoFlags, log *slog.Logger) (res demoGenResult) {
	w, err := sink.NewRawWriter(ctx, sink.RawWriterConfig{Cluster: &cluster, Topic: demoTopic, Linger: time.Millisecond})
	if err != nil {
		if ctx.Err() == nil {
			res.err = fmt.Errorf("demo generator: %w", err)
		}
		return res
	}
	defer w.Close()
	start := time.Now().UTC().Truncate(time.Millisecond)
	attackRate := f.attackRate
	if attackRate == 0 {
		attackRate = sysmongen.Disabled
	}
	base := sysmongen.Config{Seed: f.seed, Hosts: f.hosts, Start: start, EventsPerSecond: int(f.rate), AttackRate: attackRate}
	g, err := sysmongen.New(base)
	if err != nil {
		res.err = fmt.Errorf("%w: %w", errUsage, err)
		return res
	}

	// The batch being built: records back to back in buf, and the attack
	// buckets among them, counted once the broker has acknowledged them.
	type bucket struct {
		host string
		sec  int64
	}
	var (
		buf     []byte
		batch   []sink.RawRecord
		ends    []int
		pending []bucket
		buckets = map[bucket]struct{}{}
	)
	add := func(gen *sysmongen.Generator, rec []byte) sysmongen.Meta {
		if rec == nil {
			buf = gen.Next(buf)
		} else {
			buf = append(buf, rec...)
		}
		ends = append(ends, len(buf))
		batch = append(batch, sink.RawRecord{})
		m := gen.Meta()
		if m.Kind == sysmongen.KindAttack {
			pending = append(pending, bucket{m.Host, m.Time.Unix()})
		}
		return m
	}
	send := func() error {
		s := 0
		for i, e := range ends {
			batch[i].Value = buf[s:e:e]
			s = e
		}
		// Not ctx: a write cut short by Ctrl-C can still land in the topic,
		// unacknowledged and uncounted; the summary counts what it holds.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err := w.Write(wctx, batch)
		cancel()
		if err == nil {
			res.acked += int64(len(batch))
			res.attacks += int64(len(pending))
			for _, b := range pending {
				buckets[b] = struct{}{}
			}
		}
		// A fresh buffer: the writer may still hold the old one's bytes
		// after an error.
		buf, batch, ends, pending = buf[:0:0], batch[:0], ends[:0], pending[:0]
		return err
	}
	defer func() { res.buckets = int64(len(buckets)) }()

	if f.attackRate > 0 {
		pc := base
		pc.AttackRate, pc.DecoyRate, pc.ForeignRate = 0.85, sysmongen.Disabled, sysmongen.Disabled
		primer, err := sysmongen.New(pc)
		if err == nil {
			// One burst: the first attack records, on one host.
			host := ""
			for range 100 {
				rec, m := primer.Next(nil), primer.Meta()
				if m.Kind != sysmongen.KindAttack || host != "" && m.Host != host {
					if host != "" {
						break
					}
					continue
				}
				host = m.Host
				add(primer, rec)
			}
			if err := send(); err != nil {
				if ctx.Err() == nil {
					res.err = fmt.Errorf("demo generator: %w", err)
				}
				return res
			}
		}
	}

	per := max(1, int(f.rate/20)) // 20 writes per second
	pc := pacer{rate: f.rate, began: time.Now()}
	var sent int64
	for ctx.Err() == nil {
		for range per {
			add(g, nil)
		}
		sent += int64(per)
		if err := send(); err != nil {
			if ctx.Err() == nil {
				res.err = fmt.Errorf("demo generator: %w", err)
				log.Error("demo generator stopped", "err", err)
			}
			break
		}
		if pc.wait(ctx, sent) != nil {
			break
		}
	}
	return res
}

// demoPrinter writes alerts to stdout and the status line to stderr; on a
// terminal it erases the status line before anything else is printed and
// redraws it after.
type demoPrinter struct {
	mu         sync.Mutex
	stdout     io.Writer
	stderr     io.Writer
	tty        bool
	statusLine string // guarded by mu: the status line shown, "" for none
	buf        []byte
}

func newDemoPrinter(stdout, stderr io.Writer) *demoPrinter {
	return &demoPrinter{stdout: stdout, stderr: stderr, tty: isTerminal(stderr)}
}

func (p *demoPrinter) eraseLocked() {
	if p.tty && p.statusLine != "" {
		fmt.Fprint(p.stderr, "\r\033[K")
	}
}

func (p *demoPrinter) redrawLocked() {
	if p.tty && p.statusLine != "" {
		fmt.Fprint(p.stderr, p.statusLine)
	}
}

func (p *demoPrinter) info(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.eraseLocked()
	fmt.Fprintf(p.stderr, format+"\n", args...)
	p.redrawLocked()
}

func (p *demoPrinter) alert(a *window.Alert, asJSON bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.eraseLocked()
	if asJSON {
		p.buf = append(a.AppendJSON(p.buf[:0]), '\n')
	} else {
		p.buf = appendAlertLine(p.buf[:0], a)
	}
	p.stdout.Write(p.buf)
	p.redrawLocked()
}

// status shows line: in place on a terminal, as a new line otherwise.
func (p *demoPrinter) status(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		p.statusLine = line
		fmt.Fprint(p.stderr, "\r\033[K"+line)
		return
	}
	fmt.Fprintln(p.stderr, line)
}

func (p *demoPrinter) clearStatus() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.eraseLocked()
	p.statusLine = ""
}

// appendAlertLine formats an alert for people: when, where, what started
// what, and as whom.
func appendAlertLine(dst []byte, a *window.Alert) []byte {
	// first shows one value of a field, preferring one that mentions
	// msiexec (a bucket may also hold the conhost.exe its cmd.exe started).
	first := func(name string) string {
		v := a.Values(name)
		if len(v) == 0 {
			return "-"
		}
		shown := v[0]
		for _, x := range v {
			if strings.Contains(strings.ToLower(x), "msiexec") {
				shown = x
				break
			}
		}
		if len(v) > 1 {
			return fmt.Sprintf("%s (+%d more)", shown, len(v)-1)
		}
		return shown
	}
	tag := "ALERT"
	switch {
	case a.Late:
		tag = "LATE ALERT"
	case a.Revision > 1:
		tag = fmt.Sprintf("REVISED (rev %d)", a.Revision)
	}
	dst = fmt.Appendf(dst, "%s %s %s  %s -> %s  user=%s  events=%d  id=%s\n",
		tag, time.Unix(a.Time, 0).UTC().Format("15:04:05Z"), a.Host,
		first("parent_process_name"), first("process"), first("user"), a.EventCount, a.AlertID[:min(12, len(a.AlertID))])
	return dst
}

// demoStatus computes the status line from the pipeline's counters.
type demoStatus struct {
	out      *demoPrinter
	p        *stream.Pipeline
	lastN    int64
	lastTime time.Time
	rate     float64
}

func newDemoStatus(out *demoPrinter, p *stream.Pipeline) *demoStatus {
	return &demoStatus{out: out, p: p, lastTime: time.Now()}
}

// run updates the status every second on a terminal, every 5 seconds
// otherwise, until ctx is done.
func (s *demoStatus) run(ctx context.Context, tty bool) {
	every := 5 * time.Second
	if tty {
		every = time.Second
	}
	began := time.Now()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			st := s.p.Stats()
			s.rate = float64(st.RecordsConsumed-s.lastN) / now.Sub(s.lastTime).Seconds()
			s.lastN, s.lastTime = st.RecordsConsumed, now
			if tty {
				s.out.status(s.short(st, now.Sub(began)))
			} else {
				s.out.status(s.line(st, now.Sub(began), true))
			}
		}
	}
}

// short is the status for a terminal, redrawn in place: kept under 80
// columns, since \r cannot go back over a wrapped line.
func (s *demoStatus) short(st stream.Stats, elapsed time.Duration) string {
	ready := "ready"
	if s.p.Ready() != nil {
		ready = "not ready"
	}
	line := fmt.Sprintf("%s: %.0f ev/s, %d records, %d matches, %d alerts, lag %d, %s",
		elapsed.Round(time.Second), s.rate, st.RecordsConsumed, st.Matches, st.Alerts, inputLag(st), ready)
	if len(line) > 79 {
		line = line[:79]
	}
	return line
}

func inputLag(st stream.Stats) int64 {
	var lag int64
	for _, p := range st.Partitions {
		if p.Topic == demoTopic && p.Lag > 0 {
			lag += p.Lag
		}
	}
	return lag
}

// line formats the status; withReady adds what Ready says.
func (s *demoStatus) line(st stream.Stats, elapsed time.Duration, withReady bool) string {
	lag := inputLag(st)
	var dead int64
	for _, n := range st.DeadLetters {
		dead += n
	}
	line := fmt.Sprintf("status %s: %.0f events/s, %d records, %d matches, %d alerts (%d revisions, %d published), %d dead letters, lag %d, %d open buckets",
		elapsed.Round(time.Second), s.rate, st.RecordsConsumed, st.Matches, st.Alerts, st.Revisions, st.AlertsPublished, dead, lag, st.OpenBuckets)
	if withReady {
		if err := s.p.Ready(); err != nil {
			return line + ", not ready"
		}
		return line + ", ready"
	}
	return line
}
