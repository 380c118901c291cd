package linkconf

import (
	"os"
	"strings"
	"testing"
)

const (
	refFile  = "../../../docs/configuration.md"
	refBegin = "<!-- BEGIN GENERATED LINK CONFIGS: do not edit; UPDATE_DOCS=1 go test ./internal/link/linkconf -run TestLinkConfReference -->\n"
	refEnd   = "<!-- END GENERATED LINK CONFIGS -->\n"
)

// TestLinkConfReferenceUpToDate keeps the cluster link section of
// docs/configuration.md equal to the catalogue (UPDATE_DOCS=1 rewrites it).
func TestLinkConfReferenceUpToDate(t *testing.T) {
	b, err := os.ReadFile(refFile)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, refBegin), strings.Index(doc, refEnd)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the link config markers", refFile)
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
	t.Fatalf("%s is out of date: run UPDATE_DOCS=1 go test ./internal/link/linkconf -run TestLinkConfReference", refFile)
}
