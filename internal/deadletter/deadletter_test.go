package deadletter

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"
)

func TestBound(t *testing.T) {
	for _, n := range []int{0, 1, 99, 100, 101, 5 << 20} {
		orig := bytes.Repeat([]byte("m"), n)
		o := Bound(orig, 100)
		want := fmt.Sprintf("%x", sha256.Sum256(orig))
		if o.Bytes != n || o.SHA256 != want || len(o.Prefix) != min(n, 100) || o.Truncated != (n > 100) || !bytes.HasPrefix(orig, o.Prefix) {
			t.Errorf("Bound(%d bytes, 100) = %d-byte prefix, %d bytes, truncated %v, sha %s", n, len(o.Prefix), o.Bytes, o.Truncated, o.SHA256)
		}
	}
}
