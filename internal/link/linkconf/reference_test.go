package linkconf

import (
	"testing"

	"github.com/strait-kafka/strait/internal/testutil"
)

// TestLinkConfReferenceUpToDate keeps the cluster link section of
// docs/configuration.md equal to the catalogue (UPDATE_DOCS=1 rewrites it).
func TestLinkConfReferenceUpToDate(t *testing.T) {
	testutil.CheckGeneratedSection(t, "../../../docs/configuration.md",
		"<!-- BEGIN GENERATED LINK CONFIGS: do not edit; UPDATE_DOCS=1 go test ./internal/link/linkconf -run TestLinkConfReference -->\n",
		"<!-- END GENERATED LINK CONFIGS -->\n",
		ReferenceMarkdown(), "UPDATE_DOCS=1 go test ./internal/link/linkconf -run TestLinkConfReference")
}
