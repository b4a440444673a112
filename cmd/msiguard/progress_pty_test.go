package main

import (
	"bytes"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/msiguard/msiguard/internal/kafkatest"
)

// ptyRun runs the binary with its standard error (and input) on a pseudo
// terminal cols columns wide, standard output in a buffer, and returns
// everything written to the terminal.
func ptyRun(t *testing.T, cols int, args ...string) (term string, code int) {
	t.Helper()
	cmd := exec.Command(cliBinary(t), args...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: uint16(cols)})
	if err != nil {
		t.Skipf("no pseudo terminal: %v", err)
	}
	defer f.Close()
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() {
		io.Copy(&out, f) // ends with EIO once the process has exited
		close(copied)
	}()
	if err = waitExit(cmd, 2*time.Minute); errors.Is(err, errStillRunning) {
		t.Fatalf("msiguard %q: %v", args, err)
	}
	f.Close()
	<-copied
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), code
}

// screen plays what a program wrote to a terminal (the few controls the
// status lines use: CR, LF, erase to end of line) and returns the lines
// left on it, and the status lines drawn: each text written after a CR
// and redrawn over by the next CR, as it showed. (A CR just before LF is
// the terminal's own end of line.)
func screen(out string) (lines, drawn []string) {
	cur := []byte{}
	col := 0
	inStatus := false
	for i := 0; i < len(out); i++ {
		c := out[i]
		switch {
		case c == '\r' && strings.HasPrefix(out[i:], "\r\n"):
			// the line's end, below
		case c == '\r':
			if inStatus {
				drawn = append(drawn, strings.TrimRight(string(cur), " "))
			}
			col, inStatus = 0, true
		case c == '\n':
			lines = append(lines, strings.TrimRight(string(cur), " "))
			cur, col, inStatus = cur[:0], 0, false
		case c == 0x1b && strings.HasPrefix(out[i:], "\x1b[K"):
			cur = cur[:col]
			i += 2
		case c >= 0x20:
			for len(cur) <= col {
				cur = append(cur, ' ')
			}
			cur[col] = c
			col++
		}
	}
	if s := strings.TrimRight(string(cur), " "); s != "" {
		lines = append(lines, s)
	}
	return lines, drawn
}

// TestProgressLineInTerminal runs backtest over a topic whose fetches the
// broker slows down, and gen at a fixed rate, in terminals of 80 and 160
// columns: every redraw of the status line fits in one line (short of the
// last column), shows the percent done and the ETA, counts records upward to
// at most the summary's count, and leaves nothing behind once the summary
// is printed; gen's records and bytes equal backtest's for the same file.
func TestProgressLineInTerminal(t *testing.T) {
	c := kafkatest.Start(t)
	if c.Fake() == nil {
		t.Skip("needs kfake's control hooks to slow fetches")
	}
	topic := kafkatest.UniqueName(t, "sysmon")
	c.CreateTopic(t, topic, 1)
	brokers := strings.Join(c.Addrs(), ",")
	if r := runCLI(t, time.Minute, nil, nil, "gen", "--brokers", brokers, "--topic", topic, "--count", "30000", "--quiet"); r.code != 0 {
		t.Fatalf("gen: exit %d\n%s", r.code, r.stderr)
	}
	fake := c.Fake()
	fake.ControlKey(int16(kmsg.Fetch), func(kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		fake.SleepControl(func() { time.Sleep(300 * time.Millisecond) }) // a slow broker, not a wait
		return nil, nil, false
	})
	progress := regexp.MustCompile(`^backtest: +(\d+\.\d)%, ETA \S+, (\d+) records`)
	summary := regexp.MustCompile(`backtest: (\d+) records \((\d+) bytes`)
	for _, cols := range []int{80, 160} {
		out, code := ptyRun(t, cols, "backtest", "--brokers", brokers, "--topic", topic, "--out", filepath.Join(t.TempDir(), "a.jsonl"))
		lines, drawn := screen(out)
		if code != 0 {
			t.Errorf("%d columns: exit %d:\n%q", cols, code, out)
		}
		m := summary.FindStringSubmatch(strings.Join(lines, "\n"))
		if m == nil || m[1] != "30000" {
			t.Fatalf("%d columns: no summary of 30000 records on the screen:\n%s", cols, strings.Join(lines, "\n"))
		}
		var seen, last int
		for _, d := range drawn {
			if d == "" {
				continue // the erase before the summary
			}
			if len(d) >= cols {
				t.Errorf("%d columns: a status line of %d columns, which wraps: %q", cols, len(d), d)
			}
			p := progress.FindStringSubmatch(d)
			if p == nil {
				t.Errorf("%d columns: a status line without percent and ETA: %q", cols, d)
				continue
			}
			n, _ := strconv.Atoi(p[2])
			if n < last || n > 30000 {
				t.Errorf("%d columns: records went from %d to %d (summary 30000)", cols, last, n)
			}
			last = n
			seen++
			if cols == 160 && !strings.Contains(d, "dead letters") {
				t.Errorf("160 columns: %q leaves out counts that fit", d)
			}
		}
		if seen == 0 {
			t.Errorf("%d columns: no status line drawn:\n%q", cols, out)
		}
		for _, l := range lines {
			if strings.Contains(l, "%, ETA") {
				t.Errorf("%d columns: a status line left on the screen: %q", cols, l)
			}
		}
	}

	// gen with --count shows the percent and the ETA too; its counts are
	// the ones backtest gives for the file.
	file := filepath.Join(t.TempDir(), "g.jsonl")
	out, code := ptyRun(t, 80, "gen", "--out", file, "--count", "3000", "--rate", "1200")
	lines, drawn := screen(out)
	genProg := regexp.MustCompile(`^gen: +\d+\.\d%, ETA \S+, \d+ records`)
	n := 0
	for _, d := range drawn {
		if d != "" {
			n++
			if !genProg.MatchString(d) || len(d) >= 80 {
				t.Errorf("gen status line %q lacks percent or ETA, or does not fit 80 columns", d)
			}
		}
	}
	if code != 0 || n == 0 {
		t.Errorf("gen: exit %d, %d status lines:\n%q", code, n, out)
	}
	g := regexp.MustCompile(`gen: (\d+) records generated, (\d+) written, (\d+) bytes with newlines`).FindStringSubmatch(strings.Join(lines, "\n"))
	r := runCLI(t, time.Minute, nil, nil, "backtest", "--input", file)
	b := summary.FindStringSubmatch(r.stderr)
	if g == nil || b == nil || g[1] != "3000" || g[2] != b[1] || g[3] != b[2] {
		t.Errorf("gen says %v, backtest %v: want the same records and bytes", g, b)
	}
}
