package spl

import (
	"fmt"
	"strings"
)

// Position is a place in a rule or macros file. Line and Col count from 1;
// Col counts bytes.
type Position struct {
	File      string
	Line, Col int
}

func (p Position) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Error is a refusal to compile: where, and what is wrong or unsupported.
// Every error Compile returns is an *Error.
type Error struct {
	// Pos is where the problem is. Inside a macro's definition it is in the
	// macros file, and Via lists the uses of the macros that led there,
	// innermost first.
	Pos Position
	Via []Position
	// Msg says what is wrong and, for unsupported constructs, what is
	// supported instead.
	Msg string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	b.WriteString(": ")
	b.WriteString(e.Msg)
	for _, v := range e.Via {
		b.WriteString(" (in a macro used at ")
		b.WriteString(v.String())
		b.WriteString(")")
	}
	return b.String()
}

// Supported lists what the compiler accepts, for error messages and docs.
const Supported = "supported: in the first search, terms, \"phrases\", TERM(), field=value and field!=value " +
	"with * wildcards, NOT, AND, OR, parentheses and `macros`; then | search (field comparisons), " +
	"| regex field=\"re\" / field!=\"re\", | table, | bin span=N{s,m,h} (or bucket), " +
	"| stats [count] [values(*) as *] by _time, host"
