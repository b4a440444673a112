package main

import (
	"errors"
	"log/slog"
	"strings"
)

// loggedError is an error a command has already reported as a log record
// (an ERROR record in --log-format json, for a log collector): main exits
// with its status without printing it again as plain text.
type loggedError struct{ err error }

func (e *loggedError) Error() string { return e.err.Error() }
func (e *loggedError) Unwrap() error { return e.err }

// exitStatus is the status main exits with for err: 0, 2 for usage
// errors, 1 for the rest.
func exitStatus(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	return 1
}

// reportFatal ends a command that logs in format: in json, err becomes one
// ERROR record (msg, the error, its exit status, and attrs) and is returned
// as a loggedError, so that nothing but JSON reaches standard error; in
// text it is returned as it is, for main to print as one sentence. A nil
// err is returned as nil.
func reportFatal(log *slog.Logger, format, msg string, err error, attrs ...any) error {
	if err == nil || !strings.EqualFold(format, "json") {
		return err
	}
	log.Error(msg, append([]any{"err", operatorMessage(err), "exit_status", exitStatus(err)}, attrs...)...)
	return &loggedError{err}
}
