package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/kafkatest"
	"github.com/msiguard/msiguard/internal/sysmongen"
	"github.com/msiguard/msiguard/stream/streamtest"
)

// TestZombieSIGSTOP is issue 19's scenario, with two msiguard processes: a
// member takes in the first half of 20 host-seconds and is frozen with
// SIGSTOP before it emits them; another member takes its partitions once
// its session has expired and receives the second halves; the frozen
// member is resumed. It must not publish its stale half buckets: for every
// alert_id the latest record on the alerts topic is the complete bucket
// (the plain grouping of streamtest.Expect), within the healing time, and
// no two records share an alert_id and revision with different content.
func TestZombieSIGSTOP(t *testing.T) {
	if testing.Short() {
		t.Skip("zombie test: runs and freezes two msiguard processes")
	}
	bin := buildBinary(t)
	c := kafkatest.Start(t)
	rt := newRunTopics(t, c)

	logDir := t.TempDir()
	start := func(name string) (*exec.Cmd, string) {
		logName := filepath.Join(logDir, name+".log")
		cmd := rt.startRun(t, bin, logName, "--idle-timeout", "8s", "--metrics-addr", "127.0.0.1:0")
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGCONT)
			cmd.Process.Signal(syscall.SIGTERM)
			waitExit(cmd, 30*time.Second)
			if t.Failed() {
				logTail(t, logName, 60)
			}
		})
		return cmd, logName
	}
	produce := func(half int, at time.Time) {
		t.Helper()
		w := &kafka.Writer{Addr: kafka.TCP(c.Addrs()...), Topic: rt.topic, Balancer: &kafka.RoundRobin{},
			BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll, Transport: c.Transport(t)}
		defer w.Close()
		var msgs []kafka.Message
		for h := range 20 {
			for k := range 3 {
				n := half*3 + k
				msgs = append(msgs, kafka.Message{Value: []byte(sysmongen.Event{
					EventID: 1, Computer: fmt.Sprintf("WKS-%02d", h),
					UtcTime: at.Add(time.Duration(n) * 50 * time.Millisecond).UTC().Format(sysmongen.UtcTimeLayout),
					Data: map[string]any{
						"Image": `C:\Windows\System32\msiexec.exe`, "CommandLine": fmt.Sprintf("msiexec /i %d.msi", n),
						"ParentImage": `C:\Windows\System32\cmd.exe`, "ProcessId": strconv.Itoa(1000 + n), "User": `CORP\eve`,
					},
				}.Build("flat"))})
			}
		}
		if err := w.WriteMessages(context.Background(), msgs...); err != nil {
			t.Fatalf("producing: %v", err)
		}
	}

	a, aLog := start("a")
	metricsA := memberMetrics(t, aLog)
	// One second of event time, just ahead of the clock: every bucket
	// stays open until the idle timeout (8 s), or its host's next second.
	at := time.Now().Truncate(time.Second).Add(time.Second)
	produce(0, at)
	kafkatest.WaitFor(t, 30*time.Second, func() error {
		if n := scrape(metricsA, "msiguard_matches_applied_total"); n < 60 {
			return fmt.Errorf("member a applied %d of the 60 first-half matches", n)
		}
		if n := scrape(metricsA, "msiguard_alerts_total"); n != 0 {
			return fmt.Errorf("member a emitted %d alerts before the freeze: the test shows nothing", n)
		}
		return nil
	})
	if err := a.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	frozen := time.Now()
	_, bLog := start("b")
	metricsB := memberMetrics(t, bLog)
	kafkatest.WaitFor(t, 60*time.Second, func() error {
		if n := scrape(metricsB, "msiguard_matches_applied_total"); n < 60 {
			return fmt.Errorf("member b applied %d of a's 60 matches", n)
		}
		return nil
	})
	produce(1, at)
	kafkatest.WaitFor(t, 60*time.Second, func() error {
		if n := scrape(metricsB, "msiguard_alerts_published_total"); n < 20 {
			return fmt.Errorf("member b published %d of 20 alerts", n)
		}
		return nil
	})
	if err := a.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	t.Logf("member a frozen for %v", time.Since(frozen).Round(time.Millisecond))

	placed, err := streamtest.ReadPlaced(context.Background(), c.Dialer(), c.Addrs()[0], rt.topic)
	if err != nil {
		t.Fatal(err)
	}
	want := streamtest.Expect(detector.Seed(), placed, 0)
	if len(want) != 20 {
		t.Fatalf("the plain grouping gives %d alerts, want 20", len(want))
	}
	// Until a has rejoined, healed whatever slipped through and the group
	// has settled: the latest record of every alert_id is complete.
	var problems []string
	kafkatest.WaitFor(t, 60*time.Second, func() error {
		if scrape(metricsA, "msiguard_rebalances_total") < 2 || scrape(metricsA, "msiguard_ready") != 1 {
			return fmt.Errorf("member a has not rejoined")
		}
		pub, err := streamtest.ReadAlerts(context.Background(), c.Dialer(), c.Addrs()[0], rt.alerts)
		if err != nil {
			return err
		}
		problems = nil
		for id, w := range want {
			recs := pub[id]
			if len(recs) == 0 {
				problems = append(problems, id+": not published")
				continue
			}
			if d := streamtest.Diff(recs[len(recs)-1].Alert, w); d != "" {
				problems = append(problems, fmt.Sprintf("%s: latest record (revision %d, %d events) is not the complete bucket: %s", id, recs[len(recs)-1].Alert.Revision, recs[len(recs)-1].Alert.EventCount, d))
			}
			byRev := map[int][]byte{}
			for _, r := range recs {
				if prev, ok := byRev[r.Alert.Revision]; ok && !bytes.Equal(prev, r.Value) {
					problems = append(problems, fmt.Sprintf("%s: two records of revision %d differ", id, r.Alert.Revision))
				}
				byRev[r.Alert.Revision] = r.Value
			}
		}
		if len(problems) > 0 {
			return fmt.Errorf("%d problems, first: %s", len(problems), problems[0])
		}
		return nil
	})
	t.Logf("member a: %d zombie generations, %d records fenced, %d alerts healed; member b: %d healed",
		scrape(metricsA, "msiguard_zombie_generations_total"), scrape(metricsA, "msiguard_fenced_records_total"),
		scrape(metricsA, "msiguard_healed_alerts_total"), scrape(metricsB, "msiguard_healed_alerts_total"))
	if n := scrape(metricsA, "msiguard_zombie_generations_total"); n < 1 {
		t.Errorf("member a counted %d zombie generations, want at least 1", n)
	}
}

var metricsLine = regexp.MustCompile(`metrics=(http://[0-9.:]+/metrics)`)

// memberMetrics waits for a member's log to name its metrics address.
func memberMetrics(t *testing.T, logName string) string {
	t.Helper()
	var url string
	kafkatest.WaitFor(t, 30*time.Second, func() error {
		b, _ := os.ReadFile(logName)
		m := metricsLine.FindSubmatch(b)
		if m == nil {
			return fmt.Errorf("%s names no metrics address yet", filepath.Base(logName))
		}
		url = string(m[1])
		return nil
	})
	return url
}

// scrape returns the value of an unlabelled series, or -1.
func scrape(url, name string) int64 {
	cl := http.Client{Timeout: 2 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return int64(f)
			}
		}
	}
	return -1
}
