package kafkaio

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// UnreachableError says that the brokers did not answer within a startup's
// patience. Last is the last attempt's error.
type UnreachableError struct {
	Brokers  []string
	Patience time.Duration
	Last     error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the brokers %v after %v: %v (a TLS listener answers nothing to plaintext)", e.Brokers, e.Patience, e.Last)
}

func (e *UnreachableError) Unwrap() error { return e.Last }

// Retry calls op until it succeeds, returns a fatal error (Classify), ctx
// is done, or patience has passed since the first attempt (then an
// *UnreachableError naming brokers). Between attempts it waits a jittered
// backoff from 200ms to 5s and logs a warning.
func Retry(ctx context.Context, patience time.Duration, brokers []string, log *slog.Logger, op func() error) error {
	deadline := time.Now().Add(patience)
	backoff := 200 * time.Millisecond
	for {
		err := op()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if c := Classify(err); IsFatal(c) {
			return c
		}
		if time.Now().After(deadline) {
			return &UnreachableError{Brokers: brokers, Patience: patience, Last: err}
		}
		log.Warn("brokers not reachable yet, retrying", "brokers", brokers, "err", err)
		t := time.NewTimer(backoff/2 + rand.N(backoff/2+1))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}
