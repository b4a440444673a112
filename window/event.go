package window

// Source is where an event came from: a Kafka record (Topic, Partition,
// Offset) or a line of a file (File, Line). File non-empty means a file
// source (Topic and Partition are then ignored); otherwise it is a Kafka
// source. The zero Source means "unknown": such an event is counted but
// neither listed in an alert's sources nor tracked for safe positions.
//
// In an alert's JSON a Kafka source is {"topic":..,"partition":..,"offset":..}
// and a file source {"file":..,"line":..}.
type Source struct {
	Topic     string
	Partition int32
	Offset    int64
	File      string
	Line      int64
}

// IsZero reports whether s is the zero Source (no known position).
func (s Source) IsZero() bool { return s == Source{} }

// position returns the partition the source belongs to and its position in
// it: the offset for Kafka, the line for files (Partition{Topic: File}).
func (s Source) position() (Partition, int64) {
	if s.File != "" {
		return Partition{Topic: s.File}, s.Line
	}
	return Partition{Topic: s.Topic, Partition: s.Partition}, s.Offset
}

// Partition identifies a source partition for SafePositions. For file
// sources Topic is the file name and Partition is 0; positions are lines.
type Partition struct {
	Topic     string
	Partition int32
}

// Event is one matched event, as the detector produces it.
//
// The window keeps its own copy of each distinct value (and of the host), so
// it never pins the caller's buffers; it does not retain Values itself, so
// the caller may reuse that slice as soon as Add returns. Strings must be
// ordinary immutable Go strings. Source strings (Topic, File) are kept as
// given: they are expected to be a handful of shared names.
type Event struct {
	// Host is the endpoint's computer name. Events with an empty Host are
	// dropped and counted (Stats.NoHost): Splunk drops rows whose host is null.
	Host string
	// Time is the event time (Sysmon UtcTime) in Unix nanoseconds, UTC.
	Time int64
	// Values is aligned with Config.Fields; "" means the field is absent
	// from this event. A length other than len(Config.Fields) is counted in
	// Stats.Malformed; missing trailing values are treated as absent and
	// extra values are ignored.
	Values []string
	// Source is the event's position in its input.
	Source Source
}
