// Package detector decides, record by record, whether a raw Sysmon record on a
// Kafka topic matches a Splunk-style msiexec rule, and extracts the fields the
// rule's alert carries.
//
// The package is pure: no Kafka, no clock, no goroutines. A [Detector] is built
// from a [Rule] (the seed rule is [SeedRule]) and is safe for concurrent use by
// any number of goroutines.
//
// Work per record is staged so that the ~99.9% of records that cannot match
// cost one scan of their bytes:
//
//  1. [Detector.Prefilter] looks for the rule's term (msiexec) as a Splunk
//     token: any case, bounded on each side by a Splunk breaker or the edge of
//     the record. It never allocates and never parses.
//  2. [Detector.Evaluate] runs the prefilter and, on a hit, detects the record's
//     shape (one of seven ways Sysmon events reach Kafka, see [Shape]), parses it
//     once with gjson (or a small XML scanner), and applies the rule: Sysmon
//     channel or provider when the record names one, event id 1, and the parent
//     regex on parent_process_name computed as Splunk's Sysmon add-on computes
//     it. A match yields a [Match]: host, event time and the rule's output
//     fields.
//
// Records that pass the prefilter but cannot be evaluated, or that match but
// cannot be grouped, yield an [*Error] whose [Reason] is stable and meant for
// dead-letter headers and metrics.
package detector
