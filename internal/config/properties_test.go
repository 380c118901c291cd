package config

import (
	"strings"
	"testing"
)

func TestConfigPropertiesParse(t *testing.T) {
	type kv = Property
	cases := []struct {
		name string
		in   string
		want []kv
	}{
		{"equals", "key=value", []kv{{"key", "value", 1}}},
		{"equals with blanks", "key = value", []kv{{"key", "value", 1}}},
		{"colon", "key:value", []kv{{"key", "value", 1}}},
		{"colon with blanks", "key : value", []kv{{"key", "value", 1}}},
		{"space separator", "key value", []kv{{"key", "value", 1}}},
		{"tab separator", "key\tvalue", []kv{{"key", "value", 1}}},
		{"blanks then equals", "key   =   value", []kv{{"key", "value", 1}}},
		{"surrounding blanks trimmed", "  \t key=value  \t ", []kv{{"key", "value", 1}}},
		{"key alone", "key", []kv{{"key", "", 1}}},
		{"empty value", "key=", []kv{{"key", "", 1}}},
		{"second separator kept", "key==v", []kv{{"key", "=v", 1}}},
		{"colon after equals kept", "a = :b", []kv{{"a", ":b", 1}}},
		{"value with inner blanks", "a = b c  d", []kv{{"a", "b c  d", 1}}},
		{"hash comment", "# comment\nk=v", []kv{{"k", "v", 2}}},
		{"bang comment", "! comment\nk=v", []kv{{"k", "v", 2}}},
		{"indented comment", "   # comment\nk=v", []kv{{"k", "v", 2}}},
		{"hash inside value", "k=a#b", []kv{{"k", "a#b", 1}}},
		{"blank lines", "\n\n  \t\nk=v\n\n", []kv{{"k", "v", 4}}},
		{"continuation", "a=b\\\n   c\nd=e", []kv{{"a", "bc", 1}, {"d", "e", 3}}},
		{"continuation twice", "a=1,\\\n  2,\\\n  3", []kv{{"a", "1,2,3", 1}}},
		{"even backslashes do not continue", "a=b\\\\\nc=d", []kv{{"a", "b\\", 1}, {"c", "d", 2}}},
		{"continuation over CRLF", "a=1\\\r\n 2\r\nb=3", []kv{{"a", "12", 1}, {"b", "3", 3}}},
		{"CR line ends", "a=1\rb=2", []kv{{"a", "1", 1}, {"b", "2", 2}}},
		{"comment does not continue", "# c \\\nk=v", []kv{{"k", "v", 2}}},
		{"continued line starting with hash", "a=x\\\n#y", []kv{{"a", "x#y", 1}}},
		{"backslash at end of file", "a=b\\", []kv{{"a", "b", 1}}},
		{"control escapes", `t=\t\n\r\f`, []kv{{"t", "\t\n\r\f", 1}}},
		{"escaped backslash", `p=C:\\data`, []kv{{"p", `C:\data`, 1}}},
		{"unicode escape", `u=\u0041\u00e9`, []kv{{"u", "Aé", 1}}},
		{"surrogate pair", `u=\uD83D\uDE00`, []kv{{"u", "😀", 1}}},
		{"lone surrogate", `u=\uD83Dx`, []kv{{"u", "\uFFFDx", 1}}},
		{"other escapes drop the backslash", `q=\q\=\:\#`, []kv{{"q", "q=:#", 1}}},
		{"escaped space in key", `my\ key=v`, []kv{{"my key", "v", 1}}},
		{"escaped equals in key", `a\=b=c`, []kv{{"a=b", "c", 1}}},
		{"escaped colon in key", `a\:b:c`, []kv{{"a:b", "c", 1}}},
		{"escaped trailing space kept", `a=b\ `, []kv{{"a", "b ", 1}}},
		{"escaped leading space kept", `a=\  b`, []kv{{"a", "  b", 1}}},
		{"utf-8 text", "名前=値", []kv{{"名前", "値", 1}}},
		{"byte order mark", "\xef\xbb\xbfk=v", []kv{{"k", "v", 1}}},
		{"repeated key", "k=1\nk=2", []kv{{"k", "1", 1}, {"k", "2", 2}}},
		{"empty input", "", nil},
		{"only comments", "# a\n! b\n", nil},
		{"empty key", "=v", []kv{{"", "v", 1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseProperties(strings.NewReader(tc.in))
			if err != nil {
				t.Fatalf("ParseProperties(%q): %v", tc.in, err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("ParseProperties(%q) = %#v, want %#v", tc.in, got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("ParseProperties(%q)[%d] = %#v, want %#v", tc.in, i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestConfigPropertiesMalformedUnicode(t *testing.T) {
	for _, in := range []string{"a=1\nb=\\u12", "a=1\nb=\\uZZZZ", "a=1\n\\u00=x"} {
		_, err := ParseProperties(strings.NewReader(in))
		if err == nil {
			t.Fatalf("ParseProperties(%q): no error", in)
		}
		if !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), `\uxxxx`) {
			t.Errorf("ParseProperties(%q) error %q: want the line and the escape named", in, err)
		}
	}
}

// formatProperties writes properties so that ParseProperties reads them
// back unchanged: every character with a meaning is escaped.
func formatProperties(props []Property) string {
	var b strings.Builder
	b.WriteString("# written by formatProperties\n") // a key may start with BOM bytes
	esc := func(s string) {
		for i := 0; i < len(s); i++ {
			switch c := s[i]; c {
			case '\\', ' ', '=', ':', '#', '!':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\t':
				b.WriteString(`\t`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\f':
				b.WriteString(`\f`)
			default:
				b.WriteByte(c)
			}
		}
	}
	for _, p := range props {
		esc(p.Key)
		b.WriteByte('=')
		esc(p.Value)
		b.WriteByte('\n')
	}
	return b.String()
}

func FuzzConfigProperties(f *testing.F) {
	for _, s := range []string{
		"key=value", "a b", "a:b", "# c\n! d\nk=v", "a=b\\\n  c", "a=b\\\\\nc=d",
		`u=\u0041\uD83D\uDE00`, "a=1\r\nb=2\rc=3", `k\ e\=y=v\ `, "\xef\xbb\xbfk=v", `a=\u12`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		props, err := ParseProperties(strings.NewReader(in))
		if err != nil {
			return
		}
		nlines := strings.Count(in, "\n") + strings.Count(in, "\r") + 1
		prev := 0
		for _, p := range props {
			if p.Line <= prev || p.Line > nlines {
				t.Fatalf("line numbers not increasing within the input: %d after %d (of %d)", p.Line, prev, nlines)
			}
			prev = p.Line
		}
		out := formatProperties(props)
		again, err := ParseProperties(strings.NewReader(out))
		if err != nil {
			t.Fatalf("reparse of %q: %v", out, err)
		}
		if len(again) != len(props) {
			t.Fatalf("round trip: %#v became %#v", props, again)
		}
		for i := range props {
			if props[i].Key != again[i].Key || props[i].Value != again[i].Value {
				t.Fatalf("round trip %d: %#v became %#v (via %q)", i, props[i], again[i], out)
			}
		}
	})
}
