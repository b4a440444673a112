package detector

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Rule is a detection rule of the seed rule's family: a raw-text term, a
// Sysmon event id, and a regular expression over the parent process name,
// grouped by host and second. Change a Rule, not code, to run a variant.
type Rule struct {
	// ID is the rule's catalog id, copied into every alert ("24143.44553").
	ID string
	// Title is copied into every alert.
	Title string
	// Techniques are MITRE ATT&CK technique ids copied into every alert.
	Techniques []string
	// Term must occur in the raw record as a Splunk token, in any case
	// (TERM(msiexec)). It must be non-empty ASCII without breaker characters.
	Term string
	// EventID is the Sysmon event id the record must carry (1: process creation).
	EventID int
	// ParentPattern is a Go (RE2) regular expression matched, unanchored, against
	// parent_process_name, as Splunk's `regex` command does. A record without a
	// parent image never matches.
	ParentPattern string
	// Fields are the output fields, in order, each a name from [KnownFields].
	Fields []string
}

// SeedRule returns the rule msiguard runs by default: "Suspicious Parent
// Process for msiexec.exe" (24143.44553, T1218.007), with the 15 CIM fields that
// survive the rule's `table` command.
func SeedRule() Rule {
	return Rule{
		ID:            "24143.44553",
		Title:         "Suspicious Parent Process for msiexec.exe",
		Techniques:    []string{"T1218.007"},
		Term:          "msiexec",
		EventID:       1,
		ParentPattern: `(?i)(spoolsv|powershell|pwsh|cmd|svchost|winlogon|taskhost|wininit)\.exe`,
		Fields:        append([]string(nil), seedFields...),
	}
}

// seedFields are the fields kept by the seed rule's
// `table _time, host, user process, process_*, parent_process_name, parent_process_*`
// for Sysmon event 1 under Splunk's Sysmon add-on (rule-semantics.md, item 4).
// parent_process (the parent command line) is not among them.
var seedFields = []string{
	"user",
	"process",
	"process_current_directory",
	"process_exec",
	"process_guid",
	"process_hash",
	"process_id",
	"process_integrity_level",
	"process_name",
	"process_path",
	"parent_process_exec",
	"parent_process_guid",
	"parent_process_id",
	"parent_process_name",
	"parent_process_path",
}

// cimField says how one CIM field is computed from a Sysmon EventData field.
type cimField struct {
	name     string
	src      sysField
	basename bool // the add-on's basename of src rather than src itself
}

// cimFields lists every output field a Rule may name, with its source.
var cimFields = []cimField{
	{"user", fUser, false},
	{"process", fCommandLine, false},
	{"process_current_directory", fCurrentDirectory, false},
	{"process_exec", fImage, true},
	{"process_guid", fProcessGuid, false},
	{"process_hash", fHashes, false},
	{"process_id", fProcessId, false},
	{"process_integrity_level", fIntegrityLevel, false},
	{"process_name", fImage, true},
	{"process_path", fImage, false},
	{"parent_process", fParentCommandLine, false},
	{"parent_process_exec", fParentImage, true},
	{"parent_process_guid", fParentProcessGuid, false},
	{"parent_process_id", fParentProcessId, false},
	{"parent_process_name", fParentImage, true},
	{"parent_process_path", fParentImage, false},
}

// KnownFields returns the names a Rule's Fields may use.
func KnownFields() []string {
	out := make([]string, len(cimFields))
	for i, f := range cimFields {
		out[i] = f.name
	}
	return out
}

func lookupField(name string) (cimField, bool) {
	for _, f := range cimFields {
		if f.name == name {
			return f, true
		}
	}
	return cimField{}, false
}

// Validate reports the first problem with r, in words an operator can act on.
func (r Rule) Validate() error {
	var errs []error
	if r.ID == "" {
		errs = append(errs, errors.New("rule id is empty"))
	}
	if r.Term == "" {
		errs = append(errs, errors.New("rule term is empty"))
	}
	for i := 0; i < len(r.Term); i++ {
		c := r.Term[i]
		if c >= 0x80 || isBreaker(c) {
			errs = append(errs, fmt.Errorf("rule term %q contains %q: a term must be ASCII without Splunk breakers", r.Term, c))
			break
		}
	}
	if r.EventID < 0 {
		errs = append(errs, fmt.Errorf("rule event id %d is negative", r.EventID))
	}
	if _, err := regexp.Compile(r.ParentPattern); err != nil {
		errs = append(errs, fmt.Errorf("rule parent pattern does not compile: %w", err))
	}
	if len(r.Fields) == 0 {
		errs = append(errs, errors.New("rule has no output fields"))
	}
	seen := map[string]bool{}
	for _, f := range r.Fields {
		if _, ok := lookupField(f); !ok {
			errs = append(errs, fmt.Errorf("rule field %q is unknown (known: %s)", f, strings.Join(KnownFields(), ", ")))
		}
		if seen[f] {
			errs = append(errs, fmt.Errorf("rule field %q is listed twice", f))
		}
		seen[f] = true
	}
	return errors.Join(errs...)
}
