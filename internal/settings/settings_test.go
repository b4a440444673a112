package settings

import (
	"testing"
	"time"
)

func TestNegative(t *testing.T) {
	for _, tc := range []struct {
		in   []any
		want string // "" for none
	}{
		{nil, ""},
		{[]any{"A", 0, "B", time.Duration(0), "C", int64(5)}, ""},
		{[]any{"A", 1, "B", -time.Nanosecond, "C", -1}, "B"},
		{[]any{"A", int8(-128)}, "A"},
		{[]any{"A", int64(-1) << 62}, "A"},
	} {
		name, v, ok := Negative(tc.in...)
		if ok != (tc.want != "") || name != tc.want {
			t.Errorf("Negative(%v) = %q, %v, %v; want %q", tc.in, name, v, ok, tc.want)
		}
	}
	if _, v, _ := Negative("D", -2*time.Second); v != -2*time.Second {
		t.Errorf("the value returned is %v (%T), not the one given", v, v)
	}
}

func TestNegativePanics(t *testing.T) {
	for _, in := range [][]any{{"U", uint(1)}, {"A"}, {1, 2}, {"F", 1.5}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Negative(%v) did not panic", in)
				}
			}()
			Negative(in...)
		}()
	}
}
