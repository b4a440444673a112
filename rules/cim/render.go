package cim

import (
	"fmt"
	"strings"
)

// RenderTable writes the table as Markdown, one section per event id: the
// text FIELDS.md holds between its table markers.
func RenderTable() string {
	var b strings.Builder
	for _, e := range Events() {
		fmt.Fprintf(&b, "\n### Event %d: %s (CIM %s)\n\n", e.ID, e.Name, e.Dataset)
		b.WriteString("| CIM field | computed from | transform |\n|---|---|---|\n")
		for _, m := range e.Fields {
			from := make([]string, len(m.From))
			for i, s := range m.From {
				from[i] = "`" + s.String() + "`"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", m.Field, strings.Join(from, ", "), m.Transform)
		}
	}
	b.WriteString("\n")
	return b.String()
}
