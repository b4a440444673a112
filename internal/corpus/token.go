package corpus

import "strings"

// breakerChars are Splunk's breakers as rule-semantics.md lists them,
// written out here independently of the breaker table in rules/segment.
const breakerChars = "[]<>(){}|!;,'\"*\n\r \t&?+/:=@.-$#%\\_"

// PlainToken is Splunk's token test for term (lower case) in s, written as
// plainly as possible from rule-semantics.md: term, in any ASCII case,
// between breakers or the record's ends, where a URL-encoded major breaker
// (%XX) also counts on the left. It is the reference the prefilter's and
// rules/segment's tests compare with.
func PlainToken(s, term string) bool {
	lb := []byte(s) // ASCII-only folding: strings.ToLower rewrites invalid UTF-8
	for i, c := range lb {
		if 'A' <= c && c <= 'Z' {
			lb[i] = c + 'a' - 'A'
		}
	}
	ls := string(lb)
	for i := 0; i+len(term) <= len(s); i++ {
		if ls[i:i+len(term)] != term {
			continue
		}
		leftOK := i == 0 || strings.IndexByte(breakerChars, s[i-1]) >= 0
		if !leftOK && i >= 3 && s[i-3] == '%' {
			for _, e := range []string{"21", "26", "3b", "7c", "20", "2b", "3d", "5d", "5b", "3a", "0a", "2c", "28", "29"} {
				if ls[i-2:i] == e {
					leftOK = true
				}
			}
		}
		end := i + len(term)
		rightOK := end == len(s) || strings.IndexByte(breakerChars, s[end]) >= 0
		if leftOK && rightOK {
			return true
		}
	}
	return false
}
