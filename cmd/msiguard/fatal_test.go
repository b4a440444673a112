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

// TestUsageErrorLogFormat: a flag error found before any logger exists is,
// when --log-format json was given before it or MSIGUARD_LOG_FORMAT=json is
// set, one JSON ERROR record with exit status 2; otherwise, and when
// --log-format comes after the bad flag (the flag package stops there), one
// "msiguard:" sentence.
func TestUsageErrorLogFormat(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		json bool
		want string // in the error text
	}{
		{"flag before", nil, []string{"run", "--log-format", "json", "--grace", "-1s"}, true, "--grace -1s: must be positive"},
		{"unparsable value", nil, []string{"run", "--log-format=json", "--grace", "soon"}, true, `--grace "soon"`},
		{"bad level", nil, []string{"run", "--log-level", "loud", "--log-format", "json"}, true, `--log-level "loud"`},
		{"environment", []string{"MSIGUARD_LOG_FORMAT=json"}, []string{"demo", "--rate", "0"}, true, "--rate 0 is out of range"},
		{"flag wins over environment", []string{"MSIGUARD_LOG_FORMAT=json"}, []string{"demo", "--log-format", "text", "--rate", "0"}, false, "--rate 0 is out of range"},
		{"flag after the bad one", nil, []string{"run", "--grace", "soon", "--log-format", "json"}, false, `--grace "soon"`},
		{"text", nil, []string{"run", "--grace", "-1s"}, false, "--grace -1s: must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, time.Minute, tc.env, nil, tc.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\n%s", r.code, r.stderr)
			}
			out := strings.TrimSpace(r.stderr)
			if strings.Contains(out, "\n") {
				t.Fatalf("more than one line on standard error:\n%s", out)
			}
			if !tc.json {
				if !strings.HasPrefix(out, "msiguard: usage error: ") || !strings.Contains(out, tc.want) {
					t.Errorf("got %q, want one sentence containing %q", out, tc.want)
				}
				return
			}
			var rec struct {
				Level, Msg, Err string
				Exit            int `json:"exit_status"`
			}
			if err := json.Unmarshal([]byte(out), &rec); err != nil {
				t.Fatalf("not a JSON record (%v): %s", err, out)
			}
			if rec.Level != "ERROR" || rec.Msg != "msiguard "+tc.args[0]+" failed" || !strings.Contains(rec.Err, tc.want) || rec.Exit != 2 {
				t.Errorf("record %+v, want an ERROR of msiguard %s containing %q", rec, tc.args[0], tc.want)
			}
		})
	}
}
