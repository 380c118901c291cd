package testutil

import (
	"os"
	"strings"
	"testing"
)

// CheckGeneratedSection keeps the part of file between the lines begin and
// end equal to content, so that documentation generated from code cannot
// drift. With UPDATE_DOCS set in the environment it rewrites the section
// instead of failing; how says how to do that in the failure message.
func CheckGeneratedSection(t testing.TB, file, begin, end, content, how string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers %q and %q", file, strings.TrimSpace(begin), strings.TrimSpace(end))
	}
	want := doc[:i+len(begin)] + content + doc[j:]
	if want == doc {
		return
	}
	if os.Getenv("UPDATE_DOCS") != "" {
		if err := os.WriteFile(file, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("%s is out of date: run %s", file, how)
}
