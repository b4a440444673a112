package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFlagGrammar drives the binary: one grammar for flags and variables
// across commands.
func TestFlagGrammar(t *testing.T) {
	// 0 is refused alike for the window's flags in run, backtest and
	// demo, naming the flag, the value and the default.
	for _, args := range [][]string{
		{"run", "--brokers", "k:9092", "--topic", "t", "--grace", "0"},
		{"backtest", "--input", goldenInput, "--grace", "0"},
		{"demo", "--grace", "0"},
	} {
		r := runCLI(t, time.Minute, nil, nil, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "--grace 0s: must be positive (default ") {
			t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	for _, args := range [][]string{
		{"run", "--brokers", "k:9092", "--topic", "t", "--retain", "0s"},
		{"backtest", "--input", goldenInput, "--retain", "0s"},
	} {
		if r := runCLI(t, time.Minute, nil, nil, args...); r.code != 2 || !strings.Contains(r.stderr, "--retain 0s: must be positive (default 10m0s)") {
			t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	// The same defaults, printed the same way, in every help.
	grace := regexp.MustCompile(`--grace  \[MSIGUARD_GRACE\]\n.*\(default ([^)]*)\)`)
	for _, cmd := range []string{"run", "backtest"} {
		r := runCLI(t, time.Minute, nil, nil, cmd, "--help")
		if m := grace.FindStringSubmatch(r.stdout); m == nil || m[1] != "2s" {
			t.Errorf("%s --help: --grace default %v, want 2s", cmd, m)
		}
		if strings.Contains(r.stdout, `(default "`) {
			t.Errorf("%s --help quotes a default:\n%s", cmd, r.stdout)
		}
	}
	// Errors name the flag with two dashes and the bad value.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"backtest", "--input", "x", "--grace", "soon"}, `--grace "soon": want a duration`},
		{[]string{"gen", "--out", "-", "--count", "many"}, `--count "many": want a whole number`},
		{[]string{"run", "--bogus"}, "unknown flag --bogus"},
		{[]string{"gen", "--out"}, "--out needs a value"},
		{[]string{"demo", "--json=maybe"}, `--json "maybe": want true or false`},
	} {
		r := runCLI(t, time.Minute, nil, nil, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || regexp.MustCompile(`(^|\s)-[a-z]`).MatchString(r.stderr) {
			t.Errorf("%q: exit %d, stderr %q, want %q and no single-dash flag", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if r := runCLI(t, time.Minute, []string{"MSIGUARD_GRACE=soon"}, nil, "backtest", "--input", "x"); r.code != 2 ||
		!strings.Contains(r.stderr, "MSIGUARD_GRACE=soon is not a valid value for --grace: want a duration") {
		t.Errorf("MSIGUARD_GRACE=soon: exit %d, stderr %q", r.code, r.stderr)
	}

	// msiguard help run is msiguard run --help; --version is version.
	help, want := runCLI(t, time.Minute, nil, nil, "help", "run"), runCLI(t, time.Minute, nil, nil, "run", "--help")
	if help.code != 0 || help.stdout != want.stdout || !strings.Contains(help.stdout, "Usage: msiguard run") {
		t.Errorf("help run: exit %d, %d bytes, want run --help's %d", help.code, len(help.stdout), len(want.stdout))
	}
	v, want := runCLI(t, time.Minute, nil, nil, "--version"), runCLI(t, time.Minute, nil, nil, "version")
	if v.code != 0 || v.stdout != want.stdout || !strings.HasPrefix(v.stdout, "msiguard ") {
		t.Errorf("--version: exit %d, %q, want %q", v.code, v.stdout, want.stdout)
	}
}

// TestScopedEnv: MSIGUARD_OUT and MSIGUARD_PARTITIONS, which meant
// different things to different commands, are refused with the new name;
// a variable scoped to backtest does not redirect gen, and gen's own does.
func TestScopedEnv(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		env  string
		args []string
		want string
	}{
		{"MSIGUARD_OUT=" + filepath.Join(dir, "x"), []string{"gen", "--count", "3"}, "set MSIGUARD_GEN_OUT instead"},
		{"MSIGUARD_OUT=" + filepath.Join(dir, "x"), []string{"backtest", "--input", goldenInput}, "set MSIGUARD_BACKTEST_OUT instead"},
		{"MSIGUARD_PARTITIONS=3", []string{"gen", "--out", "-", "--count", "3"}, "set MSIGUARD_GEN_PARTITIONS instead"},
		{"MSIGUARD_PARTITIONS=3", []string{"dev-broker"}, "set MSIGUARD_DEV_BROKER_PARTITIONS instead"},
		{"MSIGUARD_BACKTEST_OUT=" + filepath.Join(dir, "x"), []string{"gen", "--count", "3"}, "say where to write"},
	} {
		r := runCLI(t, time.Minute, []string{tc.env}, nil, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s msiguard %q: exit %d, stderr %q, want %q", tc.env, tc.args, r.code, r.stderr, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Error("a refused variable still wrote its file")
	}
	out := filepath.Join(dir, "gen.jsonl")
	if r := runCLI(t, time.Minute, []string{"MSIGUARD_GEN_OUT=" + out}, nil, "gen", "--count", "3", "--quiet"); r.code != 0 || strings.Count(string(mustRead(t, out)), "\n") != 3 {
		t.Errorf("MSIGUARD_GEN_OUT: exit %d, stderr %q", r.code, r.stderr)
	}
	// The old name given with the flag on the command line is not read,
	// hence not refused.
	if r := runCLI(t, time.Minute, []string{"MSIGUARD_OUT=x"}, nil, "gen", "--out", "-", "--count", "1", "--quiet"); r.code != 0 {
		t.Errorf("MSIGUARD_OUT with --out on the command line: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestDevBrokerRequestLog: MSIGUARD_LOG_LEVEL=debug does not make
// dev-broker log every request; --log-requests does.
func TestDevBrokerRequestLog(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{{nil, false}, {[]string{"--log-requests"}, true}} {
		cmd := exec.Command(cliBinary(t), append([]string{"dev-broker", "--listen", "127.0.0.1:0", "--topics", "sysmon:1"}, tc.args...)...)
		cmd.Env = append(os.Environ(), "MSIGUARD_LOG_LEVEL=debug")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var errb syncBuffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		addr := ""
		sc := bufio.NewScanner(stdout)
		for addr == "" && sc.Scan() {
			if m := regexp.MustCompile(`Kafka protocol on (\S+) `).FindStringSubmatch(sc.Text()); m != nil {
				addr = m[1]
			}
		}
		go io.Copy(io.Discard, stdout)
		if addr == "" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("dev-broker printed no address\n%s", errb.String())
		}
		if r := runCLI(t, time.Minute, nil, nil, "gen", "--brokers", addr, "--topic", "sysmon", "--count", "100", "--quiet"); r.code != 0 {
			t.Errorf("gen: exit %d\n%s", r.code, r.stderr)
		}
		// A request kfake cannot parse (a Produce v3 without its body),
		// which it logs at debug level: the kind of line --log-requests
		// is for. (An unknown API key would crash kfake: a nil request.)
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte{0, 0, 0, 10, 0, 0, 0, 3, 0, 0, 0, 1, 0xff, 0xff})
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		io.Copy(io.Discard, conn) // kfake closes the connection
		conn.Close()
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if got := strings.Contains(errb.String(), "component=kfake"); got != tc.want {
			t.Errorf("dev-broker %q with MSIGUARD_LOG_LEVEL=debug: request log %v, want %v\n%.2000s", tc.args, got, tc.want, errb.String())
		}
	}
}
