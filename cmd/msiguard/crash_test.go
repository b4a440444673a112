package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/kafkatest"
	"github.com/msiguard/msiguard/stream"
	"github.com/msiguard/msiguard/stream/streamtest"
)

// TestCrashSIGKILL runs the msiguard binary as a subprocess against a
// broker while a producer writes a known stream, kills it with SIGKILL at
// random points several times, restarting it each time, then lets it
// finish and stops it with SIGTERM (exit 0 expected). At the end every
// expected alert is on the alerts topic, each alert_id's latest revision
// equals the expected alert, and repeated revisions are identical copies.
func TestCrashSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: builds and kills the binary repeatedly")
	}
	bin := buildBinary(t)
	c := kafkatest.Start(t)
	rt := newRunTopics(t, c)

	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	gen := streamtest.New(streamtest.Options{Seed: seed, Hosts: 10})

	// The producer writes 20 chunks of 400 records, one every 750ms.
	var wg sync.WaitGroup
	produced := make(chan struct{})
	wg.Go(func() {
		defer close(produced)
		w := &kafka.Writer{
			Addr: kafka.TCP(c.Addrs()...), Topic: rt.topic, Balancer: &kafka.RoundRobin{},
			BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll, Transport: c.Transport(t),
		}
		defer w.Close()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for range 20 {
			recs := gen.Records(400)
			msgs := make([]kafka.Message, len(recs))
			for i, r := range recs {
				msgs[i] = kafka.Message{Value: r.Value}
			}
			if err := w.WriteMessages(context.Background(), msgs...); err != nil {
				t.Errorf("producer: %v", err)
				return
			}
			<-tick.C
		}
	})
	defer wg.Wait()

	logDir := t.TempDir()
	logName := func(n int) string { return filepath.Join(logDir, fmt.Sprintf("run-%d.log", n)) }
	start := func(n int) *exec.Cmd {
		// No metrics server: a fixed port could be taken by another test or a demo.
		return rt.startRun(t, bin, logName(n), "--idle-timeout", "1s", "--metrics-addr", "")
	}
	showLog := func(n int) { logTail(t, logName(n), 40) }

	const kills = 4
	for n := range kills {
		cmd := start(n)
		t.Cleanup(func() {
			if t.Failed() {
				showLog(n)
			}
		})
		// Kill at a random moment after it joined the group, so that it
		// dies with work in flight.
		kafkatest.WaitFor(t, 60*time.Second, func() error {
			b, _ := os.ReadFile(logName(n))
			if !strings.Contains(string(b), "partitions assigned") {
				return fmt.Errorf("run %d has not joined the group", n)
			}
			return nil
		})
		d := time.Duration(rng.IntN(4000)) * time.Millisecond
		timer := time.NewTimer(d)
		<-timer.C // the kill point: a random moment, not a wait for an event
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		b, _ := os.ReadFile(logName(n))
		t.Logf("run %d killed %v after joining (%d generations joined, %d alerts restored at the last)", n, d,
			strings.Count(string(b), "partitions assigned"), lastRestored(string(b)))
	}
	cmd := start(kills)
	<-produced

	placed, err := streamtest.ReadPlaced(context.Background(), c.Dialer(), c.Addrs()[0], rt.topic)
	if err != nil {
		t.Fatal(err)
	}
	want := streamtest.Expect(detector.Seed(), placed, 0)
	t.Logf("%d records, %d expected alerts", len(placed), len(want))

	var problems []string
	deadline := time.Now().Add(120 * time.Second)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		pub, err := streamtest.ReadAlerts(context.Background(), c.Dialer(), c.Addrs()[0], rt.alerts)
		if err == nil {
			problems = streamtest.Check(pub, want)
		} else {
			problems = []string{err.Error()}
		}
		if len(problems) == 0 {
			n, revs := 0, 0
			for _, recs := range pub {
				n += len(recs)
				for _, r := range recs {
					revs = max(revs, r.Alert.Revision)
				}
			}
			t.Logf("alerts topic: %d records for %d alerts, highest revision %d", n, len(pub), revs)
			break
		}
		if time.Now().After(deadline) {
			showLog(kills)
			if len(problems) > 20 {
				problems = problems[:20]
			}
			t.Fatalf("alerts topic not as expected:\n%s", strings.Join(problems, "\n"))
		}
		<-tick.C
	}

	// Dead letters are at least once: copies after a crash share their
	// key, the source record's position, so a compacted dead-letter topic
	// or any consumer can drop them.
	dead, err := streamtest.ReadTopic(context.Background(), c.Dialer(), c.Addrs()[0], rt.dlq)
	if err != nil {
		t.Fatal(err)
	}
	copies := map[string]int{}
	for _, d := range dead {
		var src [3]string
		for _, h := range d.Headers {
			switch h.Key {
			case stream.HeaderSourceTopic:
				src[0] = string(h.Value)
			case stream.HeaderSourcePartition:
				src[1] = string(h.Value)
			case stream.HeaderSourceOffset:
				src[2] = string(h.Value)
			}
		}
		if want := strings.Join(src[:], "/"); string(d.Key) != want {
			t.Errorf("dead letter keyed %q, want its source position %q", d.Key, want)
		}
		copies[string(d.Key)]++
	}
	dups := 0
	for _, n := range copies {
		dups += n - 1
	}
	t.Logf("dead-letter topic: %d records for %d source records (%d copies)", len(dead), len(copies), dups)
	if len(dead) == 0 {
		t.Error("no dead letter at all: the test shows nothing about their keys")
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(cmd, 30*time.Second); err != nil {
		showLog(kills)
		t.Fatalf("after SIGTERM: %v, want exit 0", err)
	}
}

// envTestSeed names the environment variable that replays a randomized test:
// MSIGUARD_TEST_SEED=N go test -run TestCrashSIGKILL ./cmd/msiguard.
const envTestSeed = "MSIGUARD_TEST_SEED"

// testSeed returns the seed of a randomized test: MSIGUARD_TEST_SEED when set,
// else one from the clock. It logs the seed and how to replay it, so that a
// failure's log says how to run the same stream and kill delays again (the
// moments the kills land still depend on the scheduler).
func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(envTestSeed); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: want a decimal uint64: %v", envTestSeed, v, err)
		}
		seed = n
	}
	t.Logf("seed %d (replay: %s=%d go test -run '^%s$' ./cmd/msiguard)", seed, envTestSeed, seed, t.Name())
	return seed
}

// lastRestored returns the restored count of the last "alerts restored" log
// line, or -1.
func lastRestored(log string) int {
	i := strings.LastIndex(log, "msg=\"alerts restored\"")
	if i < 0 {
		return -1
	}
	var n int
	if j := strings.Index(log[i:], "restored="); j >= 0 {
		fmt.Sscanf(log[i+j:], "restored=%d", &n)
	}
	return n
}
