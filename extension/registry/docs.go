package registry

import (
	"fmt"
	"strings"
)

// Markdown is the table reference README.md carries, generated from the
// table definitions so that the two cannot drift apart.
func Markdown() string {
	var b strings.Builder
	for _, t := range Tables() {
		fmt.Fprintf(&b, "### `%s`\n\n%s\n\n| column | type | description |\n|---|---|---|\n", t.Name, t.Description)
		for _, c := range t.Columns {
			typ := string(c.Type)
			if c.Hidden {
				typ += " (hidden)"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", c.Name, typ, strings.ReplaceAll(c.Description, "|", `\|`))
		}
		b.WriteString("\n")
	}
	return b.String()
}
