package rules

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/msiguard/msiguard/rules/spl"
)

// Compiled is a rule with its compiled search. It is immutable and safe for
// concurrent use.
type Compiled struct {
	Rule    *Rule
	Program *spl.Program
}

// Compile compiles r's logic with macros (DefaultMacros when nil). A
// refusal is an *spl.Error positioned in r's file (or in the macros file,
// with the use in the rule as Via).
func Compile(r *Rule, macros *Macros) (*Compiled, error) {
	if macros == nil {
		macros = DefaultMacros()
	}
	text := r.logic
	if text.Body == "" && r.Logic != "" { // a Rule built in code
		text = spl.Text{File: r.File, Body: r.Logic}
	}
	p, err := spl.Compile(text, macros)
	if err != nil {
		return nil, err
	}
	return &Compiled{Rule: r, Program: p}, nil
}

// CompileAll compiles every rule, reporting every failure.
func CompileAll(rs []*Rule, macros *Macros) ([]*Compiled, error) {
	if _, err := Unique(rs); err != nil {
		return nil, err
	}
	var out []*Compiled
	var errs []error
	for _, r := range rs {
		c, err := Compile(r, macros)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, c)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// Explain writes the rule's identity and what its compiled search does
// (spl.Explain): what `msiguard rules explain FILE` prints.
func (c *Compiled) Explain(w io.Writer) error {
	r := c.Rule
	var b strings.Builder
	fmt.Fprintf(&b, "%-18s %s\n", "rule:", r.ID)
	fmt.Fprintf(&b, "%-18s %s\n", "title:", r.Title)
	fmt.Fprintf(&b, "%-18s %s\n", "file:", r.File)
	fmt.Fprintf(&b, "%-18s %s\n", "techniques:", strings.Join(r.TechniqueIDs, ", "))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return spl.Explain(w, c.Program)
}
