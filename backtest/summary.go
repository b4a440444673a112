package backtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/deadletter"
	"github.com/msiguard/msiguard/window"
)

// Run statuses, Summary.Status.
const (
	// StatusComplete: the whole input was read and every alert written.
	StatusComplete = "complete"
	// StatusInterrupted: the run's context was cancelled (Ctrl-C,
	// SIGTERM) before the end of the input.
	StatusInterrupted = "interrupted"
	// StatusFailed: an error stopped the run (Summary.Error says which).
	StatusFailed = "failed"
)

// Summary is what a run did. Every count depends only on the input; Elapsed
// and the rates are wall-clock measurements.
type Summary struct {
	// Status is StatusComplete, StatusInterrupted or StatusFailed. When it
	// is not complete, the counts cover the input read until the run
	// stopped, and the alerts written then are a partial result: the
	// window was flushed early and OnAlert was not called for them.
	Status string `json:"status"`
	// Error is the error that stopped the run, "" when complete.
	Error string `json:"error,omitempty"`

	// Inputs names the files read (files mode).
	Inputs []string `json:"inputs,omitempty"`
	// Topic and Partitions describe the range read (topic mode).
	Topic      string           `json:"topic,omitempty"`
	Partitions []PartitionRange `json:"partitions,omitempty"`

	// Records counts the records read: lines in files mode (blank lines
	// included), Kafka records in topic mode.
	Records int64 `json:"records"`
	// Bytes counts the bytes of the records (uncompressed, newlines
	// included); InputBytes the bytes read from the inputs as stored
	// (the compressed size for compressed files).
	Bytes      int64 `json:"bytes"`
	InputBytes int64 `json:"input_bytes"`

	// PrefilterHits counts records holding the rule's term as a token;
	// Matches those the rule selected and the window received.
	PrefilterHits int64 `json:"prefilter_hits"`
	Matches       int64 `json:"matches"`

	// Alerts counts distinct alert ids (LateAlerts of them late);
	// Revisions the emissions of an alert id after its first;
	// AlertsWritten the lines written (Alerts, or Alerts+Revisions with
	// EmitRevisions). LateEvents counts matches that went to late alerts.
	Alerts        int64 `json:"alerts"`
	LateAlerts    int64 `json:"late_alerts"`
	Revisions     int64 `json:"revisions"`
	AlertsWritten int64 `json:"alerts_written"`
	LateEvents    int64 `json:"late_events"`
	// EvictedAlerts counts alerts forgotten before Retain because the
	// window held RetainBuckets of them; a later event for one made a late
	// alert. Non-zero means a larger --retain-buckets would have revised
	// them instead.
	EvictedAlerts int64 `json:"evicted_alerts"`
	// The caps, as in msiguard run's metrics: values and hosts cut to
	// their limit, alerts with values left out and the distinct values
	// left out, alerts forgotten early and buckets emitted early to keep
	// the window within its memory budget.
	TruncatedValues int64 `json:"truncated_values"`
	TruncatedAlerts int64 `json:"truncated_alerts"`
	OmittedValues   int64 `json:"omitted_values"`
	MemoryEvicted   int64 `json:"memory_evicted_alerts"`
	ForcedEmissions int64 `json:"forced_emissions"`

	// DeadLetters counts dead letters by reason (every detector reason is
	// listed, zeros included).
	DeadLetters      map[string]int64 `json:"dead_letters"`
	DeadLettersTotal int64            `json:"dead_letters_total"`
	// NearMisses counts the records that are the event the rule is about
	// but miss its literal test, by detector.NearMiss (every one listed,
	// zeros included): why a backtest finds nothing where a user expects
	// alerts.
	NearMisses map[string]int64 `json:"near_misses"`

	Elapsed          time.Duration `json:"-"`
	ElapsedSeconds   float64       `json:"elapsed_seconds"`
	RecordsPerSecond float64       `json:"records_per_second"`
	MBPerSecond      float64       `json:"mb_per_second"` // of Bytes, 1 MB = 1e6 bytes
}

// PartitionRange is the offset range [Start, End) read from one partition.
type PartitionRange struct {
	Partition int   `json:"partition"`
	Start     int64 `json:"start"`
	End       int64 `json:"end"`
}

func newSummary() Summary {
	s := Summary{DeadLetters: make(map[string]int64), NearMisses: make(map[string]int64)}
	for _, r := range detector.Reasons() {
		s.DeadLetters[string(r)] = 0
	}
	for _, r := range detector.NearMisses() {
		s.NearMisses[string(r)] = 0
	}
	return s
}

func (s *Summary) finish(ws window.Stats, elapsed time.Duration) {
	s.Alerts = ws.Alerts
	s.Revisions = ws.Revisions
	s.LateEvents = ws.LateEvents
	s.EvictedAlerts = ws.Evicted
	s.TruncatedAlerts, s.OmittedValues = ws.TruncatedAlerts, ws.OmittedValues
	s.MemoryEvicted, s.ForcedEmissions = ws.MemoryEvicted, ws.ForcedEmissions
	s.Elapsed = elapsed
	s.ElapsedSeconds = elapsed.Seconds()
	if sec := elapsed.Seconds(); sec > 0 {
		s.RecordsPerSecond = float64(s.Records) / sec
		s.MBPerSecond = float64(s.Bytes) / 1e6 / sec
	}
}

// setStatus sets Status and Error from the run's error; ctx is the run's
// context, which tells an interruption from a failure.
func (s *Summary) setStatus(ctx context.Context, err error) {
	switch {
	case err == nil:
		s.Status, s.Error = StatusComplete, ""
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		s.Status, s.Error = StatusInterrupted, "interrupted before the end of the input"
	default:
		s.Status, s.Error = StatusFailed, err.Error()
	}
}

// SetFailed marks s as failed with err (a step after the run failed: the
// caller's own output, publishing). A nil err leaves s as it is.
func (s *Summary) SetFailed(err error) {
	if err != nil && s.Status != StatusInterrupted {
		s.Status, s.Error = StatusFailed, err.Error()
	}
}

// WriteJSON writes s as one indented JSON document.
func (s *Summary) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteText writes s for people, a few lines.
func (s *Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	switch s.Status {
	case StatusInterrupted:
		b.WriteString("backtest: INTERRUPTED: the counts below cover only the input read until then\n")
	case StatusFailed:
		b.WriteString("backtest: FAILED: the counts below cover only the input read until the error\n")
	}
	fmt.Fprintf(&b, "backtest: %d records (%d bytes, %s) read, %d prefilter hits, %d matches, %d alerts",
		s.Records, s.Bytes, megabytes(s.Bytes), s.PrefilterHits, s.Matches, s.Alerts)
	if s.LateAlerts > 0 {
		fmt.Fprintf(&b, " (%d late)", s.LateAlerts)
	}
	fmt.Fprintf(&b, ", %d revisions\n", s.Revisions)
	if s.EvictedAlerts > 0 {
		fmt.Fprintf(&b, "backtest: %d alerts stopped being revisable before --retain because --retain-buckets was reached; raise it if late events should revise them\n", s.EvictedAlerts)
	}
	if s.TruncatedValues+s.TruncatedAlerts > 0 {
		fmt.Fprintf(&b, "backtest: %d values cut to --max-value-bytes or --max-host-bytes; %d alerts left %d distinct values out (--max-values, --max-alert-bytes): see values_omitted\n",
			s.TruncatedValues, s.TruncatedAlerts, s.OmittedValues)
	}
	if s.MemoryEvicted+s.ForcedEmissions > 0 {
		fmt.Fprintf(&b, "backtest: --window-memory was reached: %d alerts stopped being revisable early, %d buckets were emitted early\n", s.MemoryEvicted, s.ForcedEmissions)
	}
	if n := s.NearMisses[string(detector.NearMissEventIDLiteral)]; n > 0 {
		fmt.Fprintf(&b, "backtest: %d near misses: XML records of event 1 whose text lacks the rule's literal \"<EventID>1<\" (e.g. python-evtx writes <EventID Qualifiers=\"\">1</EventID>); Splunk finds nothing in them either\n", n)
	}
	fmt.Fprintf(&b, "backtest: %d dead letters", s.DeadLettersTotal)
	if s.DeadLettersTotal > 0 {
		sep := " ("
		for _, r := range detector.Reasons() {
			if n := s.DeadLetters[string(r)]; n > 0 {
				fmt.Fprintf(&b, "%s%s %d", sep, r, n)
				sep = ", "
			}
		}
		b.WriteString(")")
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "backtest: %.2fs, %s records/s, %.0f MB/s\n", s.ElapsedSeconds, count(int64(s.RecordsPerSecond)), s.MBPerSecond)
	_, err := io.WriteString(w, b.String())
	return err
}

// count formats n with a k/M suffix above ten thousand.
func count(n int64) string {
	switch {
	case n >= 10_000_000:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + "M"
	case n >= 10_000:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64) + "k"
	}
	return strconv.FormatInt(n, 10)
}

func megabytes(n int64) string {
	return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
}

// DeadLetter is the JSON line written for a record the detector could not
// evaluate or group. Keys appear in this order:
//
//	{"reason":"malformed","shape":"flat","detail":"...","file":"a.jsonl","line":12,"text":"..."}
//	{"reason":"missing_host","detail":"...","topic":"sysmon","partition":3,"offset":1234,"text":"..."}
//
// shape is present when the detector read the record as a known shape.
// text is the record as read (a trailing '\r' removed from file lines), or
// its first Config.DeadLetterBytes when it is longer (cut on a character
// boundary; truncated is then true); a record that is not valid UTF-8 is
// given as text_base64 instead, so that it survives byte for byte.
// original_bytes and original_sha256 are the whole record's length and
// SHA-256, as in the dead letters of msiguard run.
type DeadLetter struct {
	Reason     string `json:"reason"`
	Shape      string `json:"shape,omitempty"`
	Detail     string `json:"detail"`
	File       string `json:"file,omitempty"`
	Line       int64  `json:"line,omitempty"`
	Topic      string `json:"topic,omitempty"`
	Partition  *int32 `json:"partition,omitempty"`
	Offset     *int64 `json:"offset,omitempty"`
	Text       string `json:"text,omitempty"`
	TextBase64 []byte `json:"text_base64,omitempty"`
	// OriginalBytes, OriginalSHA256 and Truncated describe the record the
	// text is (a prefix of).
	OriginalBytes  int    `json:"original_bytes"`
	OriginalSHA256 string `json:"original_sha256"`
	Truncated      bool   `json:"truncated,omitempty"`
}

func appendDeadLetter(dst []byte, e *detector.Error, src window.Source, text []byte, maxText int) []byte {
	o := deadletter.Bound(text, maxText)
	if o.Truncated {
		// Cut on a character boundary, so that text stays text.
		n := len(o.Prefix)
		for k := 0; k < utf8.UTFMax && n > 0 && !utf8.RuneStart(text[n]); k++ {
			n--
		}
		o.Prefix = text[:n]
	}
	text = o.Prefix
	dl := DeadLetter{Reason: string(e.Reason), Detail: e.Detail, OriginalBytes: o.Bytes, OriginalSHA256: o.SHA256, Truncated: o.Truncated}
	if e.Shape != detector.ShapeAuto {
		dl.Shape = e.Shape.String()
	}
	if src.File != "" {
		dl.File, dl.Line = src.File, src.Line
	} else {
		dl.Topic, dl.Partition, dl.Offset = src.Topic, &src.Partition, &src.Offset
	}
	if utf8.Valid(text) {
		dl.Text = string(text)
	} else {
		dl.TextBase64 = text
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&dl); err != nil { // cannot fail for these types
		panic(err)
	}
	return append(dst, b.String()...)
}
