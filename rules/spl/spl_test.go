package spl

import (
	"strings"
	"testing"
	"time"

	"github.com/msiguard/msiguard/rules/cim"
)

type macroMap map[string]string

func (m macroMap) Macro(name string) (Text, bool) {
	d, ok := m[name]
	return Text{File: "macros.yml", Body: d}, ok
}

type rec map[cim.Source]string

func (r rec) Value(s cim.Source) (string, bool) { v, ok := r[s]; return v, ok }

// tail turns a search expression into a whole rule.
const tail = " | bin span=1s | stats count by _time, host"

func compile(t *testing.T, logic string) *Program {
	t.Helper()
	p, err := Compile(Text{File: "rule.yml", Body: logic}, macroMap{"empty": "", "sysmon": "Channel=*sysmon*", "loop": "`loop`"})
	if err != nil {
		t.Fatalf("Compile(%q): %v", logic, err)
	}
	return p
}

type sample struct {
	raw    string
	fields rec
	want   bool
}

// TestSearchSemantics checks each construct of the search command against
// expectations derived by hand from Splunk's documentation (cited per case).
func TestSearchSemantics(t *testing.T) {
	tests := []struct {
		name, search string
		samples      []sample
	}{
		// Search Manual, "Boolean expressions with logical operators": "The
		// search command evaluates OR before AND operators", so a b OR c is
		// a AND (b OR c), not (a AND b) OR c.
		{"precedence a b OR c", "a b OR c", []sample{
			{"a c", nil, true}, {"a b", nil, true}, {"c", nil, false}, {"b c", nil, false}, {"a", nil, false},
		}},
		{"precedence a OR b c", "a OR b c", []sample{{"c a", nil, true}, {"a", nil, false}, {"b c", nil, true}}},
		// Same page: AND is implied between terms; explicit AND is the same.
		{"explicit AND", "a AND b OR c", []sample{{"a c", nil, true}, {"c", nil, false}}},
		// Same page: "The NOT operator only applies to the term immediately
		// following NOT"; NOT before OR: NOT a OR b is (NOT a) OR b.
		{"NOT binds tightest", "NOT a OR b", []sample{{"a b", nil, true}, {"a", nil, false}, {"x", nil, true}}},
		{"parentheses", "(a b) OR c", []sample{{"a b", nil, true}, {"c", nil, true}, {"a", nil, false}}},
		{"NOT group", "x NOT (a OR b)", []sample{{"x", nil, true}, {"x b", nil, false}}},
		// Search Manual, "Use CASE() and TERM() to match phrases": "By
		// default, searches are case-insensitive"; terms match whole
		// tokens of _raw (rule-semantics.md item 2).
		{"term, any case, whole token", "msiexec", []sample{
			{`C:\Windows\MSIEXEC.EXE /i`, nil, true}, {"msiexecutor.exe", nil, false}, {"xmsiexec", nil, false},
		}},
		// TERM(x) with minor breakers: one indexed term, bounded by major
		// breakers ("Match whatever is inside the parentheses as a single
		// term ... even if it contains ... minor breakers").
		{"TERM with minor breakers", "TERM(LogonType=3)", []sample{
			{"LogName=x\nLogonType=3\n", nil, true}, {"LogonType=30", nil, false}, {"xLogonType=3", nil, false},
			{"a.LogonType=3", nil, false}, {"LogonType=3.5", nil, true},
		}},
		// Quoted phrases: "If you omit the quotation marks, there is no
		// guarantee the words ... are next to each other" (search command
		// usage); a phrase holding breakers matches as written, any case.
		{"phrase with breakers", `"user not found"`, []sample{
			{"error: User Not Found!", nil, true}, {"user found not", nil, false},
		}},
		{"phrase starting and ending in breakers", `"<Data Name='Image'>"`, []sample{
			{`x<Data Name='Image'>C:\a`, nil, true}, {`<Data Name="Image">`, nil, false},
		}},
		{"bare term with minor breakers is a phrase", "msiexec.exe", []sample{
			{"run MsiExec.Exe now", nil, true}, {"msiexec exe", nil, false},
		}},
		// Wildcards: a trailing * after a term matches tokens that start
		// with it (Search Manual, "Wildcards").
		{"prefix wildcard", "msi*", []sample{{`C:\x\MsiExec.exe`, nil, true}, {"xmsiexec", nil, false}}},
		{"match all", "*", []sample{{"anything", nil, true}}},
		// Field comparisons: field names are case-sensitive, values are not
		// (Search Manual, "Use fields to search"); * wildcards anywhere.
		{"field=value", "host=ws-01", []sample{
			{"", rec{cim.Computer: "WS-01"}, true}, {"", rec{cim.Computer: "ws-01.corp"}, false}, {"", rec{}, false},
		}},
		{"field wildcards", `process_path="*\\system32\\*.exe"`, []sample{
			{"", rec{cim.EventCode: "1", cim.Image: `C:\Windows\System32\cmd.exe`}, true},
			{"", rec{cim.EventCode: "1", cim.Image: `C:\Windows\SysWOW64\cmd.exe`}, false},
			{"", rec{cim.EventCode: "1", cim.Image: `C:\Windows\System32\cmd.dll`}, false},
		}},
		{"leading and middle wildcards", "CommandLine=*-enc*ZQB4AGUA*", []sample{
			{"", rec{cim.CommandLine: "powershell -EncodedCommand zqb4agua"}, true},
			{"", rec{cim.CommandLine: "powershell -enc"}, false},
		}},
		{"field=* exists", "ParentImage=*", []sample{{"", rec{cim.ParentImage: "-"}, true}, {"", rec{}, false}}},
		// Search Manual, "Difference between NOT and !=": field!=value
		// needs the field; NOT field=value also keeps events without it.
		{"!= needs the field", "User!=SYSTEM", []sample{
			{"", rec{cim.User: "alice"}, true}, {"", rec{cim.User: "system"}, false}, {"", rec{}, false},
		}},
		{"NOT = keeps events without the field", "NOT User=SYSTEM", []sample{
			{"", rec{cim.User: "alice"}, true}, {"", rec{cim.User: "SYSTEM"}, false}, {"", rec{}, true},
		}},
		// CIM fields resolve by the record's event id (rules/FIELDS.md).
		{"CIM field by event id", "EventCode=3 dest_port=4444", []sample{
			{"", rec{cim.EventCode: "3", cim.DestinationPort: "4444"}, true},
			{"", rec{cim.EventCode: "1", cim.DestinationPort: "4444"}, false},
		}},
		{"macros expand in place", "`empty` `sysmon` a", []sample{
			{"a", rec{cim.Channel: "Microsoft-Windows-Sysmon/Operational"}, true},
			{"a", rec{cim.Channel: "Security"}, false},
		}},
		// rule-semantics.md, Decisions: the event-id idiom tests the
		// record's event id, plus the literal on XML records.
		{"event-id idiom", `(TERM(EventCode=1) OR "<EventID>1<")`, []sample{
			{`{"EventID":1}`, rec{cim.EventCode: "1"}, true},
			{`{"EventID":10}`, rec{cim.EventCode: "10"}, false},
			{`<Event><System><EventID>1</EventID></System></Event>`, rec{cim.EventCode: "1"}, true},
			{`<Event><System><EventID Qualifiers=''>1</EventID></System></Event>`, rec{cim.EventCode: "1"}, false},
		}},
		// Alone, TERM(EventCode=N) is the same event-id test (without the
		// XML literal): on JSON it would otherwise never match.
		{"lone TERM(EventCode=N)", `TERM(EventCode=3)`, []sample{
			{`{"EventID":3}`, rec{cim.EventCode: "3"}, true}, {`EventCode=3`, rec{}, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := compile(t, tt.search+tail)
			for _, s := range tt.samples {
				if s.fields == nil {
					s.fields = rec{}
				}
				if got := p.Match([]byte(s.raw), s.fields); got != s.want {
					t.Errorf("%s on %q %v: got %v, want %v", tt.search, s.raw, s.fields, got, s.want)
				}
			}
		})
	}
}

// TestPipeline checks | search, | regex (= and !=), | table wildcards, bin
// and stats.
func TestPipeline(t *testing.T) {
	p := compile(t, `EventCode=1 | regex parent_process_name="(?i)(cmd|pwsh)\.exe" | regex process!="(?i)-embedding"`+
		` | search NOT host=DEPLOY* | table _time, host, user process, parent_process_* | bin span=5m | stats count values(*) as * by _time, host`)
	// Search Reference, regex: field="re" keeps results that match (an
	// event without the field cannot); field!="re" keeps those that do not.
	samples := []sample{
		{"", rec{cim.EventCode: "1", cim.ParentImage: `C:\x\dsregcmd.exe`, cim.CommandLine: "msiexec /i", cim.Computer: "ws1"}, true},
		{"", rec{cim.EventCode: "1", cim.ParentImage: `C:\x\cmd.exe`, cim.CommandLine: "MsiExec.exe -Embedding", cim.Computer: "ws1"}, false},
		{"", rec{cim.EventCode: "1", cim.ParentImage: `C:\x\cmd.exe`, cim.Computer: "ws1"}, true}, // != keeps a missing field
		{"", rec{cim.EventCode: "1", cim.CommandLine: "x", cim.Computer: "ws1"}, false},           // = drops a missing field
		{"", rec{cim.EventCode: "1", cim.ParentImage: `C:\x\cmd.exe`, cim.Computer: "deploy-01"}, false},
		{"", rec{cim.EventCode: "1", cim.ParentImage: `C:\x\taskhostw.exe`, cim.Computer: "ws1"}, false},
	}
	for _, s := range samples {
		if got := p.Match(nil, s.fields); got != s.want {
			t.Errorf("%v: got %v, want %v", s.fields, got, s.want)
		}
	}
	// table: `user process` is two fields; parent_process_* does not match
	// parent_process (rule-semantics.md item 4); list order, wildcards
	// expanded in name order.
	want := "user process parent_process_exec parent_process_guid parent_process_id parent_process_name parent_process_path"
	if got := strings.Join(p.Outputs(), " "); got != want {
		t.Errorf("outputs %q, want %q", got, want)
	}
	g := p.Group()
	if g.Span != 5*time.Minute || !g.Count || !g.Values || strings.Join(g.By, ",") != "_time,host" {
		t.Errorf("group %+v", g)
	}
	// bin: epoch-aligned floors (rule-semantics.md item 5).
	if got := g.Bucket(int64(7*time.Minute + 3)); got != int64(5*time.Minute) {
		t.Errorf("Bucket = %d", got)
	}
	if got := g.Bucket(-1); got != -int64(5*time.Minute) {
		t.Errorf("Bucket(-1) = %d", got)
	}
	if ids := p.EventIDs(); len(ids) != 1 || ids[0] != 1 {
		t.Errorf("EventIDs %v", ids)
	}
}

func TestPrefilter(t *testing.T) {
	tests := []struct{ search, want string }{
		{`TERM(msiexec) OR "msiexec.exe"`, "msiexec"},
		{`a b OR c`, "a AND (b OR c)"},
		{`"Invoke-Mimikatz" NOT x`, "invoke AND mimikatz"},
		{`msi* OR rundll32`, ""},
		{`EventCode=1 TERM(EventCode=1)`, ""}, // the idiom tests the event id, not the text
		{`rundll32 javascript`, "javascript AND rundll32"},
	}
	for _, tt := range tests {
		if got := compile(t, tt.search+tail).Prefilter().String(); got != tt.want {
			t.Errorf("%s: prefilter %q, want %q", tt.search, got, tt.want)
		}
	}
}

// TestRefusals checks that each unsupported construct is refused with its
// file, line and column and a message saying what is wrong.
func TestRefusals(t *testing.T) {
	tests := []struct{ logic, want string }{
		{"a | eval x=1" + tail, "rule.yml:1:5: unsupported command | eval; supported:"},
		{"a\n  | where x>1" + tail, "rule.yml:2:5: unsupported command | where"},
		{"| tstats count", "rule.yml:1:3: the search starts with a pipe: generating commands (tstats) are not supported"},
		{"a | table _time, host, x" + tail, "rule.yml:1:5: unknown field x"},
		{"dest_port=1 EventCode=1" + tail, "rule.yml:1:1: field dest_port is not a CIM field of event id 1"},
		{"Count>5" + tail, "rule.yml:1:6: comparison > is not supported"},
		{"x IN (a, b)" + tail, "rule.yml:1:3: IN is not supported"},
		{`CASE(Error)` + tail, "rule.yml:1:1: CASE() (case-sensitive matching) is not supported"},
		{`TERM(a b)` + tail, "rule.yml:1:1: TERM(a b) holds a major breaker"},
		{`TERM(a*)` + tail, "rule.yml:1:1: wildcards in TERM() are not supported"},
		{`*exec` + tail, `rule.yml:1:1: wildcard term "*exec" is not supported`},
		{`"msi*exe"` + tail, "rule.yml:1:1: wildcards inside a quoted phrase are not supported"},
		{`Image="C:\Windows"` + tail, `rule.yml:1:7: "C:\\Windows" holds the escape \W`},
		{`Image=C:\\*` + tail, ""},
		{`Image="a\*"` + tail, "a backslash cannot escape *"},
		{"a | search b" + tail, `rule.yml:1:12: raw-text term "b" in | search`},
		{`a | regex x~"y"` + tail, "rule.yml:1:11: | regex takes"},
		{`a | regex Image="(?<=a)b"` + tail, "rule.yml:1:5: regex \"(?<=a)b\" does not compile as RE2"},
		{"a | bin span=1d | stats count by _time, host", "rule.yml:1:14: span=1d is not supported"},
		{"a | bin bins=10 | stats count by _time, host", "rule.yml:1:9: | bin option bins is not supported"},
		{"a | stats count by _time, host", "rule.yml:1:5: | stats by _time needs | bin span=... before it"},
		{"a | bin span=1s | stats dc(x) by _time, host", `rule.yml:1:25: stats function "dc" is not supported`},
		{"a | bin span=1s | stats count by _time, host, user", "rule.yml:1:47: stats by user is not supported"},
		{"a | bin span=1s | stats count by _time, host | table x", "rule.yml:1:48: | table after | stats is not supported"},
		{"a", "rule.yml:1:1: a rule must end with | bin span=... | stats ... by _time, host"},
		{"a | table user | bin span=1s | stats values(*) as * by _time, host", "rule.yml:1:5: | table drops _time or host"},
		{"a | bin span=1s | stats values(*) as * by _time, host", "values(*) needs a | table before it"},
		{"a | table _time host user | search process=x" + tail, "rule.yml:1:36: field process is not kept by | table"},
		{"index=main" + tail, "field index is not supported"},
		// FuzzCompile's find: a glob with invalid UTF-8 made regexp.MustCompile panic.
		{"a | table _time host \xfe*" + tail, "rule.yml:1:22: byte 0xfe is not valid UTF-8"},
		{"a `nosuch`" + tail, "rule.yml:1:3: unknown macro `nosuch`"},
		{"a `loop`" + tail, "macros.yml:1:1: macro `loop` expands into itself (in a macro used at rule.yml:1:3)"},
		{"a `m(x)`" + tail, "rule.yml:1:3: macro `m(x)` takes arguments"},
		{"a OR" + tail, "rule.yml:1:3: OR without a right operand"},
		{"(a" + tail, "rule.yml:1:1: parenthesis not closed"},
		{"NOT" + tail, "rule.yml:1:1: NOT without an operand"},
		{`a "b` + tail, "rule.yml:1:3: unterminated quoted string"},
		{`User=""` + tail, "comparing with an empty value is not supported"},
	}
	for _, tt := range tests {
		_, err := Compile(Text{File: "rule.yml", Body: tt.logic}, macroMap{"loop": "`loop`"})
		if tt.want == "" {
			if err != nil {
				t.Errorf("%q: unexpected error %v", tt.logic, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%q: compiled, want error %q", tt.logic, tt.want)
			continue
		}
		if _, ok := err.(*Error); !ok {
			t.Errorf("%q: error %T is not *Error", tt.logic, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q:\n got %v\nwant %s", tt.logic, err, tt.want)
		}
	}
}

func TestMatchAllocs(t *testing.T) {
	p := compile(t, `(TERM(EventCode=1) OR "<EventID>1<") msiexec | regex parent_process_name="(?i)cmd\.exe" | search NOT host=x* | table _time host process_* | bin span=1s | stats values(*) as * by _time, host`)
	raw := []byte(`{"EventID":1,"CommandLine":"msiexec /i a.msi"}`)
	r := rec{cim.EventCode: "1", cim.ParentImage: `C:\Windows\System32\cmd.exe`, cim.Computer: "ws1"}
	if !p.Match(raw, r) {
		t.Fatal("no match")
	}
	if n := testing.AllocsPerRun(200, func() { p.Match(raw, r) }); n != 0 {
		t.Errorf("Match allocates %v times per call", n)
	}
}
