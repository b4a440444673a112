package backtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/window"
)

// result is what one backtest run wrote.
type result struct {
	out, dlq []byte
	sum      Summary
}

func (r result) alerts(t *testing.T) []*window.Alert {
	t.Helper()
	var as []*window.Alert
	for _, line := range splitLines(r.out) {
		a := new(window.Alert)
		if err := a.UnmarshalJSON(line); err != nil {
			t.Fatalf("alert line %q: %v", line, err)
		}
		as = append(as, a)
	}
	return as
}

func (r result) deadLetters(t *testing.T) []DeadLetter {
	t.Helper()
	var ds []DeadLetter
	for _, line := range splitLines(r.dlq) {
		var d DeadLetter
		if err := json.Unmarshal(line, &d); err != nil {
			t.Fatalf("dead letter %q: %v", line, err)
		}
		ds = append(ds, d)
	}
	return ds
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	return out
}

// runFiles runs a backtest of inputs (name, content) with cfg; Detector
// defaults to the seed rule's.
func runFiles(t testing.TB, cfg Config, inputs ...[2]string) result {
	t.Helper()
	var out, dlq bytes.Buffer
	cfg.Alerts, cfg.DeadLetters = &out, &dlq
	if cfg.Detector == nil {
		cfg.Detector = detector.Seed()
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ins []Input
	for _, in := range inputs {
		ins = append(ins, Input{Name: in[0], R: bytes.NewReader([]byte(in[1])), Size: int64(len(in[1]))})
	}
	sum, err := e.RunFiles(context.Background(), ins)
	if err != nil {
		t.Fatal(err)
	}
	return result{out: out.Bytes(), dlq: dlq.Bytes(), sum: sum}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
