package main

// Helpers for tests that drive the built binary, as an operator would: exit
// status, standard output and standard error.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var cli struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if cli.dir != "" {
		os.RemoveAll(cli.dir)
	}
	os.Exit(code)
}

// cliBinary returns the path of msiguard built once for this test process.
func cliBinary(t *testing.T) string {
	t.Helper()
	cli.once.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			cli.err = err
			return
		}
		if cli.dir, err = os.MkdirTemp("", "msiguard-cli-"); err != nil {
			cli.err = err
			return
		}
		cli.bin = filepath.Join(cli.dir, "msiguard")
		if out, err := exec.Command(goBin, "build", "-o", cli.bin, ".").CombinedOutput(); err != nil {
			cli.err = errors.New(string(out))
		}
	})
	if cli.err != nil {
		t.Fatalf("building msiguard: %v", cli.err)
	}
	return cli.bin
}

// cliResult is what one run of the binary did.
type cliResult struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

// runCLI runs the binary with args and the environment env (added to a
// clean one: no MSIGUARD_ variable from the test's own environment),
// standard input stdin, and a deadline of timeout.
func runCLI(t *testing.T, timeout time.Duration, env []string, stdin []byte, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, cliBinary(t), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MSIGUARD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	began := time.Now()
	err := cmd.Run()
	r := cliResult{stdout: out.String(), stderr: errb.String(), took: time.Since(began)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("msiguard %q did not end within %v\nstderr:\n%s", args, timeout, r.stderr)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("msiguard %q: %v", args, err)
	}
	return r
}
