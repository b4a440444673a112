package kafkatest

import (
	"log/slog"
	"os"
	"strings"
	"testing"
)

// Logger returns a logger that writes through t.Log, at Warn level, or at
// Debug level when MSIGUARD_TEST_LOG is set: the pipeline's logs then show
// up with the test that produced them, and only when it fails or runs -v.
func Logger(t testing.TB) *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("MSIGUARD_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
