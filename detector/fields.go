package detector

import (
	"github.com/tidwall/gjson"

	"github.com/msiguard/msiguard/rules/cim"
)

// sysField indexes the Sysmon EventData fields the detector reads: every
// field of Sysmon's schema, as rules/cim names them, so that a rule on any
// event id and field reads what it needs without new code here.
type sysField = cim.Source

// The fields the detector's own logic names (shapes that move them, the
// event time).
const (
	fUser              = cim.User
	fCommandLine       = cim.CommandLine
	fCurrentDirectory  = cim.CurrentDirectory
	fImage             = cim.Image
	fProcessGuid       = cim.ProcessGuid
	fHashes            = cim.Hashes
	fProcessId         = cim.ProcessId
	fIntegrityLevel    = cim.IntegrityLevel
	fParentCommandLine = cim.ParentCommandLine
	fParentImage       = cim.ParentImage
	fParentProcessGuid = cim.ParentProcessGuid
	fParentProcessId   = cim.ParentProcessId
	fUtcTime           = cim.UtcTime
	numSysFields       = cim.NumSources
)

// sysFieldByName maps a Sysmon EventData name to its slot; envelope
// sources (EventCode, Channel, SourceName, Computer) are not EventData.
func sysFieldByName(name string) (sysField, bool) {
	f, ok := cim.SourceByName(name)
	if !ok || f <= cim.Computer {
		return 0, false
	}
	return f, true
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

// Value is the record's raw field src, as rules (cim.Record) read it.
func (r *record) Value(src cim.Source) (string, bool) {
	var v string
	switch src {
	case cim.EventCode:
		v = r.eventID
	case cim.Channel:
		v = r.channel
	case cim.SourceName:
		v = r.provider
	case cim.Computer:
		v = r.host
	default:
		if src < cim.Source(numSysFields) {
			v = r.data[src]
		}
	}
	return v, v != ""
}
