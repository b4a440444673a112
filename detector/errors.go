package detector

// Reason is a stable code for why a record could not be evaluated or grouped.
// Reasons are meant for dead-letter headers, metrics labels and scripts: they
// never change meaning.
type Reason string

const (
	// ReasonMalformed: the record passed the prefilter but is not valid JSON or
	// well-formed event XML.
	ReasonMalformed Reason = "malformed"
	// ReasonUnknownShape: the record parses but fits none of the Sysmon shapes
	// (or not the shape the detector was told to expect).
	ReasonUnknownShape Reason = "unknown_shape"
	// ReasonMissingHost: the record matches the rule but names no computer, so
	// it cannot be grouped by host.
	ReasonMissingHost Reason = "missing_host"
	// ReasonBadTime: the record matches the rule but has no parseable event time.
	ReasonBadTime Reason = "bad_time"
	// ReasonTooDeep: the record passed the prefilter but its JSON arrays and
	// objects, or its XML elements, nest deeper than the detector reads
	// (1000 levels); nothing past that depth was checked.
	ReasonTooDeep Reason = "too_deep"
	// ReasonTooLarge: the record, its match or its alert cannot be written
	// in full to the topic it is meant for (the pipeline's reason, not the
	// detector's: listed here with the others so every dead letter's
	// reason is one of Reasons).
	ReasonTooLarge Reason = "too_large"
)

// maxDepth is the deepest nesting of JSON arrays and objects, or of XML
// elements, that the detector reads (the outermost object or element is
// level 1). Sysmon records nest 2 to 5 levels.
const maxDepth = 1000

// Reasons lists every Reason, in a stable order.
func Reasons() []Reason {
	return []Reason{ReasonMalformed, ReasonUnknownShape, ReasonMissingHost, ReasonBadTime, ReasonTooDeep, ReasonTooLarge}
}

// Error is returned by Evaluate for a record that deserves a dead letter.
type Error struct {
	Reason Reason
	Shape  Shape  // the shape the record was read as; ShapeAuto if unknown
	Detail string // what is wrong, for people
}

func (e *Error) Error() string {
	if e.Shape != ShapeAuto {
		return string(e.Reason) + " (" + e.Shape.String() + "): " + e.Detail
	}
	return string(e.Reason) + ": " + e.Detail
}

func malformed(shape Shape, detail string) *Error {
	return &Error{Reason: ReasonMalformed, Shape: shape, Detail: detail}
}

// NearMiss is a stable code for a record that passed the prefilter, was
// read without error, and is the kind of event the rule is about (a Sysmon
// event with the rule's event id, by the record's own event id field), but
// that the rule's raw-text test rejects, so that neither the detector nor
// Splunk selects it. Counting near misses tells a user who gets no alerts
// why: see Detector.EvaluateNearMiss. They are reported whatever the parent
// process; they are never dead letters. Like Reasons, near-miss codes never
// change meaning.
type NearMiss string

const (
	// NearMissEventIDLiteral: an XML record whose <EventID> element says 1
	// (or the rule's event id) but whose text lacks the rule's literal
	// "<EventID>1<", such as python-evtx's <EventID Qualifiers="">1</EventID>,
	// a namespace prefix or a CDATA section: Splunk's "<EventID>1<" finds
	// nothing either (rule-semantics.md), so the rule read literally skips
	// the event. JSON records are never near misses: the event id field is
	// their test.
	NearMissEventIDLiteral NearMiss = "event_id_literal"
)

// NearMisses lists every NearMiss, in a stable order.
func NearMisses() []NearMiss {
	return []NearMiss{NearMissEventIDLiteral}
}
