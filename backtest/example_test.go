package backtest_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/msiguard/msiguard/backtest"
	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/window"
)

// A replay of two JSON lines: one msiexec launch from cmd.exe, one record
// that mentions msiexec but names no computer (a dead letter).
func ExampleEngine_RunFiles() {
	det, err := detector.NewDefault(detector.Options{})
	if err != nil {
		panic(err)
	}
	var alerts strings.Builder
	eng, err := backtest.New(backtest.Config{Detector: det, Alerts: &alerts, DeadLetters: os.Stdout})
	if err != nil {
		panic(err)
	}
	input := `{"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"WS01","EventID":1,"UtcTime":"2025-03-06 10:00:00.250","Image":"C:\\Windows\\System32\\msiexec.exe","CommandLine":"msiexec /q /i x.msi","ParentImage":"C:\\Windows\\System32\\cmd.exe"}
{"EventID":1,"UtcTime":"2025-03-06 10:00:01.000","Image":"C:\\Windows\\System32\\msiexec.exe","ParentImage":"C:\\Windows\\System32\\cmd.exe"}
`
	sum, err := eng.RunFiles(context.Background(), []backtest.Input{{Name: "events.jsonl", R: strings.NewReader(input)}})
	if err != nil {
		panic(err)
	}
	var a window.Alert
	if err := a.UnmarshalJSON([]byte(alerts.String())); err != nil {
		panic(err)
	}
	fmt.Println(a.Host, a.Time, a.EventCount, a.Values("parent_process_name"), a.Values("process"))
	fmt.Println(sum.Records, "records,", sum.Matches, "match,", sum.Alerts, "alert,", sum.DeadLetters["missing_host"], "missing_host")
	// Output:
	// {"reason":"missing_host","shape":"flat","detail":"matching record names no computer (host)","file":"events.jsonl","line":2,"text":"{\"EventID\":1,\"UtcTime\":\"2025-03-06 10:00:01.000\",\"Image\":\"C:\\\\Windows\\\\System32\\\\msiexec.exe\",\"ParentImage\":\"C:\\\\Windows\\\\System32\\\\cmd.exe\"}","original_bytes":141,"original_sha256":"968f3023b74156dfe29d5581dcaffb3bb5319da5271afa54eaf5ca0808ed5a2b"}
	// WS01 1741255200 1 [cmd.exe] [msiexec /q /i x.msi]
	// 2 records, 1 match, 1 alert, 1 missing_host
}
