package rules

import (
	_ "embed"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/msiguard/msiguard/rules/spl"
)

// Macros are search macros by name. The zero value holds none. A *Macros
// implements spl.Macros.
type Macros struct {
	defs map[string]Macro
}

// Macro is one macro definition.
type Macro struct {
	Name        string
	Definition  string // SPL, spliced into the search where `Name` is written
	Description string
	File        string
	text        spl.Text
}

// Macro implements spl.Macros.
func (m *Macros) Macro(name string) (spl.Text, bool) {
	if m == nil {
		return spl.Text{}, false
	}
	d, ok := m.defs[name]
	return d.text, ok
}

// Names returns the defined names, sorted.
func (m *Macros) Names() []string {
	if m == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(m.defs))
}

// Get returns a macro by name.
func (m *Macros) Get(name string) (Macro, bool) {
	if m == nil {
		return Macro{}, false
	}
	d, ok := m.defs[name]
	return d, ok
}

// With returns the macros of m overlaid with those of o (o wins by name).
// Neither is modified.
func (m *Macros) With(o *Macros) *Macros {
	out := &Macros{defs: map[string]Macro{}}
	if m != nil {
		maps.Copy(out.defs, m.defs)
	}
	if o != nil {
		maps.Copy(out.defs, o.defs)
	}
	return out
}

//go:embed macros.yml
var defaultMacrosFile []byte

// DefaultMacrosFile names the embedded defaults in errors.
const DefaultMacrosFile = "(default)/macros.yml"

// DefaultMacros returns msiguard's built-in macros, get_endpoint_data and
// get_endpoint_data_sysmon (see macros.yml for their meaning and evidence).
func DefaultMacros() *Macros {
	m, err := ParseMacros(DefaultMacrosFile, defaultMacrosFile)
	if err != nil {
		panic("rules: the embedded macros do not parse: " + err.Error()) // TestDefaultMacros guards it
	}
	return m
}

var macroName = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

// ParseMacros reads a macros file: a YAML mapping from macro name to
// {definition, description}. The format is YAML rather than Splunk's
// macros.conf so that rules and macros share one loader with line and
// column positions; a macros.conf stanza [name] / definition = ... becomes
// name: {definition: ...}. Macros with arguments are refused.
func ParseMacros(file string, data []byte) (*Macros, error) {
	root, err := parseDoc(file, data)
	if err != nil {
		return nil, err
	}
	idx := newLineIndex(data)
	m := &Macros{defs: map[string]Macro{}}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode || !macroName.MatchString(k.Value) {
			return nil, nodeErr(file, k, "macro name %q: use letters, digits and _ . : - (macros with arguments, name(n), are not supported)", k.Value)
		}
		if _, dup := m.defs[k.Value]; dup {
			return nil, nodeErr(file, k, "macro %s defined twice", k.Value)
		}
		if v.Kind != yaml.MappingNode {
			return nil, nodeErr(file, v, "macro %s must be a mapping with a definition", k.Value)
		}
		d := Macro{Name: k.Value, File: file}
		var defNode *yaml.Node
		for j := 0; j+1 < len(v.Content); j += 2 {
			kk, vv := v.Content[j], v.Content[j+1]
			var err error
			switch kk.Value {
			case "definition":
				d.Definition, err = scalar(file, kk, vv)
				defNode = vv
			case "description":
				d.Description, err = scalar(file, kk, vv)
			case "args":
				err = nodeErr(file, kk, "macro %s has args: macros with arguments are not supported", k.Value)
			default:
				err = nodeErr(file, kk, "unknown key %q in macro %s (known: definition, description)", kk.Value, k.Value)
			}
			if err != nil {
				return nil, err
			}
		}
		if defNode == nil {
			return nil, nodeErr(file, v, "macro %s has no definition", k.Value)
		}
		offs := scalarOffsets(data, idx, defNode)
		line, col := defNode.Line, defNode.Column
		d.text = spl.Text{File: file, Body: d.Definition, Pos: func(off int) (int, int) {
			if offs == nil || off < 0 || len(offs) == 0 {
				return line, col
			}
			return idx.pos(offs[min(off, len(offs)-1)])
		}}
		m.defs[k.Value] = d
	}
	return m, nil
}

// LoadMacros reads a macros file.
func LoadMacros(path string) (*Macros, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &FileError{File: path, Msg: err.Error()}
	}
	return ParseMacros(path, data)
}

func (d Macro) String() string {
	return fmt.Sprintf("`%s` = %s", d.Name, strings.TrimSpace(d.Definition))
}
