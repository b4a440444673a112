package backtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/window"
)

// TestCompressedInputs replays the golden corpus compressed by the zstd, xz
// and bzip2 command-line tools (testdata/compressed, made from
// detector/testdata/golden/synthetic-positives/input.jsonl), mapped and
// through a reader: each gives the alerts and dead letters of the plain
// file, and the input bytes read are the compressed size.
func TestCompressedInputs(t *testing.T) {
	plain := readFile(t, "../detector/testdata/golden/synthetic-positives/input.jsonl")
	ref := runFiles(t, Config{BlockSize: 4096}, [2]string{"input.jsonl", string(plain)})
	if ref.sum.Alerts == 0 {
		t.Fatal("the plain corpus gives no alert")
	}
	for _, name := range []string{"input.jsonl.zst", "input-two-frames.jsonl.zst", "input.jsonl.xz", "input.jsonl.bz2"} {
		data := readFile(t, filepath.Join("testdata/compressed", name))
		for _, mapped := range []bool{false, true} {
			in := Input{Name: "input.jsonl", Size: int64(len(data))}
			if mapped {
				in.Data = data
			} else {
				in.R = bytes.NewReader(data)
			}
			var out, dlq bytes.Buffer
			e, _ := New(Config{Detector: detector.Seed(), Alerts: &out, DeadLetters: &dlq, BlockSize: 4096})
			sum, err := e.RunFiles(context.Background(), []Input{in})
			if err != nil {
				t.Fatalf("%s (mapped=%v): %v", name, mapped, err)
			}
			if !bytes.Equal(out.Bytes(), ref.out) || !bytes.Equal(dlq.Bytes(), ref.dlq) {
				t.Errorf("%s (mapped=%v): output differs from the plain file's", name, mapped)
			}
			if sum.Records != ref.sum.Records || sum.Bytes != int64(len(plain)) || sum.InputBytes != int64(len(data)) {
				t.Errorf("%s (mapped=%v): %d records, %d bytes, %d input bytes; want %d, %d, %d",
					name, mapped, sum.Records, sum.Bytes, sum.InputBytes, ref.sum.Records, len(plain), len(data))
			}
		}
	}

	// A truncated compressed file is an error, not a short replay.
	data := readFile(t, "testdata/compressed/input.jsonl.xz")
	e, _ := New(Config{Detector: detector.Seed(), Alerts: &bytes.Buffer{}})
	_, err := e.RunFiles(context.Background(), []Input{{Name: "cut.xz", R: bytes.NewReader(data[:len(data)/2])}})
	if err == nil || !strings.Contains(err.Error(), "cut.xz: xz") {
		t.Errorf("truncated xz: err %v, want an error naming the file and the format", err)
	}
}

// TestNotText: random bytes, UTF-16 without a byte order mark and known
// binary formats are refused with ErrNotText and a hint, from a reader and
// mapped; ordinary text with a few stray bytes is not.
func TestNotText(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 1<<20)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	var utf16 []byte
	for _, c := range []byte(`{"EventID":1,"Computer":"WS1","CommandLine":"msiexec /i x.msi"}` + "\n") {
		utf16 = append(utf16, c, 0)
	}
	utf16 = bytes.Repeat(utf16, 100)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"random", random, "not recognized"},
		{"utf16", utf16, "UTF-16"},
		{"evtx", append([]byte("ElfFile\x00"), random[:4096]...), "evtx_dump"},
		{"zip", append([]byte("PK\x03\x04"), random[:100]...), "unzip"},
		{"lz4", append([]byte{0x04, 0x22, 0x4d, 0x18}, random[:100]...), "lz4 -d"},
	} {
		for _, mapped := range []bool{false, true} {
			in := Input{Name: tc.name}
			if mapped {
				in.Data = tc.data
			} else {
				in.R = bytes.NewReader(tc.data)
			}
			e, _ := New(Config{Detector: detector.Seed(), Alerts: &bytes.Buffer{}})
			_, err := e.RunFiles(context.Background(), []Input{in})
			if !errors.Is(err, ErrNotText) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), tc.name+": ") {
				t.Errorf("%s (mapped=%v): err %v, want ErrNotText naming the file and %q", tc.name, mapped, err, tc.want)
			}
		}
	}

	g := generate(3, 2000)
	text := []byte(g.text("\n"))
	// A Latin-1 user name here and there and one NUL do not make a file
	// binary.
	text = bytes.Replace(text, []byte("CORP"), []byte("C\xf6RP"), 20)
	text[len(text)/3] = 0
	if !bytes.Contains(text, []byte("C\xf6RP")) {
		t.Fatal("the generated text has no CORP to replace")
	}
	if err := checkText("ok", text); err != nil {
		t.Errorf("text with a few stray bytes: %v", err)
	}
}

// failingReader returns data, then err (or, with block set, waits until
// block is closed and returns err).
type failingReader struct {
	data  []byte
	err   error
	block chan struct{}
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) > 0 {
		n := copy(p, r.data)
		r.data = r.data[n:]
		return n, nil
	}
	if r.block != nil {
		<-r.block
	}
	return 0, r.err
}

// TestPartialResult: a run stopped by an input error or a cancellation
// still writes the alerts of what it applied (the window flushed), marks
// the summary failed or interrupted, and calls OnAlert for none of them.
// After an input error the partial result covers every whole line before
// it: the alerts equal a complete run's over those lines.
func TestPartialResult(t *testing.T) {
	plain := readFile(t, "../detector/testdata/golden/synthetic-positives/input.jsonl")
	lines := bytes.SplitAfter(plain, []byte("\n"))
	ref := runFiles(t, Config{BlockSize: 4096}, [2]string{"f", string(plain)})

	published := 0
	onAlert := func(*window.Alert, []byte) error { published++; return nil }
	var out bytes.Buffer
	e, _ := New(Config{Detector: detector.Seed(), Alerts: &out, BlockSize: 4096, OnAlert: onAlert})
	boom := errors.New("disk on fire")
	sum, err := e.RunFiles(context.Background(), []Input{{Name: "f", R: &failingReader{data: plain, err: boom}}})
	if !errors.Is(err, boom) || sum.Status != StatusFailed || !strings.Contains(sum.Error, "disk on fire") {
		t.Fatalf("input error: err %v, status %q, error %q", err, sum.Status, sum.Error)
	}
	if !bytes.Equal(out.Bytes(), ref.out) || sum.Records != ref.sum.Records || published != 0 {
		t.Errorf("input error after the last line: %d records, %d alert bytes (want %d, %d), %d published",
			sum.Records, out.Len(), ref.sum.Records, len(ref.out), published)
	}

	// Cancelled while the reader waits for more input.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out.Reset()
	block := make(chan struct{})
	e, _ = New(Config{Detector: detector.Seed(), Alerts: &out, BlockSize: 4096, OnAlert: onAlert})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sum, err = e.RunFiles(ctx, []Input{{Name: "f", R: &failingReader{data: plain, err: io.EOF, block: block}}})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for e.Progress().Records < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("%d records applied after 10s", e.Progress().Records)
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	close(block)
	<-done
	if !errors.Is(err, context.Canceled) || sum.Status != StatusInterrupted || published != 0 {
		t.Fatalf("cancelled: err %v, status %q, %d published", err, sum.Status, published)
	}
	var prefix []byte
	for _, l := range lines[:sum.Records] {
		prefix = append(prefix, l...)
	}
	want := runFiles(t, Config{BlockSize: 4096}, [2]string{"f", string(prefix)})
	if !bytes.Equal(out.Bytes(), want.out) || len(want.out) == 0 {
		t.Errorf("cancelled after %d records: %d alert bytes, want %d (a complete run over those records)", sum.Records, out.Len(), len(want.out))
	}
}
