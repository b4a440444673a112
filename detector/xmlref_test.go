// An independent reader of XML records for differential tests: encoding/xml
// builds a tree of the whole record, and the documented reading rules
// (DESIGN.md, section Detector; xml.go) are queries over that tree.

package detector

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/msiguard/msiguard/internal/corpus"
)

type xnode struct {
	local    string
	attrs    []xml.Attr
	children []*xnode
	content  []any // string (character data) or *xnode, in document order
}

// refParseXML builds the tree, or returns the reason the record is refused.
func refParseXML(raw []byte) (*xnode, Reason) {
	dec := xml.NewDecoder(bytes.NewReader(raw))
	var root *xnode
	var stack []*xnode
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, ReasonMalformed
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &xnode{local: t.Name.Local, attrs: t.Attr}
			if len(stack) == 0 {
				if root != nil {
					return nil, ReasonMalformed // a second root element
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
				p.content = append(p.content, n)
			}
			stack = append(stack, n)
			if len(stack) > maxDepth {
				return nil, ReasonTooDeep
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if strings.Trim(string(t), " \t\r\n") != "" {
					return nil, ReasonMalformed
				}
				continue
			}
			top := stack[len(stack)-1]
			top.content = append(top.content, string(t))
		}
	}
	if root == nil {
		return nil, ReasonMalformed
	}
	if root.local != "Event" {
		return nil, ReasonUnknownShape
	}
	return root, ""
}

// allText is the character data inside n, its descendants' included, in
// document order.
func (n *xnode) allText() string {
	var b strings.Builder
	var walk func(*xnode)
	walk = func(n *xnode) {
		for _, c := range n.content {
			switch c := c.(type) {
			case string:
				b.WriteString(c)
			case *xnode:
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}

func (n *xnode) kids(local string) []*xnode {
	var out []*xnode
	for _, c := range n.children {
		if c.local == local {
			out = append(out, c)
		}
	}
	return out
}

func (n *xnode) attr(name string) string {
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == name && a.Value != "" {
			return a.Value
		}
	}
	return ""
}

func kidsOf(nodes []*xnode, local string) []*xnode {
	var out []*xnode
	for _, n := range nodes {
		out = append(out, n.kids(local)...)
	}
	return out
}

func firstText(nodes []*xnode) string {
	for _, n := range nodes {
		if v := n.allText(); v != "" {
			return v
		}
	}
	return ""
}

func firstAttr(nodes []*xnode, name string) string {
	for _, n := range nodes {
		if v := n.attr(name); v != "" {
			return v
		}
	}
	return ""
}

func refReadXML(raw []byte) (refRecord, Reason) {
	root, reason := refParseXML(raw)
	if reason != "" {
		return refRecord{}, reason
	}
	system := root.kids("System")
	r := refRecord{shape: ShapeXML, data: map[string]string{}}
	r.eventID = firstText(kidsOf(system, "EventID"))
	r.channel = firstText(kidsOf(system, "Channel"))
	r.host = firstText(kidsOf(system, "Computer"))
	r.provider = firstAttr(kidsOf(system, "Provider"), "Name")
	r.evtTime = firstAttr(kidsOf(system, "TimeCreated"), "SystemTime")
	for _, d := range kidsOf(root.kids("EventData"), "Data") {
		if name := d.attr("Name"); name != "" {
			r.setData(name, d.allText())
		}
	}
	return r, ""
}

func diffRecords(r record, ref refRecord) string {
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
			return fmt.Sprintf("%s = %q, reference %q", p.what, p.got, p.want)
		}
	}
	return ""
}

// diffXMLRecord compares the production XML path (and its fast scanner on
// its own, when it answers) with the reference.
func diffXMLRecord(raw []byte) string {
	body := trimRecordStart(raw)
	if len(body) == 0 || body[0] != '<' {
		return ""
	}
	ref, refReason := refReadXML(refTrimStart(raw))
	var r record
	err := readXML(string(body), body, &r)
	var got Reason
	if err != nil {
		got = err.Reason
	}
	if got != refReason {
		return fmt.Sprintf("readXML says %q (%v), reference %q", got, err, refReason)
	}
	if err == nil {
		if d := diffRecords(r, ref); d != "" {
			return "readXML: " + d
		}
	}
	var fast record
	if xmlFast(string(body), &fast) {
		if refReason != "" {
			return fmt.Sprintf("the fast scanner accepts what encoding/xml refuses (%s)", refReason)
		}
		if d := diffRecords(fast, ref); d != "" {
			return "fast scanner: " + d
		}
	}
	return ""
}

var refXMLLiteral = regexp.MustCompile(`(?i)<eventid>1<`)

// diffXMLVerdict compares Evaluate with the rule applied to the reference
// reading, the raw-text literal included.
func diffXMLVerdict(d *Detector, raw []byte) string {
	body := refTrimStart(raw)
	if len(body) == 0 || body[0] != '<' {
		return ""
	}
	want := refOutcome{result: "nomatch"}
	if corpus.PlainToken(string(raw), "msiexec") {
		if ref, reason := refReadXML(body); reason != "" {
			want.result = string(reason)
		} else if refXMLLiteral.Match(raw) {
			want = refSelect(ref)
		} else if refSysmonEID1(ref) {
			want.near = NearMissEventIDLiteral
		}
	}
	return compareOutcome(d, raw, want)
}

// compareOutcome compares Evaluate's result on raw with want.
func compareOutcome(d *Detector, raw []byte, want refOutcome) string {
	m, ok, near, err := d.EvaluateNearMiss(raw)
	if m2, ok2, err2 := d.Evaluate(raw); ok2 != ok || (err2 == nil) != (err == nil) || ok && m2.Host != m.Host {
		return "Evaluate and EvaluateNearMiss disagree"
	}
	if near != want.near {
		return fmt.Sprintf("near miss %q, reference %q", near, want.near)
	}
	got := "nomatch"
	var de *Error
	switch {
	case errors.As(err, &de):
		got = string(de.Reason)
	case err != nil:
		return "Evaluate returned a non-detector error: " + err.Error()
	case ok:
		got = "match"
	}
	if got != want.result {
		return fmt.Sprintf("Evaluate says %s (%v), reference says %s", got, err, want.result)
	}
	if !ok {
		return ""
	}
	if fixUTF8(m.Host) != want.host {
		return fmt.Sprintf("host %q, reference %q", m.Host, want.host)
	}
	if wt, _ := parseTime(want.time); m.Time != wt {
		return fmt.Sprintf("time %d, reference %q", m.Time, want.time)
	}
	for i, name := range outputs(d) {
		if fixUTF8(m.Values[i]) != want.fields[name] {
			return fmt.Sprintf("%s = %q, reference %q", name, m.Values[i], want.fields[name])
		}
	}
	return ""
}

func xmlTestRecords(t *testing.T) [][]byte {
	var records [][]byte
	base := sysmonEvent()
	records = append(records, []byte(base.build(ShapeXML)),
		[]byte(base.with(func(e *ev) { e.computer = ""; e.utcTime = "" }).build(ShapeXML)),
		[]byte(base.with(func(e *ev) { e.data["CommandLine"] = `msiexec /i "a&b<c>.msi" é` }).build(ShapeXML)))
	records = append(records, xmlEdgeRecords...)
	files, _ := filepath.Glob("testdata/golden/*/input.xml.txt")
	for _, f := range files {
		records = append(records, corpus.Lines(t, f)...)
	}
	return records
}

// xmlEdgeRecords exercise what the fast scanner leaves to encoding/xml.
var xmlEdgeRecords = [][]byte{
	[]byte(`<?xml version="1.0"?><Event><System><EventID>1</EventID><Computer>WS01</Computer></System><EventData><Data Name='CommandLine'>msiexec</Data><Data Name='ParentImage'>C:\Windows\System32\cmd.exe</Data><Data Name='UtcTime'>2025-01-02 03:04:05.678</Data></EventData></Event>`),
	[]byte(`<e:Event xmlns:e='http://schemas.microsoft.com/win/2004/08/events/event'><e:System><e:EventID>1</e:EventID><e:Computer>WS01</e:Computer></e:System><e:EventData><e:Data Name='CommandLine'>msiexec</e:Data><e:Data Name='ParentImage'>C:\Windows\System32\cmd.exe</e:Data><e:Data Name='UtcTime'>2025-01-02 03:04:05.678</e:Data></e:EventData></e:Event>`),
	[]byte(`<Event><System><EventID>1</EventID><Computer>WS01</Computer></System><EventData><Data Name='CommandLine'><![CDATA[msiexec /i <x>]]></Data><Data Name='ParentImage'>C:\Windows\System32\<!-- c -->cmd.exe</Data><Data Name='UtcTime'>2025-01-02 03:04:05.678</Data></EventData></Event>`),
	[]byte("<Event><System><EventID>1</EventID><Computer>WS\r\n01</Computer></System><EventData><Data Name='CommandLine'>msiexec</Data><Data Name='ParentImage'>C:\\Windows\\System32\\cmd.exe</Data><Data Name='UtcTime'>2025-01-02 03:04:05.678</Data></EventData></Event>"),
	[]byte(`<Event><System><EventID>1</EventID><EventID>2</EventID><Computer></Computer><Computer>WS01</Computer><Provider Name=''/><Provider Name='Microsoft-Windows-Sysmon'/></System><EventData><Data Name='CommandLine'>msiexec</Data><Data Name='ParentImage'></Data><Data Name='ParentImage'>C:\Windows\System32\cmd.exe</Data><Data Name='UtcTime'>2025-01-02 03:04:05.678</Data></EventData><EventData><Data Name='ParentImage'>C:\Windows\explorer.exe</Data></EventData></Event>`),
	[]byte(`<Event><System><EventID>1</EventID></System><EventData><Data Name='CommandLine'>msiexec &#1; x</Data></EventData></Event>`),
	[]byte(`<Event><System><EventID>1</EventID></System><EventData><Data Name='CommandLine'>msiexec &#xD800; &#x41; &#65;</Data></EventData></Event>`),
	[]byte("<Event><System><EventID>1</EventID></System><EventData><Data Name='CommandLine'>msiexec \xff</Data></EventData></Event>"),
	[]byte(`<Event><System><EventID>1</EventID></System><EventData><Data Name='CommandLine'>msiexec ]]></Data></EventData></Event>`),
	[]byte(`<Event><System/><EventData><Data Name='CommandLine'>msiexec</Data></EventData></Event><Event/>`),
	[]byte(`<Event><EventData><Data Name='CommandLine'>msiexec</Data></EventData></Event> trailing`),
	[]byte(`<Events><Event><EventData><Data Name='CommandLine'>msiexec</Data></EventData></Event></Events>`),
	[]byte(`<!DOCTYPE Event><Event><EventData><Data Name='CommandLine'>msiexec</Data></EventData></Event>`),
	[]byte(`<Event><System><EventID Qualifiers=''>1</EventID><Computer>WS01</Computer></System><EventData><Data Name='CommandLine'>msiexec</Data><Data Name='ParentImage'>C:\Windows\System32\cmd.exe</Data><Data Name='UtcTime'>2025-01-02 03:04:05.678</Data></EventData></Event>`),
	[]byte(`<Event><System><eventid>1</eventid><EventID>1</EventID><Computer>WS01</Computer></System><EventData><Data Name='CommandLine'>msiexec</Data><Data Name='ParentImage'>C:\Windows\System32\cmd.exe</Data><Data Name='UtcTime'>2025-01-02 03:04:05.678</Data></EventData></Event>`),
}

// TestXMLAgainstReference runs every XML record the tests have through
// the production path, the fast scanner and the encoding/xml reference.
func TestXMLAgainstReference(t *testing.T) {
	d := allFieldsDetector(t)
	records := xmlTestRecords(t)
	fast := 0
	for i, raw := range records {
		if diff := diffXMLRecord(raw); diff != "" {
			t.Errorf("record %d: %s\n%s", i, diff, clipRecord(string(raw)))
		}
		if diff := diffXMLVerdict(d, raw); diff != "" {
			t.Errorf("record %d: %s\n%s", i, diff, clipRecord(string(raw)))
		}
		var r record
		if xmlFast(string(trimRecordStart(raw)), &r) {
			fast++
		}
	}
	// The real and derived renderings must take the fast path.
	if fast < len(records)/2 {
		t.Errorf("the fast scanner read only %d of %d records", fast, len(records))
	}
	t.Logf("%d records, %d read by the fast scanner", len(records), fast)
}

// FuzzXML is the differential fuzzer of the XML path: on any bytes the
// production reader, its fast scanner when it answers, and the reference
// built on encoding/xml must agree on well-formedness (the reason) and on
// every value read, and Evaluate with the rule applied to the reference.
func FuzzXML(f *testing.F) {
	base := sysmonEvent()
	f.Add([]byte(base.build(ShapeXML)))
	for _, r := range xmlEdgeRecords {
		f.Add(r)
	}
	d := allFieldsDetector(f)
	templates := xmlFuzzTemplates()
	f.Fuzz(func(t *testing.T, raw []byte) {
		// The input as a record, as the choices of genXML, and spliced into
		// the places of a matching record where text, attribute values and
		// markup go, so that random bytes meet the readers inside an
		// otherwise valid event.
		for _, rec := range append([][]byte{raw, genXML(raw)}, spliceSome(templates, raw)...) {
			if diff := diffXMLRecord(rec); diff != "" {
				t.Fatalf("%s\n%q", diff, rec)
			}
			if diff := diffXMLVerdict(d, rec); diff != "" {
				t.Fatalf("%s\n%q", diff, rec)
			}
		}
	})
}

// fuzzHole marks where spliceAll puts a fuzz input into a template.
const fuzzHole = "\x00HOLE\x00"

func xmlFuzzTemplates() []string {
	base := sysmonEvent().build(ShapeXML)
	return []string{
		strings.Replace(base, "msiexec /q", "msiexec "+fuzzHole+" /q", 1),                              // text
		strings.Replace(base, "<Data Name='ParentImage'>", "<Data Name='Parent"+fuzzHole+"Image'>", 1), // attribute value
		strings.Replace(base, "<EventData>", "<EventData>"+fuzzHole, 1),                                // markup
		strings.Replace(base, "<EventID>1</EventID>", "<EventID"+fuzzHole+">1</EventID>", 1),           // inside a tag
	}
}

// spliceSome returns two of the templates, chosen by in's bytes (the same
// input always gets the same ones), with their hole replaced by in: all of
// them for every input would make each execution several times slower.
func spliceSome(templates []string, in []byte) [][]byte {
	h := crc32.ChecksumIEEE(in)
	n := uint32(len(templates))
	var out [][]byte
	for _, tpl := range []string{templates[h%n], templates[(h/n+1+h%n)%n]} {
		i := strings.Index(tpl, fuzzHole)
		out = append(out, append(append([]byte(tpl[:i]), in...), tpl[i+len(fuzzHole):]...))
	}
	return out
}

// genXML turns fuzz bytes into an event built from the elements,
// attributes and text the XML shape uses, repeated, empty, nested, escaped
// or commented wherever the bytes say (the way genJSON does for JSON).
func genXML(in []byte) []byte {
	g := jsonGen{in: in}
	var b strings.Builder
	b.WriteString("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>")
	for n, i := g.pick(4)+1, 0; i < n; i++ {
		switch g.pick(3) {
		case 0:
			b.WriteString("<System>")
			for m, j := g.pick(6)+1, 0; j < m; j++ {
				g.xmlElement(&b, []string{"EventID", "Channel", "Computer", "Provider", "TimeCreated", "Version"}, 0)
			}
			b.WriteString("</System>")
		case 1:
			b.WriteString("<EventData>")
			for m, j := g.pick(6)+1, 0; j < m; j++ {
				g.xmlElement(&b, []string{"Data", "Data", "Data", "Binary"}, 0)
			}
			b.WriteString("</EventData>")
		default:
			g.xmlElement(&b, []string{"UserData", "RenderingInfo"}, 0)
		}
	}
	b.WriteString("<UserData>msiexec</UserData></Event>")
	return []byte(b.String())
}

var genXMLText = []string{"", "1", "10", " ", "msiexec /i x.msi", `C:\Windows\System32\cmd.exe`,
	`C:\Windows\explorer.exe`, "Microsoft-Windows-Sysmon/Operational", "WS01", "2025-01-02 03:04:05.678",
	"a&amp;b", "&lt;x&gt;", "&#49;", "&#x31;", "<![CDATA[1]]>", "<!-- c -->", "\n\t", "é"}

var genXMLNames = []string{"ParentImage", "Image", "CommandLine", "UtcTime", "User", "", "Image&#x31;"}

func (g *jsonGen) xmlElement(b *strings.Builder, names []string, depth int) {
	name := names[g.pick(len(names))]
	b.WriteString("<" + name)
	for n, i := g.pick(3), 0; i < n; i++ {
		attr := []string{"Name", "SystemTime", "Qualifiers"}[g.pick(3)]
		b.WriteString(" " + attr + "='" + genXMLNames[g.pick(len(genXMLNames))] + "'")
		if attr == "SystemTime" {
			b.WriteString(" SystemTime='2025-01-02T03:04:05Z'")
		}
	}
	if g.pick(5) == 0 {
		b.WriteString("/>")
		return
	}
	b.WriteString(">")
	for n, i := g.pick(3)+1, 0; i < n; i++ {
		if depth < 2 && g.pick(6) == 0 {
			g.xmlElement(b, []string{"b", "Data"}, depth+1)
		} else {
			b.WriteString(genXMLText[g.pick(len(genXMLText))])
		}
	}
	b.WriteString("</" + name + ">")
}
