package window

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Alert is one (host, second) bucket as published, as specified in the
// README's section "The alert contract". AppendJSON writes it; UnmarshalJSON
// reads it back (for Window.Restore).
//
// An *Alert passed to an emit callback, and every slice it references, is
// owned by the Window and valid only until the callback returns; the window
// reuses it for the next alert. Strings are never reused and may be kept.
// Use Clone to keep the whole alert.
type Alert struct {
	// AlertID is 32 lowercase hex digits, deterministic; see AlertID.
	AlertID    string
	RuleID     string
	RuleTitle  string
	Techniques []string
	// Time is the bucket's start in epoch seconds (Splunk's _time after
	// bin span=1s).
	Time int64
	Host string
	// EventCount is the number of events in the bucket.
	EventCount int
	// Revision starts at 1 and grows by one each time the bucket is
	// emitted again with more content.
	Revision int
	// Late marks an alert made of events that arrived after their bucket
	// was no longer revisable; it has its own AlertID (see LateAlertID).
	Late bool
	// Fields holds the fields present in the bucket's events, sorted by
	// name, each with its distinct values sorted bytewise.
	Fields []Field
	// FirstSeen and LastSeen are the earliest and latest event times, in
	// Unix nanoseconds.
	FirstSeen, LastSeen int64
	// Sources lists the positions of the bucket's events, in the order they
	// were added, at most Config.MaxSources of them; SourcesOmitted counts
	// the rest (EventCount - len(Sources)).
	Sources        []Source
	SourcesOmitted int
}

// Field is one output field of an alert and its distinct values, sorted
// bytewise. Omitted counts the distinct values left out by the window's
// caps (Config.MaxValues, Config.MaxAlertBytes); a field whose values were
// all left out has no Values.
type Field struct {
	Name    string
	Values  []string
	Omitted int
}

// Truncated reports whether the caps left a value of the alert out.
func (a *Alert) Truncated() bool {
	for _, f := range a.Fields {
		if f.Omitted > 0 {
			return true
		}
	}
	return false
}

// Values returns the values of the named field, or nil when the field is
// absent from the alert.
func (a *Alert) Values(name string) []string {
	i, ok := slices.BinarySearchFunc(a.Fields, name, func(f Field, n string) int {
		switch {
		case f.Name < n:
			return -1
		case f.Name > n:
			return 1
		}
		return 0
	})
	if !ok {
		return nil
	}
	return a.Fields[i].Values
}

// Clone returns a deep copy of a that the caller owns.
func (a *Alert) Clone() *Alert {
	c := *a
	c.Techniques = slices.Clone(a.Techniques)
	c.Fields = make([]Field, len(a.Fields))
	for i, f := range a.Fields {
		c.Fields[i] = Field{Name: f.Name, Values: slices.Clone(f.Values), Omitted: f.Omitted}
	}
	c.Sources = slices.Clone(a.Sources)
	return &c
}

// AlertID returns the alert_id of the on-time alert of a bucket: the first
// 16 bytes of SHA-256 over ruleID, 0x00, host, 0x00, and the bucket's start
// in epoch seconds as a decimal string, in lowercase hex.
func AlertID(ruleID, host string, sec int64) string {
	var buf [128]byte
	return hashID(appendIDInput(buf[:0], ruleID, host, sec))
}

// LateAlertID returns the alert_id of a late alert: as AlertID, with the
// input extended by 0x00, "late", 0x00, the first late event's time in Unix
// nanoseconds as a decimal string, 0x00, and its source (for Kafka: topic,
// 0x00, partition, 0x00, offset in decimal; for files: file, 0x00, line).
// A bucket forgotten twice gets two late alerts with different ids, so a
// late alert never replaces the on-time alert nor an earlier late one.
func LateAlertID(ruleID, host string, sec, firstTime int64, src Source) string {
	buf := make([]byte, 0, len(ruleID)+len(host)+len(src.Topic)+len(src.File)+80)
	buf = appendIDInput(buf, ruleID, host, sec)
	buf = append(buf, 0, 'l', 'a', 't', 'e', 0)
	buf = strconv.AppendInt(buf, firstTime, 10)
	buf = append(buf, 0)
	if src.File != "" {
		buf = append(buf, src.File...)
		buf = append(buf, 0)
		buf = strconv.AppendInt(buf, src.Line, 10)
	} else {
		buf = append(buf, src.Topic...)
		buf = append(buf, 0)
		buf = strconv.AppendInt(buf, int64(src.Partition), 10)
		buf = append(buf, 0)
		buf = strconv.AppendInt(buf, src.Offset, 10)
	}
	return hashID(buf)
}

func appendIDInput(buf []byte, ruleID, host string, sec int64) []byte {
	return strconv.AppendInt(appendIDPrefix(buf, ruleID, host), sec, 10)
}

func appendIDPrefix(buf []byte, ruleID, host string) []byte {
	buf = append(buf, ruleID...)
	buf = append(buf, 0)
	buf = append(buf, host...)
	return append(buf, 0)
}

func hashID(b []byte) string {
	sum := sha256.Sum256(b)
	var id [32]byte
	hex.Encode(id[:], sum[:16])
	return string(id[:])
}

// AppendJSON appends the alert's JSON to dst and returns the extended slice.
// The bytes are deterministic: keys in the contract's order, no spaces,
// field names and values as held (sorted), times in UTC. time is RFC 3339
// in whole seconds; first_seen and last_seen carry 3, 6 or 9 fractional
// digits, the fewest that represent the time exactly. Strings are escaped
// as JSON requires; invalid UTF-8 is replaced by U+FFFD.
func (a *Alert) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"alert_id":`...)
	dst = appendString(dst, a.AlertID)
	dst = append(dst, `,"rule_id":`...)
	dst = appendString(dst, a.RuleID)
	dst = append(dst, `,"rule_title":`...)
	dst = appendString(dst, a.RuleTitle)
	dst = append(dst, `,"mitre_technique_id":[`...)
	for i, t := range a.Techniques {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, t)
	}
	dst = append(dst, `],"_time":`...)
	dst = strconv.AppendInt(dst, a.Time, 10)
	dst = append(dst, `,"time":"`...)
	dst = time.Unix(a.Time, 0).UTC().AppendFormat(dst, time.RFC3339)
	dst = append(dst, `","host":`...)
	dst = appendString(dst, a.Host)
	dst = append(dst, `,"event_count":`...)
	dst = strconv.AppendInt(dst, int64(a.EventCount), 10)
	dst = append(dst, `,"revision":`...)
	dst = strconv.AppendInt(dst, int64(a.Revision), 10)
	dst = append(dst, `,"late":`...)
	dst = strconv.AppendBool(dst, a.Late)
	dst = append(dst, `,"fields":{`...)
	n := 0
	for _, f := range a.Fields {
		if len(f.Values) == 0 {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = appendString(dst, f.Name)
		dst = append(dst, ':', '[')
		for j, v := range f.Values {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, v)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, '}')
	if a.Truncated() {
		dst = append(dst, `,"truncated":true,"values_omitted":{`...)
		n := 0
		for _, f := range a.Fields {
			if f.Omitted == 0 {
				continue
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			dst = appendString(dst, f.Name)
			dst = append(dst, ':')
			dst = strconv.AppendInt(dst, int64(f.Omitted), 10)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `,"first_seen":"`...)
	dst = appendTime(dst, a.FirstSeen)
	dst = append(dst, `","last_seen":"`...)
	dst = appendTime(dst, a.LastSeen)
	dst = append(dst, `","sources":[`...)
	for i, s := range a.Sources {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendSource(dst, s)
	}
	dst = append(dst, `],"sources_omitted":`...)
	dst = strconv.AppendInt(dst, int64(a.SourcesOmitted), 10)
	return append(dst, '}')
}

func appendSource(dst []byte, s Source) []byte {
	if s.File != "" {
		dst = append(dst, `{"file":`...)
		dst = appendString(dst, s.File)
		dst = append(dst, `,"line":`...)
		dst = strconv.AppendInt(dst, s.Line, 10)
	} else {
		dst = append(dst, `{"topic":`...)
		dst = appendString(dst, s.Topic)
		dst = append(dst, `,"partition":`...)
		dst = strconv.AppendInt(dst, int64(s.Partition), 10)
		dst = append(dst, `,"offset":`...)
		dst = strconv.AppendInt(dst, s.Offset, 10)
	}
	return append(dst, '}')
}

// sourceLen is len(appendSource(nil, s)).
func sourceLen(s Source) int {
	if s.File != "" {
		return len(`{"file":,"line":}`) + jsonLen(s.File) + decLen(s.Line)
	}
	return len(`{"topic":,"partition":,"offset":}`) + jsonLen(s.Topic) + decLen(int64(s.Partition)) + decLen(s.Offset)
}

// decLen is the length of n in decimal.
func decLen(n int64) int {
	var b [20]byte
	return len(strconv.AppendInt(b[:0], n, 10))
}

// alertOverhead returns the JSON bytes of an alert of template's rule
// without host, fields and sources, with room for the widest numbers and
// times (numWidth) and for every one of fields in values_omitted.
func alertOverhead(template *Alert, fields []string) int {
	a := *template
	a.AlertID = strings.Repeat("0", 32)
	a.Host, a.Fields, a.Sources = "", nil, nil
	n := len(a.AppendJSON(nil)) + numWidth
	n += len(`,"truncated":true,"values_omitted":{}`)
	for _, f := range fields {
		n += jsonLen(f) + 1 + maxOmittedLen + 1
	}
	return n
}

// numWidth is what the numbers and times of an alert can add to those of
// a zero alert: _time, time, event_count, revision, late, first_seen,
// last_seen and sources_omitted at their widest.
const numWidth = 128

// maxOmittedLen is the widest count in values_omitted (maxOmitted plus the
// restored counts it can add to).
const maxOmittedLen = 19

// MarshalJSON returns AppendJSON(nil).
func (a *Alert) MarshalJSON() ([]byte, error) { return a.AppendJSON(nil), nil }

// Layouts for first_seen and last_seen, by precision.
const (
	layoutMilli = "2006-01-02T15:04:05.000Z07:00"
	layoutMicro = "2006-01-02T15:04:05.000000Z07:00"
	layoutNano  = "2006-01-02T15:04:05.000000000Z07:00"
)

func appendTime(dst []byte, ns int64) []byte {
	t := time.Unix(0, ns).UTC()
	switch {
	case ns%1e6 == 0:
		return t.AppendFormat(dst, layoutMilli)
	case ns%1e3 == 0:
		return t.AppendFormat(dst, layoutMicro)
	}
	return t.AppendFormat(dst, layoutNano)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string: '"' and '\\' escaped, control
// characters as \n, \r, \t or \u00XX, U+2028 and U+2029 escaped (as
// encoding/json does), invalid UTF-8 replaced by \ufffd.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonLen is len(appendString(nil, s)).
func jsonLen(s string) int {
	n := 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c >= 0x20 && c != '"' && c != '\\':
				n++
			case c == '"', c == '\\', c == '\n', c == '\r', c == '\t':
				n += 2
			default:
				n += 6
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += 6
		case r == '\u2028' || r == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}

// alertJSON is the wire form UnmarshalJSON decodes.
type alertJSON struct {
	AlertID        *string             `json:"alert_id"`
	RuleID         string              `json:"rule_id"`
	RuleTitle      string              `json:"rule_title"`
	Techniques     []string            `json:"mitre_technique_id"`
	Time           *int64              `json:"_time"`
	Host           string              `json:"host"`
	EventCount     int                 `json:"event_count"`
	Revision       int                 `json:"revision"`
	Late           bool                `json:"late"`
	Fields         map[string][]string `json:"fields"`
	ValuesOmitted  map[string]int      `json:"values_omitted"`
	FirstSeen      string              `json:"first_seen"`
	LastSeen       string              `json:"last_seen"`
	Sources        []sourceJSON        `json:"sources"`
	SourcesOmitted int                 `json:"sources_omitted"`
}

type sourceJSON struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	File      string `json:"file"`
	Line      int64  `json:"line"`
}

// UnmarshalJSON decodes an alert written by AppendJSON. Values of each
// field are re-sorted bytewise and de-duplicated; the "time" key is ignored
// (it is derived from _time).
func (a *Alert) UnmarshalJSON(data []byte) error {
	var j alertJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("window: decoding alert: %w", err)
	}
	if j.AlertID == nil || j.Time == nil {
		return errors.New("window: decoding alert: alert_id or _time missing")
	}
	first, err := time.Parse(time.RFC3339Nano, j.FirstSeen)
	if err != nil {
		return fmt.Errorf("window: decoding alert %s: first_seen: %w", *j.AlertID, err)
	}
	last, err := time.Parse(time.RFC3339Nano, j.LastSeen)
	if err != nil {
		return fmt.Errorf("window: decoding alert %s: last_seen: %w", *j.AlertID, err)
	}
	*a = Alert{
		AlertID:        *j.AlertID,
		RuleID:         j.RuleID,
		RuleTitle:      j.RuleTitle,
		Techniques:     j.Techniques,
		Time:           *j.Time,
		Host:           j.Host,
		EventCount:     j.EventCount,
		Revision:       j.Revision,
		Late:           j.Late,
		FirstSeen:      first.UnixNano(),
		LastSeen:       last.UnixNano(),
		SourcesOmitted: j.SourcesOmitted,
	}
	for name, vals := range j.Fields {
		slices.Sort(vals)
		a.Fields = append(a.Fields, Field{Name: name, Values: slices.Compact(vals), Omitted: max(j.ValuesOmitted[name], 0)})
	}
	for name, n := range j.ValuesOmitted {
		if _, ok := j.Fields[name]; !ok && n > 0 {
			a.Fields = append(a.Fields, Field{Name: name, Omitted: n})
		}
	}
	slices.SortFunc(a.Fields, func(x, y Field) int {
		switch {
		case x.Name < y.Name:
			return -1
		case x.Name > y.Name:
			return 1
		}
		return 0
	})
	for _, s := range j.Sources {
		a.Sources = append(a.Sources, Source(s))
	}
	return nil
}
