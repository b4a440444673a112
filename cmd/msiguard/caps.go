package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/deadletter"
	"github.com/msiguard/msiguard/window"
)

// capFlags are the bounds on what attacker-written input can make msiguard
// hold or write, the same in run, backtest and demo (README, "Bounds").
type capFlags struct {
	maxValues                                                                 int
	maxAlertBytes, maxValueBytes, maxHostBytes, deadLetterBytes, windowMemory byteSize
}

// capNames are the capFlags, for positiveFlags.
var capNames = []string{"max-values", "max-alert-bytes", "max-value-bytes", "max-host-bytes", "dead-letter-bytes", "window-memory"}

func (c *capFlags) register(fs *flag.FlagSet) {
	c.maxAlertBytes = window.DefaultMaxAlertBytes
	c.maxValueBytes = detector.DefaultMaxValueBytes
	c.maxHostBytes = detector.DefaultMaxHostBytes
	c.deadLetterBytes = deadletter.DefaultPrefixBytes
	c.windowMemory = window.DefaultMemoryBudget
	fs.IntVar(&c.maxValues, "max-values", window.DefaultMaxValues, "keep at most this many distinct values per field in an alert; the rest are counted in values_omitted")
	fs.Var(&c.maxAlertBytes, "max-alert-bytes", "an alert's JSON fits in this many bytes (values beyond are counted in values_omitted); must fit the alerts topic's max.message.bytes with the record's key and headers")
	fs.Var(&c.maxValueBytes, "max-value-bytes", "cut a field value longer than this to a prefix plus its length and SHA-256")
	fs.Var(&c.maxHostBytes, "max-host-bytes", "cut a host name longer than this the same way")
	fs.Var(&c.deadLetterBytes, "dead-letter-bytes", "a dead letter keeps this much of its original record, with the record's length and SHA-256 (less if the dead-letter topic needs)")
	fs.Var(&c.windowMemory, "window-memory", "estimated memory each window may hold (one per matches partition in run); beyond it the oldest revisable alerts are forgotten first")
}

// positive checks the caps after parsing: each positive, none below its
// minimum.
func (c *capFlags) positive(fs *flag.FlagSet) error {
	if err := positiveFlags(fs, capNames...); err != nil {
		return err
	}
	return c.check()
}

// limits returns the detector's limits.
func (c *capFlags) limits() detector.Limits {
	return detector.Limits{MaxValueBytes: int(c.maxValueBytes), MaxHostBytes: int(c.maxHostBytes)}
}

// check reports a cap below its minimum as a usage error.
func (c *capFlags) check() error {
	if err := c.limits().Validate(); err != nil {
		return fmt.Errorf("%w: --max-value-bytes or --max-host-bytes: %w", errUsage, err)
	}
	if c.maxAlertBytes < window.MinMaxAlertBytes {
		return fmt.Errorf("%w: --max-alert-bytes %d: must be at least %d", errUsage, c.maxAlertBytes, window.MinMaxAlertBytes)
	}
	return nil
}

// byteSize is a flag of bytes: a number with an optional KiB, MiB or GiB
// suffix ("64KiB", "512MiB", "1000000").
type byteSize int64

func (b *byteSize) String() string {
	n := int64(*b)
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

func (b *byteSize) Set(s string) error {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if t, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = t, u.size
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n > (1<<62)/mult {
		return fmt.Errorf("not a size: use a number of bytes, optionally with KiB, MiB or GiB")
	}
	*b = byteSize(n * mult)
	return nil
}

// Get returns the size as an int64 (for positiveFlags).
func (b *byteSize) Get() any { return int64(*b) }
