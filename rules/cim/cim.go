// Package cim maps Sysmon events to the Splunk Common Information Model
// fields that Splunk's Sysmon add-on computes from them, so that a rule can
// name `parent_process_name` or `dest_port` and get the value Splunk would.
//
// A record is seen through [Record]: it supplies raw fields by [Source] — the
// Sysmon EventData fields under their Sysmon names (Image, ParentImage,
// DestinationPort, ...) and a few envelope fields (EventCode, Channel,
// SourceName, Computer). CIM fields are computed here from those, by event
// id, with the add-on's transforms ([Transform]). FIELDS.md in the parent
// directory is the same table for people, with its sources. It imports only
// the standard library.
//
// Sources for the table:
//   - the add-on's field definitions, TA-microsoft-sysmon 8.1.0
//     default/props.conf and default/transforms.conf (Splunk's
//     splunk/TA-microsoft-sysmon, read in the fork dimarra/TA-Microsoft-Sysmon):
//     FIELDALIAS-* lines (plain copies), EVAL-process_name and friends (the
//     basename `replace(Image,"(.*\\\)(?=.*(\.\w*)$|(\w+)$)","")`), EVAL-src,
//     EVAL-dest, EVAL-direction, [sysmon-filename], EVAL-registry_path,
//     EVAL-registry_key_name;
//   - the field lists and CIM mappings that Splunk's security_content repository
//     records for the current add-on (Splunk Add-on for Sysmon 5.0.1,
//     data_sources/sysmon_eventid_{1,3,7,11,13,22}.yml), which say which of
//     those fields exist today and map QueryName, QueryResults and Details;
//   - for event id 1, detector/rule.go's cimFields, which this table must
//     equal (shared/reference/rule-semantics.md, "CIM fields from Sysmon
//     fields").
//
// Fields the add-on derives from the event's envelope or sets to constants
// (dest and dvc from Computer, signature, vendor_product, action, ...) are
// not in the table: a rule that names one is refused at compile time rather
// than run with a guess.
package cim

import (
	"slices"
	"strings"
)

// Record supplies a record's raw fields. Value returns the field's value as
// the record holds it after JSON or XML unescaping (numbers in decimal), and
// ok false when the record has no such field. An empty value is treated as
// absent by every caller in this module, as the detector treats it.
type Record interface {
	Value(src Source) (value string, ok bool)
}

// Transform says how a CIM field is computed from its sources.
type Transform uint8

const (
	// Copy: the first source's value (a FIELDALIAS).
	Copy Transform = iota
	// BaseName: the add-on's basename of the first source,
	// replace(X,"(.*\\)(?=.*(\.\w*)$|(\w+)$)","") (see Basename).
	BaseName
	// Coalesce: the first source that is present, in order
	// (EVAL-src = if(isnotnull(SourceHostname),SourceHostname,SourceIp)).
	Coalesce
	// Direction: "outbound" when the first source is "true", else "inbound"
	// (EVAL-direction = if(Initiated=="true","outbound","inbound")); absent
	// when the source is absent.
	Direction
	// LastSegment: the text after the last backslash, absent when it is empty
	// ([sysmon-filename] REGEX = (?<file_name>[^\\]+$)).
	LastSegment
	// KeyName: replace(X,".+\\","") per line: the text after the last
	// backslash of each line, the line unchanged when it has none
	// (EVAL-registry_key_name).
	KeyName
)

var transformNames = [...]string{"copy", "basename", "coalesce", "direction", "last-segment", "key-name"}

// String returns the transform's name as FIELDS.md writes it.
func (t Transform) String() string {
	if int(t) < len(transformNames) {
		return transformNames[t]
	}
	return "transform(?)"
}

// Mapping is one CIM field of one event id.
type Mapping struct {
	Field     string    // the CIM field, e.g. "parent_process_name"
	From      []Source  // its sources, in order
	Transform Transform // how the value is computed from them
}

// Value computes the field from r. It allocates only for BaseName and
// KeyName of a value holding a newline.
func (m *Mapping) Value(r Record) (string, bool) {
	switch m.Transform {
	case Coalesce:
		for _, s := range m.From {
			if v, ok := r.Value(s); ok && v != "" {
				return v, true
			}
		}
		return "", false
	}
	v, ok := r.Value(m.From[0])
	if !ok || v == "" {
		return "", false
	}
	switch m.Transform {
	case BaseName:
		v = Basename(v)
	case Direction:
		if v == "true" {
			v = "outbound"
		} else {
			v = "inbound"
		}
	case LastSegment:
		v = v[strings.LastIndexByte(v, '\\')+1:]
	case KeyName:
		v = perLine(v, keyNameLine)
	}
	return v, v != ""
}

// Event is the CIM mapping of one Sysmon event id.
type Event struct {
	ID      int
	Name    string    // Sysmon's name for the event
	Dataset string    // the CIM data model dataset its fields belong to
	Fields  []Mapping // sorted by Field
}

// Lookup returns the mapping of field, if the event has it.
func (e *Event) Lookup(field string) (*Mapping, bool) {
	i, ok := slices.BinarySearchFunc(e.Fields, field, func(m Mapping, f string) int { return strings.Compare(m.Field, f) })
	if !ok {
		return nil, false
	}
	return &e.Fields[i], true
}

// FieldNames returns the event's CIM field names, sorted.
func (e *Event) FieldNames() []string {
	out := make([]string, len(e.Fields))
	for i, m := range e.Fields {
		out[i] = m.Field
	}
	return out
}

// EventByID returns the mapping of a Sysmon event id.
func EventByID(id int) (*Event, bool) {
	for i := range events {
		if events[i].ID == id {
			return &events[i], true
		}
	}
	return nil, false
}

// Events returns every mapped event, by id. The caller must not modify them.
func Events() []*Event {
	out := make([]*Event, len(events))
	for i := range events {
		out[i] = &events[i]
	}
	return out
}

// IsField reports whether name is a CIM field of some mapped event.
func IsField(name string) bool {
	for i := range events {
		if _, ok := events[i].Lookup(name); ok {
			return true
		}
	}
	return false
}

// Basename computes the add-on's process_name from an image path:
//
//	replace(Image, "(.*\\)(?=.*(\.\w*)$|(\w+)$)", "")
//
// It strips everything up to the last backslash that is followed by a final
// segment ending in an extension (".exe", or a bare ".") or made only of word
// characters; when no backslash qualifies the value is returned unchanged
// (so "-" stays "-"). PCRE's `.` does not cross a newline and replace is
// global, so a value with newlines is treated line by line. This is
// detector/fields.go's basename, which the detector's golden tests check
// against an independent oracle; TestBasenameAgreesWithDetector pins it.
func Basename(s string) string { return perLine(s, basenameLine) }

func perLine(s string, f func(string) string) string {
	if strings.IndexByte(s, '\n') < 0 {
		return f(s)
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = f(l)
	}
	return strings.Join(lines, "\n")
}

func basenameLine(s string) string {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\\' {
			if rest := s[i+1:]; endsWithExtension(rest) || allWord(rest) {
				return rest
			}
		}
	}
	return s
}

// keyNameLine is one line of replace(X, ".+\\", ""): greedy `.+` takes the
// line up to its last backslash (which must not be the line's first byte).
func keyNameLine(s string) string {
	if i := strings.LastIndexByte(s, '\\'); i > 0 {
		return s[i+1:]
	}
	return s
}

// endsWithExtension reports whether s matches `^.*(\.\w*)$` (no newline).
func endsWithExtension(s string) bool {
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c == '.' {
			return true
		}
		if !isWord(c) {
			return false
		}
	}
	return false
}

func allWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWord(s[i]) {
			return false
		}
	}
	return true
}

func isWord(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}
