// Package detector decides, record by record, which compiled rules
// (rules.Compiled: Splunk SPL compiled by package rules) a raw Sysmon record
// on a Kafka topic matches, and extracts the fields each rule's alert
// carries.
//
// The package is pure: no Kafka, no clock, no goroutines, no unsafe. A
// [Detector] is built by [New] from any number of compiled rules ([NewDefault]:
// the embedded seed rule) and is safe for concurrent use by any number of
// goroutines.
//
// Work per record is staged so that the ~99.9% of records that cannot match
// cost one scan of their bytes:
//
//  1. [Detector.Prefilter] looks for every rule's required tokens at once
//     (rules/tokenscan) as Splunk tokens: any case, bounded on each side by
//     a Splunk breaker or the edge of the record. It never allocates, never
//     parses, and costs time linear in the record's size whatever the
//     record holds.
//  2. [Detector.EvaluateAll] runs the prefilter and, on a hit, reads the
//     record once: JSON with gjson (validated, then walked once), XML with
//     encoding/xml's rules (a fast scanner reads the usual rendering when it
//     is sure to read it as encoding/xml would). It detects the record's
//     shape (one of seven ways Sysmon events reach Kafka, see [Shape]),
//     computes the CIM fields as Splunk's Sysmon add-on does (rules/cim),
//     and runs the program of each rule whose tokens it holds: event code,
//     raw-text terms, field filters and regexes. Each rule that selects the
//     record yields a [Match]: the rule, host, event time and the rule's
//     output fields. [Detector.Evaluate] reports the first match only.
//  3. A [NearMiss] is reported for a record that is the event a rule is
//     about but that the rule's raw-text literal rejects (XML whose
//     <EventID> carries attributes), so that a pipeline can count them.
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
