package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"
)

// Format is an output format.
type Format string

const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	FormatYAML  Format = "yaml"
)

// ParseFormat validates -o.
func ParseFormat(s string) (Format, error) {
	switch Format(strings.ToLower(s)) {
	case FormatTable, "":
		return FormatTable, nil
	case FormatJSON:
		return FormatJSON, nil
	case FormatYAML:
		return FormatYAML, nil
	}
	return "", fmt.Errorf("invalid output format %q: use table, json or yaml", s)
}

// Printer writes command output.
type Printer struct {
	W      io.Writer
	Format Format
}

// Table prints rows under columns; for json/yaml it prints a list of objects
// keyed by snake_case column names (values stay strings).
func (p *Printer) Table(columns []string, rows [][]string) error {
	if p.Format != FormatTable {
		objs := make([]map[string]string, 0, len(rows))
		for _, r := range rows {
			o := make(map[string]string, len(columns))
			for i, c := range columns {
				if i < len(r) {
					o[snake(c)] = r[i]
				}
			}
			objs = append(objs, o)
		}
		return p.Object(objs)
	}
	tw := tabwriter.NewWriter(p.W, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(columns, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// Object prints v as JSON or YAML (tables print it as JSON too).
func (p *Printer) Object(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if p.Format == FormatYAML {
		if b, err = yaml.JSONToYAML(b); err != nil {
			return err
		}
		_, err = p.W.Write(b)
		return err
	}
	_, err = fmt.Fprintf(p.W, "%s\n", b)
	return err
}

// snake turns "Log End Offset" into "log_end_offset".
func snake(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), " ", "_")
}
