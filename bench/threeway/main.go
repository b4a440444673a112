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
// Each runs as a subprocess from offset 0 with a fresh consumer group; the
// harness polls the group's committed offsets and stops the clock when they
// reach the end of the input. It reports records/s, CPU seconds and peak
// RSS of each process, and checks that the peer's alerts equal msiguard's
// (the latest revision per alert_id): the same (host, _time) buckets with
// the same event counts and per-field sorted values.
//
// This is a benchmark harness, not part of the product: it imports kafka-go
// directly (the product keeps kafka-go inside stream/ and sink/).
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		log.Fatal(err)
	}
}

type opts struct {
	brokers, msiguard, peerCP, javaOpts, attackRate, only string
	peerThreads, records, partitions, rounds              int
	seed                                                  uint64
	timeout, peerGrace                                    time.Duration
}

// result is one contender's measurement in one round.
type result struct {
	name      string
	wall      time.Duration // from the first commit observed to the last (all input committed)
	startup   time.Duration // from the spawn to the first commit observed
	steadyN   int64         // records committed between the two
	recPerS   float64       // steadyN / wall
	cpuTotal  float64       // CPU seconds of the process from its start to "all committed"
	cpuSteady float64       // CPU seconds between the first commit observed and the last
	rssMB     float64       // VmHWM at "all committed"
	alerts    map[bucket]alert
	note      string
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
	for r := range o.rounds {
		for i := range names {
			name := names[(i+r)%len(names)]
			tag := fmt.Sprintf("%s-r%d-%s", name, r+1, stamp)
			var res result
			var err error
			switch name {
			case "bare":
				res, err = runBare(ctx, o, client, input, ends, tag)
			case "msiguard":
				res, err = runMsiguard(ctx, o, client, input, ends, tag, expected)
			case "streams":
				res, err = runStreams(ctx, o, client, input, ends, tag, expected)
			default:
				return fmt.Errorf("unknown contender %q", name)
			}
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", r+1, name, err)
			}
			log.Printf("round %d %-8s %9.0f rec/s  startup %5.1fs  cpu %6.2fs (steady %6.2fs)  %7.0f rec/cpu-s  rss %6.0f MB  %s",
				r+1, name, res.recPerS, res.startup.Seconds(), res.cpuTotal, res.cpuSteady,
				float64(res.steadyN)/res.cpuSteady, res.rssMB, res.note)
			all[name] = append(all[name], res)
		}
		if m, p := all["msiguard"], all["streams"]; len(m) > r && len(p) > r {
			if err := agree(m[r].alerts, p[r].alerts, expected); err != nil {
				log.Printf("round %d: AGREEMENT FAILED: %v", r+1, err)
			} else {
				log.Printf("round %d: agreement OK: %d alerts, identical buckets, counts and field values", r+1, len(m[r].alerts))
			}
		}
	}
	report(o, total, all)
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
	fmt.Println("| consumer | records/s | CPU s (whole run) | records per CPU s (steady) | peak RSS MB | startup s |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, name := range []string{"bare", "msiguard", "streams"} {
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
		label := map[string]string{"bare": "bare kafka-go Reader loop", "msiguard": "msiguard run", "streams": "Kafka Streams peer"}[name]
		fmt.Printf("| %s | %.0f | %.2f | %.0f | %.0f | %.1f |\n", label, rw.recS, rw.cpuTot, rw.perCPU, rw.rss, rw.startup)
	}
	m, okm := rows["msiguard"]
	if p, ok := rows["streams"]; ok && okm {
		fmt.Printf("\nmsiguard / Kafka Streams: %.2fx records/s, %.2fx records per CPU second (target >= 3x), %.2fx peak RSS\n",
			m.recS/p.recS, m.perCPU/p.perCPU, m.rss/p.rss)
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

// measure starts cmd and watches group's commits on topic until they reach
// ends. It returns with the process still running.
func measure(ctx context.Context, o opts, c *kafka.Client, cmd *exec.Cmd, name, group, topic string, ends []int64) (result, error) {
	res := result{name: name}
	var stderr bytes.Buffer
	cmd.Stdout = io.Discard
	cmd.Stderr = &stderr
	spawn := time.Now()
	if err := cmd.Start(); err != nil {
		return res, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	pid := cmd.Process.Pid
	var tFirst time.Time
	var nFirst int64
	var cpuFirst float64
	deadline := time.Now().Add(o.timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return res, fmt.Errorf("%s exited early (%v): %s", name, err, tail(stderr.String()))
		case <-ctx.Done():
			cmd.Process.Kill()
			return res, ctx.Err()
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			return res, fmt.Errorf("%s: timed out; stderr: %s", name, tail(stderr.String()))
		}
		cpu := cpuSeconds(pid) // before the fetch: never counts CPU after the commit seen
		n, done, err := committed(ctx, c, group, topic, ends)
		if err != nil {
			continue // group not there yet (coordinator loading, ...)
		}
		now := time.Now()
		if n > 0 && tFirst.IsZero() {
			tFirst, nFirst, cpuFirst = now, n, cpu
			res.startup = now.Sub(spawn)
		}
		if done {
			cpu = cpuSeconds(pid)
			res.cpuTotal = cpu
			res.rssMB = peakRSSMB(pid)
			res.wall = now.Sub(tFirst)
			res.steadyN = n - nFirst
			res.cpuSteady = cpu - cpuFirst
			if res.steadyN == 0 || res.wall <= 0 {
				// Everything went in before the first commit: use the whole run.
				res.wall, res.steadyN, res.cpuSteady = now.Sub(spawn), n, cpu
				res.note = "(all input consumed before the first commit: rate over the whole run)"
			}
			res.recPerS = float64(res.steadyN) / res.wall.Seconds()
			go func() { // keep the exit status for stop
				exited <- <-exited
			}()
			stopFns[pid] = func() error {
				cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(60 * time.Second):
					cmd.Process.Kill()
					<-exited
				}
				return nil
			}
			return res, nil
		}
	}
}

// stopFns stops a process measure left running, by pid.
var stopFns = map[int]func() error{}

func stopProc(cmd *exec.Cmd) {
	if f := stopFns[cmd.Process.Pid]; f != nil {
		f()
		delete(stopFns, cmd.Process.Pid)
	}
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

// ---- the three contenders ----

func runBare(ctx context.Context, o opts, c *kafka.Client, input string, ends []int64, tag string) (result, error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	cmd := exec.Command(self, "bare", "--brokers", o.brokers, "--topic", input, "--group", tag)
	res, err := measure(ctx, o, c, cmd, "bare", tag, input, ends)
	if err != nil {
		return res, err
	}
	stopProc(cmd)
	return res, nil
}

func runMsiguard(ctx context.Context, o opts, c *kafka.Client, input string, ends []int64, tag string, expected int) (result, error) {
	alerts := tag + "-alerts"
	// msiguard wants its alerts (compacted) and dead-letter topics to exist;
	// it creates its matches topic itself.
	if _, err := c.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: alerts, NumPartitions: 1, ReplicationFactor: 1, ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}}},
		{Topic: tag + "-dlq", NumPartitions: 1, ReplicationFactor: 1},
	}}); err != nil {
		return result{}, err
	}
	cmd := exec.Command(o.msiguard, "run", "--brokers", o.brokers, "--topic", input, "--group", tag,
		"--alerts-topic", alerts, "--dlq-topic", tag+"-dlq", "--metrics-addr", "", "--log-level", "warn")
	res, err := measure(ctx, o, c, cmd, "msiguard", tag, input, ends)
	if err != nil {
		return res, err
	}
	// msiguard emits the last buckets after its idle timeout (5 s).
	t0 := time.Now()
	res.alerts, err = waitAlerts(ctx, c, o.brokers, alerts, expected, parseMsiguardAlerts)
	log.Printf("msiguard: %d alerts %.1fs after its input was committed", len(res.alerts), time.Since(t0).Seconds())
	stopProc(cmd)
	return res, err
}

func runStreams(ctx context.Context, o opts, c *kafka.Client, input string, ends []int64, tag string, expected int) (result, error) {
	alerts := tag + "-alerts"
	if _, err := c.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: alerts, NumPartitions: 1, ReplicationFactor: 1,
		// The peer stamps alerts with their window's time (2025): keep them.
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "retention.ms", ConfigValue: "-1"}}}}}); err != nil {
		return result{}, err
	}
	args := append(strings.Fields(o.javaOpts), "-cp", o.peerCP, "msiguard.bench.StreamsPeer",
		o.brokers, input, alerts, tag, strconv.Itoa(o.peerThreads), strconv.FormatInt(o.peerGrace.Milliseconds(), 10))
	cmd := exec.Command("java", args...)
	res, err := measure(ctx, o, c, cmd, "streams", tag, input, ends)
	if err != nil {
		return res, err
	}
	// Suppress emits a window only when stream time passes its end + grace:
	// all input is committed, so every data record is in the repartition
	// topic; a late flush record on each of its partitions closes every window.
	if err := flush(ctx, c, o.brokers, tag+"-by-host-repartition"); err != nil {
		stopProc(cmd)
		return res, err
	}
	t0 := time.Now()
	res.alerts, err = waitAlerts(ctx, c, o.brokers, alerts, expected, parsePeerAlerts)
	log.Printf("streams: %d alerts %.1fs after the flush", len(res.alerts), time.Since(t0).Seconds())
	stopProc(cmd)
	return res, err
}

func partitionsOf(ctx context.Context, c *kafka.Client, topic string) ([]int, error) {
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, err
	}
	for _, t := range md.Topics {
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
	return nil, fmt.Errorf("no metadata for %s", topic)
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

func agree(ours, peer map[bucket]alert, expected int) error {
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
			problems = append(problems, fmt.Sprintf("bucket %v: event_count %d vs peer %d", b, a.count, p.count))
		default:
			ja, _ := json.Marshal(a.fields) // map keys are sorted by encoding/json
			jp, _ := json.Marshal(p.fields)
			if !bytes.Equal(ja, jp) {
				problems = append(problems, fmt.Sprintf("bucket %v: fields differ:\n  msiguard %s\n  peer     %s", b, ja, jp))
			}
		}
	}
	for b := range peer {
		if _, ok := ours[b]; !ok {
			problems = append(problems, fmt.Sprintf("bucket %v only in the peer", b))
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
// each record's value so the loop cannot be optimized away, and runs until
// SIGTERM.
func bareMain(args []string) {
	fs := flag.NewFlagSet("bare", flag.ExitOnError)
	brokers := fs.String("brokers", "", "bootstrap broker")
	topic := fs.String("topic", "", "input topic")
	group := fs.String("group", "", "consumer group")
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
	}
	r.Close() // commits what was read
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "bare: %d records, %d bytes\n", n, bytes)
	w.Flush()
}
