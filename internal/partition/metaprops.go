package partition

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/strait-kafka/strait/internal/storage"
)

// metaPropertiesFile names the cluster and node a log directory belongs
// to, in Kafka's format (key=value lines).
const metaPropertiesFile = "meta.properties"

// checkMetaProperties makes sure log directory dir belongs to this cluster
// and node: it writes meta.properties when there is none, and refuses a
// directory of another cluster or node, or one whose file cannot be read.
// Starting on a foreign or freshly created metadata store would otherwise
// find none of the directory's topics and delete them all.
func (m *Manager) checkMetaProperties(dir string) error {
	if m.opts.ClusterID == "" {
		return nil
	}
	path := filepath.Join(dir, metaPropertiesFile)
	b, err := storage.ReadFile(m.fs, path)
	if errors.Is(err, fs.ErrNotExist) {
		body := fmt.Sprintf("version=1\ncluster.id=%s\nnode.id=%d\n", m.opts.ClusterID, m.opts.NodeID)
		if err := storage.WriteFileAtomic(m.fs, dir, metaPropertiesFile, []byte(body)); err != nil {
			return fmt.Errorf("partition: log directory %s: %w", dir, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("partition: log directory %s: %w", dir, err)
	}
	props := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			props[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	cluster, node := props["cluster.id"], props["node.id"]
	switch {
	case cluster == "":
		return fmt.Errorf("partition: %s names no cluster.id, so this log directory cannot be matched to the metadata store (cluster %s); "+
			"refusing to start so that no partition is deleted. If the directory belongs to this cluster, write cluster.id=%s and node.id=%d into it",
			path, m.opts.ClusterID, m.opts.ClusterID, m.opts.NodeID)
	case cluster != m.opts.ClusterID:
		return fmt.Errorf("partition: log directory %s belongs to cluster %s, but the metadata store is cluster %s; "+
			"refusing to start so that no partition is deleted (a lost or different metadata store?). Point the broker at the right "+
			"metadata store, or remove %s to adopt the directory into this cluster", dir, cluster, m.opts.ClusterID, path)
	case node != "" && node != strconv.Itoa(int(m.opts.NodeID)):
		return fmt.Errorf("partition: log directory %s belongs to node %s, but this broker is node %d; refusing to start", dir, node, m.opts.NodeID)
	}
	return nil
}
