package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/msiguard/msiguard/internal/kafkatest"
	"github.com/msiguard/msiguard/internal/sysmongen"
	"github.com/msiguard/msiguard/window"
)

// syncBuffer is a bytes.Buffer safe for the demo's goroutines and the
// test's polling.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var metricsURL = regexp.MustCompile(`metrics on (http://[0-9.:]+)/metrics`)

// TestDemoInProcess runs msiguard demo in-process with a cancellable
// context and --json: an alert is printed within a bounded time (the first
// attack is sent at once), /readyz answers 200 and /metrics counts the
// alerts while it runs, and cancelling the context (what SIGINT does in
// main) makes it catch up, drain and return nil. The alerts printed must
// be exactly one per (host, second) of the attacks generated: the test
// records the demo's input topic, rebuilds the generator's streams from it
// and takes the attacks from sysmongen's Meta (demoExpectedBuckets), so a
// spurious alert and a missing one do not cancel out.
func TestDemoInProcess(t *testing.T) {
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	began := time.Now()
	go func() {
		done <- run(ctx, []string{"demo", "--rate", "500", "--attack-rate", "0.01", "--metrics-addr", "127.0.0.1:0", "--json"}, &stdout, &stderr)
	}()
	rec := recordDemoInput(t, &stderr, done)

	kafkatest.WaitFor(t, 20*time.Second, func() error {
		select {
		case err := <-done:
			t.Fatalf("demo returned early: %v\n%s", err, stderr.String())
		default:
		}
		if !strings.Contains(stdout.String(), "\n") {
			return errors.New("no alert printed yet")
		}
		return nil
	})
	t.Logf("first alert after %v", time.Since(began).Round(time.Millisecond))
	var first window.Alert
	if err := first.UnmarshalJSON([]byte(strings.SplitN(stdout.String(), "\n", 2)[0])); err != nil {
		t.Fatalf("first line is not an alert: %v", err)
	}
	if !strings.Contains(strings.ToLower(strings.Join(first.Values("process"), " ")), "msiexec") || first.EventCount < 1 {
		t.Errorf("first alert does not show the msiexec launch: %+v", first)
	}

	m := metricsURL.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("the banner does not give the metrics address:\n%s", stderr.String())
	}
	kafkatest.WaitFor(t, 10*time.Second, func() error {
		resp, err := http.Get(m[1] + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz: %s", resp.Status)
		}
		resp, err = http.Get(m[1] + "/metrics")
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !regexp.MustCompile(`(?m)^msiguard_alerts_published_total [1-9]`).Match(body) {
			return errors.New("msiguard_alerts_published_total is not positive yet")
		}
		return nil
	})

	cancel()
	if err := returned(done, 30*time.Second); err != nil {
		t.Fatalf("demo after cancel: %v, want nil\n%s", err, stderr.String())
	}
	recs, firstRead := rec.stop()

	got := map[demoBucket]bool{}
	for line := range strings.Lines(stdout.String()) {
		var a window.Alert
		if err := a.UnmarshalJSON([]byte(line)); err != nil {
			t.Fatalf("standard output line is not an alert: %v: %q", err, line)
		}
		b := demoBucket{a.Host, a.Time}
		switch {
		case a.Late:
			t.Errorf("late alert %s for %v", a.AlertID, b)
		case a.AlertID != b.alertID():
			t.Errorf("alert %s for %v: its alert_id should be %s", a.AlertID, b, b.alertID())
		case a.Revision == 1:
			got[b] = true
		}
	}
	want := demoExpectedBuckets(t, recs, 1, sysmongen.DefaultHosts, 500, 0.01, began, firstRead)
	checkDemoAlerts(t, got, want, len(recs), stderr.String())
}

// recordDemoInput waits for the demo's banner to name its broker, then
// records the demo's input topic (three partitions, the demo's default).
func recordDemoInput(t *testing.T, stderr *syncBuffer, done chan error) *demoRecording {
	t.Helper()
	addr := printedAddr(t, 20*time.Second, done, stderr, brokerAddr)
	ctx, cancel := context.WithCancel(context.Background())
	r := &demoRecording{rec: recordTopic(ctx, addr, demoTopic, 3), cancel: cancel}
	t.Cleanup(func() { r.stop() })
	return r
}

// demoRecording is a recording of the demo's input topic.
type demoRecording struct {
	rec    *topicRecording
	cancel context.CancelFunc
}

// stop ends the recording (call it once the demo has returned: its broker
// is gone, so everything it acknowledged has been read or never will be)
// and returns the records and when the first was read.
func (r *demoRecording) stop() ([][]byte, time.Time) {
	r.cancel()
	return r.rec.values()
}

var alertLine = regexp.MustCompile(`^(ALERT|LATE ALERT|REVISED \(rev \d+\)) (\d\d:\d\d:\d\dZ) (\S+) .* id=([0-9a-f]{12})$`)

// TestDemoBinarySIGINT runs the built binary as a newcomer would, waits
// for its first alert on standard output, interrupts it with SIGINT and
// expects a clean exit (status 0) with the summary. As in
// TestDemoInProcess, the ALERT lines must name exactly the (host, second)
// buckets of the attacks generated: each line's host, second and alert_id
// prefix against those the generator's records call for.
func TestDemoBinarySIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	cmd := exec.Command(bin, "demo", "--rate", "500", "--attack-rate", "0.01", "--metrics-addr", "127.0.0.1:0")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	alert := make(chan string, 1)
	var lines []string // read by the scanner goroutine, then by the test once exited
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.HasPrefix(sc.Text(), "ALERT ") {
				select {
				case alert <- sc.Text():
				default:
				}
			}
		}
		exited <- cmd.Wait()
	}()
	rec := recordDemoInput(t, &stderr, make(chan error, 1))
	select {
	case line := <-alert:
		t.Logf("first alert after %v: %s", time.Since(began).Round(time.Millisecond), line)
		if !strings.Contains(strings.ToLower(line), "msiexec") || !strings.Contains(line, "events=") {
			t.Errorf("alert line does not show the msiexec launch: %q", line)
		}
	case err := <-exited:
		t.Fatalf("demo exited before any alert: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("no alert within 30s\n%s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("demo exited with %v after SIGINT, want status 0\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("demo did not exit within 30s of SIGINT\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "msiguard demo: stopped:") {
		t.Errorf("stderr lacks the summary:\n%s", stderr.String())
	}
	recs, firstRead := rec.stop()

	want := demoExpectedBuckets(t, recs, 1, sysmongen.DefaultHosts, 500, 0.01, began, firstRead)
	// A line gives the second's time of day, the host and the alert_id's
	// first 12 hex digits: map each expected bucket to that.
	type shown struct{ clock, host, id string }
	byLine := map[shown]demoBucket{}
	for b := range want {
		byLine[shown{time.Unix(b.sec, 0).UTC().Format("15:04:05Z"), b.host, b.alertID()[:12]}] = b
	}
	got := map[demoBucket]bool{}
	for _, line := range lines {
		m := alertLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("standard output line is not an alert line: %q", line)
			continue
		}
		s := shown{m[2], m[3], m[4]}
		b, ok := byLine[s]
		switch {
		case m[1] == "LATE ALERT":
			t.Errorf("late alert: %q", line)
		case !ok:
			// No attack bucket has this host, second and id: spurious.
			got[demoBucket{host: fmt.Sprintf("%s (%s, id %s)", s.host, s.clock, s.id)}] = true
		case m[1] == "ALERT":
			got[b] = true
		}
	}
	checkDemoAlerts(t, got, want, len(recs), stderr.String())
}

func TestDemoUsage(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"demo", "--help"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--duration", "--rate", "--hosts", "--attack-rate", "--seed", "--metrics-addr", "--listen", "go run ./cmd/msiguard demo"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo --help lacks %q", want)
		}
	}
	for _, args := range [][]string{
		{"--rate", "0"}, {"--duration", "-1s"}, {"--attack-rate", "0.9"}, {"--partitions", "0"}, {"extra"}, {"--listen", "nonsense"},
	} {
		err := run(context.Background(), append([]string{"demo"}, args...), &out, &out)
		if !errors.Is(err, errUsage) {
			t.Errorf("demo %v = %v, want a usage error", args, err)
		}
	}
}

func TestAppendAlertLine(t *testing.T) {
	// A bucket where cmd.exe started msiexec and conhost: the line shows
	// the msiexec command line, whatever the values' order.
	a := alertForLine()
	got := string(appendAlertLine(nil, a))
	want := "ALERT 10:00:05Z WS-FIN-0007  cmd.exe -> msiexec /q /i x.msi (+1 more)  user=CORP\\ann  events=2  id=0123456789ab\n"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	a.Revision = 2
	if got := string(appendAlertLine(nil, a)); !strings.HasPrefix(got, "REVISED (rev 2) ") {
		t.Errorf("revision line %q", got)
	}
}

func alertForLine() *window.Alert {
	return &window.Alert{
		AlertID: "0123456789abcdef0123456789abcdef", Time: time.Date(2025, 3, 6, 10, 0, 5, 0, time.UTC).Unix(),
		Host: "WS-FIN-0007", EventCount: 2, Revision: 1,
		Fields: []window.Field{
			{Name: "parent_process_name", Values: []string{"cmd.exe"}},
			{Name: "process", Values: []string{`\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1`, "msiexec /q /i x.msi"}},
			{Name: "user", Values: []string{`CORP\ann`}},
		},
	}
}
