package spl

import (
	"testing"

	"github.com/msiguard/msiguard/rules/cim"
)

// FuzzCompile checks that any rule text either compiles or is refused with
// an *Error (never a panic), and that a compiled program evaluates any
// record without panicking and deterministically.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`a b OR c | bin span=1s | stats count by _time, host`,
		"`m` (TERM(EventCode=1) OR \"<EventID>1<\") msiexec | regex parent_process_name=\"(?i)cmd\\.exe\" | table _time host process_* | bin span=1s | stats values(*) as * by _time, host",
		`EventCode=3 dest_port=44* NOT dest_ip=10.* | search user!=x | bin span=2m | stats count by _time, host`,
		`"a\"b" TERM(x.y) msi* | regex "z" | regex Image!="q" | bucket span=1h | stats count by host, _time`,
	} {
		f.Add(s, []byte(`{"EventID":1,"Image":"C:\\a\\cmd.exe"} msiexec <EventID>1<`))
	}
	macros := macroMap{"m": "Channel=*sysmon*", "loop": "`loop`"}
	f.Fuzz(func(t *testing.T, logic string, raw []byte) {
		p, err := Compile(Text{File: "f", Body: logic}, macros)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T: %v", err, err)
			}
			return
		}
		r := rec{cim.EventCode: "1", cim.Image: string(raw), cim.ParentImage: string(raw), cim.Computer: "h"}
		a, b := p.Match(raw, r), p.Match(raw, r)
		if a != b {
			t.Fatal("Match is not deterministic")
		}
		for i := range p.Outputs() {
			p.OutputValue(i, r)
		}
	})
}
