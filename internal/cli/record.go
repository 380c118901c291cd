package cli

import (
	"fmt"
	"text/tabwriter"
)

// printRecord prints one object: "Field  Value" lines for tables, and for
// json and yaml an object keyed by the snake_case field names (as Table
// does for rows).
func printRecord(p *Printer, fields, values []string) error {
	if p.Format != FormatTable {
		o := make(map[string]string, len(fields))
		for i, f := range fields {
			o[snake(f)] = values[i]
		}
		return p.Object(o)
	}
	tw := tabwriter.NewWriter(p.W, 0, 4, 2, ' ', 0)
	for i, f := range fields {
		fmt.Fprintf(tw, "%s\t%s\n", f, values[i])
	}
	return tw.Flush()
}
