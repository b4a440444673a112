package spl

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Text is SPL source and where it came from.
type Text struct {
	// File names the file in error messages.
	File string
	// Body is the SPL.
	Body string
	// Pos maps a byte offset of Body to its line and column in File. Nil
	// means Body starts at line 1, column 1 of File.
	Pos func(off int) (line, col int)
}

func (t *Text) position(off int) Position {
	if t.Pos != nil {
		l, c := t.Pos(off)
		return Position{t.File, l, c}
	}
	line, col := 1, 1
	for i := 0; i < off && i < len(t.Body); i++ {
		if t.Body[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return Position{t.File, line, col}
}

// Macros resolves a macro name (the text between backticks) to its
// definition. ok is false for an unknown macro.
type Macros interface {
	Macro(name string) (def Text, ok bool)
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tWord
	tString // text is the raw content between the quotes
	tLParen
	tRParen
	tPipe
	tEq
	tNe
	tComma
	tTerm // TERM(text)
	tCmp  // <, >, <=, >=: refused by the parser
)

type token struct {
	kind tokKind
	text string
	pos  Position
	via  []Position
}

func (t token) errorf(format string, args ...any) *Error {
	return &Error{Pos: t.pos, Via: t.via, Msg: sprintf(format, args...)}
}

const maxMacroDepth = 16

// lexer turns SPL into tokens, expanding macros as Splunk does before it
// parses the search.
type lexer struct {
	macros Macros
	toks   []token
}

func lexAll(src Text, macros Macros) ([]token, error) {
	lx := &lexer{macros: macros}
	if err := lx.lex(&src, nil, nil); err != nil {
		return nil, err
	}
	return lx.toks, nil
}

// punct maps the one-byte tokens to their kinds (tEOF: not one).
var punct = [256]tokKind{'(': tLParen, ')': tRParen, '|': tPipe, ',': tComma, '=': tEq}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// wordStop reports whether c ends a bare word.
func wordStop(s string, i int) bool {
	switch c := s[i]; {
	case isSpace(c):
		return true
	case c == '(' || c == ')' || c == '|' || c == '"' || c == '`' || c == '=' || c == '<' || c == '>' || c == ',':
		return true
	case c == '!':
		return i+1 < len(s) && s[i+1] == '='
	}
	return false
}

func (lx *lexer) lex(src *Text, via []Position, active []string) error {
	s := src.Body
	if !utf8.ValidString(s) {
		// SPL is text; field globs and regexes could not be compiled.
		off := 0
		for off < len(s) {
			r, n := utf8.DecodeRuneInString(s[off:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			off += n
		}
		return &Error{Pos: src.position(off), Via: via, Msg: fmt.Sprintf("byte 0x%02x is not valid UTF-8: SPL must be UTF-8 text", s[off])}
	}
	i := 0
	emit := func(k tokKind, text string, off int) {
		lx.toks = append(lx.toks, token{kind: k, text: text, pos: src.position(off), via: via})
	}
	for i < len(s) {
		c := s[i]
		switch {
		case isSpace(c):
			i++
		case punct[c] != tEOF:
			emit(punct[c], s[i:i+1], i)
			i++
		case c == '!' && i+1 < len(s) && s[i+1] == '=':
			emit(tNe, "!=", i)
			i += 2
		case c == '<' || c == '>':
			n := 1
			if i+1 < len(s) && s[i+1] == '=' {
				n = 2
			}
			emit(tCmp, s[i:i+n], i)
			i += n
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				j++
			}
			if j >= len(s) {
				return &Error{Pos: src.position(i), Via: via, Msg: "unterminated quoted string"}
			}
			emit(tString, s[i+1:j], i)
			i = j + 1
		case c == '`':
			j := strings.IndexByte(s[i+1:], '`')
			if j < 0 {
				return &Error{Pos: src.position(i), Via: via, Msg: "unterminated macro: a backtick without its closing backtick"}
			}
			name := s[i+1 : i+1+j]
			pos := src.position(i)
			if err := lx.expand(name, pos, via, active); err != nil {
				return err
			}
			i += j + 2
		default:
			j := i
			for j < len(s) && !wordStop(s, j) {
				j++
			}
			word := s[i:j]
			if (word == "TERM" || word == "CASE") && j < len(s) && s[j] == '(' {
				k := strings.IndexByte(s[j:], ')')
				if k < 0 {
					return &Error{Pos: src.position(i), Via: via, Msg: word + "( without its closing parenthesis"}
				}
				if word == "CASE" {
					return &Error{Pos: src.position(i), Via: via, Msg: "CASE() (case-sensitive matching) is not supported; " + Supported}
				}
				emit(tTerm, s[j+1:j+k], i)
				i = j + k + 1
				continue
			}
			emit(tWord, word, i)
			i = j
		}
	}
	return nil
}

func (lx *lexer) expand(name string, use Position, via []Position, active []string) error {
	if strings.ContainsAny(name, "()") {
		return &Error{Pos: use, Via: via, Msg: "macro `" + name + "` takes arguments; macros with arguments are not supported"}
	}
	name = strings.TrimSpace(name)
	for _, a := range active {
		if a == name {
			return &Error{Pos: use, Via: via, Msg: "macro `" + name + "` expands into itself"}
		}
	}
	if len(active) >= maxMacroDepth {
		return &Error{Pos: use, Via: via, Msg: "macros nested deeper than 16 levels"}
	}
	if lx.macros == nil {
		return &Error{Pos: use, Via: via, Msg: "unknown macro `" + name + "` (no macros are defined)"}
	}
	def, ok := lx.macros.Macro(name)
	if !ok {
		return &Error{Pos: use, Via: via, Msg: "unknown macro `" + name + "`: define it in the macros file"}
	}
	inner := append([]Position{use}, via...)
	return lx.lex(&def, inner, append(active, name))
}
