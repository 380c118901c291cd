package app

import (
	"log/slog"

	"github.com/strait-kafka/strait/internal/storage"
)

// openFileBudget is how many unused segment files the logs may keep open:
// half of the process's descriptor limit, leaving the rest to connections,
// files in use and the metadata store. (Files in use and files with unsynced
// writes stay open beyond it; see storage.Files.)
func openFileBudget(lg *slog.Logger) int {
	limit, ok := fileLimit()
	if !ok {
		return storage.DefaultMaxOpen
	}
	budget := int(max(limit/2, 64))
	lg.Debug("descriptor budget for segment files", "rlimit_nofile", limit, "max_open", budget)
	return budget
}
