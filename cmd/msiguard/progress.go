package main

import (
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// defaultWidth is the width assumed when the terminal does not say.
const defaultWidth = 80

// termWidth returns the width of the terminal w writes to, in columns,
// asked anew at each redraw so that a resized window is followed.
func termWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	return defaultWidth
}

// field is one piece of a status line. drop ranks what goes first when the
// line is too wide for the terminal: 0 never goes, higher goes sooner.
type field struct {
	text string
	drop int
}

// fitLine joins prefix and the fields, in their order, with ", ", leaving
// out the fields of highest drop rank until the line takes fewer than
// width columns: a line that filled or passed the last column would wrap,
// and \r then returns to the start of the wrapped part only, leaving the
// first part behind at every redraw. What is left too wide is cut.
func fitLine(prefix string, fields []field, width int) string {
	limit := max(width-1, 1)
	keep := make([]bool, len(fields))
	for i := range keep {
		keep[i] = fields[i].text != ""
	}
	for {
		var b strings.Builder
		b.WriteString(prefix)
		sep := " "
		for i, f := range fields {
			if keep[i] {
				b.WriteString(sep)
				b.WriteString(f.text)
				sep = ", "
			}
		}
		line := b.String()
		if len(line) <= limit {
			return line
		}
		worst := -1
		for i, f := range fields {
			if keep[i] && f.drop > 0 && (worst < 0 || f.drop > fields[worst].drop) {
				worst = i
			}
		}
		if worst < 0 {
			return line[:limit]
		}
		keep[worst] = false
	}
}

// redraw is what replaces the status line on a terminal: back to column 0,
// the new line, and the rest of the old one erased.
func redraw(line string) string { return "\r" + line + "\033[K" }

// eta estimates the time left from the fraction done after elapsed; "" when
// it cannot tell yet.
func eta(done float64, elapsed time.Duration) string {
	if done <= 0 || done >= 1 || elapsed < time.Second/2 {
		return ""
	}
	left := time.Duration(float64(elapsed) * (1 - done) / done)
	return "ETA " + left.Round(time.Second).String()
}
