package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBacktestCLICompressed: the binary replays the golden corpus
// compressed by the zstd, xz and bzip2 tools (backtest/testdata) into the
// same alert bytes as the plain file, from a file and from standard input;
// random bytes exit 1 with a sentence saying the file is not text, where
// they once gave "0 alerts" and exit 0.
func TestBacktestCLICompressed(t *testing.T) {
	plain := mustRead(t, goldenInput)
	in := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(in, plain, 0o644); err != nil {
		t.Fatal(err)
	}
	ref := runCLI(t, time.Minute, nil, nil, "backtest", "--input", in)
	refStdin := runCLI(t, time.Minute, nil, plain, "backtest", "--input", "-")
	if ref.code != 0 || strings.Count(ref.stdout, "\n") < 5 || refStdin.code != 0 {
		t.Fatalf("plain corpus: exit %d, %d alert lines\n%s", ref.code, strings.Count(ref.stdout, "\n"), ref.stderr)
	}
	for _, name := range []string{"input.jsonl.zst", "input.jsonl.xz", "input.jsonl.bz2"} {
		data := mustRead(t, filepath.Join("../../backtest/testdata/compressed", name))
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got := runCLI(t, time.Minute, nil, nil, "backtest", "--input", in)
		if got.code != 0 || got.stdout != ref.stdout {
			t.Errorf("%s: exit %d, alerts differ from the plain file's (%d vs %d bytes)\n%s", name, got.code, len(got.stdout), len(ref.stdout), got.stderr)
		}
		got = runCLI(t, time.Minute, nil, data, "backtest", "--input", "-", "--quiet")
		if got.code != 0 || got.stdout != refStdin.stdout {
			t.Errorf("%s on standard input: exit %d, alerts differ", name, got.code)
		}
	}

	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 10<<20)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	if err := os.WriteFile(in, random, 0o644); err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, time.Minute, nil, nil, "backtest", "--input", in)
	if got.code != 1 || !strings.Contains(got.stderr, "not a text file") || got.stdout != "" {
		t.Errorf("10 MB of random bytes: exit %d, stdout %d bytes, stderr:\n%s", got.code, len(got.stdout), got.stderr)
	}
}
