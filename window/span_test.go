package window

import (
	"testing"
	"time"
)

// With Span 1m, events of one host in one minute (epoch-aligned) make one
// alert whose _time is the minute's start, as bin span=1m does; the next
// minute is another alert, and a host's watermark closes a bucket once it
// passes the bucket's end by Grace.
func TestSpan(t *testing.T) {
	cfg := testConfig()
	cfg.Span = time.Minute
	w := mustNew(t, cfg)
	var r recorder
	minute := (base / 60) * 60 // base floored to its minute
	at := func(sec int64) int64 { return (minute + sec) * 1e9 }
	w.Add(ev("H", at(5), 1, "a", "cmd.exe", ""), clk(0), r.emit)
	w.Add(ev("H", at(50), 2, "b", "cmd.exe", ""), clk(0), r.emit)
	w.Add(ev("H", at(61), 3, "c", "cmd.exe", ""), clk(0), r.emit)
	if got := r.take(); len(got) != 0 {
		t.Fatalf("emitted before the watermark passed the minute's end by Grace: %+v", got)
	}
	w.Add(ev("H", at(62), 4, "d", "cmd.exe", ""), clk(0), r.emit)
	got := r.take()
	if len(got) != 1 || got[0].Time != minute || got[0].EventCount != 2 {
		t.Fatalf("got %+v, want one alert of 2 events at %d", got, minute)
	}
	w.Flush(r.emit)
	if got := r.take(); len(got) != 1 || got[0].Time != minute+60 || got[0].EventCount != 2 {
		t.Fatalf("second minute: %+v", got)
	}
	cfg.Span = 1500 * time.Millisecond
	if _, err := New(cfg); err == nil {
		t.Error("a span of 1.5 s was accepted")
	}
}
