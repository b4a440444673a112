package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/msiguard/msiguard/backtest"
)

// goldenInput is a corpus of msiexec launches in several shapes, with
// dead letters (see detector/testdata/golden/synthetic-positives).
const goldenInput = "../../detector/testdata/golden/synthetic-positives/input.jsonl"

// TestBacktestCommandFiles runs the command over a file and the same file
// gzipped on standard input: exit status nil, identical alert bytes both
// times, a summary file that adds up.
func TestBacktestCommandFiles(t *testing.T) {
	data, err := os.ReadFile(goldenInput)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out1, dlq1, sum1 := filepath.Join(dir, "a1.jsonl"), filepath.Join(dir, "d1.jsonl"), filepath.Join(dir, "s1.json")
	var stdout, stderr bytes.Buffer
	err = runBacktest(context.Background(), []string{"--input", goldenInput, "--out", out1, "--dlq", dlq1, "--summary-json", sum1},
		strings.NewReader(""), &stdout, &stderr)
	if err != nil {
		t.Fatalf("backtest: %v\n%s", err, stderr.String())
	}
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), "prefilter hits") {
		t.Errorf("stdout %q, stderr %q: want the alerts in --out and a summary on stderr", stdout.String(), stderr.String())
	}
	var sum backtest.Summary
	if err := json.Unmarshal(mustRead(t, sum1), &sum); err != nil {
		t.Fatal(err)
	}
	alerts := mustRead(t, out1)
	if n := int64(bytes.Count(alerts, []byte("\n"))); sum.Alerts == 0 || n != sum.Alerts || sum.Records != 33 || sum.Matches != 33 {
		t.Errorf("summary %+v, %d alert lines", sum, n)
	}

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	stdout.Reset()
	stderr.Reset()
	err = runBacktest(context.Background(), []string{"--input", "-", "--quiet"}, &gz, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if stderr.Len() != 0 {
		t.Errorf("--quiet wrote %q", stderr.String())
	}
	// The same records as plain text on stdin give the same bytes (late
	// alerts' ids name the file, so both runs read "-").
	var plain bytes.Buffer
	if err := runBacktest(context.Background(), []string{"--input", "-", "--quiet"}, bytes.NewReader(data), &plain, &stderr); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stdout.Bytes(), plain.Bytes()) || plain.Len() == 0 {
		t.Errorf("gzip on stdin gives other alerts than plain text (%d vs %d bytes)", stdout.Len(), plain.Len())
	}
	if n := int64(bytes.Count(plain.Bytes(), []byte("\n"))); n != sum.Alerts {
		t.Errorf("%d alerts from stdin, %d from the file", n, sum.Alerts)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBacktestCommandUsage: command-line mistakes are usage errors (exit
// 2) that name the flag; a missing file is an ordinary error.
func TestBacktestCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "either --input"},
		{[]string{"--input", "x", "--topic", "t"}, "either --input"},
		{[]string{"--input", "x", "--from", "2025-03-06T10:00:00Z"}, "need --topic"},
		{[]string{"--topic", "t", "--brokers", "localhost:9092", "--from", "yesterday"}, "--from"},
		{[]string{"--topic", "t"}, "brokers"},
		{[]string{"--input", "x", "--shape", "yaml"}, "--shape"},
		{[]string{"--input", "x", "--grace", "-1s"}, "--grace"},
		{[]string{"--input", "x", "--retain", "0s"}, "--retain"},
		{[]string{"--input", "x", "--retain-buckets", "0"}, "--retain-buckets"},
		{[]string{"--input", "x", "extra"}, "unexpected argument"},
	} {
		err := runBacktest(context.Background(), tc.args, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
		if !errors.Is(err, errUsage) || !strings.Contains(operatorMessage(err), tc.want) {
			t.Errorf("%q: err %v, want a usage error mentioning %q", tc.args, err, tc.want)
		}
	}
	err := runBacktest(context.Background(), []string{"--input", filepath.Join(t.TempDir(), "missing"), "--quiet"}, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || errors.Is(err, errUsage) {
		t.Errorf("missing file: err %v", err)
	}
}

// TestFormatProgress: at 160 columns the whole line, at 80 and less what
// fits in one column less, the percent and the ETA always, the least
// useful counts left out first.
func TestFormatProgress(t *testing.T) {
	p := backtest.Progress{Records: 2_000_000, Bytes: 2e9, Matches: 5, Alerts: 3, DeadLetters: 1, Done: 0.25}
	for _, tc := range []struct {
		width int
		want  string
	}{
		{160, "backtest:  25.0%, ETA 6s, 2000000 records, 1000000 records/s, 1000 MB/s, 5 matches, 3 alerts, 1 dead letters"},
		{80, "backtest:  25.0%, ETA 6s, 2000000 records, 1000 MB/s, 5 matches, 3 alerts"},
		{44, "backtest:  25.0%, ETA 6s, 2000000 records"},
		{40, "backtest:  25.0%, ETA 6s"},
		{20, "backtest:  25.0%, E"},
	} {
		got := formatProgress(p, 2*time.Second, tc.width)
		if got != tc.want || len(got) >= tc.width {
			t.Errorf("width %d:\ngot  %q\nwant %q", tc.width, got, tc.want)
		}
	}
}
