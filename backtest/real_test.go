package backtest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/ruletest"
	"github.com/msiguard/msiguard/rules"
	"github.com/msiguard/msiguard/window"
)

// realDatasets are the line-oriented recordings of shared/datasets/real
// (the others are archives): Sigma's EVTX-to-JSON regression events and an
// OTRF flat recording, gzip-compressed as published.
var realDatasets = []string{"sigma_regression_data_events.jsonl", "otrf_sd2_WORKSTATION6_sysmon_LSASSMemoryDump-RDPTaskManager.jsonl.gz"}

// TestRealRecordings replays the published recordings as they are (the
// gzip one through the engine's decompressor) with the seed rule and with
// the `exe` variant (which gives them many matches), and checks the alerts
// and dead letters against a batch computation: the detector applied to
// each line on its own, matches grouped per (host, second).
func TestRealRecordings(t *testing.T) {
	dir := realDatasetDir(t)
	for _, name := range realDatasets {
		raw := readFile(t, filepath.Join(dir, name))
		plain := raw
		if filepath.Ext(name) == ".gz" {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if plain, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		for _, term := range []string{"msiexec", "exe"} {
			t.Run(name+"/"+term, func(t *testing.T) {
				d, err := detector.New([]*rules.Compiled{ruletest.Term(t, term)}, detector.Options{})
				if err != nil {
					t.Fatal(err)
				}
				want, wantDL, lines := batchAnswer(t, d, plain)
				cfg := Config{Detector: d, BlockSize: 64 << 10, Window: window.Config{Retain: 1 << 62, RetainBuckets: 1 << 20}}
				r := runFiles(t, cfg, [2]string{name, string(raw)})
				diffExpected(t, mergeAlerts(r.alerts(t)), want)
				if len(r.alerts(t)) != len(want) {
					t.Errorf("%d alerts, want one per (host, second): %d", len(r.alerts(t)), len(want))
				}
				checkSorted(t, r.alerts(t))
				if got := len(r.deadLetters(t)); got != wantDL || r.sum.Records != lines {
					t.Errorf("%d dead letters (want %d), %d records (want %d)", got, wantDL, r.sum.Records, lines)
				}
				t.Logf("%d records, %d matches, %d alerts, %d dead letters", lines, r.sum.Matches, len(want), wantDL)
			})
		}
	}
}

// envRequireShared, when set (.ci/run sets it), turns a missing
// shared/datasets/real into a failure instead of a skip.
const envRequireShared = "MSIGUARD_REQUIRE_SHARED"

// realDatasetDir returns shared/datasets/real, laid beside the repository.
// When it or one of realDatasets is missing the test is skipped, saying
// which path it looked for, or fails if MSIGUARD_REQUIRE_SHARED is set.
func realDatasetDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "datasets", "real")
	for _, name := range append([]string{""}, realDatasets...) {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			abs, _ := filepath.Abs(p)
			msg := fmt.Sprintf("%s is missing (shared/ is laid beside the repository): %v", abs, err)
			if os.Getenv(envRequireShared) != "" {
				t.Fatalf("%s; %s is set, so this is a failure, not a skip", msg, envRequireShared)
			}
			t.Skip(msg)
		}
	}
	return dir
}

// TestCIChecksRealDatasets: .ci/run checks, before the tests, that every
// recording TestRealRecordings opens is there, so CI fails with a clear
// message instead of skipping. Its list must follow realDatasets.
func TestCIChecksRealDatasets(t *testing.T) {
	ci := string(readFile(t, filepath.Join("..", ".ci", "run")))
	for _, name := range realDatasets {
		if !strings.Contains(ci, "datasets/real/"+name) {
			t.Errorf(".ci/run does not check shared/datasets/real/%s, which TestRealRecordings opens", name)
		}
	}
	if !strings.Contains(ci, envRequireShared+"=1") {
		t.Errorf(".ci/run does not set %s=1", envRequireShared)
	}
}

// batchAnswer evaluates each line alone and groups the matches.
func batchAnswer(t *testing.T, d *detector.Detector, data []byte) (map[key]*expectedAlert, int, int64) {
	t.Helper()
	var want []wantLine
	dead := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<26)
	n := int64(0)
	for sc.Scan() {
		n++
		m, ok, err := d.Evaluate(bytes.TrimSuffix(sc.Bytes(), []byte("\r")))
		var de *detector.Error
		switch {
		case errors.As(err, &de):
			dead++
		case ok:
			f := map[string]string{}
			for i, name := range d.Rules()[0].Program.Outputs() {
				f[name] = m.Values[i]
			}
			want = append(want, wantLine{Line: n, Result: "match", Host: m.Host, Time: time.Unix(0, m.Time).UTC().Format(time.RFC3339Nano), Fields: f})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return groupOracle(t, want), dead, n
}
