package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestCLIConfigPairs(t *testing.T) {
	cases := []struct {
		in      string
		want    map[string]string
		wantErr string
	}{
		{"a=1", map[string]string{"a": "1"}, ""},
		{"a=1,b=2", map[string]string{"a": "1", "b": "2"}, ""},
		{"bootstrap.servers=h1:9092,h2:9092,acks=all", map[string]string{"bootstrap.servers": "h1:9092,h2:9092", "acks": "all"}, ""},
		{" a =x=y", map[string]string{"a": "x=y"}, ""},
		{"a=", map[string]string{"a": ""}, ""},
		{"", map[string]string{}, ""},
		{"noequals", nil, `invalid config "noequals": expected key=value`},
		{"=v", nil, `invalid config "=v": empty key`},
		{"a=1,a=2", nil, `config "a" is given twice`},
	}
	for _, c := range cases {
		got, err := parseConfigPairs(c.in)
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("%q: error %v, want %q", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestCLIConfigFile(t *testing.T) {
	got, err := parseConfigFile(strings.NewReader("# comment\n\n  a = 1 \nb=x=y\n   # indented comment\nc=\n"))
	if err != nil || !reflect.DeepEqual(got, map[string]string{"a": "1", "b": "x=y", "c": ""}) {
		t.Fatalf("%v, %v", got, err)
	}
	if _, err := parseConfigFile(strings.NewReader("a=1\nbroken\n")); err == nil || err.Error() != `line 2: expected key=value, got "broken"` {
		t.Fatalf("broken line: %v", err)
	}
	if _, err := parseConfigFile(strings.NewReader("a=1\na=2\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("duplicate: %v", err)
	}

	// --config-file and --config merge; a file path given to --config is
	// read as a file; the same key twice is refused.
	dir := t.TempDir()
	f1, f2 := filepath.Join(dir, "one.properties"), filepath.Join(dir, "two.properties")
	for p, text := range map[string]string{f1: "a=1\n", f2: "b=2\n"} {
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cf := configFlags{file: f1, pairs: []string{f2, "c=3"}}
	m, err := cf.collect()
	if err != nil || !reflect.DeepEqual(m, map[string]string{"a": "1", "b": "2", "c": "3"}) {
		t.Fatalf("collect: %v, %v", m, err)
	}
	cf = configFlags{file: f1, pairs: []string{"a=9"}}
	if _, err := cf.collect(); err == nil || err.Error() != `config "a" is given twice` {
		t.Fatalf("duplicate across flags: %v", err)
	}
	cf = configFlags{file: filepath.Join(dir, "missing")}
	if _, err := cf.collect(); err == nil {
		t.Fatal("missing file accepted")
	}
}

// FuzzCLIConfigPairs: whatever --config holds, parsing either fails or
// yields non-empty trimmed keys whose k=v pairs are all in the input.
func FuzzCLIConfigPairs(f *testing.F) {
	for _, s := range []string{"a=1,b=2", "bootstrap.servers=h:1,h:2", "x", ",,", "=", "a==b,c", " k = v "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseConfigPairs(s)
		if err != nil {
			return
		}
		for k, v := range m {
			if k == "" || k != strings.TrimSpace(k) {
				t.Fatalf("%q: bad key %q", s, k)
			}
			if !strings.Contains(s, v) {
				t.Fatalf("%q: value %q not in the input", s, v)
			}
		}
	})
}
