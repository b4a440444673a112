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
// context: an alert is printed within a bounded time (the first attack is
// sent at once), /readyz answers 200 and /metrics counts the alerts while
// it runs, and cancelling the context (what SIGINT does in main) makes it
// catch up, drain and return nil with a summary saying every attack
// bucket was alerted.
func TestDemoInProcess(t *testing.T) {
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	began := time.Now()
	go func() {
		done <- run(ctx, []string{"demo", "--rate", "500", "--metrics-addr", "127.0.0.1:0"}, &stdout, &stderr)
	}()

	kafkatest.WaitFor(t, 20*time.Second, func() error {
		select {
		case err := <-done:
			t.Fatalf("demo returned early: %v\n%s", err, stderr.String())
		default:
		}
		if !strings.Contains(stdout.String(), "ALERT ") {
			return errors.New("no alert printed yet")
		}
		return nil
	})
	t.Logf("first alert after %v", time.Since(began).Round(time.Millisecond))
	first := strings.SplitN(stdout.String(), "\n", 2)[0]
	if !strings.Contains(strings.ToLower(first), "msiexec") || !strings.Contains(first, "events=") {
		t.Errorf("alert line does not show the msiexec launch: %q", first)
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
	if !strings.Contains(stderr.String(), "Kafka broker (in-process kfake, development only) on 127.0.0.1:") {
		t.Errorf("the banner does not give the broker address:\n%s", stderr.String())
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo returned %v after cancel, want nil\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("demo did not stop within 30s of cancel\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "every attack bucket was alerted") {
		t.Errorf("summary does not confirm every attack bucket was alerted:\n%s", stderr.String())
	}
}

// TestDemoBinarySIGINT runs the built binary as a newcomer would, waits
// for its first alert on standard output, interrupts it with SIGINT and
// expects a clean exit (status 0) with the summary.
func TestDemoBinarySIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	cmd := exec.Command(bin, "demo", "--rate", "500", "--metrics-addr", "127.0.0.1:0")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	alert := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "ALERT ") {
				select {
				case alert <- sc.Text():
				default:
				}
			}
		}
		exited <- cmd.Wait()
	}()
	began := time.Now()
	select {
	case line := <-alert:
		t.Logf("first alert after %v: %s", time.Since(began).Round(time.Millisecond), line)
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
	for _, want := range []string{"msiguard demo: stopped:", "every attack bucket was alerted"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
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
