package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/msiguard/msiguard/backtest"
	"github.com/msiguard/msiguard/backtest/topicsource"
	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/sink"
	"github.com/msiguard/msiguard/window"
)

var backtestHelp = cmdHelp{
	name: "backtest",
	// See cmdHelp.scoped: another command has a flag of the same name
	// that means something else.
	scoped: []string{"out"},
	intro: `Usage:
  msiguard backtest --input FILE [--input FILE ...] [--out FILE] [--dlq FILE] [flags]
  msiguard backtest --brokers HOST:PORT --topic T [--from TIME] [--to TIME] [--out FILE | --alerts-topic T] [flags]
  msiguard backtest (--input FILE | --topic T ...) [--rule old.yml] --compare new.yml [--compare-out FILE]

Replays recorded Sysmon events through the rules (the built-in seed rule, or
--rule and --rules) and writes the alerts they would have raised, as JSON
lines sorted by (_time, host), each alert_id once with its final content. The
same input always gives the same bytes.

--compare replays the input twice, with the rules in use and with the changed
ones, and prints which alerts the change adds, removes and alters (per bucket
and field), with totals per rule; --compare-out writes it all as JSON lines.
A rule keeps its alert_ids across edits as long as it keeps its id.

From files: JSON lines or raw XML lines, plain or compressed with gzip, zstd,
xz or bzip2 (detected by content, not by name), "-" for standard input; a file
that is not text (an .evtx, a zip, UTF-16) is refused with what to do instead.
Shapes are detected per record.
From a topic: each partition is read from the first offset at or after --from
(default: the start) to the first offset at or after --to (default: the end
when the run starts), without joining a consumer group; partitions are merged
by record timestamp. The run ends at the end of the range and exits 0.

Flags:`,
	examples: `Examples:
  msiguard backtest --input sysmon-2025-03-06.jsonl.gz --dlq dead.jsonl > alerts.jsonl
  msiguard backtest --brokers kafka:9092 --topic sysmon \
      --from 2025-03-06T10:00:00Z --to 2025-03-06T11:00:00Z --out alerts.jsonl
  msiguard backtest --input last-week.jsonl.gz --compare tuned.yml --compare-out diff.jsonl

--input on the command line ignores MSIGUARD_TOPIC, MSIGUARD_FROM and MSIGUARD_TO
(msiguard run reads MSIGUARD_TOPIC too), --topic ignores MSIGUARD_INPUT. Alerts go
to standard output unless --out says otherwise or --alerts-topic is given.
--out and --dlq files are replaced only when the run succeeds: after an error or
Ctrl-C they keep their previous content and what was found is in FILE.partial.
--alerts-topic has no environment variable: MSIGUARD_ALERTS_TOPIC, set up for
msiguard run, names the live alerts topic, where a backtest's alerts would
overwrite live ones with the same alert_id.
`,
	argHint: "files are given with --input",
	hides:   map[string][]string{"input": {"topic", "from", "to"}, "topic": {"input"}},
	// MSIGUARD_ALERTS_TOPIC, set up for run, names the live alerts topic: a
	// backtest must never publish into it by accident.
	cmdLineOnly: []string{"alerts-topic"},
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type backtestFlags struct {
	inputs        stringList
	out, dlq      string
	summaryJSON   string
	quiet         bool
	emitRevisions bool
	shape         string
	workers       int
	grace, idle   time.Duration
	retain        time.Duration
	retainBuckets int
	maxSources    int
	capFlags
	ruleFlags
	// compare lists the changed rules (--compare); compareOut the JSON
	// lines of the comparison.
	compare    stringList
	compareOut string

	connFlags
	topic, from, to string
	alertsTopic     string
	// ranges, once the first of two reads of a topic resolved them, make
	// the second read the same records.
	ranges []kafkaio.Range
}

// backtestCommand is the `backtest` entry of the commands table.
func backtestCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runBacktest(ctx, args, os.Stdin, stdout, stderr)
}

func newBacktestFlagSet(f *backtestFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("msiguard backtest", flag.ContinueOnError)
	fs.Var(&f.inputs, "input", "a file to replay, `FILE` or - for standard input (repeatable; read in order)")
	fs.StringVar(&f.out, "out", "-", "write the alerts to `FILE` (- for standard output)")
	fs.StringVar(&f.dlq, "dlq", "", "write one JSON line per record the rule could not evaluate or group to `FILE` (default: count them only)")
	fs.StringVar(&f.summaryJSON, "summary-json", "", "write the run's summary as JSON to `FILE`")
	fs.BoolVar(&f.quiet, "quiet", false, "print neither the progress line nor the summary on standard error")
	fs.BoolVar(&f.emitRevisions, "emit-revisions", false, "write every revision of every alert in emission order, not each alert_id once")
	fs.StringVar(&f.shape, "shape", "auto", "read every record as this `shape`: auto, "+shapeNames(", "))
	fs.IntVar(&f.workers, "workers", runtime.GOMAXPROCS(0), "detection goroutines")
	fs.DurationVar(&f.grace, "grace", window.DefaultGrace, "window grace (must match msiguard run's to reproduce its alerts)")
	fs.DurationVar(&f.idle, "idle-timeout", window.DefaultIdleTimeout, "window idle timeout, on the input's event time (must match msiguard run's)")
	fs.DurationVar(&f.retain, "retain", window.DefaultRetain, "how long an emitted alert stays revisable at least, on the input's event time (must match msiguard run's)")
	fs.IntVar(&f.retainBuckets, "retain-buckets", window.DefaultRetainBuckets, "at most this many emitted alerts stay revisable, about 1.7 KB each (msiguard run caps each matches partition separately)")
	fs.IntVar(&f.maxSources, "max-sources", window.DefaultMaxSources, maxSourcesUsage+" (must match msiguard run's)")
	f.capFlags.register(fs)
	f.ruleFlags.register(fs)
	fs.Var(anyPathList{&f.compare}, "compare", "a changed rule `FILE` or DIR to compare with the rules of --rule and --rules (default the seed rule): prints which alerts the change adds, removes and alters, per bucket and field, with totals (repeatable)")
	fs.StringVar(&f.compareOut, "compare-out", "", "with --compare, write the comparison as JSON lines to `FILE`: one per changed alert, then one of totals per rule")
	f.connFlags.register(fs)
	fs.StringVar(&f.topic, "topic", "", "replay this topic's range instead of files")
	fs.StringVar(&f.alertsTopic, "alerts-topic", "", "also publish the alerts to this existing `topic` (needs --brokers): key alert_id, value the alert's JSON line, partition by hash of the key; without --out, only there")
	fs.StringVar(&f.from, "from", "", "start of the topic range, RFC 3339 `time` (default: each partition's first offset)")
	fs.StringVar(&f.to, "to", "", "end of the topic range, RFC 3339 `time`, exclusive (default: the end when the run starts)")
	return fs
}

// parseBacktestFlags parses args, then fills every flag not given on the
// command line from its environment variable.
func parseBacktestFlags(args []string, lookupEnv func(string) (string, bool), stdout io.Writer) (*backtestFlags, error) {
	f := &backtestFlags{}
	fs := newBacktestFlagSet(f)
	given, fromEnv, err := parseFlags(fs, &backtestHelp, args, lookupEnv, stdout)
	if err != nil {
		return nil, err
	}
	if err := positiveFlags(fs, "grace", "idle-timeout", "retain", "retain-buckets", "max-sources", "workers"); err != nil {
		return nil, err
	}
	if err := f.capFlags.positive(fs); err != nil {
		return nil, err
	}
	// --alerts-topic on the command line without --out publishes only
	// there; from the environment (msiguard run's MSIGUARD_ALERTS_TOPIC)
	// it does not silence standard output.
	if f.alertsTopic != "" && given["alerts-topic"] && !given["out"] && !fromEnv["out"] {
		f.out = "" // the topic only
	}
	// With --compare, standard output has the comparison: alerts go only
	// where --out says.
	if len(f.compare) > 0 && !given["out"] && !fromEnv["out"] {
		f.out = ""
	}
	return f, nil
}

func runBacktest(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	f, err := parseBacktestFlags(args, nil, stdout)
	if err != nil {
		return err
	}
	if (len(f.inputs) == 0) == (f.topic == "") {
		return fmt.Errorf("%w: backtest: give either --input FILE (repeatable) or --topic with --brokers", errUsage)
	}
	if f.topic == "" && (f.from != "" || f.to != "") {
		return fmt.Errorf("%w: backtest: --from and --to select a topic range; they need --topic", errUsage)
	}
	// An output naming an input (by mistake, or from MSIGUARD_BACKTEST_OUT) would replace it: refuse.
	for _, o := range []struct{ flag, name string }{{"--out", f.out}, {"--dlq", f.dlq}, {"--summary-json", f.summaryJSON}} {
		if in := overwrittenInput(o.name, f.inputs); in != "" {
			return fmt.Errorf("%w: backtest: %s %s would overwrite --input %s", errUsage, o.flag, o.name, in)
		}
	}
	shape, err := detector.ParseShape(f.shape)
	if err != nil {
		return fmt.Errorf("%w: backtest: --shape: %w", errUsage, err)
	}
	rs, err := f.compile()
	if err != nil {
		return err
	}
	opts := detector.Options{Shape: shape, Limits: f.limits()}
	det, err := detector.New(rs, opts)
	if err != nil {
		return err
	}
	if len(f.compare) > 0 || f.compareOut != "" {
		return f.runCompare(ctx, det, opts, stdin, stdout, stderr)
	}

	sum, outs, err := f.replay(ctx, det, stdin, stdout, stderr)
	for _, o := range outs {
		if err == nil {
			err = o.commit()
		}
	}
	var notes []string
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			err = errors.New("backtest: interrupted before the end of the input")
		}
		if sum.Status == "" || sum.Status == backtest.StatusComplete {
			sum.SetFailed(err) // a step after the engine's run failed, or the engine never ran
		}
		for _, o := range outs {
			if o.name == "" {
				continue
			}
			if p := o.keepPartial(); p != "" {
				notes = append(notes, fmt.Sprintf("backtest: what was written to %s before the run stopped is in %s; %s is unchanged", o.flag, p, o.name))
			} else {
				notes = append(notes, fmt.Sprintf("backtest: %s %s is unchanged (nothing was written)", o.flag, o.name))
			}
		}
	}
	if f.summaryJSON != "" {
		if werr := writeSummaryJSON(f.summaryJSON, &sum); werr != nil && err == nil {
			err = werr
		}
	}
	if !f.quiet {
		// A run that stopped before reading anything has nothing to sum up.
		if sum.Status == backtest.StatusComplete || sum.Records > 0 {
			sum.WriteText(stderr)
		}
		for _, n := range notes {
			fmt.Fprintln(stderr, n)
		}
	}
	return err
}

// replay runs the backtest the flags describe and returns its summary and
// the output files to commit on success (or keep as partial on failure).
func (f *backtestFlags) replay(ctx context.Context, det *detector.Detector, stdin io.Reader, stdout, stderr io.Writer) (backtest.Summary, []*outFile, error) {
	return f.replayTo(ctx, det, nil, stdin, stdout, stderr)
}

// replayTo is replay that also hands every final alert to collect, when
// not nil (the alert is the caller's to keep).
func (f *backtestFlags) replayTo(ctx context.Context, det *detector.Detector, collect func(*window.Alert), stdin io.Reader, stdout, stderr io.Writer) (backtest.Summary, []*outFile, error) {
	var outs []*outFile
	out, err := createOut("--out", f.out, stdout)
	if err != nil {
		return backtest.Summary{}, outs, err
	}
	outs = append(outs, out)
	var pub *alertPublisher
	if f.alertsTopic != "" {
		if pub, err = f.publisher(ctx); err != nil {
			return backtest.Summary{}, outs, err
		}
		defer pub.w.Close()
	}
	var dlq io.Writer
	if f.dlq != "" {
		d, err := createOut("--dlq", f.dlq, stdout)
		if err != nil {
			return backtest.Summary{}, outs, err
		}
		outs = append(outs, d)
		dlq = d.w
	}
	cfg := backtest.Config{
		Detector: det,
		Window: window.Config{Grace: f.grace, IdleTimeout: f.idle, Retain: f.retain, RetainBuckets: f.retainBuckets,
			MaxSources: f.maxSources, MaxValues: f.maxValues, MaxAlertBytes: int(f.maxAlertBytes), MemoryBudget: int64(f.windowMemory)},
		DeadLetterBytes: int(f.deadLetterBytes),
		Alerts:          out.w,
		DeadLetters:     dlq,
		EmitRevisions:   f.emitRevisions,
		Workers:         f.workers,
	}
	if pub != nil {
		cfg.OnAlert = pub.add
	}
	if collect != nil {
		publish := cfg.OnAlert
		cfg.OnAlert = func(a *window.Alert, line []byte) error {
			collect(a.Clone())
			if publish != nil {
				return publish(a, line)
			}
			return nil
		}
	}
	eng, err := backtest.New(cfg)
	if err != nil {
		return backtest.Summary{}, outs, fmt.Errorf("%w: backtest: %w", errUsage, err)
	}

	var prog *progressLine
	if !f.quiet && isTerminal(stderr) {
		prog = startProgress(eng, stderr)
	}
	var sum backtest.Summary
	if f.topic != "" {
		sum, err = backtestTopic(ctx, eng, f, stderr)
	} else {
		sum, err = backtestFiles(ctx, eng, f.inputs, stdin)
	}
	prog.stop()
	if err == nil && pub != nil {
		err = pub.flush()
		sum.SetFailed(err)
	}
	return sum, outs, err
}

// alertPublisher sends alerts to --alerts-topic in batches, each batch
// acknowledged before the next is taken.
type alertPublisher struct {
	ctx   context.Context
	w     *sink.RawWriter
	batch []sink.RawRecord
}

func (f *backtestFlags) publisher(ctx context.Context) (*alertPublisher, error) {
	cluster, err := f.cluster(nil)
	if err != nil {
		return nil, err
	}
	if err := probeBrokers(ctx, cluster); err != nil {
		return nil, fmt.Errorf("backtest: --alerts-topic: %w", err)
	}
	w, err := sink.NewRawWriter(ctx, sink.RawWriterConfig{Cluster: cluster, Topic: f.alertsTopic, Balance: "hash"})
	if err != nil {
		if errors.Is(err, kafkaio.ErrConfig) {
			return nil, fmt.Errorf("%w: backtest: --alerts-topic: %w", errUsage, err)
		}
		return nil, fmt.Errorf("backtest: --alerts-topic %s: %w", f.alertsTopic, err)
	}
	return &alertPublisher{ctx: ctx, w: w}, nil
}

// add is the engine's OnAlert: it keeps a copy of the line.
func (p *alertPublisher) add(a *window.Alert, line []byte) error {
	p.batch = append(p.batch, sink.RawRecord{Key: []byte(a.AlertID), Value: bytes.Clone(line)})
	if len(p.batch) >= 1000 {
		return p.flush()
	}
	return nil
}

func (p *alertPublisher) flush() error {
	if len(p.batch) == 0 {
		return nil
	}
	err := p.w.Write(p.ctx, p.batch)
	p.batch = p.batch[:0]
	if err != nil {
		return fmt.Errorf("backtest: publishing alerts: %w", err)
	}
	return nil
}

// overwrittenInput returns the input that writing to name would truncate, or "".
func overwrittenInput(name string, inputs []string) string {
	if name == "" || name == "-" {
		return ""
	}
	st, err := os.Stat(name)
	if err != nil {
		return ""
	}
	for _, in := range inputs {
		if ist, err := os.Stat(in); err == nil && in != "-" && os.SameFile(st, ist) {
			return in
		}
	}
	return ""
}

// writeSummaryJSON writes the summary to name, replacing it only once
// written whole.
func writeSummaryJSON(name string, sum *backtest.Summary) error {
	o, err := createOut("--summary-json", name, os.Stdout)
	if err != nil {
		return fmt.Errorf("backtest: %w", err)
	}
	if err := sum.WriteJSON(o.w); err != nil {
		o.keepPartial()
		return fmt.Errorf("backtest: --summary-json: %w", err)
	}
	return o.commit()
}

func backtestFiles(ctx context.Context, eng *backtest.Engine, names []string, stdin io.Reader) (backtest.Summary, error) {
	var inputs []backtest.Input
	for _, name := range names {
		if name == "-" {
			in := backtest.Input{Name: "-", R: &interruptibleReader{ctx: ctx, r: stdin}}
			if f, ok := stdin.(*os.File); ok {
				if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
					in.Size = st.Size()
					in.R = stdin // a file never blocks
				}
			}
			inputs = append(inputs, in)
			continue
		}
		in, closeIn, err := backtest.OpenFile(name)
		if err != nil {
			return backtest.Summary{}, fmt.Errorf("backtest: %w", err)
		}
		defer closeIn()
		inputs = append(inputs, in)
	}
	return eng.RunFiles(ctx, inputs)
}

func backtestTopic(ctx context.Context, eng *backtest.Engine, f *backtestFlags, stderr io.Writer) (backtest.Summary, error) {
	cluster, err := f.cluster(nil)
	if err != nil {
		return backtest.Summary{}, err
	}
	cfg := kafkaio.RangeConfig{Cluster: *cluster, Topic: f.topic}
	for _, t := range []struct {
		flag, v string
		dst     *time.Time
	}{{"--from", f.from, &cfg.From}, {"--to", f.to, &cfg.To}} {
		if t.v == "" {
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, t.v)
		if err != nil {
			return backtest.Summary{}, fmt.Errorf("%w: backtest: %s %q is not an RFC 3339 time like 2025-03-06T10:00:00Z", errUsage, t.flag, t.v)
		}
		*t.dst = ts
	}
	if err := probeBrokers(ctx, cluster); err != nil {
		return backtest.Summary{}, fmt.Errorf("backtest: %w", err)
	}
	cfg.Ranges = f.ranges
	rr, err := kafkaio.NewRangeReader(ctx, cfg)
	if err != nil {
		if errors.Is(err, kafkaio.ErrConfig) {
			return backtest.Summary{}, fmt.Errorf("%w: backtest: %w", errUsage, err)
		}
		return backtest.Summary{}, fmt.Errorf("backtest: %w", err)
	}
	defer rr.Close()
	f.ranges = rr.Ranges()
	warnEmptyRange(stderr, f, rr.Ranges())
	return eng.RunTopic(ctx, topicsource.New(rr))
}

// warnEmptyRange says so when the range selected holds no record: a --from
// in the future, a --to before the first record or an empty topic would
// otherwise pass as "0 alerts", a clean result.
func warnEmptyRange(w io.Writer, f *backtestFlags, ranges []kafkaio.Range) {
	var n int64
	for _, r := range ranges {
		n += r.End - r.Start
	}
	if n > 0 {
		return
	}
	from, to := f.from, f.to
	if from == "" {
		from = "the start"
	}
	if to == "" {
		to = "the end"
	}
	fmt.Fprintf(w, "backtest: WARNING: topic %s holds no records between --from %s and --to %s (%d partitions): is --from later than the newest record, --to earlier than the oldest, or the topic empty? Record timestamps are compared, not event times.\n",
		f.topic, from, to, len(ranges))
}

// interruptibleReader reads r in a goroutine of its own so that a Read
// waiting on a pipe or a terminal returns ctx's error once ctx is done: a
// Ctrl-C must end a backtest whose standard input is still open. The
// goroutine stays blocked in r's Read until r returns (at the latest when
// the process exits); nothing reads its result.
type interruptibleReader struct {
	ctx     context.Context
	r       io.Reader
	buf     []byte
	results chan readResult
}

type readResult struct {
	b   []byte
	err error
}

func (ir *interruptibleReader) Read(p []byte) (int, error) {
	if err := ir.ctx.Err(); err != nil {
		return 0, err // an abandoned Read may still use buf
	}
	if ir.results == nil {
		ir.results = make(chan readResult, 1)
	}
	if len(ir.buf) < len(p) {
		ir.buf = make([]byte, len(p))
	}
	buf := ir.buf[:len(p)]
	go func() {
		n, err := ir.r.Read(buf)
		ir.results <- readResult{buf[:n], err}
	}()
	select {
	case r := <-ir.results:
		return copy(p, r.b), r.err
	case <-ir.ctx.Done():
		return 0, ir.ctx.Err()
	}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressLine redraws one status line on a terminal every second, fitted
// to its width. It measures wall time for people only; nothing it shows
// reaches the output.
type progressLine struct {
	stopc chan struct{}
	done  chan struct{}
}

func startProgress(eng *backtest.Engine, w io.Writer) *progressLine {
	p := &progressLine{stopc: make(chan struct{}), done: make(chan struct{})}
	began := time.Now()
	go func() {
		defer close(p.done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-p.stopc:
				fmt.Fprint(w, redraw(""))
				return
			case now := <-t.C:
				fmt.Fprint(w, redraw(formatProgress(eng.Progress(), now.Sub(began), termWidth(w))))
			}
		}
	}()
	return p
}

// stop erases the line and waits for the goroutine. A nil p is a no-op.
func (p *progressLine) stop() {
	if p == nil {
		return
	}
	close(p.stopc)
	<-p.done
}

// formatProgress is the progress line for a terminal width columns wide:
// percent and ETA first, the rates and counts that do not fit left out.
// Records and bytes are counted as in the summary (lines, blank ones
// included, and their bytes with the newlines).
func formatProgress(p backtest.Progress, elapsed time.Duration, width int) string {
	sec := max(elapsed.Seconds(), 1e-9)
	pct := ""
	if p.Done >= 0 {
		pct = fmt.Sprintf("%5.1f%%", 100*p.Done)
	}
	return fitLine("backtest:", []field{
		{pct, 0},
		{eta(p.Done, elapsed), 0},
		{fmt.Sprintf("%d records", p.Records), 1},
		{fmt.Sprintf("%.0f records/s", float64(p.Records)/sec), 5},
		{fmt.Sprintf("%.0f MB/s", float64(p.Bytes)/1e6/sec), 3},
		{fmt.Sprintf("%d matches", p.Matches), 4},
		{fmt.Sprintf("%d alerts", p.Alerts), 2},
		{fmt.Sprintf("%d dead letters", p.DeadLetters), 6},
	}, width)
}
