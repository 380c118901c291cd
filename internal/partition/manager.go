package partition

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/strait-kafka/strait/internal/storage"
)

// metaFile records which topic incarnation a partition directory belongs to,
// in Kafka's format ("version: 0" and "topic_id: <base64url id>").
const metaFile = "partition.metadata"

// TP names a partition.
type TP struct {
	Topic string
	Index int32
}

// Assignment is a partition this broker should hold.
type Assignment struct {
	Topic       string
	TopicID     uuid.UUID
	Index       int32
	LeaderEpoch int32
	Config      Config
}

// ManagerOptions configure a Manager.
type ManagerOptions struct {
	Dirs           []string
	Logger         *slog.Logger
	Now            func() time.Time
	RetentionCheck time.Duration // log.retention.check.interval.ms
	FlushCheck     time.Duration // log.flush.scheduler.interval.ms
}

// Manager owns every partition stored on this broker: it opens them at
// start, creates and deletes them as assignments change, and runs the
// retention and flush schedules. Safe for concurrent use.
type Manager struct {
	opts ManagerOptions
	lg   *slog.Logger

	mu    sync.RWMutex
	parts map[TP]*Partition
	// swept is set once the log directories were swept for partition
	// directories no assignment claims (done at the first Reconcile; later
	// deletions go through parts, so the sweep never needs repeating).
	swept bool
}

// NewManager makes a manager; call Reconcile to open partitions.
func NewManager(opts ManagerOptions) (*Manager, error) {
	if len(opts.Dirs) == 0 {
		return nil, errors.New("partition: no log directories")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for _, d := range opts.Dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("partition: log directory %s: %w", d, err)
		}
	}
	return &Manager{opts: opts, lg: opts.Logger, parts: make(map[TP]*Partition)}, nil
}

// Get returns the partition, or nil if this broker does not hold it.
func (m *Manager) Get(topic string, index int32) *Partition {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.parts[TP{topic, index}]
}

// All returns every partition, sorted by topic and index.
func (m *Manager) All() []*Partition {
	m.mu.RLock()
	out := make([]*Partition, 0, len(m.parts))
	for _, p := range m.parts {
		out = append(out, p)
	}
	m.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Index < out[j].Index
	})
	return out
}

func dirName(topic string, index int32) string { return topic + "-" + strconv.Itoa(int(index)) }

// parseDirName splits "<topic>-<index>"; topics may contain '-'.
func parseDirName(name string) (string, int32, bool) {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.ParseInt(name[i+1:], 10, 32)
	if err != nil || n < 0 {
		return "", 0, false
	}
	return name[:i], int32(n), true
}

// Reconcile makes the set of open partitions equal to want: partitions that
// exist on disk for the same topic ID are opened (and recovered), missing ones
// are created, configs and leader epochs are updated live, and partitions
// that are no longer assigned — or whose directory belongs to an older
// incarnation of the topic — are deleted from disk. The first call also
// removes partition directories no assignment claims; later calls work in
// memory only, apart from the partitions they open or delete.
func (m *Manager) Reconcile(want []Assignment) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	wantSet := make(map[TP]Assignment, len(want))
	for _, a := range want {
		wantSet[TP{a.Topic, a.Index}] = a
	}
	var errs []error
	for tp, p := range m.parts {
		a, ok := wantSet[tp]
		if ok && a.TopicID == p.TopicID {
			continue
		}
		m.lg.Info("deleting partition", "topic", tp.Topic, "partition", tp.Index, "topic_id", p.TopicID)
		delete(m.parts, tp)
		if err := p.delete(); err != nil {
			errs = append(errs, err)
		}
	}
	// Directories on disk that no assignment claims (stale incarnations,
	// topics deleted while we were down): once, at start.
	for _, d := range m.sweepDirsLocked() {
		ents, err := os.ReadDir(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			topic, idx, ok := parseDirName(e.Name())
			if !ok {
				continue
			}
			path := filepath.Join(d, e.Name())
			a, wanted := wantSet[TP{topic, idx}]
			if wanted {
				id, err := readTopicID(path)
				if err == nil && id == a.TopicID {
					continue
				}
			}
			if _, open := m.parts[TP{topic, idx}]; open && wanted {
				continue
			}
			m.lg.Info("removing partition directory not in metadata", "dir", path)
			if err := os.RemoveAll(path); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for tp, a := range wantSet {
		if p, ok := m.parts[tp]; ok {
			if p.Config() != a.Config {
				p.SetConfig(a.Config)
			}
			if p.LeaderEpoch() != a.LeaderEpoch {
				p.SetLeaderEpoch(a.LeaderEpoch)
			}
			continue
		}
		p, err := m.openLocked(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m.parts[tp] = p
	}
	return errors.Join(errs...)
}

// sweepDirsLocked returns the log directories to sweep: all of them the
// first time, none afterwards.
func (m *Manager) sweepDirsLocked() []string {
	if m.swept {
		return nil
	}
	m.swept = true
	return m.opts.Dirs
}

func (m *Manager) openLocked(a Assignment) (*Partition, error) {
	name := dirName(a.Topic, a.Index)
	var dir string
	for _, d := range m.opts.Dirs {
		path := filepath.Join(d, name)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		if id, err := readTopicID(path); err != nil || id != a.TopicID {
			// Another incarnation's data must never become this topic's.
			m.lg.Info("removing partition directory of another topic incarnation", "dir", path)
			if err := os.RemoveAll(path); err != nil {
				return nil, err
			}
			continue
		}
		dir = path
		break
	}
	if dir == "" {
		dir = filepath.Join(m.leastLoadedDirLocked(), name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if err := writeTopicID(dir, a.TopicID); err != nil {
			return nil, err
		}
	}
	p, err := open(dir, a.Topic, a.Index, a.TopicID, a.LeaderEpoch, a.Config, storage.Options{Logger: m.lg, Now: m.opts.Now})
	if err != nil {
		return nil, fmt.Errorf("partition %s: %w", name, err)
	}
	return p, nil
}

func (m *Manager) leastLoadedDirLocked() string {
	count := make(map[string]int)
	for _, p := range m.parts {
		count[filepath.Dir(p.log.Dir())]++
	}
	best := m.opts.Dirs[0]
	for _, d := range m.opts.Dirs[1:] {
		if count[d] < count[best] {
			best = d
		}
	}
	return best
}

func writeTopicID(dir string, id uuid.UUID) error {
	body := "version: 0\ntopic_id: " + encodeTopicID(id) + "\n"
	tmp := filepath.Join(dir, metaFile+".tmp")
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, metaFile))
}

func readTopicID(dir string) (uuid.UUID, error) {
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return uuid.Nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "topic_id: "); ok {
			return decodeTopicID(strings.TrimSpace(v))
		}
	}
	return uuid.Nil, fmt.Errorf("partition: %s has no topic_id", filepath.Join(dir, metaFile))
}

// Run applies retention and time-based flushes until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	ret := m.opts.RetentionCheck
	if ret <= 0 {
		ret = 5 * time.Minute
	}
	if f := m.opts.FlushCheck; f > 0 && f < ret {
		ret = f
	}
	t := time.NewTicker(ret)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.EnforceRetention()
		}
	}
}

// EnforceRetention runs one retention, roll and time-based flush pass.
func (m *Manager) EnforceRetention() {
	for _, p := range m.All() {
		if _, err := p.log.EnforceRetention(); err != nil && !errors.Is(err, storage.ErrClosed) {
			p.lg.Warn("retention failed", "err", err)
		}
	}
}

// Close closes every partition, snapshotting producer state.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for tp, p := range m.parts {
		if err := p.close(); err != nil {
			errs = append(errs, fmt.Errorf("%s-%d: %w", tp.Topic, tp.Index, err))
		}
		delete(m.parts, tp)
	}
	return errors.Join(errs...)
}
