package detector

import "testing"

// duplicateKeyCases are records with duplicate keys (or entries) and the
// parent_process_name that DESIGN.md's rule "with duplicate keys the first
// non-empty value wins, in every shape, list items included" gives them; ""
// means the record must not match. Each expectation is derived by hand from
// that sentence, not from the code.
var duplicateKeyCases = []struct {
	name, raw, parent string
}{
	// The divergence issue 15 reports: the old scanner kept the last "#text"
	// of an EVTX list item (explorer.exe, no match), the rule says the first.
	{"evtx-list item with two #text", `{"Event":{"System":{"Provider":{"@Name":"Microsoft-Windows-Sysmon"},"EventID":"1","Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"WS01"},"EventData":{"Data":[{"@Name":"UtcTime","#text":"2025-01-02 03:04:05.678"},{"@Name":"CommandLine","#text":"msiexec /q /i x.msi"},{"@Name":"ParentImage","#text":"C:\\Windows\\System32\\cmd.exe","#text":"C:\\Windows\\explorer.exe"}]}}}`, "cmd.exe"},
	{"evtx-list item with an empty #text first", `{"Event":{"System":{"EventID":"1","Computer":"WS01"},"EventData":{"Data":[{"@Name":"UtcTime","#text":"2025-01-02 03:04:05.678"},{"@Name":"CommandLine","#text":"msiexec /q /i x.msi"},{"@Name":"ParentImage","#text":"","#text":"C:\\Windows\\System32\\cmd.exe"}]}}}`, "cmd.exe"},
	{"evtx-list two ParentImage entries", `{"Event":{"System":{"EventID":"1","Computer":"WS01"},"EventData":{"Data":[{"@Name":"UtcTime","#text":"2025-01-02 03:04:05.678"},{"@Name":"CommandLine","#text":"msiexec /q /i x.msi"},{"@Name":"ParentImage","#text":"C:\\Windows\\explorer.exe"},{"@Name":"ParentImage","#text":"C:\\Windows\\System32\\cmd.exe"}]}}}`, ""},
	{"evtx-list item with two @Name", `{"Event":{"System":{"EventID":"1","Computer":"WS01"},"EventData":{"Data":[{"@Name":"UtcTime","#text":"2025-01-02 03:04:05.678"},{"@Name":"CommandLine","#text":"msiexec /q /i x.msi"},{"@Name":"ParentImage","@Name":"Image","#text":"C:\\Windows\\System32\\cmd.exe"}]}}}`, "cmd.exe"},
	{"evtx-list EventID #text twice, empty first", `{"Event":{"System":{"EventID":{"#text":"","#text":"1"},"Computer":"WS01"},"EventData":{"Data":[{"@Name":"UtcTime","#text":"2025-01-02 03:04:05.678"},{"@Name":"CommandLine","#text":"msiexec /q /i x.msi"},{"@Name":"ParentImage","#text":"C:\\Windows\\System32\\cmd.exe"}]}}}`, "cmd.exe"},
	{"evtx-map EventData twice", `{"Event":{"System":{"EventID":1,"Computer":"WS01"},"EventData":{"UtcTime":"2025-01-02 03:04:05.678","CommandLine":"msiexec /q /i x.msi","ParentImage":"C:\\Windows\\explorer.exe"},"EventData":{"ParentImage":"C:\\Windows\\System32\\cmd.exe"}}}`, ""},
	{"evtx-map Computer twice, empty first", `{"Event":{"System":{"EventID":1,"Computer":"","Computer":"WS01"},"EventData":{"UtcTime":"2025-01-02 03:04:05.678","CommandLine":"msiexec /q /i x.msi","ParentImage":"C:\\Windows\\System32\\cmd.exe"}}}`, "cmd.exe"},
	{"flat ParentImage twice", `{"EventID":1,"Computer":"WS01","UtcTime":"2025-01-02 03:04:05.678","CommandLine":"msiexec /q /i x.msi","ParentImage":"C:\\Windows\\System32\\cmd.exe","ParentImage":"C:\\Windows\\explorer.exe"}`, "cmd.exe"},
	{"flat ParentImage null then set", `{"EventID":1,"Computer":"WS01","UtcTime":"2025-01-02 03:04:05.678","CommandLine":"msiexec /q /i x.msi","ParentImage":null,"ParentImage":"C:\\Windows\\System32\\cmd.exe"}`, "cmd.exe"},
	{"flat EventID twice", `{"EventID":10,"EventID":1,"Computer":"WS01","UtcTime":"2025-01-02 03:04:05.678","CommandLine":"msiexec /q /i x.msi","ParentImage":"C:\\Windows\\System32\\cmd.exe"}`, ""},
	{"winlogbeat winlog twice, merged", `{"winlog":{"event_id":1,"computer_name":"WS01","event_data":{"UtcTime":"2025-01-02 03:04:05.678","CommandLine":"msiexec /q /i x.msi"}},"winlog":{"event_data":{"ParentImage":"C:\\Windows\\System32\\cmd.exe"}}}`, "cmd.exe"},
	{"winlogbeat6 event_data.ParentImage twice", `{"event_id":1,"computer_name":"WS01","event_data":{"UtcTime":"2025-01-02 03:04:05.678","CommandLine":"msiexec /q /i x.msi","ParentImage":"C:\\Windows\\explorer.exe","ParentImage":"C:\\Windows\\System32\\cmd.exe"}}`, ""},
	{"winlogbeat-ecs process.parent.executable twice", `{"@timestamp":"2025-01-02T03:04:05.678Z","winlog":{"event_id":"1","computer_name":"WS01","event_data":{}},"process":{"command_line":"msiexec /q /i x.msi","parent":{"executable":"","executable":"C:\\Windows\\System32\\cmd.exe"},"parent":{"executable":"C:\\Windows\\explorer.exe"}}}`, "cmd.exe"},
}

func duplicateKeyRecords() [][]byte {
	var out [][]byte
	for _, c := range duplicateKeyCases {
		out = append(out, []byte(c.raw))
	}
	return out
}

func TestDuplicateKeysFirstNonEmpty(t *testing.T) {
	d := mustSeed(t)
	for _, c := range duplicateKeyCases {
		m, ok, err := d.Evaluate([]byte(c.raw))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got := ""
		if ok {
			got = fieldMap(d, m)["parent_process_name"]
		}
		if ok != (c.parent != "") || got != c.parent {
			t.Errorf("%s: match %v, parent %q; want parent %q", c.name, ok, got, c.parent)
		}
	}
}
