// Package spl compiles the subset of Splunk's Search Processing Language
// that the catalog's detection rules use into a [Program] that selects raw
// Sysmon records exactly as Splunk would, or refuses the rule.
//
// The subset: in the first (implied) search, bare terms, "quoted phrases",
// TERM(), field=value and field!=value with * wildcards, NOT, AND, OR (OR
// before AND), parentheses and `macros`; then | search (field comparisons),
// | regex field="re" and field!="re" (and "re" on _raw), | table with
// wildcards, | bin span=N{s,m,h} (bucket) and | stats [count] [values(*) as
// *] by _time, host. Anything else is an [*Error] with its file, line and
// column, never an approximation ([Supported] says what is accepted).
//
// A Program evaluates over an abstract record: the raw bytes (raw-text terms
// run on them as Splunk runs them on _raw) and a cim.Record that supplies
// Sysmon and envelope fields by cim.Source; CIM fields are computed by the
// record's event id (package cim). [Program.Prefilter] is the necessary
// condition on raw tokens that package tokenscan tests for many rules in
// one pass; [Explain] prints what a Program does.
//
// It imports rules/cim and rules/segment, and nothing that reads Kafka.
package spl
