package backtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/window"
)

// genSet is a generated input with its known answer.
type genSet struct {
	lines []string
	want  []wantLine // per line, as the oracle would write it
}

func (g *genSet) text(sep string) string { return strings.Join(g.lines, sep) + sep }

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// match adds a flat (NXLog-style) Sysmon process creation that the seed
// rule selects, with the fields the alert will carry.
func (g *genSet) match(host string, t time.Time, pid int, parent string) {
	utc := t.UTC().Format("2006-01-02 15:04:05.000")
	f := map[string]string{
		"user":                      `CORP\analyst`,
		"process":                   fmt.Sprintf(`msiexec.exe /q /i "C:\Temp\pkg%d.msi"`, pid%7),
		"process_current_directory": `C:\Temp\`,
		"process_exec":              "msiexec.exe",
		"process_guid":              fmt.Sprintf("{b7f1c3a2-0000-6643-%04x-000000000a01}", pid),
		"process_hash":              "SHA256=4B1E3C8D2A9F0E7D6C5B4A39281706F5E4D3C2B1A09F8E7D6C5B4A3928170615",
		"process_id":                fmt.Sprint(pid),
		"process_integrity_level":   "High",
		"process_name":              "msiexec.exe",
		"process_path":              `C:\Windows\System32\msiexec.exe`,
		"parent_process_exec":       parent,
		"parent_process_guid":       "{b7f1c3a2-5ef5-6643-1bf5-000000000bf5}",
		"parent_process_id":         "4336",
		"parent_process_name":       parent,
		"parent_process_path":       `C:\Windows\System32\` + parent,
	}
	line := `{"SourceName":"Microsoft-Windows-Sysmon","Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":` + jsonString(host) +
		`,"EventID":1,"UtcTime":"` + utc + `","ProcessGuid":` + jsonString(f["process_guid"]) +
		`,"ProcessId":"` + f["process_id"] + `","Image":` + jsonString(f["process_path"]) +
		`,"CommandLine":` + jsonString(f["process"]) + `,"CurrentDirectory":` + jsonString(f["process_current_directory"]) +
		`,"User":` + jsonString(f["user"]) + `,"IntegrityLevel":"High","Hashes":` + jsonString(f["process_hash"]) +
		`,"ParentProcessGuid":` + jsonString(f["parent_process_guid"]) + `,"ParentProcessId":"4336","ParentImage":` + jsonString(f["parent_process_path"]) + `}`
	g.lines = append(g.lines, line)
	ns := t.UnixNano()
	g.want = append(g.want, wantLine{Line: int64(len(g.lines)), Result: "match", Host: host,
		Time: time.Unix(0, ns).UTC().Format(time.RFC3339Nano), Fields: f})
}

// noise adds a record that cannot match: most without the term, some with
// msiexec under a parent the rule does not list.
func (g *genSet) noise(r *rand.Rand, host string, t time.Time) {
	var line string
	if r.IntN(10) == 0 {
		line = `{"SourceName":"Microsoft-Windows-Sysmon","Hostname":"` + host + `","EventID":1,"UtcTime":"` + t.UTC().Format("2006-01-02 15:04:05.000") +
			`","Image":"C:\\Windows\\System32\\msiexec.exe","CommandLine":"msiexec /i x.msi","ParentImage":"C:\\Windows\\explorer.exe"}`
	} else {
		line = `{"SourceName":"Microsoft-Windows-Sysmon","Hostname":"` + host + `","EventID":10,"UtcTime":"` + t.UTC().Format("2006-01-02 15:04:05.000") +
			`","SourceImage":"C:\\Windows\\system32\\svchost.exe","TargetImage":"C:\\Windows\\system32\\lsass.exe","GrantedAccess":"0x1010","Pad":"` + strings.Repeat("x", r.IntN(400)) + `"}`
	}
	g.lines = append(g.lines, line)
	g.want = append(g.want, wantLine{Line: int64(len(g.lines)), Result: "nomatch"})
}

// bad adds a record the detector must dead-letter, for each reason the
// engine sees in files.
func (g *genSet) bad(kind int, t time.Time) {
	var line, reason string
	switch kind % 4 {
	case 0:
		line, reason = `{"Image":"C:\\Windows\\System32\\msiexec.exe","ParentImage":`, "malformed"
	case 1:
		line, reason = `{"nothing":"like sysmon","cmd":"msiexec /i x.msi"}`, "unknown_shape"
	case 2: // matches the rule but names no computer
		line, reason = `{"SourceName":"Microsoft-Windows-Sysmon","EventID":1,"UtcTime":"`+t.UTC().Format("2006-01-02 15:04:05.000")+
			`","Image":"C:\\Windows\\System32\\msiexec.exe","ParentImage":"C:\\Windows\\System32\\cmd.exe"}`, "missing_host"
	case 3:
		line, reason = `{"SourceName":"Microsoft-Windows-Sysmon","Hostname":"WS-X","EventID":1,"UtcTime":"yesterday",`+
			`"Image":"C:\\Windows\\System32\\msiexec.exe","ParentImage":"C:\\Windows\\System32\\cmd.exe"}`, "bad_time"
	}
	g.lines = append(g.lines, line)
	g.want = append(g.want, wantLine{Line: int64(len(g.lines)), Result: "error", Reason: reason})
}

// generate makes n lines from 6 hosts over about n/50 seconds, with event
// times up to 1.5 s out of order, 3% matches, 0.5% dead letters.
func generate(seed uint64, n int) *genSet {
	r := rand.New(rand.NewPCG(seed, 1))
	g := &genSet{}
	base := time.Date(2025, 3, 6, 10, 0, 0, 0, time.UTC)
	hosts := []string{"WS01.corp.example", "WS02.corp.example", "SRV-DB", "ws03", "LAPTOP-ÄÖ", "dc01.corp.example"}
	parents := []string{"cmd.exe", "powershell.exe", "svchost.exe", "WINLOGON.EXE", "dsregcmd.exe"}
	for i := range n {
		t := base.Add(time.Duration(i)*20*time.Millisecond - time.Duration(r.IntN(1500))*time.Millisecond)
		host := hosts[r.IntN(len(hosts))]
		switch p := r.IntN(1000); {
		case p < 30:
			g.match(host, t, 1000+r.IntN(50), parents[r.IntN(len(parents))])
		case p < 35:
			g.bad(r.IntN(4), t)
		default:
			g.noise(r, host, t)
		}
	}
	return g
}

// TestGeneratedKnownAnswers replays a generated set whose answer is known by
// construction, in many block sizes and worker counts, plain, gzip, CRLF and
// unterminated: the alerts must equal the batch grouping, the dead letters
// the planted ones, and the bytes must not depend on how the work was split.
func TestGeneratedKnownAnswers(t *testing.T) {
	g := generate(1, 12000)
	expected := groupOracle(t, g.want)
	text := g.text("\n")

	ref := runFiles(t, Config{}, [2]string{"gen.jsonl", text})
	diffExpected(t, mergeAlerts(ref.alerts(t)), expected)
	checkSorted(t, ref.alerts(t))
	checkDeadLetters(t, ref, g, "gen.jsonl")
	if ref.sum.Records != int64(len(g.lines)) || ref.sum.Bytes != int64(len(text)) {
		t.Errorf("summary: %d records %d bytes, want %d %d", ref.sum.Records, ref.sum.Bytes, len(g.lines), len(text))
	}
	t.Logf("%d lines, %d alerts, %d late, %d revisions, %d dead letters", len(g.lines), ref.sum.Alerts, ref.sum.LateAlerts, ref.sum.Revisions, ref.sum.DeadLettersTotal)

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(text))
	zw.Close()
	// Two gzip members back to back read as one stream, like `cat a.gz b.gz`.
	var gz2 bytes.Buffer
	half := len(text) / 2
	half = strings.IndexByte(text[half:], '\n') + half + 1
	for _, part := range []string{text[:half], text[half:]} {
		zw := gzip.NewWriter(&gz2)
		zw.Write([]byte(part))
		zw.Close()
	}
	variants := []struct {
		name string
		cfg  Config
		data string
	}{
		{"workers1-block4k", Config{Workers: 1, BlockSize: 4096}, text},
		{"workers3-block1k", Config{Workers: 3, BlockSize: 1024}, text},
		{"workers8-block64k", Config{Workers: 8, BlockSize: 64 << 10}, text},
		{"gzip", Config{BlockSize: 8192}, gz.String()},
		{"gzip-two-members", Config{BlockSize: 8192}, gz2.String()},
		{"crlf", Config{BlockSize: 5000}, g.text("\r\n")},
		{"no-final-newline", Config{BlockSize: 3000}, strings.TrimSuffix(text, "\n")},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			got := runFiles(t, v.cfg, [2]string{"gen.jsonl", v.data})
			if !bytes.Equal(got.out, ref.out) {
				t.Errorf("alerts differ from the reference run (%d vs %d bytes)", len(got.out), len(ref.out))
			}
			if !bytes.Equal(got.dlq, ref.dlq) {
				t.Errorf("dead letters differ from the reference run:\n%s\nvs\n%s", firstDiff(got.dlq, ref.dlq), "")
			}
			if got.sum.Records != ref.sum.Records {
				t.Errorf("%d records, want %d", got.sum.Records, ref.sum.Records)
			}
		})
	}

	// The same lines split over two files: the same alert content, with
	// sources numbered per file.
	t.Run("two-files", func(t *testing.T) {
		got := runFiles(t, Config{BlockSize: 2048}, [2]string{"a.jsonl", text[:half]}, [2]string{"b.jsonl", text[half:]})
		diffExpected(t, mergeAlerts(got.alerts(t)), expected)
		nA := int64(strings.Count(text[:half], "\n"))
		for _, dl := range got.deadLetters(t) {
			line := dl.Line
			if dl.File == "b.jsonl" {
				line += nA
			}
			if w := g.want[line-1]; w.Result != "error" || w.Reason != dl.Reason {
				t.Errorf("dead letter %s:%d %s is line %d of the set: %+v", dl.File, dl.Line, dl.Reason, line, w)
			}
		}
		for _, a := range got.alerts(t) {
			for _, s := range a.Sources {
				line := s.Line
				if s.File == "b.jsonl" {
					line += nA
				}
				if w := g.want[line-1]; w.Result != "match" || w.Host != a.Host {
					t.Errorf("alert %s names source %s:%d, line %d of the set: %+v", a.AlertID, s.File, s.Line, line, w)
				}
			}
		}
	})
}

func firstDiff(a, b []byte) string {
	la, lb := splitLines(a), splitLines(b)
	for i := range min(len(la), len(lb)) {
		if !bytes.Equal(la[i], lb[i]) {
			return fmt.Sprintf("line %d:\n%s\n%s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("%d lines vs %d", len(la), len(lb))
}

func checkDeadLetters(t *testing.T, r result, g *genSet, file string) {
	t.Helper()
	var want []string
	for _, w := range g.want {
		if w.Result == "error" {
			want = append(want, fmt.Sprintf("%s:%d:%s:%s", file, w.Line, w.Reason, g.lines[w.Line-1]))
		}
	}
	var got []string
	for _, dl := range r.deadLetters(t) {
		got = append(got, fmt.Sprintf("%s:%d:%s:%s", dl.File, dl.Line, dl.Reason, dl.Text))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("dead letters: got %d, want %d\n%s", len(got), len(want), firstDiff([]byte(strings.Join(got, "\n")), []byte(strings.Join(want, "\n"))))
	}
}

// TestLateAndRevisedRecords plants a record that arrives after its bucket
// was emitted but while it is still revisable (a revision), and one after
// the bucket was forgotten (a late alert of its own), and checks both
// outputs: final alerts and every revision.
func TestLateAndRevisedRecords(t *testing.T) {
	g := &genSet{}
	t0 := time.Date(2025, 3, 6, 10, 0, 0, 250e6, time.UTC)
	g.match("A", t0, 1001, "cmd.exe")
	// Three other hosts move the event-time watermark 3 minutes on: A's
	// bucket is emitted (idle) but stays revisable (Retain 10m).
	g.others(t0, 0, 180, 1)
	g.match("A", t0.Add(100*time.Millisecond), 1002, "powershell.exe") // revision 2 of A's bucket
	g.others(t0, 180, 1500, 5)                                         // 25 minutes: A's bucket is forgotten
	lateLine := int64(len(g.lines) + 1)
	g.match("A", t0.Add(300*time.Millisecond), 1003, "svchost.exe") // late

	r := runFiles(t, Config{}, [2]string{"late.jsonl", g.text("\n")})
	sec := t0.Unix()
	var onTime, late *window.Alert
	for _, a := range r.alerts(t) {
		if a.Host == "A" {
			if a.Late {
				late = a
			} else {
				onTime = a
			}
		}
	}
	if onTime == nil || late == nil {
		t.Fatalf("want an on-time and a late alert for host A, got %v %v", onTime, late)
	}
	if onTime.EventCount != 2 || onTime.Revision != 2 || onTime.AlertID != window.AlertID("24143.44553", "A", sec) {
		t.Errorf("on-time alert: count %d revision %d id %s", onTime.EventCount, onTime.Revision, onTime.AlertID)
	}
	if got := onTime.Values("parent_process_name"); strings.Join(got, ",") != "cmd.exe,powershell.exe" {
		t.Errorf("on-time alert parents %v", got)
	}
	wantLate := window.LateAlertID("24143.44553", "A", sec, t0.Add(300*time.Millisecond).UnixNano(), window.Source{File: "late.jsonl", Line: lateLine})
	if late.EventCount != 1 || late.AlertID != wantLate || late.Time != sec {
		t.Errorf("late alert: count %d id %s (want %s) time %d", late.EventCount, late.AlertID, wantLate, late.Time)
	}
	if r.sum.LateAlerts != 1 || r.sum.LateEvents != 1 {
		t.Errorf("summary: %d late alerts, %d late events; want 1, 1", r.sum.LateAlerts, r.sum.LateEvents)
	}
	checkSorted(t, r.alerts(t))
	if as := r.alerts(t); as[0] != nil && (as[0].Host != "A" || as[1].Host != "A" || !as[1].Late) {
		t.Errorf("want A's on-time then late alert first, got %s %s", as[0].Host, as[1].Host)
	}

	// Every revision, in emission order: A's bucket appears twice.
	rv := runFiles(t, Config{EmitRevisions: true}, [2]string{"late.jsonl", g.text("\n")})
	var revs []int
	for _, a := range rv.alerts(t) {
		if a.Host == "A" && !a.Late {
			revs = append(revs, a.Revision)
		}
	}
	if fmt.Sprint(revs) != "[1 2]" {
		t.Errorf("revisions of A's alert: %v, want [1 2]", revs)
	}
	if rv.sum.AlertsWritten != rv.sum.Alerts+rv.sum.Revisions {
		t.Errorf("with revisions: %d lines written, %d alerts + %d revisions", rv.sum.AlertsWritten, rv.sum.Alerts, rv.sum.Revisions)
	}
}

// others adds a match for each of hosts B, C and D at seconds from+1,
// from+1+step, ... (below to+1) after t0: other hosts' buckets, moving the
// event-time watermark on.
func (g *genSet) others(t0 time.Time, from, to, step int) {
	for i := from; i < to; i += step {
		for _, h := range []string{"B", "C", "D"} {
			g.match(h, t0.Add(time.Duration(i+1)*time.Second), 2000+i, "cmd.exe")
		}
	}
}

// TestRetainBucketsCap: with RetainBuckets reached, the oldest revisable
// alert is forgotten before Retain, so an event arriving later for it makes
// a late alert, and the summary says so; with room, the same input revises
// the alert.
func TestRetainBucketsCap(t *testing.T) {
	g := &genSet{}
	t0 := time.Date(2025, 3, 6, 10, 0, 0, 250e6, time.UTC)
	g.match("A", t0, 1001, "cmd.exe")
	g.others(t0, 0, 30, 1) // 90 buckets of three other hosts, all within Retain
	g.match("A", t0.Add(100*time.Millisecond), 1002, "powershell.exe")
	in := [2]string{"cap.jsonl", g.text("\n")}

	capped := runFiles(t, Config{Window: window.Config{RetainBuckets: 10}}, in)
	if capped.sum.EvictedAlerts == 0 || capped.sum.LateAlerts != 1 {
		t.Errorf("RetainBuckets 10: %d evicted, %d late alerts; want some evicted and A's late alert", capped.sum.EvictedAlerts, capped.sum.LateAlerts)
	}
	var text strings.Builder
	if err := capped.sum.WriteText(&text); err != nil || !strings.Contains(text.String(), "--retain-buckets") {
		t.Errorf("summary text does not name --retain-buckets: %q (%v)", text.String(), err)
	}

	roomy := runFiles(t, Config{}, in)
	if roomy.sum.EvictedAlerts != 0 || roomy.sum.LateAlerts != 0 || roomy.sum.Revisions != 1 {
		t.Errorf("default cap: %d evicted, %d late, %d revisions; want 0, 0, 1", roomy.sum.EvictedAlerts, roomy.sum.LateAlerts, roomy.sum.Revisions)
	}
}

// TestLines covers the edges of line splitting: blank lines, a line longer
// than the block, one longer than MaxLineBytes, an empty input.
func TestLines(t *testing.T) {
	g := &genSet{}
	g.match("WS1", time.Date(2025, 3, 6, 10, 0, 0, 0, time.UTC), 1, "cmd.exe")
	long := strings.Replace(g.lines[0], `"EventID"`, `"Pad":"`+strings.Repeat("y", 20000)+`","EventID"`, 1)
	in := "\n\n" + long + "\n\n" + g.lines[0] + "\n"
	r := runFiles(t, Config{BlockSize: 4096}, [2]string{"f", in})
	as := r.alerts(t)
	if len(as) != 1 || as[0].EventCount != 2 || r.sum.Records != 5 {
		t.Fatalf("got %d alerts, %d records", len(as), r.sum.Records)
	}
	if s := as[0].Sources; len(s) != 2 || s[0].Line != 3 || s[1].Line != 5 {
		t.Errorf("sources %+v, want lines 3 and 5", s)
	}

	var out bytes.Buffer
	e, _ := New(Config{Detector: detector.Seed(), Alerts: &out, BlockSize: 4096, MaxLineBytes: 8192})
	_, err := e.RunFiles(context.Background(), []Input{{Name: "f", R: strings.NewReader(in)}})
	if !errors.Is(err, ErrLineTooLong) || !strings.Contains(err.Error(), "f: line 3 ") {
		t.Errorf("line over MaxLineBytes: err %v", err)
	}
	e, _ = New(Config{Detector: detector.Seed(), Alerts: &out, BlockSize: 4096, MaxLineBytes: 8192})
	_, err = e.RunFiles(context.Background(), []Input{{Name: "f", Data: []byte(in)}})
	if !errors.Is(err, ErrLineTooLong) || !strings.Contains(err.Error(), "f: line 3 ") {
		t.Errorf("line over MaxLineBytes, in memory: err %v", err)
	}
	out.Reset()
	e, _ = New(Config{Detector: detector.Seed(), Alerts: &out, BlockSize: 4096})
	if _, err = e.RunFiles(context.Background(), []Input{{Name: "f", Data: []byte(in)}}); err != nil || !bytes.Equal(out.Bytes(), r.out) {
		t.Errorf("in memory: err %v, output differs", err)
	}

	utf16 := "\xff\xfe{\x00\"\x00"
	for _, in := range []Input{{Name: "u", R: strings.NewReader(utf16)}, {Name: "u", Data: []byte(utf16)}} {
		e, _ = New(Config{Detector: detector.Seed(), Alerts: &out})
		if _, err := e.RunFiles(context.Background(), []Input{in}); !errors.Is(err, ErrUTF16) {
			t.Errorf("UTF-16 input (mapped=%v): err %v", in.Data != nil, err)
		}
	}

	r = runFiles(t, Config{}, [2]string{"empty", ""})
	if len(r.out) != 0 || r.sum.Records != 0 {
		t.Errorf("empty input: %q, %d records", r.out, r.sum.Records)
	}
}

// TestOpenFile replays the generated set from disk, mapped and plain gzip,
// through OpenFile: the same bytes as from a reader.
func TestOpenFile(t *testing.T) {
	g := generate(3, 5000)
	text := g.text("\n")
	ref := runFiles(t, Config{BlockSize: 4096}, [2]string{"gen.jsonl", text})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(text))
	zw.Close()
	for _, data := range [][]byte{[]byte(text), gz.Bytes()} {
		path := writeTemp(t, "gen.jsonl", data)
		in, closeIn, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		in.Name = "gen.jsonl"
		var out, dlq bytes.Buffer
		e, _ := New(Config{Detector: detector.Seed(), Alerts: &out, DeadLetters: &dlq, BlockSize: 4096})
		sum, err := e.RunFiles(context.Background(), []Input{in})
		if err != nil {
			t.Fatal(err)
		}
		if err := closeIn(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), ref.out) || !bytes.Equal(dlq.Bytes(), ref.dlq) {
			t.Errorf("%s (mapped=%v): output differs from the reader run", path, in.Data != nil)
		}
		if sum.InputBytes != int64(len(data)) || e.Progress().Done != 1 {
			t.Errorf("input bytes %d of %d, done %v", sum.InputBytes, len(data), e.Progress().Done)
		}
	}
}

// TestDeadLetterEncoding: a record that is not valid UTF-8 is kept byte for
// byte as text_base64; XML keeps its angle brackets unescaped.
func TestDeadLetterEncoding(t *testing.T) {
	bad := "{\"cmd\":\"msiexec \xff\xfe\","
	xml := `<Event><System><EventID>1</EventID><Computer>WS1</Computer></System><EventData><Data Name='Image'>msiexec.exe</Data>`
	r := runFiles(t, Config{}, [2]string{"f", bad + "\n" + xml + "\n"})
	dls := r.deadLetters(t)
	if len(dls) != 2 {
		t.Fatalf("%d dead letters: %s", len(dls), r.dlq)
	}
	if string(dls[0].TextBase64) != bad || dls[0].Text != "" || dls[0].Line != 1 || dls[0].Reason != "malformed" {
		t.Errorf("invalid UTF-8: %+v", dls[0])
	}
	if dls[1].Text != xml || !bytes.Contains(r.dlq, []byte("<EventID>1</EventID>")) || dls[1].Line != 2 {
		t.Errorf("XML: %+v\n%s", dls[1], r.dlq)
	}
}
