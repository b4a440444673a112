// Package detector decides, record by record, whether a raw Sysmon record on a
// Kafka topic matches a Splunk-style msiexec rule, and extracts the fields the
// rule's alert carries.
//
// The package is pure: no Kafka, no clock, no goroutines, no unsafe. A
// [Detector] is built from a [Rule] (the seed rule is [SeedRule]) and is safe
// for concurrent use by any number of goroutines.
//
// Work per record is staged so that the ~99.9% of records that cannot match
// cost one scan of their bytes:
//
//  1. [Detector.Prefilter] looks for the rule's term (msiexec) as a Splunk
//     token: any case, bounded on each side by a Splunk breaker or the edge of
//     the record. It never allocates, never parses, and costs time linear in
//     the record's size whatever the record holds.
//  2. [Detector.Evaluate] runs the prefilter and, on a hit, reads the record:
//     JSON with gjson (validated, then walked once), XML with encoding/xml's rules
//     (a fast scanner reads the usual rendering when it is sure to read it as
//     encoding/xml would). It detects the record's shape (one of seven ways
//     Sysmon events reach Kafka, see [Shape]) and applies the rule: Sysmon
//     channel or provider when the record names one, event id 1 (and, for
//     XML, the rule's literal "<EventID>1<"), and the parent regex on
//     parent_process_name computed as Splunk's Sysmon add-on computes it. A
//     match yields a [Match]: host, event time and the rule's output fields.
//  3. [Detector.EvaluateNearMiss] is Evaluate that also reports a
//     [NearMiss]: a record that is the event the rule is about but that the
//     rule's raw-text literal rejects (XML whose <EventID> carries
//     attributes), so that a pipeline can count them.
//
// Records that pass the prefilter but cannot be evaluated (malformed,
// unknown_shape, too_deep), or that match but cannot be grouped
// (missing_host, bad_time), yield an [*Error] whose [Reason] is stable and
// meant for dead-letter headers and metrics. Nesting deeper than 1000 levels
// is too_deep, however deep.
//
// Duplicate keys (and repeated XML elements or attributes, and entries of an
// EVTX list) never make a record ambiguous: the first non-empty value in
// document order wins, in every shape.
package detector
