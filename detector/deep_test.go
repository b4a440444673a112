package detector

import (
	"errors"
	"strings"
	"testing"
)

// TestTooDeep: a record nested deeper than maxDepth (1000) levels is
// dead-lettered as too_deep, however deep, without exhausting the stack;
// 1000 levels are read normally. Issue 14 item 7 asks for depth 100,000.
func TestTooDeep(t *testing.T) {
	flat := func(nest string) string {
		return `{"EventID":1,"Computer":"WS01","UtcTime":"2025-01-02 03:04:05.678","CommandLine":"msiexec /q /i x.msi","ParentImage":"C:\\Windows\\System32\\cmd.exe","x":` + nest + `}`
	}
	arrays := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	objects := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	tests := []struct {
		name   string
		raw    string
		reason Reason // "" = a match
	}{
		// The record's object is level 1, so x may nest 999 more.
		{"json arrays at the limit", flat(arrays(maxDepth - 1)), ""},
		{"json arrays one past the limit", flat(arrays(maxDepth)), ReasonTooDeep},
		{"json objects at the limit", flat(objects(maxDepth - 1)), ""},
		{"json objects one past the limit", flat(objects(maxDepth)), ReasonTooDeep},
		{"json arrays 100k deep", flat(arrays(100_000)), ReasonTooDeep},
		{"json objects 100k deep", flat(objects(100_000)), ReasonTooDeep},
		{"json arrays 1M deep", flat(arrays(1_000_000)), ReasonTooDeep},
		// Reading stops at the first problem: past the limit before any
		// syntax error is too deep, a syntax error first is malformed.
		{"json unterminated 100k deep", `{"CommandLine":"msiexec","x":` + strings.Repeat("[", 100_000), ReasonTooDeep},
		{"json syntax error before 100k deep", `{"CommandLine":"msiexec",x:` + strings.Repeat("[", 100_000), ReasonMalformed},
		// Brackets inside strings do not nest: many of them take the
		// iterative check, which must still accept the record.
		{"json 20k brackets in a string", flat(`"` + strings.Repeat("[{", 10_000) + `"`), ""},
		{"json 20k shallow arrays", flat("[" + strings.Repeat("[],", 20_000) + "[]]"), ""},
		{"json 20k brackets, invalid at the end", flat("[" + strings.Repeat("[],", 20_000) + "[]"), ReasonMalformed},
	}
	d := mustSeed(t)
	for _, tt := range tests {
		_, ok, err := d.Evaluate([]byte(tt.raw))
		var de *Error
		switch {
		case tt.reason == "" && (!ok || err != nil):
			t.Errorf("%s: Evaluate = %v, %v; want a match", tt.name, ok, err)
		case tt.reason != "" && (!errors.As(err, &de) || de.Reason != tt.reason):
			t.Errorf("%s: Evaluate = %v, %v; want %s", tt.name, ok, err, tt.reason)
		}
	}
}
