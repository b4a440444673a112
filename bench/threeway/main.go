// Command threeway benchmarks, on one real Kafka broker and the same input
// topic, three consumers of the seed rule's workload:
//
//   - bare: a plain kafka-go consumer-group Reader, ReadMessage in a loop,
//     commits every second, no work per record (the loop a kafka-go user
//     writes first; this program in "bare" mode);
//   - msiguard: the built `msiguard run` binary, end to end (detect, matches
//     topic keyed by host, windows, alerts);
//   - streams: the Kafka Streams peer in bench/streams-peer (filter, re-key
//     by host, 1 s tumbling windows with 2 s grace, suppress until the
//     window closes).
//
// Each runs as a subprocess from offset 0 with a fresh consumer group and
// is timed from its first record read to its last output acknowledged
// (see the comment above proc for how each end is seen). It reports
// records/s, CPU seconds and peak RSS of each process, and checks that the
// peer's alerts equal msiguard's (the latest revision per alert_id): the
// same (host, _time) buckets with the same event counts and per-field
// sorted values.
//
// This is a benchmark harness, not part of the product: it imports kafka-go
// directly and no msiguard package (the product keeps kafka-go inside
// kafkaio, sink and stream).
//
// Usage (bench/threeway.sh builds everything and runs it):
//
//	threeway --brokers 127.0.0.1:9092 --msiguard ./msiguard \
//	    --peer-classpath 'bench/streams-peer/target/classes:bench/streams-peer/target/lib/*' \
//	    --records 1000000 --rounds 3
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare" {
		bareMain(os.Args[2:])
		return
	}
	log.SetFlags(log.Ltime)
	log.SetPrefix("threeway: ")
	var o opts
	flag.StringVar(&o.brokers, "brokers", os.Getenv("KAFKA_BROKERS"), "bootstrap broker host:port (default $KAFKA_BROKERS)")
	flag.StringVar(&o.msiguard, "msiguard", "./msiguard", "the built msiguard binary")
	flag.StringVar(&o.msiguardBase, "msiguard-base", "", "a second msiguard binary (an older commit, say), run as contender msiguard-base against the same topic")
	flag.StringVar(&o.peerCP, "peer-classpath", "bench/streams-peer/target/classes:bench/streams-peer/target/lib/*", "class path of the Kafka Streams peer")
	flag.StringVar(&o.javaOpts, "java-opts", "-Xmx1g", "JVM options of the peer, space-separated")
	flag.IntVar(&o.peerThreads, "peer-threads", 2, "num.stream.threads of the peer")
	flag.DurationVar(&o.peerGrace, "peer-grace", 10*time.Minute, "grace of the peer's windows (its stream time is per partition, not per host: 2s drops skewed records)")
	flag.IntVar(&o.records, "records", 1_000_000, "records to load")
	flag.IntVar(&o.partitions, "partitions", 4, "partitions of the input topic")
	flag.IntVar(&o.rounds, "rounds", 1, "rounds; each runs the three once, in a rotating order")
	flag.Uint64Var(&o.seed, "seed", 7, "msiguard gen --seed")
	flag.StringVar(&o.attackRate, "attack-rate", "0.001", "msiguard gen --attack-rate")
	flag.StringVar(&o.only, "only", "bare,msiguard,streams", "contenders to run, comma-separated")
	flag.DurationVar(&o.timeout, "timeout", 15*time.Minute, "give up on one run after this long")
	flag.Parse()
	if o.brokers == "" {
		log.Fatal("--brokers (or KAFKA_BROKERS) is required")
	}
	base := slices.Contains(strings.Split(o.only, ","), "msiguard-base")
	switch {
	case base && o.msiguardBase == "":
		log.Fatal("contender msiguard-base needs --msiguard-base BIN")
	case !base && o.msiguardBase != "":
		log.Fatal("--msiguard-base is given but --only does not list msiguard-base")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		log.Fatal(err)
	}
}

type opts struct {
	brokers, msiguard, msiguardBase, peerCP, javaOpts string
	attackRate, only                                  string
	peerThreads, records, partitions, rounds          int
	seed                                              uint64
	timeout, peerGrace                                time.Duration
}

// result is one contender's measurement in one round (see the comment
// above proc for the window).
type result struct {
	name      string
	wall      time.Duration // from its first record read to its last output acknowledged
	startup   time.Duration // from the spawn to its first record read
	steadyN   int64         // records consumed in the window: all of them
	recPerS   float64       // steadyN / wall
	cpuTotal  float64       // CPU seconds of the process from its start to the end of the window
	cpuSteady float64       // CPU seconds within the window
	rssMB     float64       // VmHWM at the end of the window
	// allocB and gcs are msiguard's Go heap bytes allocated and GC cycles
	// from its start to the end of the window (its /metrics); 0 for others.
	allocB, gcs float64
	alerts      map[bucket]alert
}

type bucket struct {
	host string
	time int64
}

type alert struct {
	count  int64
	fields map[string][]string
}

func run(ctx context.Context, o opts) error {
	client := &kafka.Client{Addr: kafka.TCP(o.brokers), Timeout: 30 * time.Second}
	stamp := strconv.FormatInt(time.Now().Unix(), 36)
	input := "threeway-in-" + stamp

	// 1. Load.
	log.Printf("loading %d records into %s (%d partitions)", o.records, input, o.partitions)
	gen := exec.CommandContext(ctx, o.msiguard, "gen", "--brokers", o.brokers, "--topic", input,
		"--partitions", strconv.Itoa(o.partitions), "--count", strconv.Itoa(o.records),
		"--seed", strconv.FormatUint(o.seed, 10), "--shapes", "flat", "--attack-rate", o.attackRate)
	var genErr bytes.Buffer
	gen.Stderr = io.MultiWriter(&genErr, os.Stderr)
	if err := gen.Run(); err != nil {
		return fmt.Errorf("msiguard gen: %w", err)
	}
	expected := -1
	if m := regexp.MustCompile(`in (\d+) buckets`).FindStringSubmatch(genErr.String()); m != nil {
		expected, _ = strconv.Atoi(m[1])
	}
	ends, err := endOffsets(ctx, client, input, o.partitions)
	if err != nil {
		return err
	}
	var total int64
	for _, e := range ends {
		total += e
	}
	log.Printf("loaded: end offsets %v (%d records), gen expects %d alerts", ends, total, expected)

	names := strings.Split(o.only, ",")
	all := map[string][]result{}
	disagreed := 0
	for r := range o.rounds {
		for i := range names {
			name := names[(i+r)%len(names)]
			tag := fmt.Sprintf("%s-r%d-%s", name, r+1, stamp)
			var res result
			var err error
			switch name {
			case "bare":
				res, err = runBare(ctx, o, client, input, total, tag)
			case "msiguard":
				res, err = runMsiguard(ctx, o, name, o.msiguard, client, input, total, tag, expected)
			case "msiguard-base":
				res, err = runMsiguard(ctx, o, name, o.msiguardBase, client, input, total, tag, expected)
			case "streams":
				res, err = runStreams(ctx, o, client, input, ends, tag, expected)
			default:
				return fmt.Errorf("unknown contender %q", name)
			}
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", r+1, name, err)
			}
			log.Printf("round %d %-8s %9.0f rec/s (%.2fs first record read to last output acknowledged)  startup %5.1fs  cpu %6.2fs (window %6.2fs)  %7.0f rec/cpu-s  rss %6.0f MB",
				r+1, name, res.recPerS, res.wall.Seconds(), res.startup.Seconds(), res.cpuTotal, res.cpuSteady,
				float64(res.steadyN)/res.cpuSteady, res.rssMB)
			if res.gcs > 0 {
				log.Printf("round %d %-8s %.0f B allocated per record, %.0f GC cycles", r+1, name, res.allocB/float64(res.steadyN), res.gcs)
			}
			all[name] = append(all[name], res)
		}
		for _, other := range []string{"streams", "msiguard-base"} {
			if m, p := all["msiguard"], all[other]; len(m) > r && len(p) > r {
				if err := agree(m[r].alerts, p[r].alerts, other, expected); err != nil {
					log.Printf("round %d: AGREEMENT with %s FAILED: %v", r+1, other, err)
					disagreed++
				} else {
					log.Printf("round %d: agreement with %s OK: %d alerts, identical buckets, counts and field values", r+1, other, len(m[r].alerts))
				}
			}
		}
	}
	report(o, total, all)
	if disagreed > 0 {
		return fmt.Errorf("%d agreement checks failed (see the log)", disagreed)
	}
	return nil
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func report(o opts, total int64, all map[string][]result) {
	type row struct{ recS, cpuTot, perCPU, rss, startup float64 }
	rows := map[string]row{}
	fmt.Printf("\n%d records (%d partitions, flat shape), %d round(s), medians:\n\n", total, o.partitions, o.rounds)
	fmt.Println("| consumer | records/s (first record read to last output acknowledged) | CPU s (whole run) | records per CPU s (window) | peak RSS MB | startup s |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, name := range []string{"bare", "msiguard", "msiguard-base", "streams"} {
		rs := all[name]
		if len(rs) == 0 {
			continue
		}
		var a, b, c, d, e []float64
		for _, r := range rs {
			a = append(a, r.recPerS)
			b = append(b, r.cpuTotal)
			c = append(c, float64(r.steadyN)/r.cpuSteady)
			d = append(d, r.rssMB)
			e = append(e, r.startup.Seconds())
		}
		rw := row{median(a), median(b), median(c), median(d), median(e)}
		rows[name] = rw
		label := map[string]string{"bare": "bare kafka-go Reader loop", "msiguard": "msiguard run", "msiguard-base": "msiguard run (--msiguard-base)", "streams": "Kafka Streams peer"}[name]
		fmt.Printf("| %s | %.0f | %.2f | %.0f | %.0f | %.1f |\n", label, rw.recS, rw.cpuTot, rw.perCPU, rw.rss, rw.startup)
	}
	m, okm := rows["msiguard"]
	if p, ok := rows["streams"]; ok && okm {
		fmt.Printf("\nmsiguard / Kafka Streams: %.2fx records/s, %.2fx records per CPU second (target >= 3x), %.2fx peak RSS\n",
			m.recS/p.recS, m.perCPU/p.perCPU, m.rss/p.rss)
	}
	if b, ok := rows["msiguard-base"]; ok && okm {
		fmt.Printf("msiguard / msiguard-base: %.3fx records/s, %.3fx records per CPU second\n", m.recS/b.recS, m.perCPU/b.perCPU)
	}
	if b, ok := rows["bare"]; ok && okm {
		fmt.Printf("msiguard / bare kafka-go loop: %.0f%% of its records/s (target >= 85%%), %.2fx its CPU per record\n",
			100*m.recS/b.recS, b.perCPU/m.perCPU)
	}
}

// ---- Kafka helpers ----

func endOffsets(ctx context.Context, c *kafka.Client, topic string, parts int) ([]int64, error) {
	var req []kafka.OffsetRequest
	for p := range parts {
		req = append(req, kafka.LastOffsetOf(p))
	}
	resp, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: req}})
	if err != nil {
		return nil, err
	}
	out := make([]int64, parts)
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			return nil, po.Error
		}
		out[po.Partition] = po.LastOffset
	}
	return out, nil
}

// committed returns the sum of the group's committed offsets on topic and
// whether every partition reached ends.
func committed(ctx context.Context, c *kafka.Client, group, topic string, ends []int64) (int64, bool, error) {
	parts := make([]int, len(ends))
	for i := range parts {
		parts[i] = i
	}
	resp, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		return 0, false, err
	}
	if resp.Error != nil {
		return 0, false, resp.Error
	}
	var sum int64
	done := true
	for _, p := range resp.Topics[topic] {
		off := max(p.CommittedOffset, 0)
		sum += off
		if off < ends[p.Partition] {
			done = false
		}
	}
	return sum, done && len(resp.Topics[topic]) == len(ends), nil
}

// ---- process measurement ----

const clkTck = 100 // USER_HZ on Linux

// cpuSeconds is utime+stime of pid plus its waited-for children.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// f[0] is field 3 (state); utime, stime, cutime, cstime are fields 14-17.
	var t float64
	for _, i := range []int{11, 12, 13, 14} {
		v, _ := strconv.ParseFloat(f[i], 64)
		t += v
	}
	return t / clkTck
}

func peakRSSMB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// The measured window, the same for every contender: from its first
// record read to its last output acknowledged.
//
//   - First record read: bare and the peer print the wall-clock time they
//     got their first record ("threeway first-record NANOS" on standard
//     output); msiguard prints nothing, so the harness scrapes its /metrics
//     every 10 ms and takes the first scrape where
//     msiguard_records_consumed_total is positive. That counter is added
//     to once per fetched batch, so msiguard's start is seen up to one
//     fetch (4 MiB per partition) plus 10 ms late: a bias in its favour.
//   - Last output acknowledged: bare produces nothing, so its last record
//     read ("threeway last-record NANOS", printed when it has read them
//     all). msiguard: once it has consumed every record and applied every
//     match, the harness sends SIGTERM (the drain flushes every window,
//     where a finite input's last buckets would otherwise wait for the 5 s
//     idle timeout) and takes the last scrape at which
//     msiguard_alerts_published_total grew. The peer: once it has committed
//     all its input, the harness writes the flush records (see flush) and
//     takes the first moment the alerts topic holds every expected alert.
//
// CPU seconds are read from /proc at the scrape that saw each event.

// proc is a contender's process being measured.
type proc struct {
	name  string
	cmd   *exec.Cmd
	spawn time.Time
	// stderr, and the times the process printed on standard output
	stderr      bytes.Buffer
	first, last chan time.Time
	exited      chan error
}

// start spawns cmd and reads its "threeway first-record/last-record" lines.
func start(name string, cmd *exec.Cmd) (*proc, error) {
	p := &proc{name: name, cmd: cmd, first: make(chan time.Time, 1), last: make(chan time.Time, 1), exited: make(chan error, 1)}
	cmd.Stderr = &p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.spawn = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 3 || f[0] != "threeway" {
				continue
			}
			ns, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				continue
			}
			switch f[1] {
			case "first-record":
				p.first <- time.Unix(0, ns)
			case "last-record":
				p.last <- time.Unix(0, ns)
			}
		}
		p.exited <- cmd.Wait()
	}()
	return p, nil
}

// stop sends SIGTERM and waits for the exit (SIGKILL after a minute).
func (p *proc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// sample is the process's CPU seconds and peak RSS at a moment.
type sample struct {
	at  time.Time
	cpu float64
	rss float64
}

func (p *proc) sample() sample {
	pid := p.cmd.Process.Pid
	return sample{time.Now(), cpuSeconds(pid), peakRSSMB(pid)}
}

// finish fills in res from the samples at the window's two ends.
func finish(res *result, p *proc, first time.Time, atFirst sample, end time.Time, atEnd sample, n int64) {
	res.startup = first.Sub(p.spawn)
	res.wall = end.Sub(first)
	res.steadyN = n
	res.cpuTotal = atEnd.cpu
	res.cpuSteady = atEnd.cpu - atFirst.cpu
	res.rssMB = atEnd.rss
	res.recPerS = float64(n) / res.wall.Seconds()
}

// poll runs step every 10 ms until it returns done or an error, the
// process exits (when exitOK is false), ctx ends or o.timeout passes.
func poll(ctx context.Context, o opts, p *proc, exitOK bool, step func() (bool, error)) error {
	deadline := time.Now().Add(o.timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		done, err := step()
		if err != nil || done {
			return err
		}
		select {
		case err := <-p.exited:
			if exitOK {
				p.exited <- err
				return nil
			}
			return fmt.Errorf("%s exited early (%v): %s", p.name, err, tail(p.stderr.String()))
		case <-ctx.Done():
			p.cmd.Process.Kill()
			return ctx.Err()
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			p.cmd.Process.Kill()
			return fmt.Errorf("%s: timed out; stderr: %s", p.name, tail(p.stderr.String()))
		}
	}
}

// waitPrinted waits for a time the process prints (first or last record),
// sampling it at the poll that sees it.
// startPrinting starts a contender that prints the time of its first
// record and waits for that line; the caller stops the process.
func startPrinting(ctx context.Context, o opts, name string, cmd *exec.Cmd) (*proc, time.Time, sample, error) {
	p, err := start(name, cmd)
	if err != nil {
		return nil, time.Time{}, sample{}, err
	}
	first, at, err := waitPrinted(ctx, o, p, p.first)
	if err != nil {
		p.stop()
		return nil, time.Time{}, sample{}, err
	}
	return p, first, at, nil
}

func waitPrinted(ctx context.Context, o opts, p *proc, ch chan time.Time) (time.Time, sample, error) {
	var t time.Time
	var s sample
	err := poll(ctx, o, p, false, func() (bool, error) {
		select {
		case t = <-ch:
			s = p.sample()
			return true, nil
		default:
			return false, nil
		}
	})
	return t, s, err
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

// ---- the three contenders ----

func runBare(ctx context.Context, o opts, c *kafka.Client, input string, total int64, tag string) (result, error) {
	res := result{name: "bare"}
	self, err := os.Executable()
	if err != nil {
		return res, err
	}
	p, first, atFirst, err := startPrinting(ctx, o, "bare", exec.Command(self, "bare", "--brokers", o.brokers, "--topic", input, "--group", tag, "--records", strconv.FormatInt(total, 10)))
	if err != nil {
		return res, err
	}
	defer p.stop()
	last, atLast, err := waitPrinted(ctx, o, p, p.last)
	if err != nil {
		return res, err
	}
	finish(&res, p, first, atFirst, last, atLast, total)
	return res, nil
}

// freeAddr returns a loopback address with a port free at the time.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// scrape returns the unlabelled msiguard metrics of a /metrics page, and
// the Go runtime's allocation and GC counters.
// scrapeClient asks for /metrics uncompressed: the harness scrapes every
// 10 ms, a hundred times what a Prometheus server does, and gzip on every
// scrape would put a few percent of compression into msiguard's CPU.
var scrapeClient = &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableCompression: true}}

func scrape(url string) (map[string]float64, error) {
	resp, err := scrapeClient.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok || !strings.HasPrefix(name, "msiguard_") && name != "go_memstats_alloc_bytes_total" && name != "go_gc_duration_seconds_count" {
			continue
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			out[name] = f
		}
	}
	return out, sc.Err()
}

// runMsiguard runs the msiguard binary bin as contender name.
func runMsiguard(ctx context.Context, o opts, name, bin string, c *kafka.Client, input string, total int64, tag string, expected int) (result, error) {
	res := result{name: name}
	alerts := tag + "-alerts"
	// msiguard wants its alerts (compacted) and dead-letter topics to exist;
	// it creates its matches topic itself.
	if _, err := c.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: alerts, NumPartitions: 1, ReplicationFactor: 1, ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}}},
		{Topic: tag + "-dlq", NumPartitions: 1, ReplicationFactor: 1},
	}}); err != nil {
		return res, err
	}
	addr, err := freeAddr()
	if err != nil {
		return res, err
	}
	p, err := start(name, exec.Command(bin, "run", "--brokers", o.brokers, "--topic", input, "--group", tag,
		"--alerts-topic", alerts, "--dlq-topic", tag+"-dlq", "--metrics-addr", addr, "--log-level", "warn"))
	if err != nil {
		return res, err
	}
	defer p.stop()
	url := "http://" + addr + "/metrics"
	var first, last time.Time
	var atFirst, atLast sample
	var published float64
	stopping := false
	err = poll(ctx, o, p, true, func() (bool, error) {
		s := p.sample()
		m, err := scrape(url)
		if err != nil {
			return stopping, nil // not serving yet, or gone after the drain
		}
		if first.IsZero() && m["msiguard_records_consumed_total"] > 0 {
			first, atFirst = s.at, s
		}
		if v := m["msiguard_alerts_published_total"]; v > published {
			published, last, atLast = v, s.at, s
			res.allocB, res.gcs = m["go_memstats_alloc_bytes_total"], m["go_gc_duration_seconds_count"]
		}
		if !stopping && int64(m["msiguard_records_consumed_total"]) >= total &&
			m["msiguard_matches_applied_total"]+m["msiguard_duplicate_matches_total"]+m["msiguard_bad_match_records_total"] >= m["msiguard_matches_total"] {
			p.cmd.Process.Signal(syscall.SIGTERM) // drain: flush every window
			stopping = true
		}
		return false, nil
	})
	if err != nil {
		return res, err
	}
	if first.IsZero() || last.IsZero() {
		return res, fmt.Errorf("msiguard: first record read at %v, last alert acknowledged at %v: not both seen", first, last)
	}
	finish(&res, p, first, atFirst, last, atLast, total)
	res.alerts, err = waitAlerts(ctx, c, o.brokers, alerts, expected, parseMsiguardAlerts)
	return res, err
}

func runStreams(ctx context.Context, o opts, c *kafka.Client, input string, ends []int64, tag string, expected int) (result, error) {
	res := result{name: "streams"}
	alerts := tag + "-alerts"
	if _, err := c.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: alerts, NumPartitions: 1, ReplicationFactor: 1,
		// The peer stamps alerts with their window's time (2025): keep them.
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "retention.ms", ConfigValue: "-1"}}}}}); err != nil {
		return res, err
	}
	args := append(strings.Fields(o.javaOpts), "-cp", o.peerCP, "msiguard.bench.StreamsPeer",
		o.brokers, input, alerts, tag, strconv.Itoa(o.peerThreads), strconv.FormatInt(o.peerGrace.Milliseconds(), 10))
	p, first, atFirst, err := startPrinting(ctx, o, "streams", exec.Command("java", args...))
	if err != nil {
		return res, err
	}
	defer p.stop()
	// Suppress emits a window only when stream time passes its end + grace:
	// once all input is committed, every data record is in the repartition
	// topic; a late flush record on each of its partitions closes every window.
	if err := poll(ctx, o, p, false, func() (bool, error) {
		_, done, err := committed(ctx, c, tag, input, ends)
		return err == nil && done, nil
	}); err != nil {
		return res, err
	}
	// The repartition topic's metadata can lag (once: UNKNOWN_TOPIC_OR_PARTITION): retry.
	var ferr error
	if err := poll(ctx, o, p, false, func() (bool, error) {
		ferr = flush(ctx, c, o.brokers, tag+"-by-host-repartition")
		return ferr == nil || !errors.Is(ferr, kafka.UnknownTopicOrPartition), nil
	}); err != nil {
		return res, err
	}
	if ferr != nil {
		return res, fmt.Errorf("flushing the peer's windows: %w; peer's stderr: %s", ferr, tail(p.stderr.String()))
	}
	var last time.Time
	var atLast sample
	if err := poll(ctx, o, p, false, func() (bool, error) {
		s := p.sample()
		n, err := endOffsets(ctx, c, alerts, 1)
		if err != nil || n[0] < int64(expected) {
			return false, nil
		}
		last, atLast = s.at, s
		return true, nil
	}); err != nil {
		return res, err
	}
	var total int64
	for _, e := range ends {
		total += e
	}
	finish(&res, p, first, atFirst, last, atLast, total)
	res.alerts, err = waitAlerts(ctx, c, o.brokers, alerts, expected, parsePeerAlerts)
	return res, err
}

func partitionsOf(ctx context.Context, c *kafka.Client, topic string) ([]int, error) {
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, err
	}
	if len(md.Topics) == 0 {
		return nil, fmt.Errorf("no metadata for %s", topic)
	}
	t := md.Topics[0] // the one asked for
	if t.Error != nil {
		return nil, t.Error
	}
	var ps []int
	for _, p := range t.Partitions {
		ps = append(ps, p.ID)
	}
	sort.Ints(ps)
	return ps, nil
}

func flush(ctx context.Context, c *kafka.Client, brokers, topic string) error {
	ps, err := partitionsOf(ctx, c, topic)
	if err != nil {
		return err
	}
	w := &kafka.Writer{Addr: kafka.TCP(brokers), Topic: topic, RequiredAcks: kafka.RequireAll,
		Balancer: kafka.BalancerFunc(func(m kafka.Message, _ ...int) int { return m.Partition })}
	defer w.Close()
	// Far later than any generated event time (2025), well before now.
	late := time.Now().Add(-time.Hour)
	var msgs []kafka.Message
	for _, p := range ps {
		msgs = append(msgs, kafka.Message{Partition: p, Key: []byte("__bench_flush__"), Value: []byte("{}"), Time: late})
	}
	return w.WriteMessages(ctx, msgs...)
}

// readAll reads every record of every partition of topic up to its current end.
func readAll(ctx context.Context, c *kafka.Client, brokers, topic string) ([][]byte, error) {
	ps, err := partitionsOf(ctx, c, topic)
	if err != nil {
		return nil, err
	}
	ends, err := endOffsets(ctx, c, topic, len(ps))
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, p := range ps {
		if ends[p] == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{brokers}, Topic: topic, Partition: p, MaxBytes: 8 << 20, MaxWait: 200 * time.Millisecond})
		for {
			rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			m, err := r.ReadMessage(rctx)
			cancel()
			if err != nil {
				r.Close()
				return nil, fmt.Errorf("reading %s/%d: %w", topic, p, err)
			}
			out = append(out, m.Value)
			if m.Offset+1 >= ends[p] {
				break
			}
		}
		r.Close()
	}
	return out, nil
}

// waitAlerts reads topic until it holds expected distinct buckets (or, if
// expected < 0, until it stops growing), for at most a minute.
func waitAlerts(ctx context.Context, c *kafka.Client, brokers, topic string, expected int, parse func([][]byte) (map[bucket]alert, error)) (map[bucket]alert, error) {
	deadline := time.Now().Add(60 * time.Second)
	last, stable := -1, 0
	for {
		recs, err := readAll(ctx, c, brokers, topic)
		if err != nil && !errors.Is(err, kafka.UnknownTopicOrPartition) {
			return nil, err
		}
		got, err := parse(recs)
		if err != nil {
			return nil, err
		}
		if len(got) == last {
			stable++
		} else {
			stable = 0
		}
		last = len(got)
		if (expected >= 0 && len(got) >= expected && stable >= 2) || (expected < 0 && stable >= 10) || time.Now().After(deadline) {
			return got, nil
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func parseMsiguardAlerts(recs [][]byte) (map[bucket]alert, error) {
	type a struct {
		ID       string              `json:"alert_id"`
		Time     int64               `json:"_time"`
		Host     string              `json:"host"`
		Count    int64               `json:"event_count"`
		Revision int                 `json:"revision"`
		Late     bool                `json:"late"`
		Fields   map[string][]string `json:"fields"`
	}
	latest := map[string]a{}
	for _, r := range recs {
		var x a
		if err := json.Unmarshal(r, &x); err != nil {
			return nil, fmt.Errorf("msiguard alert %q: %w", r, err)
		}
		if x.Late {
			return nil, fmt.Errorf("msiguard published a late alert: %s", r)
		}
		if old, ok := latest[x.ID]; !ok || x.Revision > old.Revision {
			latest[x.ID] = x
		}
	}
	out := map[bucket]alert{}
	for _, x := range latest {
		out[bucket{x.Host, x.Time}] = alert{x.Count, x.Fields}
	}
	return out, nil
}

func parsePeerAlerts(recs [][]byte) (map[bucket]alert, error) {
	out := map[bucket]alert{}
	for _, r := range recs {
		var x struct {
			Host   string              `json:"host"`
			Time   int64               `json:"_time"`
			Count  int64               `json:"event_count"`
			Fields map[string][]string `json:"fields"`
		}
		if err := json.Unmarshal(r, &x); err != nil {
			return nil, fmt.Errorf("peer alert %q: %w", r, err)
		}
		b := bucket{x.Host, x.Time}
		if _, dup := out[b]; dup {
			return nil, fmt.Errorf("peer published bucket %v twice", b)
		}
		out[b] = alert{x.Count, x.Fields}
	}
	return out, nil
}

// agree compares msiguard's alerts with another contender's (named other).
func agree(ours, peer map[bucket]alert, other string, expected int) error {
	var problems []string
	if expected >= 0 && len(ours) != expected {
		problems = append(problems, fmt.Sprintf("msiguard has %d alerts, gen expected %d", len(ours), expected))
	}
	for b, a := range ours {
		p, ok := peer[b]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("bucket %v only in msiguard", b))
		case a.count != p.count:
			problems = append(problems, fmt.Sprintf("bucket %v: event_count %d vs %s %d", b, a.count, other, p.count))
		default:
			ja, _ := json.Marshal(a.fields) // map keys are sorted by encoding/json
			jp, _ := json.Marshal(p.fields)
			if !bytes.Equal(ja, jp) {
				problems = append(problems, fmt.Sprintf("bucket %v: fields differ:\n  msiguard %s\n  %s %s", b, ja, other, jp))
			}
		}
	}
	for b := range peer {
		if _, ok := ours[b]; !ok {
			problems = append(problems, fmt.Sprintf("bucket %v only in %s", b, other))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	if len(problems) > 10 {
		problems = append(problems[:10], fmt.Sprintf("... and %d more", len(problems)-10))
	}
	return fmt.Errorf("%d difference(s):\n%s", len(problems), strings.Join(problems, "\n"))
}

// ---- bare mode ----

// bareMain is the simple loop a kafka-go user writes: a consumer-group
// Reader, ReadMessage, commits every second (asynchronously). It touches
// each record's value so the loop cannot be optimized away, prints the
// wall-clock times of its first record read and, once it has read
// --records, of its last ("threeway first-record NANOS", "threeway
// last-record NANOS"), and runs until SIGTERM.
func bareMain(args []string) {
	fs := flag.NewFlagSet("bare", flag.ExitOnError)
	brokers := fs.String("brokers", "", "bootstrap broker")
	topic := fs.String("topic", "", "input topic")
	group := fs.String("group", "", "consumer group")
	records := fs.Int64("records", 0, "records in the topic: print the time of the last one read")
	fs.Parse(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: []string{*brokers}, GroupID: *group, Topic: *topic,
		MinBytes: 1, MaxBytes: 8 << 20, CommitInterval: time.Second, StartOffset: kafka.FirstOffset,
	})
	var n, bytes int64
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			break
		}
		n++
		bytes += int64(len(m.Value))
		if n == 1 {
			fmt.Printf("threeway first-record %d\n", time.Now().UnixNano())
		}
		if n == *records {
			fmt.Printf("threeway last-record %d\n", time.Now().UnixNano())
		}
	}
	r.Close() // commits what was read
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "bare: %d records, %d bytes\n", n, bytes)
	w.Flush()
}
