package config

import (
	"testing"

	"github.com/strait-kafka/strait/internal/testutil"
)

// TestConfigReferenceUpToDate keeps docs/configuration.md equal to the
// catalogue. Run with UPDATE_DOCS=1 to regenerate it.
func TestConfigReferenceUpToDate(t *testing.T) {
	testutil.CheckGeneratedSection(t, "../../docs/configuration.md",
		"<!-- BEGIN GENERATED: do not edit; UPDATE_DOCS=1 go test ./internal/config -run TestConfigReference -->\n",
		"<!-- END GENERATED -->\n",
		ReferenceMarkdown(), "UPDATE_DOCS=1 go test ./internal/config -run TestConfigReference")
}
