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

	"github.com/msiguard/msiguard/internal/corpus"
)

// jsonShapes are the shapes a JSON record can be read as, plus ShapeAuto.
var jsonShapes = []Shape{ShapeAuto, ShapeWinlogbeat, ShapeWinlogbeatECS, ShapeWinlogbeat6, ShapeFlat, ShapeEVTXList, ShapeEVTXMap}

// diffJSONRecord reads raw with the production reader and the reference in
// every shape and describes the first difference ("" when they agree).
func diffJSONRecord(raw []byte) string {
	body := trimRecordStart(raw)
	if len(body) == 0 || body[0] == '<' {
		return "" // not JSON: evaluate never hands it to the JSON reader
	}
	root, rootReason := refParseJSON(refTrimStart(raw))
	for _, shape := range jsonShapes {
		if d := diffJSONShape(body, shape, root, rootReason); d != "" {
			return d
		}
	}
	return ""
}

func diffJSONShape(body []byte, shape Shape, root *jnode, rootReason Reason) string {
	var r record
	err := checkJSON(body, shape)
	if err == nil {
		err = readJSON(string(body), shape, &r)
	}
	ref, refReason := refReadTree(root, rootReason, shape)
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
	if d := diffRecords(r, ref); d != "" {
		return fmt.Sprintf("shape %v: %s", shape, d)
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
	if corpus.PlainToken(string(raw), "msiexec") {
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
	// The seed rule with parent_process too: every CIM field of event 1.
	// The references read values whole, so the caps on hosts and values are
	// set out of reach here (FuzzJSON found a host of 887 bytes, cut by the
	// default cap); TestCapValue and TestEvaluateCapsValues test the caps.
	return seedVariant(t, Options{Limits: Limits{MaxHostBytes: 1 << 30, MaxValueBytes: 1 << 30}}, seedTable, "parent_process_name, parent_process, parent_process_*")
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
		if diff := diffJSONRecord(raw); diff != "" {
			if bad++; bad <= 10 {
				t.Errorf("record %d: %s\n%s", i, diff, clipRecord(string(raw)))
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
// verdict, host, time and fields as the rule applied to the reference. Each
// input is tried as a record, spliced into matching records, and as the
// choices of genJSON.
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
	var templates []string
	for _, s := range []Shape{ShapeFlat, ShapeEVTXList, ShapeWinlogbeatECS} {
		rec := base.with(func(e *ev) { e.data["CommandLine"] = "msiexec HOLE /q" }).build(s)
		plain := strings.Replace(rec, `"msiexec HOLE /q"`, `"msiexec /q"`, 1)
		templates = append(templates,
			strings.Replace(rec, "HOLE", fuzzHole, 1),                                     // inside a string
			strings.Replace(rec, `"msiexec HOLE /q"`, fuzzHole, 1),                        // a value
			strings.Replace(rec, `"msiexec HOLE /q"`, `"msiexec /q",`+fuzzHole+`:"x"`, 1), // a key
			plain[:len(plain)-1]+","+fuzzHole+"}")                                         // a top-level member
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		recs := append([][]byte{raw, genJSON(raw)}, spliceSome(templates, raw)...)
		for _, rec := range recs {
			if diff := diffJSONRecord(rec); diff != "" {
				t.Fatalf("%s\n%q", diff, rec)
			}
			if diff := diffJSONVerdict(d, rec); diff != "" {
				t.Fatalf("%s\n%q", diff, rec)
			}
		}
	})
}

func clipRecord(s string) string {
	if len(s) > 600 {
		return s[:600] + "..."
	}
	return strings.TrimSpace(s)
}

// genJSON turns fuzz bytes into a JSON record built from the names the
// shapes use, in the places the shapes use them, with duplicate keys, empty
// and non-string values, objects and lists wherever the bytes say, so that
// FuzzJSON meets the reading rules (first non-empty value, merged objects,
// list entries, attributes) and not only the syntax. Each byte is one
// choice; the record always holds the term, so that Evaluate reads it.
func genJSON(in []byte) []byte {
	g := jsonGen{in: in}
	var b strings.Builder
	b.WriteString("{")
	// The first choice is a skeleton, so that the deep places of a shape
	// (an EVTX list entry, process.parent) are reached often.
	switch g.pick(4) {
	case 0:
		if g.members(&b, "top", 0) > 0 {
			b.WriteString(",")
		}
	case 1:
		b.WriteString(`"Event":{"System":`)
		g.object(&b, "System", 2)
		b.WriteString(`,"EventData":{"Data":[`)
		for n, i := g.pick(4)+1, 0; i < n; i++ {
			g.object(&b, "attrs", 4)
			b.WriteString(",")
		}
		b.WriteString(`{}]}},`)
	case 2:
		b.WriteString(`"winlog":`)
		g.object(&b, "winlog", 1)
		b.WriteString(`,"process":`)
		g.object(&b, "process", 1)
		b.WriteString(`,"user":`)
		g.object(&b, "user", 1)
		b.WriteString(",")
	default:
		b.WriteString(`"EventID":1,`)
		if g.members(&b, "flat", 0) > 0 {
			b.WriteString(",")
		}
	}
	b.WriteString(`"z":"msiexec"}`)
	return []byte(b.String())
}

type jsonGen struct {
	in []byte
	i  int
}

var sysmonNames = []string{"Image", "ParentImage", "CommandLine", "UtcTime", "User", "ProcessId", "Hashes", "Data", "x"}

// genKeys lists the keys of each kind of object, and genChild the kind of
// the object a key holds.
var genKeys = map[string][]string{
	"top": append([]string{"Event", "winlog", "event_data", "process", "user", "event", "EventID", "Computer",
		"Hostname", "Channel", "SourceName", "Provider", "@timestamp", "TimeGenerated", "TimeCreated", "event_id",
		"computer_name", "log_name", "source_name"}, sysmonNames...),
	"Event":      {"System", "EventData", "x"},
	"System":     {"EventID", "Channel", "Computer", "Provider", "TimeCreated", "x"},
	"attrs":      {"@Name", "Name", "#attributes", "@SystemTime", "SystemTime", "#text", "@Qualifiers"},
	"EventData":  sysmonNames,
	"winlog":     {"event_id", "channel", "provider_name", "computer_name", "event_data", "x"},
	"event_data": sysmonNames,
	"process":    {"executable", "command_line", "pid", "entity_id", "working_directory", "parent", "x"},
	"user":       {"name", "domain", "x"},
	"event":      {"code", "x"},
	"flat": append([]string{"Computer", "Hostname", "Channel", "SourceName", "Provider", "@timestamp",
		"TimeGenerated", "TimeCreated", "EventID"}, sysmonNames...),
}

var genChild = map[string]string{
	"Event": "Event", "System": "System", "EventData": "EventData", "Data": "attrs", "Provider": "attrs",
	"TimeCreated": "attrs", "EventID": "attrs", "#attributes": "attrs", "winlog": "winlog", "event_data": "event_data",
	"process": "process", "parent": "process", "user": "user", "event": "event",
}

var genStrings = []string{"", "1", "10", " ", "msiexec /i x.msi", `C:\\Windows\\System32\\cmd.exe`,
	`C:\\Windows\\explorer.exe`, "Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon", "Security",
	"WS01", "2025-01-02 03:04:05.678", "2025-01-02T03:04:05Z", "ParentImage", "Image", "CommandLine", "UtcTime",
	"User", `\u0041\ud800`}

func (g *jsonGen) pick(n int) int {
	if g.i >= len(g.in) {
		return 0
	}
	c := g.in[g.i]
	g.i++
	return int(c) % n
}

func (g *jsonGen) value(b *strings.Builder, kind string, depth int) {
	switch k := g.pick(10); {
	case k < 4 || kind == "" || depth >= 6:
		b.WriteString(`"` + genStrings[g.pick(len(genStrings))] + `"`)
	case k == 4:
		b.WriteString([]string{"1", "1.0", "10", "-0", "1e999", "null", "true", "false"}[g.pick(8)])
	case k < 8:
		g.object(b, kind, depth+1)
	default:
		b.WriteByte('[')
		for n, i := g.pick(4), 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			g.value(b, kind, depth+1)
		}
		b.WriteByte(']')
	}
}

func (g *jsonGen) object(b *strings.Builder, kind string, depth int) {
	b.WriteByte('{')
	g.members(b, kind, depth)
	b.WriteByte('}')
}

// members writes up to six members of an object of the kind, separated by
// commas, and reports how many.
func (g *jsonGen) members(b *strings.Builder, kind string, depth int) int {
	keys := genKeys[kind]
	n := g.pick(6) + 1
	i := 0
	for ; i < n && g.i < len(g.in); i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		k := keys[g.pick(len(keys))]
		b.WriteString(`"` + k + `":`)
		g.value(b, genChild[k], depth)
	}
	return i
}
