package detector

import (
	"strings"
	"testing"

	"github.com/msiguard/msiguard/internal/corpus"
)

func TestPrefilterTokens(t *testing.T) {
	d := mustSeed(t)
	tests := []struct {
		raw  string
		want bool
	}{
		{`C:\Windows\System32\msiexec.exe`, true},
		{`"CommandLine":"MsiExec.exe -Embedding 1234"`, true},
		{`MSIEXEC.EXE /i x.msi`, true},
		{`C:\\Windows\\SysWOW64\\MsiExec.exe`, true},
		{`msiexec`, true},
		{` msiexec `, true},
		{`(msiexec)`, true},
		{`a=msiexec&b`, true},
		{`%20msiexec`, true}, // URL-encoded space is a major breaker
		{`%2cmsiexec`, true},
		{`x%41msiexec`, false}, // %41 ("A") is not a breaker
		{`msiexecutor.exe`, false},
		{`xmsiexec.exe`, false},
		{`C:\tools\xmsiexec.exe`, false},
		{`msiexe`, false},
		{`msiexec2`, false},
		{`2msiexec`, false},
		{`\nmsiexec`, false}, // JSON escape \n: the byte before is 'n'
		{``, false},
		{`xxxxxxxxxx`, false},
		{`msiexecx msiexec`, true}, // a later occurrence counts
		{`XMSIEXEC MSIEXEC`, true},
		{`msi exec`, false},
	}
	for _, tt := range tests {
		if got := d.Prefilter([]byte(tt.raw)); got != tt.want {
			t.Errorf("Prefilter(%q) = %v, want %v", tt.raw, got, tt.want)
		}
	}
}

// TestPrefilterAgainstNaive compares the anchored scan with a direct
// definition of the token test on many generated strings.
func TestPrefilterAgainstNaive(t *testing.T) {
	d := mustSeed(t)
	alphabet := []string{"msiexec", "MSIEXEC", "MsiExec", "x", "X", "m", "c", ".", "\\", "%20", "%41", " ", "_", "-", "e", "a", "\"", "%2C", "%25"}
	var b strings.Builder
	state := uint64(1)
	for i := 0; i < 20000; i++ {
		b.Reset()
		n := int(state % 7)
		for j := 0; j < n; j++ {
			state = state*6364136223846793005 + 1442695040888963407
			b.WriteString(alphabet[(state>>33)%uint64(len(alphabet))])
		}
		state = state*6364136223846793005 + 1442695040888963407
		s := b.String()
		if got, want := d.Prefilter([]byte(s)), corpus.PlainToken(s, "msiexec"); got != want {
			t.Fatalf("Prefilter(%q) = %v, corpus.PlainToken = %v", s, got, want)
		}
	}
}

func TestPrefilterDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	d := mustSeed(t)
	raw := []byte(strings.Repeat(`{"Image":"C:\\Windows\\System32\\svchost.exe","x":"0x3e7"} `, 30))
	if n := testing.AllocsPerRun(100, func() { d.Prefilter(raw) }); n != 0 {
		t.Errorf("Prefilter allocates %v times per call, want 0", n)
	}
}
