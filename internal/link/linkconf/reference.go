package linkconf

import (
	"fmt"
	"strings"
)

// ReferenceMarkdown renders the cluster link configs as the table in
// docs/configuration.md; a test keeps the file equal to it.
func ReferenceMarkdown() string {
	var b strings.Builder
	b.WriteString("| Name | Default | Notes | Description |\n|---|---|---|---|\n")
	for _, k := range Keys() {
		def := ""
		if k.Default != "" {
			def = "`" + k.Default + "`"
		}
		var notes []string
		if k.Sensitive {
			notes = append(notes, "secret: sealed at rest, never shown")
		}
		if k.Immutable {
			notes = append(notes, "fixed at creation")
		}
		doc := strings.ReplaceAll(strings.ReplaceAll(k.Doc, "|", `\|`), "\n", " ")
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", k.Name, def, strings.Join(notes, "; "), doc)
	}
	return b.String()
}
