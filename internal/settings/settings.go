// Package settings checks the numeric settings of a configuration struct:
// the "is negative" test every package's Validate makes of its durations,
// sizes and counts, with the name of the first that fails.
//
// It imports only the standard library, so that every package, the pure
// window and detector included, may use it.
package settings

import (
	"fmt"
	"reflect"
)

// Negative takes name, value pairs, as log/slog takes attributes: each
// name a string, each value a time.Duration or any signed integer type.
// It returns the first pair whose value is below zero, and whether there
// is one. It panics on pairs that are not so: a programming error.
func Negative(pairs ...any) (name string, value any, ok bool) {
	if len(pairs)%2 != 0 {
		panic(fmt.Sprintf("settings: %d arguments, not name, value pairs", len(pairs)))
	}
	for i := 0; i < len(pairs); i += 2 {
		name, isName := pairs[i].(string)
		v := reflect.ValueOf(pairs[i+1])
		if !isName || !v.CanInt() {
			panic(fmt.Sprintf("settings: pair %d (%v, %T) is not a name and a signed integer or duration", i/2, pairs[i], pairs[i+1]))
		}
		if v.Int() < 0 {
			return name, pairs[i+1], true
		}
	}
	return "", nil, false
}
