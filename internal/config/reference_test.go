package config

import (
	"os"
	"strings"
	"testing"
)

const (
	refFile  = "../../docs/configuration.md"
	refBegin = "<!-- BEGIN GENERATED: do not edit; UPDATE_DOCS=1 go test ./internal/config -run TestConfigReference -->\n"
	refEnd   = "<!-- END GENERATED -->\n"
)

// TestConfigReferenceUpToDate keeps docs/configuration.md equal to the
// catalogue. Run with UPDATE_DOCS=1 to regenerate it.
func TestConfigReferenceUpToDate(t *testing.T) {
	b, err := os.ReadFile(refFile)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, refBegin), strings.Index(doc, refEnd)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the generated-section markers", refFile)
	}
	want := doc[:i+len(refBegin)] + ReferenceMarkdown() + doc[j:]
	if want == doc {
		return
	}
	if os.Getenv("UPDATE_DOCS") != "" {
		if err := os.WriteFile(refFile, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("%s is out of date: run UPDATE_DOCS=1 go test ./internal/config -run TestConfigReference", refFile)
}
