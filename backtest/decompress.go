package backtest

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Compression formats recognized by their first bytes, whatever the file's
// name: a .jsonl that is really gzip is read as gzip, and a .zst read as
// text would find nothing.
const (
	formatPlain = ""
	formatGzip  = "gzip"
	formatZstd  = "zstd"
	formatXZ    = "xz"
	formatBzip2 = "bzip2"
)

// magicLen is the longest magic number compressionOf looks at.
const magicLen = 8

// compressionOf names the compression format head starts with, or
// formatPlain.
func compressionOf(head []byte) string {
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return formatGzip
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return formatZstd
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return formatXZ
	case len(head) >= 4 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h' && head[3] >= '1' && head[3] <= '9':
		return formatBzip2
	}
	return formatPlain
}

// decompressor returns a reader of br's decompressed bytes for format, and
// a function that releases it.
func decompressor(format string, br *bufio.Reader) (io.Reader, func(), error) {
	switch format {
	case formatGzip:
		zr, err := gzip.NewReader(br) // concatenated members are one stream
		if err != nil {
			return nil, nil, err
		}
		return zr, func() { zr.Close() }, nil
	case formatZstd:
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, nil, err
		}
		return zr, zr.Close, nil
	case formatXZ:
		zr, err := xz.NewReader(br)
		if err != nil {
			return nil, nil, err
		}
		return zr, func() {}, nil
	case formatBzip2:
		return bzip2.NewReader(br), func() {}, nil
	}
	return br, func() {}, nil
}

// ErrNotText is wrapped by the error a run returns for a file whose first
// bytes are not text (a binary format, a compression that is not
// recognized, random bytes): replaying it would find nothing and say
// nothing.
var ErrNotText = errors.New("not a text file")

// textCheckBytes is how much of a file's (decompressed) start checkText
// reads.
const textCheckBytes = 64 << 10

// binaryFormats are formats someone may well hand to a backtest, by their
// first bytes, with what to do instead.
var binaryFormats = []struct {
	magic []byte
	what  string
	fix   string
}{
	{[]byte("ElfFile\x00"), "a binary Windows event log (.evtx)", "convert it to JSON lines first, e.g. evtx_dump -o jsonl FILE or EvtxECmd --json"},
	{[]byte("PK\x03\x04"), "a zip archive", "unzip it and pass the files inside"},
	{[]byte{0x04, 0x22, 0x4d, 0x18}, "lz4-compressed", "decompress it first (lz4 -d), or recompress with gzip, zstd, xz or bzip2, which are read directly"},
	{[]byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}, "a 7-Zip archive", "extract it and pass the files inside"},
}

// checkText reports an error unless head, the start of a file after
// decompression, looks like JSON lines or XML lines: no byte order mark of
// UTF-16, no known binary format, no NUL byte and almost only valid UTF-8
// without control characters other than tab, CR and LF.
func checkText(name string, head []byte) error {
	if len(head) >= 2 && (head[0] == 0xff && head[1] == 0xfe || head[0] == 0xfe && head[1] == 0xff) {
		return fmt.Errorf("%s: %w (byte order mark %x): convert it to UTF-8 first, e.g. iconv -f UTF-16 -t UTF-8", name, ErrUTF16, head[:2])
	}
	for _, f := range binaryFormats {
		if bytes.HasPrefix(head, f.magic) {
			return fmt.Errorf("%s: %w: it is %s: %s", name, ErrNotText, f.what, f.fix)
		}
	}
	head = head[:min(len(head), textCheckBytes)]
	var bad, nul int
	for i := 0; i < len(head); {
		c := head[i]
		if c < utf8.RuneSelf {
			if c == 0 {
				nul++
				bad++
			} else if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
				bad++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && size == 1 && len(head)-i >= utf8.UTFMax {
			bad++ // a sequence cut by the end of head is not counted
		}
		i += size
	}
	// Real exports hold the odd stray byte (a Latin-1 user name); 1% is far
	// above that and far below what any binary file shows.
	if bad >= 4 && bad*100 > len(head) {
		hint := "is it compressed in a format not recognized (gzip, zstd, xz and bzip2 are), or not a log export?"
		if nul*4 > len(head) {
			hint = "NUL bytes between the characters suggest UTF-16 without a byte order mark: convert it with iconv -f UTF-16LE -t UTF-8"
		}
		return fmt.Errorf("%s: %w: %d of its first %d bytes are not text (%d NUL): %s", name, ErrNotText, bad, len(head), nul, hint)
	}
	return nil
}
