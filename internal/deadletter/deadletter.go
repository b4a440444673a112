// Package deadletter bounds what a dead letter keeps of the record it
// stands for, the same way for the dead-letter topic of `msiguard run` and
// the --dlq file of `msiguard backtest`: a prefix of the original, its full
// length and its SHA-256, so that a dead letter always fits in a record and
// still identifies its original. It imports nothing of msiguard's.
package deadletter

import (
	"crypto/sha256"
	"encoding/hex"
)

// DefaultPrefixBytes is how much of the original a dead letter keeps by
// default: 64 KiB, within Kafka's default max.message.bytes with room for
// the headers.
const DefaultPrefixBytes = 64 << 10

// Original describes the record a dead letter stands for.
type Original struct {
	// Prefix is the first bytes of the original, all of it when it fits.
	// It aliases the original.
	Prefix []byte
	// Bytes is the original's length.
	Bytes int
	// SHA256 is the original's SHA-256 in lowercase hex.
	SHA256 string
	// Truncated reports whether Prefix is shorter than the original.
	Truncated bool
}

// Bound returns what a dead letter keeps of orig: its first max bytes (all
// of it when shorter), its length and its SHA-256. max must be positive.
func Bound(orig []byte, max int) Original {
	sum := sha256.Sum256(orig)
	o := Original{Prefix: orig, Bytes: len(orig), SHA256: hex.EncodeToString(sum[:])}
	if len(orig) > max {
		o.Prefix, o.Truncated = orig[:max], true
	}
	return o
}
