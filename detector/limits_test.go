package detector

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// CapValue's contract: short values pass unchanged; a long one becomes a
// prefix of it, on a character boundary, plus the marker with its length
// and hash, within max bytes.
func TestCapValue(t *testing.T) {
	for _, v := range []string{"", "msiexec", strings.Repeat("a", 200), strings.Repeat("é", 100), strings.Repeat("€x", 99), strings.Repeat("\xff", 300)} {
		for _, max := range []int{MinLimit, 150, 199, 200, 1000} {
			got, cut := CapValue(v, max)
			if len(v) <= max {
				if cut || got != v {
					t.Errorf("CapValue(%d bytes, %d) = %q, %v; want it unchanged", len(v), max, got, cut)
				}
				continue
			}
			sum := sha256.Sum256([]byte(v))
			marker := fmt.Sprintf("…[truncated from %d bytes, sha256:%s]", len(v), hex.EncodeToString(sum[:16]))
			prefix, ok := strings.CutSuffix(got, marker)
			if !cut || !ok || len(got) > max || !strings.HasPrefix(v, prefix) || len(prefix) < max-len(marker)-3 {
				t.Errorf("CapValue(%d bytes, %d) = %q, %v", len(v), max, got, cut)
			}
			if utf8.ValidString(v) && !utf8.ValidString(got) {
				t.Errorf("CapValue cut a character: %q", got)
			}
		}
	}
}

// A matching record with a 64 KB host and a 100 KB command line yields a
// match within the limits, and says how much it cut.
func TestEvaluateCapsValues(t *testing.T) {
	d, err := NewDefault(Options{Limits: Limits{MaxValueBytes: 4096}})
	if err != nil {
		t.Fatal(err)
	}
	host := strings.Repeat("H", 64<<10)
	cmd := "msiexec /i x.msi " + strings.Repeat("A", 100<<10)
	rec := fmt.Sprintf(`{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":%q,"UtcTime":"2025-03-06 10:00:00.123","Image":"C:\\Windows\\System32\\msiexec.exe","CommandLine":%q,"ParentImage":"C:\\Windows\\System32\\cmd.exe"}`, host, cmd)
	m, ok, err := d.Evaluate([]byte(rec))
	if err != nil || !ok {
		t.Fatalf("Evaluate: %v %v", ok, err)
	}
	if len(m.Host) > DefaultMaxHostBytes || !strings.HasPrefix(m.Host, "HHHH") || m.Truncated != 2 {
		t.Errorf("host %d bytes, %d cut", len(m.Host), m.Truncated)
	}
	for i, v := range m.Values {
		if len(v) > 4096 {
			t.Errorf("%s: %d bytes", d.Rules()[0].Program.Outputs()[i], len(v))
		}
	}
	if _, err := NewDefault(Options{Limits: Limits{MaxHostBytes: 10}}); err == nil {
		t.Error("a 10-byte host limit was accepted")
	}
}
