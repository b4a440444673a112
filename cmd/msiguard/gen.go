package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/msiguard/msiguard/internal/sysmongen"
	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/sink"
)

const genExamples = `Examples:

  # 100,000 records, all seven shapes, to a gzip file (gzip implied by .gz):
  msiguard gen --out sysmon.jsonl.gz --count 100000

  # A 500 MB benchmark file covering one hour of event time at 2,000 events/s:
  msiguard gen --out bench.jsonl --bytes 500MB --events-per-second 2000 --seed 7

  # Winlogbeat and raw XML only, 5% attacks, to standard output:
  msiguard gen --out - --count 1000 --shapes winlogbeat,xml --attack-rate 0.05 | head

  # Fill a topic (created with 12 partitions if missing) as fast as possible:
  msiguard gen --brokers kafka1:9092 --topic sysmon --partitions 12 --count 10000000

  # A steady 5,000 records/s until Ctrl-C, keyed by host, lz4-compressed:
  MSIGUARD_BROKERS=kafka1:9092 msiguard gen --topic sysmon --rate 5000 --key host --compression lz4

The stream is deterministic: the same --seed and content flags give the same
records, byte for byte. Record n has Sysmon UtcTime --start + n/--events-per-second
(plus --jitter and --late-rate if set), so N records span N/--events-per-second
seconds of event time whatever --rate is. A summary on standard error gives the
counts, including the alerts a correct pipeline must publish (attack buckets).
`

// genFlags holds the values of msiguard gen's flags.
type genFlags struct {
	out   string
	gzip  bool
	count int64
	bytes string

	connFlags
	topic                  string
	partitions, replicas   int
	rate                   float64
	acks, compression, key string
	batch, inflight        int
	timestamps             string

	seed                               uint64
	hosts                              int
	domain, shapes, start              string
	attackRate, decoyRate, foreignRate float64
	shortNames, lateRate               float64
	eps                                int
	jitter, late                       time.Duration
	quiet                              bool

	// fromEnv names the flags set from the environment, not the command
	// line: settings shared with msiguard run (MSIGUARD_BROKERS, TLS...)
	// must not get in the way of writing a file.
	fromEnv map[string]bool
}

func newGenFlagSet(f *genFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("msiguard gen", flag.ContinueOnError)
	// Where to.
	fs.StringVar(&f.out, "out", "", "write records as lines to `FILE` (- for standard output)")
	fs.BoolVar(&f.gzip, "gzip", false, "gzip the --out file (implied when FILE ends in .gz)")
	f.connFlags.register(fs) // --brokers writes records to Kafka instead of --out
	fs.StringVar(&f.topic, "topic", "", "topic to write to (with --brokers)")
	fs.IntVar(&f.partitions, "partitions", 0, "create --topic with this many partitions if it does not exist (0: it must exist or be auto-created)")
	fs.IntVar(&f.replicas, "replication-factor", -1, "replication factor of a topic created for --partitions (-1: the brokers' default)")
	fs.Float64Var(&f.rate, "rate", 0, "records per second to send, by the wall clock (0: as fast as possible)")
	fs.StringVar(&f.acks, "acks", "all", "acknowledgements to wait for: all or one")
	fs.StringVar(&f.compression, "compression", "none", "compression: none, gzip, snappy, lz4 or zstd")
	fs.StringVar(&f.key, "key", "none", "record key: none (round-robin over partitions) or host (the endpoint's name, hashed to a partition)")
	fs.IntVar(&f.batch, "batch", 4000, "records per produce call")
	fs.IntVar(&f.inflight, "inflight", 1, "produce calls in flight at once; above 1, two batches for one partition may land out of order,\n      so event time on a partition may go back by up to --batch/--events-per-second seconds")
	fs.StringVar(&f.timestamps, "timestamps", "now", "Kafka record timestamps: now (the write time) or event (the record's UtcTime; mind the topic's retention)")
	// How much.
	fs.Int64Var(&f.count, "count", 0, "number of records to write")
	fs.StringVar(&f.bytes, "bytes", "", "write records until this much has been written (uncompressed), e.g. 500MB, 2GiB, 64k")
	// What.
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the stream: the same seed and content flags give the same records")
	fs.IntVar(&f.hosts, "hosts", sysmongen.DefaultHosts, "number of endpoints")
	fs.StringVar(&f.domain, "domain", sysmongen.DefaultDomain, "DNS domain of the endpoints")
	fs.StringVar(&f.shapes, "shapes", "all", "record shapes, comma-separated: all or "+shapeNames(","))
	fs.Float64Var(&f.attackRate, "attack-rate", sysmongen.DefaultAttackRate, "fraction of records that are attacks the rule must match")
	fs.Float64Var(&f.decoyRate, "decoy-rate", sysmongen.DefaultDecoyRate, "fraction of records that mention msiexec but must not match")
	fs.Float64Var(&f.foreignRate, "foreign-rate", sysmongen.DefaultForeignRate, "fraction of Security and PowerShell (non-Sysmon) records")
	fs.Float64Var(&f.shortNames, "short-names", sysmongen.DefaultShortNames, "fraction of endpoints named by short name rather than FQDN")
	fs.StringVar(&f.start, "start", sysmongen.DefaultStart.Format(time.RFC3339), "event time of the first record, RFC 3339, or now")
	fs.IntVar(&f.eps, "events-per-second", sysmongen.DefaultEventsPerSecond, "density of the stream in event time")
	fs.DurationVar(&f.jitter, "jitter", 0, "move each record back in event time by up to this much (bounded disorder)")
	fs.Float64Var(&f.lateRate, "late-rate", 0, "fraction of records sent --late behind the others")
	fs.DurationVar(&f.late, "late", sysmongen.DefaultLate, "how far behind a late record is")
	fs.BoolVar(&f.quiet, "quiet", false, "print neither progress nor the summary on standard error")
	return fs
}

var genHelp = cmdHelp{
	name: "gen",
	// See cmdHelp.scoped: another command has a flag of the same name
	// that means something else.
	scoped: []string{"out", "partitions"},
	intro: `Usage:
  msiguard gen --out FILE|- [--gzip] (--count N | --bytes SIZE) [content flags]
  msiguard gen --brokers HOST:PORT --topic T [--partitions P] [--rate R] [--count N | --bytes SIZE] [content flags]

Generates a realistic, deterministic stream of raw Sysmon records in the seven
shapes msiguard reads (Winlogbeat raw, ECS and 6.x, flat NXLog/OTRF/Sentinel,
EVTX-to-JSON list and map, raw XML), with harmless msiexec traffic and attacks
modelled on Atomic Red Team T1218.007, for tests, demos and load tests. Without
--count or --bytes, writing to Kafka goes on until interrupted. Flags:`,
	examples: genExamples,
	// The destination given on the command line wins over one from the
	// environment: --out on the command line ignores MSIGUARD_BROKERS and
	// MSIGUARD_TOPIC, and --brokers or --topic ignore MSIGUARD_GEN_OUT.
	hides: map[string][]string{"out": {"brokers", "topic"}, "brokers": {"out"}, "topic": {"out"}},
}

// parseGenFlags parses args, then fills every flag not given on the
// command line from its environment variable.
func parseGenFlags(args []string, lookupEnv func(string) (string, bool), stdout io.Writer) (*genFlags, error) {
	f := &genFlags{}
	_, fromEnv, err := parseFlags(newGenFlagSet(f), &genHelp, args, lookupEnv, stdout)
	if err != nil {
		return nil, err
	}
	f.fromEnv = fromEnv
	return f, nil
}

// parseSize parses a byte count: a number with an optional unit, k, M, G
// (powers of 1000, optionally followed by B) or KiB, MiB, GiB (powers of
// 1024), in any case.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" {
		return 0, fmt.Errorf("size %q: want a number with an optional unit (500MB, 2GiB, 64k)", s)
	}
	mult := map[string]float64{
		"": 1, "b": 1,
		"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("size %q: unknown unit %q (use B, k, MB, GB, KiB, MiB or GiB)", s, t[i:])
	}
	n := v * mult
	if n < 1 || n > 1<<62 {
		return 0, fmt.Errorf("size %q is out of range", s)
	}
	return int64(n), nil
}

// genPlan is what the flags ask for, validated.
type genPlan struct {
	gen      sysmongen.Config
	count    int64 // records; 0 = no limit
	maxBytes int64 // uncompressed bytes; 0 = no limit
	toKafka  bool
	keyHost  bool
	evTime   bool
}

func (f *genFlags) plan(now func() time.Time) (genPlan, error) {
	var p genPlan
	bad := func(format string, args ...any) (genPlan, error) {
		return genPlan{}, fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
	}
	switch {
	case f.out == "" && f.brokers == "" && f.topic == "":
		return bad("say where to write: --out FILE (- for standard output) or --brokers HOST:PORT with --topic")
	case f.out != "" && (f.brokers != "" || f.topic != ""):
		return bad("--out writes a file and --brokers/--topic a topic: give one of them")
	case f.out == "" && f.brokers == "":
		return bad("--topic needs --brokers HOST:PORT (or MSIGUARD_BROKERS)")
	case f.out == "" && f.topic == "":
		return bad("--brokers needs --topic")
	}
	p.toKafka = f.out == ""
	if f.count < 0 {
		return bad("--count %d is negative", f.count)
	}
	p.count = f.count
	if f.bytes != "" {
		n, err := parseSize(f.bytes)
		if err != nil {
			return bad("--bytes: %v", err)
		}
		p.maxBytes = n
	}
	if !p.toKafka && p.count == 0 && p.maxBytes == 0 {
		return bad("say how much to write: --count N or --bytes SIZE")
	}
	if p.count > 0 && p.maxBytes > 0 {
		return bad("give --count or --bytes, not both")
	}
	if !p.toKafka {
		// Kafka settings from the environment (shared with msiguard run)
		// do not matter to a file; given on the command line they are a
		// mistake worth saying.
		set := f.securityFlagsSet()
		for _, k := range []struct {
			name string
			set  bool
		}{
			{"partitions", f.partitions != 0}, {"key", f.key != "none"}, {"compression", f.compression != "none"},
			{"timestamps", f.timestamps != "now"}, {"acks", f.acks != "all"},
		} {
			if k.set {
				set = append(set, k.name)
			}
		}
		for _, name := range set {
			if !f.fromEnv[name] {
				return bad("--%s applies to --brokers only", name)
			}
		}
		f.key, f.timestamps = "none", "now"
	} else if f.gzip && !f.fromEnv["gzip"] {
		return bad("--gzip applies to --out files; for Kafka use --compression")
	}
	if f.rate < 0 {
		return bad("--rate %v is negative (0 means as fast as possible)", f.rate)
	}
	if f.batch < 1 || f.inflight < 1 {
		return bad("--batch and --inflight must be at least 1")
	}
	switch f.key {
	case "none", "host":
		p.keyHost = f.key == "host"
	default:
		return bad("--key %q: use none or host", f.key)
	}
	switch f.timestamps {
	case "now", "event":
		p.evTime = f.timestamps == "event"
	default:
		return bad("--timestamps %q: use now or event", f.timestamps)
	}

	var shapes []sysmongen.Shape
	if f.shapes != "all" && f.shapes != "" {
		for _, name := range strings.Split(f.shapes, ",") {
			s, err := sysmongen.ParseShape(strings.TrimSpace(name))
			if err != nil {
				return bad("--shapes: unknown shape %q: use all or a comma-separated list of %s", strings.TrimSpace(name), shapeNames(","))
			}
			shapes = append(shapes, s)
		}
	}
	var start time.Time
	if f.start == "now" {
		start = now().UTC().Truncate(time.Second)
	} else {
		t, err := time.Parse(time.RFC3339Nano, f.start)
		if err != nil {
			return bad("--start %q is not an RFC 3339 time (2025-03-06T10:00:00Z) or now", f.start)
		}
		start = t
	}
	rate := func(v float64) float64 {
		if v == 0 {
			return sysmongen.Disabled
		}
		return v
	}
	p.gen = sysmongen.Config{
		Seed: f.seed, Hosts: f.hosts, Domain: f.domain, Shapes: shapes,
		ShortNames: rate(f.shortNames), AttackRate: rate(f.attackRate), DecoyRate: rate(f.decoyRate), ForeignRate: rate(f.foreignRate),
		Start: start, EventsPerSecond: f.eps, Jitter: f.jitter, LateRate: f.lateRate, Late: f.late,
	}
	for _, v := range []struct {
		name string
		v    float64
	}{{"attack-rate", f.attackRate}, {"decoy-rate", f.decoyRate}, {"foreign-rate", f.foreignRate}, {"short-names", f.shortNames}, {"late-rate", f.lateRate}} {
		if v.v < 0 {
			return bad("--%s %v is negative", v.name, v.v)
		}
	}
	if f.hosts < 1 {
		return bad("--hosts %d: need at least one endpoint", f.hosts)
	}
	if f.eps < 1 {
		return bad("--events-per-second %d: need at least 1", f.eps)
	}
	if err := p.gen.Validate(); err != nil {
		return bad("%v", strings.TrimPrefix(err.Error(), sysmongen.ErrConfig.Error()+": "))
	}
	return p, nil
}

// genCommand is msiguard gen.
func genCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseGenFlags(args, nil, stdout)
	if err != nil {
		return err
	}
	p, err := f.plan(time.Now)
	if err != nil {
		return err
	}
	g, err := sysmongen.New(p.gen)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	var prog *genProgress
	if !f.quiet && isTerminal(stderr) {
		now := time.Now()
		prog = &genProgress{w: stderr, began: now, last: now, plan: &p} // the first line after a second
	}
	began := time.Now()
	var sent int64
	if p.toKafka {
		sent, err = genToKafka(ctx, f, &p, g, prog)
	} else {
		sent, err = genToFile(ctx, f, &p, g, stdout, prog)
	}
	prog.clear()
	// Nothing generated (the brokers unreachable, a bad topic): the error
	// alone says what happened.
	if st := g.Stats(); !f.quiet && (err == nil || st.Records > 0) {
		genSummary(stderr, st, sent, genBytes(st, p.toKafka), time.Since(began), p.toKafka)
	}
	return err
}

// genDone reports whether the plan's limit is reached.
func (p *genPlan) done(records, bytes int64) bool {
	return (p.count > 0 && records >= p.count) || (p.maxBytes > 0 && bytes >= p.maxBytes)
}

// pacer holds a wall-clock rate of records per second.
type pacer struct {
	rate  float64
	began time.Time
}

// wait blocks until sent records are due, or ctx is done.
func (pc *pacer) wait(ctx context.Context, sent int64) error {
	if pc.rate <= 0 {
		return ctx.Err()
	}
	due := pc.began.Add(time.Duration(float64(sent) / pc.rate * float64(time.Second)))
	d := time.Until(due)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func genToFile(ctx context.Context, f *genFlags, p *genPlan, g *sysmongen.Generator, stdout io.Writer, prog *genProgress) (int64, error) {
	var out io.Writer = stdout
	var file *os.File
	if f.out != "-" {
		var err error
		file, err = os.Create(f.out)
		if err != nil {
			return 0, fmt.Errorf("--out: %w", err)
		}
		defer file.Close()
		out = file
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	w := io.Writer(bw)
	var zw *gzip.Writer
	if f.gzip || (f.out != "-" && strings.HasSuffix(f.out, ".gz")) {
		zw, _ = gzip.NewWriterLevel(bw, gzip.BestSpeed)
		w = zw
	}
	pc := pacer{rate: f.rate, began: time.Now()}
	var records, bytes int64
	buf := make([]byte, 0, 1<<20)
	for !p.done(records, bytes) {
		// Write in chunks of about 1 MB; check the limits record by record.
		buf = buf[:0]
		n := int64(0)
		for len(buf) < 1<<20 && !p.done(records+n, bytes+int64(len(buf))) {
			buf = g.Next(buf)
			buf = append(buf, '\n')
			n++
			if pc.rate > 0 && n >= int64(max(1, pc.rate/20)) {
				break
			}
		}
		if _, err := w.Write(buf); err != nil {
			return records, fmt.Errorf("writing %s: %w", f.out, err)
		}
		records += n
		bytes += int64(len(buf))
		prog.update(records, bytes)
		if err := pc.wait(ctx, records); err != nil {
			break // interrupted: close the file properly
		}
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return records, fmt.Errorf("writing %s: %w", f.out, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return records, fmt.Errorf("writing %s: %w", f.out, err)
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return records, fmt.Errorf("closing %s: %w", f.out, err)
		}
	}
	return records, nil
}

// genBatch is one produce call's records, stored back to back in buf.
type genBatch struct {
	buf  []byte
	recs []sink.RawRecord
	ends []int // end of each record in buf
}

func genToKafka(ctx context.Context, f *genFlags, p *genPlan, g *sysmongen.Generator, prog *genProgress) (int64, error) {
	c, err := f.cluster(nil)
	if err != nil {
		return 0, err
	}
	wcfg := sink.RawWriterConfig{
		Cluster: c, Topic: f.topic, Partitions: f.partitions, ReplicationFactor: f.replicas,
		Acks: f.acks, Compression: f.compression, Balance: map[bool]string{true: "hash", false: "round-robin"}[p.keyHost],
		BatchMessages: min(f.batch, sink.DefaultRawBatchMessages),
	}
	if err := wcfg.Validate(); err != nil {
		return 0, fmt.Errorf("%w: %w", errUsage, err)
	}
	if err := probeBrokers(ctx, c); err != nil {
		return 0, err
	}
	w, err := sink.NewRawWriter(ctx, wcfg)
	if err != nil {
		if errors.Is(err, kafkaio.ErrConfig) {
			return 0, fmt.Errorf("%w: %w", errUsage, err)
		}
		return 0, err
	}
	defer w.Close()

	// Writes finish even after ctx is cancelled (Ctrl-C stops generating,
	// then drains what is queued); an error of one write stops the rest.
	wctx, abort := context.WithCancelCause(context.WithoutCancel(ctx))
	defer abort(nil)
	work := make(chan *genBatch, f.inflight)
	free := make(chan *genBatch, f.inflight+1)
	for range f.inflight + 1 {
		free <- &genBatch{}
	}
	var wg sync.WaitGroup
	for range f.inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				if wctx.Err() == nil {
					if err := w.Write(wctx, b.recs); err != nil {
						abort(err)
					}
				}
				free <- b
			}
		}()
	}

	per := f.batch
	if f.rate > 0 {
		per = max(1, min(per, int(f.rate/20))) // at least 20 sends per second
	}
	var hostKeys [][]byte
	for _, h := range g.Hosts() {
		hostKeys = append(hostKeys, []byte(h))
	}
	pc := pacer{rate: f.rate, began: time.Now()}
	var records, bytes int64
generate:
	for !p.done(records, bytes) {
		var b *genBatch
		select {
		case b = <-free:
		case <-ctx.Done():
			break generate
		case <-wctx.Done():
			break generate
		}
		b.buf, b.recs, b.ends = b.buf[:0], b.recs[:0], b.ends[:0]
		for len(b.ends) < per && !p.done(records+int64(len(b.ends)), bytes+int64(len(b.buf))) {
			b.buf = g.Next(b.buf)
			b.ends = append(b.ends, len(b.buf))
			m := g.Meta()
			r := sink.RawRecord{}
			if p.keyHost {
				r.Key = hostKeys[m.HostIndex]
			}
			if p.evTime {
				r.Time = m.Time
			}
			b.recs = append(b.recs, r)
		}
		start := 0
		for i, end := range b.ends {
			b.recs[i].Value = b.buf[start:end:end]
			start = end
		}
		records += int64(len(b.recs))
		bytes += int64(len(b.buf))
		work <- b // blocks only until a writer takes a batch
		prog.update(records, bytes)
		if err := pc.wait(ctx, records); err != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	if err := context.Cause(wctx); err != nil {
		return w.Stats().Records, fmt.Errorf("writing to topic %s: %w", f.topic, err)
	}
	return w.Stats().Records, nil
}

// genBytes is the size of what gen wrote, counted as backtest counts it
// when it reads it back: a file's lines with their newlines (the file's
// size before compression), a topic's record values.
func genBytes(st sysmongen.Stats, toKafka bool) int64 {
	if toKafka {
		return st.Bytes
	}
	return st.Bytes + st.Records // one '\n' per record
}

// genProgress redraws one status line on a terminal, at most once a second,
// fitted to its width; with --count or --bytes it shows the percent done
// and an ETA. A nil *genProgress does nothing.
type genProgress struct {
	w     io.Writer
	began time.Time
	last  time.Time
	plan  *genPlan
}

// update shows records and bytes so far (bytes as genBytes counts them).
func (pr *genProgress) update(records, bytes int64) {
	if pr == nil {
		return
	}
	now := time.Now()
	if now.Sub(pr.last) < time.Second {
		return
	}
	pr.last = now
	elapsed := now.Sub(pr.began)
	fmt.Fprint(pr.w, redraw(formatGenProgress(pr.plan, records, bytes, elapsed, termWidth(pr.w))))
}

func formatGenProgress(p *genPlan, records, bytes int64, elapsed time.Duration, width int) string {
	sec := max(elapsed.Seconds(), 1e-9)
	done := -1.0
	switch {
	case p != nil && p.count > 0:
		done = min(float64(records)/float64(p.count), 1)
	case p != nil && p.maxBytes > 0:
		done = min(float64(bytes)/float64(p.maxBytes), 1)
	}
	pct := ""
	if done >= 0 {
		pct = fmt.Sprintf("%5.1f%%", 100*done)
	}
	return fitLine("gen:", []field{
		{pct, 0},
		{eta(done, elapsed), 0},
		{fmt.Sprintf("%d records", records), 1},
		{fmt.Sprintf("%.1f MB", float64(bytes)/1e6), 2},
		{fmt.Sprintf("%.0f records/s", float64(records)/sec), 3},
		{fmt.Sprintf("%.0f MB/s", float64(bytes)/1e6/sec), 4},
	}, width)
}

func (pr *genProgress) clear() {
	if pr != nil {
		fmt.Fprint(pr.w, redraw(""))
	}
}

// genSummary prints what was generated: one line. bytes is what was written
// (genBytes), the count backtest's summary gives for the same records.
func genSummary(w io.Writer, st sysmongen.Stats, sent, bytes int64, elapsed time.Duration, toKafka bool) {
	what, unit := "written", "bytes with newlines"
	if toKafka {
		what, unit = "acknowledged", "bytes of record values"
	}
	sec := max(elapsed.Seconds(), 1e-9)
	fmt.Fprintf(w, "gen: %d records generated, %d %s, %d %s (%.1f MB) in %s (%.0f MB/s); attacks=%d in %d buckets (expected alerts), decoys=%d, foreign=%d, late=%d; event time %s .. %s\n",
		st.Records, sent, what, bytes, unit, float64(bytes)/1e6, elapsed.Round(time.Millisecond), float64(bytes)/1e6/sec,
		st.Attacks, st.AttackBuckets, st.Decoys, st.Foreign, st.Late,
		st.MinTime.Format(time.RFC3339Nano), st.MaxTime.Format(time.RFC3339Nano))
}
