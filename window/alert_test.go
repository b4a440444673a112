package window

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

func exampleAlert() *Alert {
	return &Alert{
		AlertID:    AlertID("24143.44553", "WKS-001.corp.example", 1741255200),
		RuleID:     "24143.44553",
		RuleTitle:  "Suspicious Parent Process for msiexec.exe",
		Techniques: []string{"T1218.007"},
		Time:       1741255200,
		Host:       "WKS-001.corp.example",
		EventCount: 2,
		Revision:   1,
		Fields: []Field{
			{Name: "parent_process_name", Values: []string{"cmd.exe"}},
			{Name: "process", Values: []string{"msiexec /q /i \"C:\\x.msi\"", "msiexec /q /i x.msi"}},
		},
		FirstSeen: 1741255200_120_000_000,
		LastSeen:  1741255200_870_000_000,
		Sources:   []Source{{Topic: "sysmon", Partition: 0, Offset: 1234}, {File: "dump.jsonl", Line: 7}},
	}
}

// The contract's bytes, key order and formats, exactly.
func TestAppendJSONGolden(t *testing.T) {
	a := exampleAlert()
	want := `{"alert_id":"` + a.AlertID + `","rule_id":"24143.44553",` +
		`"rule_title":"Suspicious Parent Process for msiexec.exe","mitre_technique_id":["T1218.007"],` +
		`"_time":1741255200,"time":"2025-03-06T10:00:00Z","host":"WKS-001.corp.example",` +
		`"event_count":2,"revision":1,"late":false,` +
		`"fields":{"parent_process_name":["cmd.exe"],"process":["msiexec /q /i \"C:\\x.msi\"","msiexec /q /i x.msi"]},` +
		`"first_seen":"2025-03-06T10:00:00.120Z","last_seen":"2025-03-06T10:00:00.870Z",` +
		`"sources":[{"topic":"sysmon","partition":0,"offset":1234},{"file":"dump.jsonl","line":7}],"sources_omitted":0}`
	got := string(a.AppendJSON(nil))
	if got != want {
		t.Fatalf("AppendJSON:\n got %s\nwant %s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Fatal("invalid JSON")
	}
	// Appends, keeping what dst held.
	if got := string(a.AppendJSON([]byte("x"))); got != "x"+want {
		t.Errorf("AppendJSON does not append")
	}
	empty := &Alert{AlertID: "00", RuleID: "r", Revision: 1}
	if got := string(empty.AppendJSON(nil)); !json.Valid([]byte(got)) {
		t.Errorf("empty alert: invalid JSON %s", got)
	}
}

func TestAlertID(t *testing.T) {
	sum := sha256.Sum256([]byte("24143.44553\x00WKS-001.corp.example\x001741255200"))
	if got, want := AlertID("24143.44553", "WKS-001.corp.example", 1741255200), hex.EncodeToString(sum[:16]); got != want {
		t.Errorf("AlertID = %s, want %s", got, want)
	}
	ids := map[string]bool{
		AlertID("r", "h", 1):  true,
		AlertID("r", "h", 2):  true,
		AlertID("r", "h2", 1): true,
		AlertID("r2", "h", 1): true,
		LateAlertID("r", "h", 1, 5, Source{Topic: "t", Offset: 1}): true,
		LateAlertID("r", "h", 1, 5, Source{Topic: "t", Offset: 2}): true,
		LateAlertID("r", "h", 1, 5, Source{File: "t", Line: 1}):    true,
	}
	if len(ids) != 7 {
		t.Errorf("ids collide: %v", ids)
	}
	// Hosts of many lengths, seconds around zero.
	for n := range 300 {
		host := strings.Repeat("h", n)
		for _, sec := range []int64{-1, 0, 1741255200, 1741255201} {
			sum := sha256.Sum256(fmt.Appendf(nil, "24143.44553\x00%s\x00%d", host, sec))
			want := hex.EncodeToString(sum[:16])
			if got := AlertID("24143.44553", host, sec); got != want {
				t.Fatalf("AlertID with a %d-byte host, second %d = %s, want %s", n, sec, got, want)
			}
		}
	}
}

func TestAppendTime(t *testing.T) {
	for _, tt := range []struct {
		ns   int64
		want string
	}{
		{1741255200_000_000_000, "2025-03-06T10:00:00.000Z"},
		{1741255200_120_000_000, "2025-03-06T10:00:00.120Z"},
		{1741255200_120_500_000, "2025-03-06T10:00:00.120500Z"},
		{1741255200_120_500_001, "2025-03-06T10:00:00.120500001Z"},
		{-1, "1969-12-31T23:59:59.999999999Z"},
	} {
		if got := string(appendTime(nil, tt.ns)); got != tt.want {
			t.Errorf("appendTime(%d) = %s, want %s", tt.ns, got, tt.want)
		}
	}
}

func TestAppendString(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`plain`, `"plain"`},
		{`C:\Windows\msiexec.exe /i "a b"`, `"C:\\Windows\\msiexec.exe /i \"a b\""`},
		{"tab\tnl\ncr\r\x01\x1f", `"tab\tnl\ncr\r\u0001\u001f"`},
		{"utf8 é ☃", `"utf8 é ☃"`},
		{"bad \xff byte", `"bad \ufffd byte"`},
		{"ls\u2028ps\u2029", `"ls\u2028ps\u2029"`},
		{"<&>", `"<&>"`},
	} {
		got := string(appendString(nil, tt.in))
		if got != tt.want {
			t.Errorf("appendString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("%s: %v", got, err)
		}
	}
}

func TestAlertRoundTrip(t *testing.T) {
	a := exampleAlert()
	a.Late, a.Revision, a.SourcesOmitted, a.EventCount = true, 3, 5, 7
	a.FirstSeen += 1 // nanosecond precision survives
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var back Alert
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if d := sameContent(&back, a); d != "" || back.AlertID != a.AlertID || back.Revision != 3 ||
		back.RuleTitle != a.RuleTitle || back.Techniques[0] != "T1218.007" {
		t.Fatalf("round trip: %s %+v", d, back)
	}
	if string(back.AppendJSON(nil)) != string(a.AppendJSON(nil)) {
		t.Errorf("bytes differ after a round trip")
	}
	for _, bad := range []string{`{`, `{"alert_id":"x"}`, `{"alert_id":"x","_time":1,"first_seen":"nope"}`} {
		if err := back.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("UnmarshalJSON(%s) succeeded", bad)
		}
	}
}

func TestAlertValuesAndClone(t *testing.T) {
	a := exampleAlert()
	if got := a.Values("process"); len(got) != 2 {
		t.Errorf("Values(process) = %v", got)
	}
	if got := a.Values("user"); got != nil {
		t.Errorf("Values(user) = %v, want nil", got)
	}
	c := a.Clone()
	a.Fields[0].Values[0] = "changed"
	a.Sources[0].Offset = 99
	if c.Fields[0].Values[0] != "cmd.exe" || c.Sources[0].Offset != 1234 {
		t.Errorf("Clone shares memory with the original")
	}
}

// fieldMap turns an alert's fields into a map for comparison.
func fieldMap(a *Alert) map[string][]string {
	m := make(map[string][]string, len(a.Fields))
	for _, f := range a.Fields {
		m[f.Name] = f.Values
	}
	return m
}

func sortedSources(s []Source) []Source {
	s = slices.Clone(s)
	slices.SortFunc(s, func(a, b Source) int {
		if c := strings.Compare(a.Topic+a.File, b.Topic+b.File); c != 0 {
			return c
		}
		if a.Partition != b.Partition {
			return int(a.Partition - b.Partition)
		}
		return int((a.Offset + a.Line) - (b.Offset + b.Line))
	})
	return s
}

// sameContent reports how a differs from b in content (fields, count,
// times, sources), ignoring revision; "" when equal.
func sameContent(a, b *Alert) string {
	switch {
	case a.Host != b.Host || a.Time != b.Time || a.Late != b.Late:
		return fmt.Sprintf("key %s/%d/%v vs %s/%d/%v", a.Host, a.Time, a.Late, b.Host, b.Time, b.Late)
	case a.EventCount != b.EventCount:
		return fmt.Sprintf("event_count %d vs %d", a.EventCount, b.EventCount)
	case a.FirstSeen != b.FirstSeen || a.LastSeen != b.LastSeen:
		return fmt.Sprintf("first/last %d/%d vs %d/%d", a.FirstSeen, a.LastSeen, b.FirstSeen, b.LastSeen)
	case !maps.EqualFunc(fieldMap(a), fieldMap(b), slices.Equal):
		return fmt.Sprintf("fields %v vs %v", fieldMap(a), fieldMap(b))
	case !slices.Equal(sortedSources(a.Sources), sortedSources(b.Sources)):
		return fmt.Sprintf("sources %v vs %v", a.Sources, b.Sources)
	case a.SourcesOmitted != b.SourcesOmitted:
		return fmt.Sprintf("sources_omitted %d vs %d", a.SourcesOmitted, b.SourcesOmitted)
	}
	return ""
}

// covers reports whether every value of old is in new.
func covers(newer, old *Alert) bool {
	nm := fieldMap(newer)
	for name, vs := range fieldMap(old) {
		for _, v := range vs {
			if _, ok := slices.BinarySearch(nm[name], v); !ok {
				return false
			}
		}
	}
	return true
}

// The example in the README's alert contract is what AppendJSON writes for
// it, byte for byte, with a real alert_id.
func TestContractExample(t *testing.T) {
	doc, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok0 := strings.Cut(string(doc), "## The alert contract")
	_, rest, ok := strings.Cut(section, "```json\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok0 || !ok || !ok2 {
		t.Fatal("no json block in the README's section \"The alert contract\"")
	}
	var line strings.Builder
	for _, l := range strings.Split(block, "\n") {
		line.WriteString(strings.TrimSpace(l))
	}
	var a Alert
	if err := a.UnmarshalJSON([]byte(line.String())); err != nil {
		t.Fatal(err)
	}
	if got := string(a.AppendJSON(nil)); got != line.String() {
		t.Errorf("the README's contract example is not what AppendJSON writes:\n doc %s\n got %s", line.String(), got)
	}
	if want := AlertID(a.RuleID, a.Host, a.Time); a.AlertID != want {
		t.Errorf("the README's contract alert_id %s, want %s", a.AlertID, want)
	}
}
