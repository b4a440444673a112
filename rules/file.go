package rules

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/msiguard/msiguard/rules/spl"
)

// Rule is one rule file in the catalog's format.
type Rule struct {
	ID           string   // id, e.g. "24143.44553"; copied into alerts and hashed into alert_id
	Title        string   // title, copied into alerts
	Description  string   // description
	LogicFormat  string   // logic_format: always "Splunk"
	Logic        string   // logic: the SPL
	TechniqueIDs []string // technique_id: MITRE ATT&CK ids, e.g. ["T1218.007"]
	Techniques   []string // techniques: "tactic:technique:sub-technique" names
	DataCategory []string // data_category, e.g. ["Windows Sysmon"]
	References   []string // references: URLs

	// File is the path the rule was read from ("(default)/24143.44553.yml"
	// for the embedded seed rule).
	File string

	logic spl.Text
}

// FileError is a problem with a rule or macros file. Line and Col are 0
// when the YAML library does not give them.
type FileError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *FileError) Error() string {
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

func nodeErr(file string, n *yaml.Node, format string, args ...any) *FileError {
	return &FileError{File: file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlErr turns a YAML syntax error into a FileError with its line.
func yamlErr(file string, err error) *FileError {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		var line int
		fmt.Sscan(m[1], &line)
		return &FileError{File: file, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &FileError{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// parseDoc parses data as one YAML document whose root is a mapping.
func parseDoc(file string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err.Error() == "EOF" {
			return nil, &FileError{File: file, Msg: "the file is empty"}
		}
		return nil, yamlErr(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, nodeErr(file, &extra, "a second YAML document: one file holds one rule")
	} else if err.Error() != "EOF" {
		return nil, yamlErr(file, err)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, nodeErr(file, root, "the file must be a mapping of keys (id, title, logic, ...)")
	}
	return root, nil
}

// ruleKey is a key of a rule file and the field it fills: text takes a
// single value, list a list of them.
type ruleKey struct {
	name string
	text func(*Rule) *string
	list func(*Rule) *[]string
}

// ruleKeys are the keys a rule file may hold, in the order errors list
// them.
var ruleKeys = []ruleKey{
	{name: "id", text: func(r *Rule) *string { return &r.ID }},
	{name: "title", text: func(r *Rule) *string { return &r.Title }},
	{name: "description", text: func(r *Rule) *string { return &r.Description }},
	{name: "logic_format", text: func(r *Rule) *string { return &r.LogicFormat }},
	{name: "logic", text: func(r *Rule) *string { return &r.Logic }},
	{name: "technique_id", list: func(r *Rule) *[]string { return &r.TechniqueIDs }},
	{name: "techniques", list: func(r *Rule) *[]string { return &r.Techniques }},
	{name: "data_category", list: func(r *Rule) *[]string { return &r.DataCategory }},
	{name: "references", list: func(r *Rule) *[]string { return &r.References }},
}

var (
	techniqueID = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)
)

// Parse reads one rule file's content; file names it in errors. It checks
// the keys and their shapes, not the SPL (Compile does).
func Parse(file string, data []byte) (*Rule, error) {
	root, err := parseDoc(file, data)
	if err != nil {
		return nil, err
	}
	r := &Rule{File: file}
	idx := newLineIndex(data)
	seen := map[string]*yaml.Node{}
	var logicNode *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, nodeErr(file, k, "keys must be plain names")
		}
		if prev, dup := seen[k.Value]; dup {
			return nil, nodeErr(file, k, "key %s given twice (first at line %d)", k.Value, prev.Line)
		}
		seen[k.Value] = k
		known := slices.IndexFunc(ruleKeys, func(rk ruleKey) bool { return rk.name == k.Value })
		var err error
		switch {
		case known < 0:
			err = nodeErr(file, k, "unknown key %q (known: %s)", k.Value, ruleKeyNames())
		case ruleKeys[known].text != nil:
			*ruleKeys[known].text(r), err = scalar(file, k, v)
		default:
			*ruleKeys[known].list(r), err = list(file, k, v)
		}
		if err == nil {
			err = checkKey(file, k.Value, r, v)
		}
		if k.Value == "logic" {
			logicNode = v
		}
		if err != nil {
			return nil, err
		}
	}
	switch {
	case seen["id"] == nil:
		return nil, nodeErr(file, root, "the rule has no id")
	case strings.TrimSpace(r.ID) == "" || strings.ContainsFunc(r.ID, func(c rune) bool { return c <= ' ' || c == 0x7f }):
		return nil, nodeErr(file, seen["id"], "id %q must be non-empty, without spaces or control characters", r.ID)
	case logicNode == nil:
		return nil, nodeErr(file, root, "the rule has no logic")
	case strings.TrimSpace(r.Logic) == "":
		return nil, nodeErr(file, logicNode, "the rule's logic is empty")
	case seen["logic_format"] == nil:
		return nil, nodeErr(file, root, "the rule has no logic_format (it must be Splunk)")
	}
	offs := scalarOffsets(data, idx, logicNode)
	line, col := logicNode.Line, logicNode.Column
	r.logic = spl.Text{File: file, Body: r.Logic, Pos: func(off int) (int, int) {
		if offs == nil {
			return line, col // the scalar's own position
		}
		if off >= len(offs) {
			off = len(offs) - 1
		}
		if off < 0 {
			return line, col
		}
		return idx.pos(offs[off])
	}}
	return r, nil
}

// checkKey checks the value of key beyond its shape, once it is in r.
func checkKey(file, key string, r *Rule, v *yaml.Node) error {
	switch key {
	case "logic_format":
		if r.LogicFormat != "Splunk" {
			return nodeErr(file, v, "logic_format is %q: only Splunk is supported", r.LogicFormat)
		}
	case "technique_id":
		for j, t := range r.TechniqueIDs {
			if !techniqueID.MatchString(t) {
				return nodeErr(file, v.Content[j], "technique_id %q is not a MITRE ATT&CK technique id (T1234 or T1234.567)", t)
			}
		}
	}
	return nil
}

// ruleKeyNames lists the known keys for an error.
func ruleKeyNames() string {
	names := make([]string, len(ruleKeys))
	for i, rk := range ruleKeys {
		names[i] = rk.name
	}
	return strings.Join(names, ", ")
}

// scalar reads a key's value as text. A number or other plain scalar is
// taken as written (id: 24143.44550 stays "24143.44550").
func scalar(file string, k, v *yaml.Node) (string, error) {
	if v.Kind != yaml.ScalarNode {
		return "", nodeErr(file, v, "%s must be a single value", k.Value)
	}
	if v.Tag == "!!null" {
		return "", nil
	}
	return v.Value, nil
}

func list(file string, k, v *yaml.Node) ([]string, error) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, nodeErr(file, v, "%s must be a list", k.Value)
	}
	out := make([]string, 0, len(v.Content))
	for _, e := range v.Content {
		if e.Kind != yaml.ScalarNode {
			return nil, nodeErr(file, e, "%s must be a list of single values", k.Value)
		}
		out = append(out, e.Value)
	}
	return out, nil
}

// LoadFile reads and parses one rule file.
func LoadFile(path string) (*Rule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &FileError{File: path, Msg: err.Error()}
	}
	return Parse(path, data)
}

// IsMacrosFile reports whether a file in a rules directory is its macros
// file (macros.yml or macros.yaml), which LoadDir does not read as a rule.
func IsMacrosFile(name string) bool {
	base := filepath.Base(name)
	return base == "macros.yml" || base == "macros.yaml"
}

// LoadDir reads every *.yml and *.yaml file of dir (not its
// subdirectories), except a macros file, in name order. It reports every
// file that fails, and duplicate ids across the files.
func LoadDir(dir string) ([]*Rule, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &FileError{File: dir, Msg: err.Error()}
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !(strings.HasSuffix(n, ".yml") || strings.HasSuffix(n, ".yaml")) || IsMacrosFile(n) {
			continue
		}
		switch {
		case e.Type().IsRegular():
		case e.Type()&fs.ModeSymlink != 0:
			// A Kubernetes config map mounts each file as a symlink; one
			// that points to a directory is skipped, a dangling one read
			// (and reported).
			if st, err := os.Stat(filepath.Join(dir, n)); err == nil && st.IsDir() {
				continue
			}
		default:
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		names[i] = filepath.Join(dir, n)
	}
	if len(names) == 0 {
		return nil, &FileError{File: dir, Msg: "no rule files (*.yml, *.yaml)"}
	}
	return LoadPaths(names)
}

// LoadPaths reads each path, a rule file or a directory of them (LoadDir),
// in order. It reports every path that fails, and duplicate ids across
// them.
func LoadPaths(paths []string) ([]*Rule, error) {
	var rules []*Rule
	var errs []error
	for _, path := range paths {
		st, err := os.Stat(path)
		if err != nil {
			errs = append(errs, &FileError{File: path, Msg: err.Error()})
			continue
		}
		if st.IsDir() {
			d, err := LoadDir(path)
			if err != nil {
				errs = append(errs, err)
			}
			rules = append(rules, d...)
			continue
		}
		r, err := LoadFile(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rules = append(rules, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return Unique(rules)
}

// Unique returns rules unchanged when their ids are distinct, else an error
// naming both files of each duplicate id.
func Unique(rules []*Rule) ([]*Rule, error) {
	first := map[string]*Rule{}
	var errs []error
	for _, r := range rules {
		if p, ok := first[r.ID]; ok {
			errs = append(errs, &FileError{File: r.File, Msg: fmt.Sprintf("rule id %s is also the id of %s", r.ID, p.File)})
			continue
		}
		first[r.ID] = r
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rules, nil
}

//go:embed 24143.44553.yml
var seedFile []byte

// DefaultFile is the name under which the embedded seed rule reports errors
// and positions.
const DefaultFile = "(default)/24143.44553.yml"

// Default returns the seed rule, embedded in the binary: "Suspicious Parent
// Process for msiexec.exe" (24143.44553, T1218.007). Each call returns a
// new copy.
func Default() *Rule {
	r, err := Parse(DefaultFile, seedFile)
	if err != nil {
		panic("rules: the embedded seed rule does not parse: " + err.Error()) // TestDefault guards it
	}
	return r
}

// Clone returns a deep copy of r.
func (r *Rule) Clone() *Rule {
	c := *r
	c.TechniqueIDs = slices.Clone(r.TechniqueIDs)
	c.Techniques = slices.Clone(r.Techniques)
	c.DataCategory = slices.Clone(r.DataCategory)
	c.References = slices.Clone(r.References)
	return &c
}
