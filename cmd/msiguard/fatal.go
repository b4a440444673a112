package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
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

// reportUsage ends a command whose flags failed to parse or validate, so
// that no logger exists yet. When the command line or the environment asked
// for --log-format json (as far as they were read: a --log-format after the
// bad flag is not), err becomes one ERROR record on w, as reportFatal
// writes it; otherwise it is returned for main to print as a sentence. A
// nil err or flag.ErrHelp is returned as it is.
func reportUsage(w io.Writer, fs *flag.FlagSet, h *cmdHelp, lookupEnv func(string) (string, bool), err error) error {
	if err == nil || errors.Is(err, flag.ErrHelp) || !jsonLogsRequested(fs, h, lookupEnv) {
		return err
	}
	log, lerr := newLogger(w, "error", "json")
	if lerr != nil {
		return err
	}
	return reportFatal(log, "json", "msiguard "+h.name+" failed", err)
}

// jsonLogsRequested reports whether fs's --log-format, as parsed so far or
// else from its environment variable, is json.
func jsonLogsRequested(fs *flag.FlagSet, h *cmdHelp, lookupEnv func(string) (string, bool)) bool {
	fl := fs.Lookup("log-format")
	if fl == nil {
		return false
	}
	set := false
	fs.Visit(func(v *flag.Flag) { set = set || v == fl })
	if set {
		return strings.EqualFold(fl.Value.String(), "json")
	}
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	v, ok := lookupEnv(h.envVar(fl.Name))
	return ok && strings.EqualFold(strings.TrimSpace(v), "json")
}
