package main

import (
	"crypto/tls"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/msiguard/msiguard/internal/kafkatest"
)

// TestUnreachableBrokersFailFast: gen and backtest against a port nobody
// listens on or a host that does not resolve exit 1 within seconds, with
// the hints msiguard run gives, and gen prints no summary of nothing (it
// once printed event time 0001-01-01T00:00:00Z after 30 s, with "create the
// topic first").
func TestUnreachableBrokersFailFast(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"gen", "--brokers", "127.0.0.1:1", "--topic", "t"}, "connection refused"},
		{[]string{"gen", "--brokers", "nosuchhost.invalid:9092", "--topic", "t", "--count", "10"}, "the host name nosuchhost.invalid does not resolve"},
		{[]string{"backtest", "--brokers", "nosuchhost.invalid:9092", "--topic", "t"}, "the host name nosuchhost.invalid does not resolve"},
		{[]string{"backtest", "--brokers", "127.0.0.1:1", "--topic", "t"}, "connection refused"},
		{[]string{"backtest", "--input", goldenInput, "--brokers", "127.0.0.1:1", "--alerts-topic", "a"}, "connection refused"},
	} {
		r := runCLI(t, time.Minute, nil, nil, tc.args...)
		if r.code != 1 || r.took > 5*time.Second || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "cannot reach the brokers") ||
			!strings.Contains(r.stderr, "check --brokers") || strings.Contains(r.stderr, "create the topic first") || strings.Contains(r.stderr, "0001-01-01") {
			t.Errorf("%q: exit %d after %v, stderr:\n%s", tc.args, r.code, r.took.Round(time.Millisecond), r.stderr)
		}
		if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%q: more than the one error line:\n%s", tc.args, r.stderr)
		}
	}
	// Usage errors print no summary either.
	for _, args := range [][]string{{"gen", "--out", "-", "--count", "5", "--hosts", "0"}, {"gen", "--brokers", "k:9092", "--topic", "t", "--compression", "brotli"}} {
		if r := runCLI(t, time.Minute, nil, nil, args...); r.code != 2 || strings.Contains(r.stderr, "0001-01-01") || strings.Contains(r.stderr, "records generated") {
			t.Errorf("%q: exit %d, stderr:\n%s", args, r.code, r.stderr)
		}
	}
}

// TestTLSNameMismatchHint: a broker whose certificate does not list the
// address in --brokers, with its CA passed by --tls-ca, is reported as a
// name mismatch with --tls-server-name as the fix (it was once "pass its
// CA with --tls-ca", which was done), by run, backtest and gen alike.
func TestTLSNameMismatchHint(t *testing.T) {
	server, _, err := kafkatest.SelfSignedTLS("kafka.example")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificates[0].Certificate[0]})
	if err := os.WriteFile(ca, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr).String()
	conn := []string{"--brokers", addr, "--topic", "sysmon", "--tls-ca", ca}
	for _, args := range [][]string{
		append([]string{"run", "--metrics-addr", ""}, conn...),
		append([]string{"backtest"}, conn...),
		append([]string{"gen"}, conn...),
	} {
		r := runCLI(t, time.Minute, nil, nil, args...)
		if r.code != 1 || r.took > 10*time.Second || !strings.Contains(r.stderr, "--tls-server-name") || !strings.Contains(r.stderr, "SANs") ||
			strings.Contains(r.stderr, "pass its CA with --tls-ca") {
			t.Errorf("%s: exit %d after %v, stderr:\n%s", args[0], r.code, r.took.Round(time.Millisecond), r.stderr)
		}
	}
}
