package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/msiguard/msiguard/internal/kafkatest"
)

// TestFatalErrorLogFormat: a fatal error of run (here a missing input
// topic) is, with --log-format json, an ERROR record and nothing on
// standard error is not JSON; with text it stays one sentence after
// "msiguard:", the last line.
func TestFatalErrorLogFormat(t *testing.T) {
	c := kafkatest.Start(t)
	if c.SASL() != nil || c.TLSConfig() != nil {
		t.Skip("plaintext broker needed")
	}
	topic := kafkatest.UniqueName(t, "missing")
	args := []string{"run", "--brokers", strings.Join(c.Addrs(), ","), "--topic", topic, "--metrics-addr", ""}

	r := runCLI(t, time.Minute, nil, nil, append(args, "--log-format", "json")...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("not a JSON record: %s", l)
		}
	}
	var last struct {
		Level, Msg, Err string
		Exit            int `json:"exit_status"`
	}
	json.Unmarshal([]byte(lines[len(lines)-1]), &last)
	if last.Level != "ERROR" || last.Msg != "msiguard run failed" || !strings.Contains(last.Err, topic) || !strings.Contains(last.Err, "does not exist") || last.Exit != 1 {
		t.Errorf("last record %+v, want an ERROR naming the missing topic", last)
	}
	if strings.Contains(r.stderr, `"msiguard run stopped"`) {
		t.Errorf("an INFO stopped record besides the ERROR:\n%s", r.stderr)
	}

	// A usage error found after the logger exists is a record too.
	r = runCLI(t, time.Minute, nil, nil, "run", "--brokers", "k:9092", "--topic", "t", "--alerts-topic", "t", "--log-format", "json")
	if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); r.code != 2 || !json.Valid([]byte(lines[len(lines)-1])) || !strings.Contains(r.stderr, `"level":"ERROR"`) {
		t.Errorf("usage error with --log-format json: exit %d\n%s", r.code, r.stderr)
	}

	r = runCLI(t, time.Minute, nil, nil, append(args, "--log-format", "text")...)
	lines = strings.Split(strings.TrimSpace(r.stderr), "\n")
	if lastLine := lines[len(lines)-1]; r.code != 1 || !strings.HasPrefix(lastLine, "msiguard: --topic: topic \""+topic+"\" does not exist") {
		t.Errorf("text: exit %d, last line %q", r.code, lastLine)
	}
}
