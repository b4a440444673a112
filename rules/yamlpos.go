package rules

import (
	"sort"

	yaml "go.yaml.in/yaml/v3"
)

// lineIndex maps byte offsets of a file to 1-based lines and columns.
type lineIndex []int // offsets of line starts

func newLineIndex(src []byte) lineIndex {
	idx := lineIndex{0}
	for i, c := range src {
		if c == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

func (l lineIndex) pos(off int) (line, col int) {
	i := sort.Search(len(l), func(i int) bool { return l[i] > off }) - 1
	return i + 1, off - l[i] + 1
}

func (l lineIndex) offset(line, col int) int {
	if line < 1 || line > len(l) {
		return -1
	}
	return l[line-1] + col - 1
}

// scalarOffsets maps each byte of a scalar's decoded value to the offset in
// src it came from, by decoding the scalar again from its source. It
// handles plain, single- and double-quoted scalars (with line folding) and
// literal blocks; for anything else, or when the re-decoding does not give
// the value yaml gave, it returns nil and callers fall back to the scalar's
// own position.
func scalarOffsets(src []byte, idx lineIndex, n *yaml.Node) []int {
	start := idx.offset(n.Line, n.Column)
	if start < 0 || start >= len(src) {
		return nil
	}
	var offs []int
	var out []byte
	switch {
	case n.Style&yaml.LiteralStyle != 0:
		out, offs = decodeLiteral(src, start)
	case n.Style&yaml.FoldedStyle != 0:
		return nil
	case n.Style&yaml.SingleQuotedStyle != 0:
		out, offs = decodeFlow(src, start+1, '\'', len(n.Value))
	case n.Style&yaml.DoubleQuotedStyle != 0:
		out, offs = decodeFlow(src, start+1, '"', len(n.Value))
	default:
		out, offs = decodeFlow(src, start, 0, len(n.Value))
	}
	if string(out) != n.Value {
		return nil
	}
	return offs
}

// decodeFlow decodes a flow scalar starting at src[i] (after its opening
// quote), folding line breaks as YAML does: trailing blanks before a break
// and leading blanks after it go, one break becomes a space, n breaks
// become n-1 newlines. quote is ' or " or 0 (plain: stops at want bytes).
func decodeFlow(src []byte, i int, quote byte, want int) ([]byte, []int) {
	var out []byte
	var offs []int
	emit := func(c byte, at int) { out = append(out, c); offs = append(offs, at) }
	for i < len(src) && len(out) <= want {
		c := src[i]
		switch {
		case quote == '\'' && c == '\'':
			if i+1 < len(src) && src[i+1] == '\'' {
				emit('\'', i)
				i += 2
				continue
			}
			return out, offs
		case quote == '"' && c == '"':
			return out, offs
		case quote == '"' && c == '\\' && i+1 < len(src):
			e := src[i+1]
			if e == '\n' || e == '\r' {
				i += 2
				for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r') {
					i++
				}
				continue
			}
			r, ok := map[byte]byte{'n': '\n', 't': '\t', '\\': '\\', '"': '"', '/': '/', '0': 0, 'r': '\r', ' ': ' '}[e]
			if !ok {
				return nil, nil // \x, \u and friends: not mapped
			}
			emit(r, i)
			i += 2
		case c == '\n' || c == '\r':
			for len(out) > 0 && (out[len(out)-1] == ' ' || out[len(out)-1] == '\t') {
				out, offs = out[:len(out)-1], offs[:len(offs)-1]
			}
			breaks := 0
			for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r') {
				if src[i] == '\n' {
					breaks++
				}
				i++
			}
			if breaks == 1 {
				emit(' ', i)
			} else {
				for range breaks - 1 {
					emit('\n', i)
				}
			}
		default:
			emit(c, i)
			i++
		}
		if quote == 0 && len(out) == want {
			return out, offs
		}
	}
	return out, offs
}

// decodeLiteral decodes a literal block scalar whose indicator (|, |-, |+)
// is at src[i], with its indentation detected from the first non-empty
// line. Chomping is applied by comparing with yaml's value by the caller.
func decodeLiteral(src []byte, i int) ([]byte, []int) {
	for i < len(src) && src[i] != '\n' {
		i++
	}
	i++
	indent := -1
	var out []byte
	var offs []int
	for i < len(src) {
		j := i
		for j < len(src) && src[j] == ' ' {
			j++
		}
		if j < len(src) && src[j] != '\n' {
			if indent < 0 {
				indent = j - i
			}
			if j-i < indent {
				break
			}
		}
		if j >= len(src) || src[j] == '\n' { // a blank line
			out, offs = append(out, '\n'), append(offs, j)
			i = j + 1
			continue
		}
		k := i + max(indent, 0)
		for ; k < len(src) && src[k] != '\n'; k++ {
			out, offs = append(out, src[k]), append(offs, k)
		}
		out, offs = append(out, '\n'), append(offs, k)
		i = k + 1
	}
	return out, offs
}
