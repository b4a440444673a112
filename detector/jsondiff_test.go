package detector

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// jsonShapes are the shapes a JSON record can be read as, plus ShapeAuto.
var jsonShapes = []Shape{ShapeAuto, ShapeWinlogbeat, ShapeWinlogbeatECS, ShapeWinlogbeat6, ShapeFlat, ShapeEVTXList, ShapeEVTXMap}

// diffJSONRecord reads raw with the production reader and the reference in
// one shape and describes the first difference ("" when they agree).
func diffJSONRecord(raw []byte, shape Shape) string {
	body := trimRecordStart(raw)
	if len(body) == 0 || body[0] == '<' {
		return "" // not JSON: evaluate never hands it to the JSON reader
	}
	var r record
	err := checkJSON(body, shape)
	if err == nil {
		err = readJSON(string(body), shape, &r)
	}
	ref, refReason := refReadJSON(refTrimStart(raw), shape)
	var got Reason
	if err != nil {
		got = err.Reason
	}
	if got != refReason {
		return fmt.Sprintf("shape %v: reader says %q (%v), reference says %q", shape, got, err, refReason)
	}
	if err != nil {
		return ""
	}
	pairs := []struct{ what, got, want string }{
		{"shape", r.shape.String(), ref.shape.String()},
		{"event id", r.eventID, ref.eventID},
		{"channel", r.channel, ref.channel},
		{"provider", r.provider, ref.provider},
		{"host", r.host, ref.host},
		{"event time", r.eventTime, ref.evtTime},
	}
	for name, f := range sysFieldNames() {
		pairs = append(pairs, struct{ what, got, want string }{name, r.data[f], ref.data[name]})
	}
	for _, p := range pairs {
		if fixUTF8(p.got) != p.want {
			return fmt.Sprintf("shape %v: %s = %q, reference %q", shape, p.what, p.got, p.want)
		}
	}
	return ""
}

// sysFieldNames returns the EventData names the detector reads.
func sysFieldNames() map[string]sysField {
	out := map[string]sysField{}
	for _, name := range []string{"User", "CommandLine", "CurrentDirectory", "Image", "ProcessGuid", "Hashes",
		"ProcessId", "IntegrityLevel", "ParentCommandLine", "ParentImage", "ParentProcessGuid", "ParentProcessId", "UtcTime"} {
		f, ok := sysFieldByName(name)
		if !ok {
			panic(name)
		}
		out[name] = f
	}
	if len(out) != int(numSysFields) {
		panic("sysFieldNames is missing a field")
	}
	return out
}

// refOutput lists the seed rule's output fields with their Sysmon source,
// from the table in rule-semantics.md.
var refOutput = map[string]struct {
	src  string
	base bool
}{
	"user": {"User", false}, "process": {"CommandLine", false},
	"process_current_directory": {"CurrentDirectory", false}, "process_exec": {"Image", true},
	"process_guid": {"ProcessGuid", false}, "process_hash": {"Hashes", false},
	"process_id": {"ProcessId", false}, "process_integrity_level": {"IntegrityLevel", false},
	"process_name": {"Image", true}, "process_path": {"Image", false},
	"parent_process":      {"ParentCommandLine", false},
	"parent_process_exec": {"ParentImage", true}, "parent_process_guid": {"ParentProcessGuid", false},
	"parent_process_id": {"ParentProcessId", false}, "parent_process_name": {"ParentImage", true},
	"parent_process_path": {"ParentImage", false},
}

var refParent = regexp.MustCompile(`(?i)(spoolsv|powershell|pwsh|cmd|svchost|winlogon|taskhost|wininit)\.exe`)

// refBaseRest is what must follow the backslash that the add-on's
// replace(x, "(.*\\)(?=.*(\.\w*)$|(\w+)$)", "") strips up to.
var refBaseRest = regexp.MustCompile(`^(?:.*\.\w*|\w+)$`)

// refBasename is the add-on's basename, line by line (PCRE's . stops at a
// newline), stripping up to the last backslash whose rest qualifies.
func refBasename(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		for j := len(l) - 1; j >= 0; j-- {
			if l[j] == '\\' && refBaseRest.MatchString(l[j+1:]) {
				lines[i] = l[j+1:]
				break
			}
		}
	}
	return strings.Join(lines, "\n")
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// refVerdict is the seed rule applied to a reference reading, as
// rule-semantics.md states it: "nomatch", "near_miss", an error reason, or
// "match" with the host, time text and fields (by CIM name).
type refOutcome struct {
	result string   // "match", "nomatch", or a Reason
	near   NearMiss // with "nomatch"
	host   string
	time   string
	fields map[string]string
}

// refSysmonEID1 is the rule's Sysmon and event id tests on the fields.
func refSysmonEID1(ref refRecord) bool {
	if (ref.channel != "" || ref.provider != "") &&
		!strings.Contains(asciiLower(ref.channel), "sysmon") && !strings.Contains(asciiLower(ref.provider), "sysmon") {
		return false
	}
	return ref.eventID == "1"
}

func refSelect(ref refRecord) refOutcome {
	if !refSysmonEID1(ref) {
		return refOutcome{result: "nomatch"}
	}
	parent := ref.data["ParentImage"]
	if parent == "" || !refParent.MatchString(refBasename(parent)) {
		return refOutcome{result: "nomatch"}
	}
	if strings.TrimSpace(ref.host) == "" {
		return refOutcome{result: string(ReasonMissingHost)}
	}
	ts := ref.data["UtcTime"]
	if ts == "" {
		ts = ref.evtTime
	}
	if _, ok := parseTime(ts); !ok { // the time grammar is tested on its own (TestParseTime, the golden cases)
		return refOutcome{result: string(ReasonBadTime)}
	}
	out := refOutcome{result: "match", host: ref.host, time: ts, fields: map[string]string{}}
	for name, o := range refOutput {
		v := ref.data[o.src]
		if o.base {
			v = refBasename(v)
		}
		out.fields[name] = v
	}
	return out
}

// diffJSONVerdict compares Evaluate (auto shape, seed rule with every known
// field) with the rule applied to the reference reading.
func diffJSONVerdict(d *Detector, raw []byte) string {
	body := refTrimStart(raw)
	if len(body) > 0 && body[0] == '<' {
		return ""
	}
	want := refOutcome{result: "nomatch"}
	if naiveToken(string(raw), d.rule.Term) {
		if len(body) == 0 {
			want.result = string(ReasonMalformed)
		} else if ref, reason := refReadJSON(body, ShapeAuto); reason != "" {
			want.result = string(reason)
		} else {
			want = refSelect(ref)
		}
	}
	return compareOutcome(d, raw, want)
}

func allFieldsDetector(t testing.TB) *Detector {
	t.Helper()
	r := SeedRule()
	r.Fields = KnownFields()
	d, err := New(r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// jsonTestRecords gathers every JSON record the tests have: generated
// records in every shape, the golden inputs, the real no-match corpus
// (MSIGUARD_CORPUS replaces it, e.g. by all real recordings).
func jsonTestRecords(t testing.TB) [][]byte {
	var records [][]byte
	base := sysmonEvent()
	for _, s := range Shapes() {
		if s == ShapeXML {
			continue
		}
		records = append(records, []byte(base.build(s)),
			[]byte(base.with(func(e *ev) { e.computer = ""; e.utcTime = "" }).build(s)),
			[]byte(base.with(func(e *ev) { e.eventID = "1"; e.data["ProcessId"] = 42 }).build(s)))
	}
	records = append(records, duplicateKeyRecords()...)
	files, _ := filepath.Glob("testdata/golden/*/input.jsonl")
	files = append(files, corpusPath)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 1<<26)
		for sc.Scan() {
			records = append(records, append([]byte(nil), sc.Bytes()...))
		}
	}
	return records
}

// TestJSONAgainstReference compares the production reader with the
// encoding/json reference on every JSON record the tests have, in every
// shape, and the whole evaluation with the rule applied to the reference.
//
//	MSIGUARD_CORPUS=/tmp/allreal.jsonl go test -run TestJSONAgainstReference ./detector/
func TestJSONAgainstReference(t *testing.T) {
	d := allFieldsDetector(t)
	records := jsonTestRecords(t)
	if len(records) < 1000 {
		t.Fatalf("only %d records to compare", len(records))
	}
	bad := 0
	for i, raw := range records {
		for _, shape := range jsonShapes {
			if diff := diffJSONRecord(raw, shape); diff != "" {
				if bad++; bad <= 10 {
					t.Errorf("record %d: %s\n%s", i, diff, clipRecord(string(raw)))
				}
			}
		}
		if diff := diffJSONVerdict(d, raw); diff != "" {
			if bad++; bad <= 10 {
				t.Errorf("record %d: %s\n%s", i, diff, clipRecord(string(raw)))
			}
		}
	}
	t.Logf("%d records compared in %d shapes", len(records), len(jsonShapes))
}

// FuzzJSON is the differential fuzzer of the JSON path: on any bytes the
// production reader (gjson) and the encoding/json reference must give the
// same reason or the same record in every shape, and Evaluate the same
// verdict, host, time and fields as the rule applied to the reference.
func FuzzJSON(f *testing.F) {
	for _, r := range duplicateKeyRecords() {
		f.Add(r)
	}
	base := sysmonEvent()
	for _, s := range Shapes() {
		if s != ShapeXML {
			f.Add([]byte(base.build(s)))
		}
	}
	f.Add([]byte(`{"EventID":1,"CommandLine":"msiexec","x":[[[[1]]]],"n":1e999999,"s":"\ud800\u00e9\\\"","b":true}`))
	f.Add([]byte("\ufeff \ufeff{\"EventID\":\"1\",\"Image\":\"msiexec \xff\"}"))
	d := allFieldsDetector(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, shape := range jsonShapes {
			if diff := diffJSONRecord(raw, shape); diff != "" {
				t.Fatalf("%s\n%q", diff, raw)
			}
		}
		if diff := diffJSONVerdict(d, raw); diff != "" {
			t.Fatalf("%s\n%q", diff, raw)
		}
	})
}

func clipRecord(s string) string {
	if len(s) > 600 {
		return s[:600] + "..."
	}
	return strings.TrimSpace(s)
}
