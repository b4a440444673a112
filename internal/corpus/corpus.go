// Package corpus holds the inputs several packages' tests share: reading a
// corpus file of one record per line, listing the golden cases of
// detector/testdata/golden, the hostile records built to make the
// prefilter and the readers work hard, and the plain token test those
// inputs are checked against.
//
// It imports only the standard library, so the detector's and the rules'
// in-package tests may use it.
package corpus

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"
)

// Lines returns the lines of the file at path, each a copy, without their
// newline; lines up to 16 MiB are read. It fails t if the file cannot be read.
func Lines(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// Record is a named test input.
type Record struct{ Name, Raw string }

// Hostile returns records of about n bytes each built to make the
// prefilter work hard (issue 14 item 6): the token back to back, in
// either case, within longer words, behind percent escapes, and dense or
// absent anchors.
func Hostile(n int) []Record {
	return []Record{
		{"msiexec-spaced", Fill("msiexec ", n)},
		{"msiexecmsiexec", Fill("msiexec", n)},
		{"MSIEXECMSIEXEC", Fill("MSIEXEC", n)},
		{"xXxX", Fill("xX", n)},
		{"xxxx", Fill("x", n)},
		{"xmsiexec", Fill("xmsiexec ", n)},
		{"pct41msiexec", Fill("%41msiexec", n)},
		{"no-anchor", Fill("a", n)},
	}
}

// Fill returns unit repeated to exactly n bytes (the last copy cut short).
func Fill(unit string, n int) string {
	return strings.Repeat(unit, n/len(unit)+1)[:n]
}
