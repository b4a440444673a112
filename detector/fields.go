package detector

import (
	"strings"

	"github.com/tidwall/gjson"
)

// sysField indexes the Sysmon EventData fields the detector reads.
type sysField uint8

const (
	fUser sysField = iota
	fCommandLine
	fCurrentDirectory
	fImage
	fProcessGuid
	fHashes
	fProcessId
	fIntegrityLevel
	fParentCommandLine
	fParentImage
	fParentProcessGuid
	fParentProcessId
	fUtcTime
	numSysFields
)

// sysFieldByName maps a Sysmon EventData name to its index. A switch on a
// string compiles to a comparison tree: no map, no allocation.
func sysFieldByName(name string) (sysField, bool) {
	switch name {
	case "User":
		return fUser, true
	case "CommandLine":
		return fCommandLine, true
	case "CurrentDirectory":
		return fCurrentDirectory, true
	case "Image":
		return fImage, true
	case "ProcessGuid":
		return fProcessGuid, true
	case "Hashes":
		return fHashes, true
	case "ProcessId":
		return fProcessId, true
	case "IntegrityLevel":
		return fIntegrityLevel, true
	case "ParentCommandLine":
		return fParentCommandLine, true
	case "ParentImage":
		return fParentImage, true
	case "ParentProcessGuid":
		return fParentProcessGuid, true
	case "ParentProcessId":
		return fParentProcessId, true
	case "UtcTime":
		return fUtcTime, true
	}
	return 0, false
}

// eventData holds a record's Sysmon EventData fields by slot; "" means
// absent. Fields are named by their Sysmon EventData names (setName) in
// every shape; sysFieldByName is the one place that maps names to slots, so
// reading another field (issue 18: other event ids and fields) means adding
// a slot, or replacing this array by a per-rule table of wanted names.
type eventData [numSysFields]string

// set records a field unless it already holds a value: the first
// non-empty value wins.
func (d *eventData) set(f sysField, v string) {
	if d[f] == "" {
		d[f] = v
	}
}

// setName records the EventData field called name, if the detector reads it.
func (d *eventData) setName(name, v string) {
	if f, ok := sysFieldByName(name); ok {
		d.set(f, v)
	}
}

// member records one JSON member of an EventData-like object; it has the
// signature of a gjson.Result.ForEach iterator.
func (d *eventData) member(k, v gjson.Result) bool {
	if f, ok := sysFieldByName(k.Str); ok {
		d.set(f, text(v))
	}
	return true
}

// record is what one evaluation learns about a record, whatever its shape.
// Strings may alias the record being evaluated; group copies what a Match
// keeps.
type record struct {
	shape Shape

	eventID   string // decimal text of the event id; "" if absent
	channel   string
	provider  string
	host      string
	eventTime string // the shape's own event time, used when UtcTime is absent

	data eventData
}

// basename computes the Splunk Sysmon add-on's process_name from an image path:
//
//	replace(Image, "(.*\\)(?=.*(\.\w*)$|(\w+)$)", "")
//
// It strips everything up to the last backslash that is followed by a final
// segment ending in an extension (".exe", or a bare ".") or made only of word
// characters; when no backslash qualifies the value is returned unchanged (so
// "-" stays "-"). PCRE's `.` does not cross a newline and replace is global, so
// a value with newlines is treated line by line (never seen in real images,
// kept exact anyway).
func basename(s string) string {
	if strings.IndexByte(s, '\n') < 0 {
		return basenameLine(s)
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = basenameLine(l)
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

// allWord reports whether s matches `^\w+$`.
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
