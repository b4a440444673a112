package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/msiguard/msiguard/rules/spl"
	"github.com/msiguard/msiguard/window"
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

// Window returns base with the rule's part of a window's configuration
// set: its id, title and techniques (copied into every alert), its output
// fields (the order of detector.Match.Values) and its bucket span.
func (c *Compiled) Window(base window.Config) window.Config {
	base.RuleID = c.Rule.ID
	base.RuleTitle = c.Rule.Title
	base.Techniques = c.Rule.TechniqueIDs
	base.Fields = c.Program.Outputs()
	base.Span = c.Program.Group().Span
	return base
}

// Version is a short hash of what the rule compiles to (its logic and the
// macros it expands, its id, title and techniques): equal for an unchanged
// rule, different once it is edited, so that consumers can tell alerts of
// two versions of one rule apart (the msiguard-rule-version header).
func (c *Compiled) Version() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\x00%s\x00%s\x00", c.Rule.ID, c.Rule.Title, strings.Join(c.Rule.TechniqueIDs, ","))
	spl.Explain(&b, c.Program)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:6])
}
