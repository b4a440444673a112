package detector

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Defaults of Limits.
const (
	// DefaultMaxValueBytes holds any Windows command line of ASCII text
	// (at most 32,767 characters) whole; 15 values of it and a host still
	// fit a 1 MiB Kafka record.
	DefaultMaxValueBytes = 32 << 10
	// DefaultMaxHostBytes is above the longest DNS name (253 bytes).
	DefaultMaxHostBytes = 255
	// MinLimit is the least value of either limit: room for the marker
	// CapValue appends and some of the value.
	MinLimit = 128
)

// Limits bound what a Match carries, so that an attacker who writes command
// lines, paths or host names cannot make a match, and the alert built from
// it, grow without bound. A value (or host) longer than its limit is cut by
// CapValue. The zero value selects the defaults.
type Limits struct {
	// MaxValueBytes bounds each output value. Default DefaultMaxValueBytes.
	MaxValueBytes int
	// MaxHostBytes bounds the host. Default DefaultMaxHostBytes.
	MaxHostBytes int
}

// Validate reports a limit below MinLimit (zero selects the default).
func (l Limits) Validate() error {
	for _, v := range []struct {
		name string
		n    int
	}{{"MaxValueBytes", l.MaxValueBytes}, {"MaxHostBytes", l.MaxHostBytes}} {
		if v.n != 0 && v.n < MinLimit {
			return fmt.Errorf("%s %d is below %d", v.name, v.n, MinLimit)
		}
	}
	return nil
}

// WithDefaults returns l with each zero limit set to its default.
func (l Limits) WithDefaults() Limits {
	l.MaxValueBytes = cmp.Or(l.MaxValueBytes, DefaultMaxValueBytes)
	l.MaxHostBytes = cmp.Or(l.MaxHostBytes, DefaultMaxHostBytes)
	return l
}

// CapValue returns v unchanged when it has at most max bytes. Otherwise it
// returns a prefix of v, cut at a UTF-8 character boundary, followed by
// "…[truncated from N bytes, sha256:H]" where N is len(v) and H the first
// 16 bytes of v's SHA-256 in hex, all within max bytes: values that differ
// stay different, the same value is always cut the same way, and the full
// value can be matched against the record it came from. max must be at
// least MinLimit.
func CapValue(v string, max int) (string, bool) {
	if len(v) <= max {
		return v, false
	}
	sum := sha256.Sum256([]byte(v))
	marker := "…[truncated from " + strconv.Itoa(len(v)) + " bytes, sha256:" + hex.EncodeToString(sum[:16]) + "]"
	n := max - len(marker)
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return v[:n] + marker, true
}

// capMatch applies l (with defaults) to m's host and values, and returns how
// many it cut.
func capMatch(m *Match, l Limits) int {
	cut := 0
	var ok bool
	if m.Host, ok = CapValue(m.Host, l.MaxHostBytes); ok {
		cut++
	}
	for i, v := range m.Values {
		if m.Values[i], ok = CapValue(v, l.MaxValueBytes); ok {
			cut++
		}
	}
	return cut
}
