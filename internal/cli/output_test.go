package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestCLIPrinterFormats(t *testing.T) {
	cols := []string{"Name", "Log End Offset"}
	rows := [][]string{{"a", "1"}, {"b", "22"}}
	cases := []struct {
		format Format
		want   []string
	}{
		{FormatTable, []string{"Name  Log End Offset", "a     1", "b     22"}},
		{FormatJSON, []string{`"log_end_offset": "22"`, `"name": "a"`}},
		{FormatYAML, []string{"- log_end_offset: \"1\"", "  name: b"}},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		if err := (&Printer{W: &buf, Format: c.format}).Table(cols, rows); err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("%s output lacks %q:\n%s", c.format, w, buf.String())
			}
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Fatal("xml accepted")
	}
}
