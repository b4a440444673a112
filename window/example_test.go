package window_test

import (
	"fmt"
	"log"
	"time"

	"github.com/msiguard/msiguard/window"
)

// Live mode: events carry their own time; the caller passes its clock to
// Add and ticks Advance, which emits the bucket once it has been idle for
// IdleTimeout.
func ExampleWindow() {
	w, err := window.New(window.Config{
		RuleID:     "24143.44553",
		RuleTitle:  "Suspicious Parent Process for msiexec.exe",
		Techniques: []string{"T1218.007"},
		Fields:     []string{"process", "parent_process_name"},
	})
	if err != nil {
		log.Fatal(err)
	}
	emit := func(a *window.Alert) { fmt.Printf("%s\n", a.AppendJSON(nil)) }
	at := func(ms int64) int64 { return time.Date(2025, 3, 6, 10, 0, 0, 0, time.UTC).UnixNano() + ms*1e6 }
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) // the caller's clock

	w.Add(window.Event{Host: "WKS-001.corp.example", Time: at(120),
		Values: []string{"msiexec /q /i b.msi", "cmd.exe"},
		Source: window.Source{Topic: "sysmon", Partition: 0, Offset: 1234}}, now, emit)
	w.Add(window.Event{Host: "WKS-001.corp.example", Time: at(870),
		Values: []string{"msiexec /q /i a.msi", "cmd.exe"},
		Source: window.Source{Topic: "sysmon", Partition: 0, Offset: 1240}}, now.Add(time.Second), emit)

	w.Advance(now.Add(5*time.Second), emit) // idle for 4s: nothing yet
	w.Advance(now.Add(6*time.Second), emit)
	fmt.Println(w.SafePositions())
	// Output:
	// {"alert_id":"f0c5725335e7f80db3d4367ef3f6e8e8","rule_id":"24143.44553","rule_title":"Suspicious Parent Process for msiexec.exe","mitre_technique_id":["T1218.007"],"_time":1741255200,"time":"2025-03-06T10:00:00Z","host":"WKS-001.corp.example","event_count":2,"revision":1,"late":false,"fields":{"parent_process_name":["cmd.exe"],"process":["msiexec /q /i a.msi","msiexec /q /i b.msi"]},"first_seen":"2025-03-06T10:00:00.120Z","last_seen":"2025-03-06T10:00:00.870Z","sources":[{"topic":"sysmon","partition":0,"offset":1234},{"topic":"sysmon","partition":0,"offset":1240}],"sources_omitted":0}
	// map[{sysmon 0}:1234]
}

// Backtest mode: no clock; the input alone decides, and Flush at the end of
// the input emits what is left.
func ExampleWindow_backtest() {
	w, err := window.New(window.Config{RuleID: "r", Fields: []string{"process"}, Backtest: true})
	if err != nil {
		log.Fatal(err)
	}
	emit := func(a *window.Alert) {
		fmt.Println(a.Host, a.Time, a.EventCount, a.Values("process"))
	}
	for i, e := range []struct {
		host string
		sec  int64
		p    string
	}{{"A", 100, "x"}, {"A", 100, "y"}, {"B", 101, "z"}, {"A", 103, "x"}, {"B", 104, "z"}} {
		w.Add(window.Event{Host: e.host, Time: e.sec * 1e9, Values: []string{e.p},
			Source: window.Source{File: "day.jsonl", Line: int64(i + 1)}}, time.Time{}, emit)
	}
	w.Flush(emit)
	// Output:
	// A 100 2 [x y]
	// B 101 1 [z]
	// A 103 1 [x]
	// B 104 1 [z]
}
