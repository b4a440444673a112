package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/msiguard/msiguard/internal/kafkatest"
)

// TestRunServesMetricsAndProbes runs msiguard run in-process with
// --metrics-addr on a free port: the JSON startup log gives the build and
// the address, /readyz goes from 503 to 200 once the group has settled,
// /metrics has the msiguard_* series, and the server stops with run.
func TestRunServesMetricsAndProbes(t *testing.T) {
	c := kafkatest.Start(t)
	topic, alerts, dlq := kafkatest.UniqueName(t, "sysmon"), kafkatest.UniqueName(t, "alerts"), kafkatest.UniqueName(t, "dlq")
	c.CreateTopic(t, topic, 2)
	c.CreateTopic(t, alerts, 1)
	c.CreateTopic(t, dlq, 1)
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"run", "--brokers", strings.Join(c.Addrs(), ","), "--topic", topic,
			"--group", kafkatest.UniqueName(t, "group"), "--alerts-topic", alerts, "--dlq-topic", dlq,
			"--session-timeout", "6s", "--heartbeat-interval", "500ms", "--shutdown-timeout", "10s",
			"--metrics-addr", "127.0.0.1:0", "--log-format", "json"}, &stdout, &stderr)
	}()
	urlRE := regexp.MustCompile(`"metrics":"(http://[0-9.:]+)/metrics"`)
	var base string
	kafkatest.WaitFor(t, 10*time.Second, func() error {
		m := urlRE.FindStringSubmatch(stderr.String())
		if m == nil {
			return errors.New("no metrics address logged yet")
		}
		base = m[1]
		return nil
	})
	if !strings.Contains(stderr.String(), `"build":{"version":`) {
		t.Errorf("startup log lacks the build information:\n%s", stderr.String())
	}
	sawNotReady := false
	kafkatest.WaitFor(t, 30*time.Second, func() error {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			sawNotReady = true
			return fmt.Errorf("/readyz: %s %s", resp.Status, body)
		}
		return nil
	})
	t.Logf("/readyz answered 503 before 200: %v", sawNotReady)
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"msiguard_rebalances_total 1", "msiguard_ready 1", `msiguard_dead_letters_total{reason="malformed"} 0`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	cancel()
	if err := returned(done, 20*time.Second); err != nil {
		t.Fatalf("run after cancel: %v, want nil\n%s", err, stderr.String())
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the metrics server still answers after run returned")
	}
}

func TestRunMetricsAddrTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var out syncBuffer
	err = run(context.Background(), []string{"run", "--brokers", "127.0.0.1:1", "--topic", "t", "--metrics-addr", ln.Addr().String()}, &out, &out)
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "--metrics-addr") {
		t.Errorf("run with a taken --metrics-addr = %v, want a usage error naming the flag", err)
	}
}
