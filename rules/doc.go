// Package rules loads detection rules from their catalog files and compiles
// them, so that a rule is data: a detection engineer edits its SPL, not Go.
//
// # Files
//
// A rule file is the catalog's YAML rule body (see 24143.44553.yml, the
// seed rule, embedded as [Default]): id, title, description, logic_format
// (always Splunk), logic (the SPL), technique_id, techniques, data_category
// and references. [Parse], [LoadFile] and [LoadDir] refuse unknown keys, a
// missing id, logic or logic_format, a logic_format other than Splunk,
// malformed technique ids and, across files, duplicate ids, each as a
// [*FileError] naming the file, line and column. The id is taken as
// written, so an unquoted 24143.44550 keeps its trailing zero.
//
// Macros come from a macros file (YAML: name: {definition, description};
// see macros.yml) over the built-in [DefaultMacros]: get_endpoint_data
// (every record: the input topic is the endpoint data) and
// get_endpoint_data_sysmon, which states in SPL what the detector has always
// done for it: when a record names its channel or provider, one of them must
// contain "sysmon"; a record naming neither is taken as Sysmon
// (shared/reference/rule-semantics.md).
//
// # Compiling
//
// [Compile] hands the logic to package spl, which expands macros, parses the
// search with Splunk's precedence and either returns a program or refuses
// the rule with the position of the problem mapped back through YAML's line
// folding into the rule file (or into the macros file, naming the macro's
// use). Two spellings of one test are read as the event-id test they stand
// for: TERM(EventCode=N) (classic event logs) and "<EventID>N<" (XML), alone
// or as alternatives of one OR, select records whose event id is N, and XML
// records must also hold the literal, as Splunk's phrase search requires.
// Every other raw-text term runs on the raw record bytes, as Splunk runs it
// on _raw: JSON records are searched as they arrive, escapes and all.
//
// # Evaluating
//
// A compiled rule evaluates over the raw bytes and a cim.Record (fields by
// Sysmon name and a few envelope names), so any parser can feed it; CIM
// fields (process_name, dest_port, query, ...) are computed by package cim
// with the Sysmon add-on's transforms for the record's event id. Many rules
// share one scan of each record for their prefilter tokens (package
// tokenscan); only the rules whose tokens are present need evaluating.
//
// FIELDS.md lists the fields a rule can name; README.md ("Writing and
// tuning rules") is the user's guide, DESIGN.md ("Rules") the design.
//
// rules and its packages spl, cim, segment and tokenscan import no Kafka
// client: the detector builds on them, and the detector is pure. rules
// may import its own packages and window.
package rules
