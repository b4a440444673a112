package main

import (
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMaxSources: --max-sources caps the sources of every alert, in
// backtest and in the live pipeline (demo runs run's stream.Config), with
// sources_omitted counting the rest; run takes the flag into its config.
func TestMaxSources(t *testing.T) {
	check := func(name, out string, limit int) {
		t.Helper()
		capped := 0
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var a struct {
				EventCount int               `json:"event_count"`
				Sources    []json.RawMessage `json:"sources"`
				Omitted    int               `json:"sources_omitted"`
			}
			if err := json.Unmarshal([]byte(l), &a); err != nil {
				t.Fatalf("%s: not an alert: %.100s", name, l)
			}
			if len(a.Sources) > limit || a.Omitted != a.EventCount-len(a.Sources) {
				t.Errorf("%s: %d events, %d sources, %d omitted with --max-sources %d", name, a.EventCount, len(a.Sources), a.Omitted, limit)
			}
			if a.EventCount > limit {
				capped++
			}
		}
		if capped == 0 {
			t.Errorf("%s: no alert had more events than --max-sources %d: the test shows nothing", name, limit)
		}
	}
	in := filepath.Join(t.TempDir(), "in.jsonl")
	if r := runCLI(t, time.Minute, nil, nil, "gen", "--out", in, "--count", "20000", "--attack-rate", "0.02", "--quiet"); r.code != 0 {
		t.Fatalf("gen: exit %d\n%s", r.code, r.stderr)
	}
	r := runCLI(t, time.Minute, nil, nil, "backtest", "--input", in, "--max-sources", "1", "--quiet")
	if r.code != 0 {
		t.Fatalf("backtest: exit %d\n%s", r.code, r.stderr)
	}
	check("backtest", r.stdout, 1)

	r = runCLI(t, time.Minute, nil, nil, "demo", "--duration", "4s", "--json", "--max-sources", "1", "--attack-rate", "0.02", "--metrics-addr", "")
	if r.code != 0 {
		t.Fatalf("demo: exit %d\n%s", r.code, r.stderr)
	}
	check("demo", r.stdout, 1)

	f, err := parseRunFlags([]string{"--brokers", "k:9092", "--topic", "t", "--max-sources", "7"}, envLookup(nil), nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := f.config(nil); err != nil || cfg.MaxSources != 7 {
		t.Errorf("run --max-sources 7: config MaxSources %d, %v", cfg.MaxSources, err)
	}
}
