package backtest

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/deadletter"
	"github.com/msiguard/msiguard/internal/settings"
	"github.com/msiguard/msiguard/window"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultBlockSize    = 4 << 20
	DefaultMaxLineBytes = 64 << 20
	// DefaultBatchRecords caps the topic records handed to one worker at a time.
	DefaultBatchRecords = 4096
)

// ErrConfig is wrapped by every error New returns for a bad Config.
var ErrConfig = errors.New("backtest: invalid config")

// Config configures an Engine. Every optional field's zero value selects the
// documented default.
type Config struct {
	// Detector evaluates the records. Required.
	Detector *detector.Detector

	// Window configures the grouping: each of the detector's rules gets a
	// window of this configuration with its own rule's identity, fields
	// and span (rules.Compiled.Window) and an even share of MemoryBudget.
	// Backtest is forced on. Grace, IdleTimeout and Retain must equal
	// those of the live `run` for a backtest to reproduce its alerts.
	Window window.Config

	// Alerts receives the alerts as JSON lines (window.Alert.AppendJSON).
	// Required. Writes are buffered; the buffer is flushed before Run
	// returns. When a run fails or is cancelled, the alerts found until
	// then are still written (the window flushed early), so that the caller
	// can keep them as a partial result (Summary.Status).
	Alerts io.Writer

	// OnAlert, when set, is called with every alert written to Alerts, in
	// the same order, with the alert and its JSON line (without '\n'), but
	// not for the partial result of a failed or cancelled run. Both are
	// valid only during the call. An error aborts the run. Default nil.
	OnAlert func(a *window.Alert, line []byte) error

	// DeadLetters receives one JSON line per dead letter (see DeadLetter).
	// Default nil: dead letters are only counted.
	DeadLetters io.Writer

	// DeadLetterBytes is how much of its record a dead letter's text keeps
	// (with the record's length and SHA-256). Default 64 KiB, as in
	// msiguard run.
	DeadLetterBytes int

	// EmitRevisions writes every revision of every alert in emission order
	// instead of each alert_id once, final, sorted by (_time, host).
	// Default false.
	EmitRevisions bool

	// Workers is the number of detection goroutines. Default
	// runtime.GOMAXPROCS(0).
	Workers int

	// BlockSize is the size of the blocks files are read in. Default 4 MiB.
	BlockSize int

	// MaxLineBytes is the longest line a file may hold; a longer one stops
	// the run with an error (it is not a JSON-lines or XML-lines file).
	// Default 64 MiB.
	MaxLineBytes int

	// BatchRecords caps the topic records per detection batch. Default 4096.
	BatchRecords int
}

// windows returns the configuration of each rule's window, in the
// detector's rule order.
func (c *Config) windows() []window.Config {
	rs := c.Detector.Rules()
	out := make([]window.Config, len(rs))
	for i, r := range rs {
		out[i] = r.Window(c.Window)
		out[i].MemoryBudget = c.Window.MemoryBudget / int64(len(rs))
	}
	return out
}

func (c Config) validate() error {
	if c.Detector == nil {
		return fmt.Errorf("%w: Detector is nil", ErrConfig)
	}
	if c.Alerts == nil {
		return fmt.Errorf("%w: Alerts is nil; pass a writer for the alert lines (io.Discard to drop them)", ErrConfig)
	}
	if name, v, neg := settings.Negative("Workers", c.Workers, "BlockSize", c.BlockSize, "MaxLineBytes", c.MaxLineBytes,
		"BatchRecords", c.BatchRecords, "DeadLetterBytes", c.DeadLetterBytes); neg {
		return fmt.Errorf("%w: %s is negative (%v); use 0 for the default", ErrConfig, name, v)
	}
	if c.BlockSize > 0 && c.MaxLineBytes > 0 && c.MaxLineBytes < c.BlockSize {
		return fmt.Errorf("%w: MaxLineBytes (%d) is below BlockSize (%d)", ErrConfig, c.MaxLineBytes, c.BlockSize)
	}
	return nil
}

func (c Config) withDefaults() Config {
	c.Workers = cmp.Or(c.Workers, runtime.GOMAXPROCS(0))
	c.BlockSize = cmp.Or(c.BlockSize, DefaultBlockSize)
	c.MaxLineBytes = cmp.Or(c.MaxLineBytes, max(DefaultMaxLineBytes, c.BlockSize))
	c.BatchRecords = cmp.Or(c.BatchRecords, DefaultBatchRecords)
	c.DeadLetterBytes = cmp.Or(c.DeadLetterBytes, deadletter.DefaultPrefixBytes)
	c.Window.Backtest = true
	return c
}
