package partition

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
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

// deleteDirSuffix ends the name of a partition directory being deleted, as
// in Kafka: "<topic>-<partition>.<topic id, hex>-delete". It is removed
// after file.delete.delay.ms.
const deleteDirSuffix = "-delete"

// strayDirSuffix ends the name of a partition directory whose topic
// incarnation the metadata does not know at start: "<topic>-<partition>.
// <topic id, hex>-stray". It is kept, never removed automatically, as
// Kafka keeps stray logs: absence from the metadata is not proof of a
// deletion (the metadata store may have been damaged or replaced).
const strayDirSuffix = "-stray"

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
	// Files configures the descriptors and index mappings the partitions
	// share (its FS, when set, is used for every file of the manager).
	Files storage.FilesConfig
	// ClusterID, when set, is recorded in each log directory's
	// meta.properties; a directory of another cluster stops NewManager,
	// so that an empty or foreign metadata store can never make the broker
	// delete partitions.
	ClusterID string
	NodeID    int32
	// RetryOffline is how often offline partitions are tried again
	// (default 10 s).
	RetryOffline time.Duration
	// DefaultDeleteDelay is how long a partition directory found marked
	// for deletion at start waits before it is removed (default 60 s).
	DefaultDeleteDelay time.Duration
	// TopicKnown reports whether the metadata has a topic with this ID
	// (whether or not this broker stores it). A directory of a known topic
	// that is not assigned here is deleted; one of an unknown topic is set
	// aside as stray. nil treats every ID as unknown.
	TopicKnown func(uuid.UUID) bool
}

// Offline describes a partition this broker should hold but cannot serve:
// its files could not be opened or failed, and are kept as they are.
type Offline struct {
	Topic string
	Index int32
	Dir   string
	Err   error
	Since time.Time
}

// Manager owns every partition stored on this broker: it opens them at
// start, creates and deletes them as assignments change, and runs the
// retention and flush schedules. Safe for concurrent use.
//
// It deletes a partition directory only when the metadata says that topic
// incarnation is gone from this broker, and then by renaming it to
// *-delete and removing it after file.delete.delay.ms. A directory whose
// partition.metadata cannot be read, or whose log is damaged, is never
// deleted: the partition is offline (logged at ERROR, counted, reported by
// Offline) and retried every RetryOffline, so a repaired file brings it
// back without a restart.
type Manager struct {
	opts  ManagerOptions
	lg    *slog.Logger
	files *storage.Files
	fs    storage.FS

	mu      sync.RWMutex
	parts   map[TP]*Partition
	offline map[TP]*Offline
	// prepared are partitions opened by Prepare whose topic is not yet in
	// the metadata (not served).
	prepared map[TP]*Partition
	// swept is set once the log directories were swept for partition
	// directories no assignment claims (done at the first Reconcile; later
	// deletions go through parts, so the sweep never needs repeating).
	swept bool
	// left are directories left in place because their incarnation could
	// not be read (logged once each).
	left map[string]bool
	// lastWant is the last Reconcile's assignments (offline partitions are
	// retried with them).
	lastWant map[TP]Assignment

	dmu      sync.Mutex
	deletes  []dirDelete // directories renamed *-delete, waiting
	nDeleted int
	strays   map[string]bool

	// cleanDirs are the log directories whose clean-shutdown marker was
	// found at start; a partition in one of them is clean the first time
	// it is opened (opened records that, under omu).
	cleanDirs map[string]bool
	omu       sync.Mutex
	opened    map[string]bool
}

// cleanMarker is the clean-shutdown marker of a log directory, written by
// Close once every partition in it closed cleanly (Kafka keeps one per log
// directory too). Partitions open while it is absent are recovered.
const cleanMarker = ".clean-shutdown"

type dirDelete struct {
	path string
	at   time.Time
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
	if opts.RetryOffline <= 0 {
		opts.RetryOffline = 10 * time.Second
	}
	if opts.DefaultDeleteDelay <= 0 {
		opts.DefaultDeleteDelay = time.Minute
	}
	if opts.Files.Logger == nil {
		opts.Files.Logger = opts.Logger
	}
	files := storage.NewFiles(opts.Files)
	m := &Manager{opts: opts, lg: opts.Logger, files: files, fs: files.FS(),
		parts: make(map[TP]*Partition), offline: make(map[TP]*Offline), prepared: make(map[TP]*Partition), left: map[string]bool{},
		cleanDirs: map[string]bool{}, opened: map[string]bool{}, strays: map[string]bool{}}
	for _, d := range opts.Dirs {
		if err := m.fs.MkdirAll(d, 0o755); err != nil {
			files.Close()
			return nil, fmt.Errorf("partition: log directory %s: %w", d, err)
		}
		if err := m.checkMetaProperties(d); err != nil {
			files.Close()
			return nil, err
		}
		// The marker goes as the broker starts: from now on its
		// partitions may change, and a crash must find them unclean.
		marker := filepath.Join(d, cleanMarker)
		if _, err := m.fs.Stat(marker); err == nil {
			if err := m.fs.Remove(marker); err != nil {
				files.Close()
				return nil, fmt.Errorf("partition: log directory %s: %w", d, err)
			}
			if err := storage.SyncDir(m.fs, d); err != nil {
				files.Close()
				return nil, fmt.Errorf("partition: log directory %s: %w", d, err)
			}
			m.cleanDirs[d] = true
		}
	}
	return m, nil
}

// firstOpenClean reports whether the partition directory dir is opened for
// the first time since a clean shutdown of its log directory.
func (m *Manager) firstOpenClean(dir string) bool {
	m.omu.Lock()
	defer m.omu.Unlock()
	first := !m.opened[dir]
	m.opened[dir] = true
	return first && m.cleanDirs[filepath.Dir(dir)]
}

// Files are the shared storage resources (for metrics).
func (m *Manager) Files() *storage.Files { return m.files }

// Get returns the partition, or nil if this broker does not serve it.
func (m *Manager) Get(topic string, index int32) *Partition {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.parts[TP{topic, index}]
}

// Offline reports whether the partition is assigned here but offline, and why.
func (m *Manager) Offline(topic string, index int32) (Offline, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	o, ok := m.offline[TP{topic, index}]
	if !ok {
		return Offline{}, false
	}
	return *o, true
}

// OfflinePartitions lists the offline partitions, sorted.
func (m *Manager) OfflinePartitions() []Offline {
	m.mu.RLock()
	out := make([]Offline, 0, len(m.offline))
	for _, o := range m.offline {
		out = append(out, *o)
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
// that are no longer assigned — or whose directory belongs to another
// incarnation of the topic — are deleted (renamed, removed later). The
// first call also sweeps the log directories for partition directories no
// assignment claims. A partition that cannot be opened is offline, not an
// error; the returned error reports operations that failed outright.
func (m *Manager) Reconcile(want []Assignment) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	wantSet := make(map[TP]Assignment, len(want))
	for _, a := range want {
		wantSet[TP{a.Topic, a.Index}] = a
	}
	m.lastWant = wantSet
	var errs []error
	for tp, p := range m.parts {
		a, ok := wantSet[tp]
		if ok && a.TopicID == p.TopicID {
			continue
		}
		m.lg.Info("deleting partition", "topic", tp.Topic, "partition", tp.Index, "topic_id", p.TopicID)
		delete(m.parts, tp)
		if err := m.deletePartition(p); err != nil {
			errs = append(errs, err)
		}
	}
	for tp, o := range m.offline {
		if _, ok := wantSet[tp]; !ok {
			// Its topic is gone, but its files could not be read: they
			// stay where they are.
			m.lg.Warn("partition removed from the metadata while offline; its directory is left in place",
				"topic", tp.Topic, "partition", tp.Index, "dir", o.Dir)
			delete(m.offline, tp)
		}
	}
	errs = append(errs, m.sweepLocked(wantSet)...)
	var toOpen []Assignment
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
		if p, ok := m.prepared[tp]; ok && p.TopicID == a.TopicID {
			// Prepared for this incarnation before its metadata was written.
			delete(m.prepared, tp)
			p.SetConfig(a.Config)
			p.SetLeaderEpoch(a.LeaderEpoch)
			m.parts[tp] = p
			continue
		}
		if o, ok := m.offline[tp]; ok && m.opts.Now().Sub(o.Since) < m.opts.RetryOffline {
			continue // retried by Run
		}
		toOpen = append(toOpen, a)
	}
	m.openAllLocked(toOpen)
	return errors.Join(errs...)
}

// openWorkers is how many partitions are opened, recovered or closed at
// once: their work is mostly waiting for fsyncs, which overlap well.
const openWorkers = 32

// parallel runs fn(i) for i in [0, n) on up to openWorkers goroutines and
// returns when all are done.
func parallel(n int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(openWorkers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// opened is the outcome of opening one partition.
type opened struct {
	p   *Partition
	dir string
	err error
}

// openAllLocked opens partitions in parallel and records each as open or
// offline. Requires mu: the workers only read the manager's state.
func (m *Manager) openAllLocked(as []Assignment) []opened {
	dirs := m.newDirsLocked(as)
	out := make([]opened, len(as))
	parallel(len(as), func(i int) {
		p, dir, err := m.openLocked(as[i], dirs[i])
		out[i] = opened{p, dir, err}
	})
	for i, a := range as {
		m.recordOpenLocked(a, out[i])
	}
	return out
}

// newDirsLocked chooses, for each assignment, the log directory it is
// created in if it does not exist yet: the least loaded, counting the
// ones chosen before it.
func (m *Manager) newDirsLocked(as []Assignment) []string {
	count := make(map[string]int)
	for _, p := range m.parts {
		count[filepath.Dir(p.log.Dir())]++
	}
	out := make([]string, len(as))
	for i := range as {
		best := m.opts.Dirs[0]
		for _, d := range m.opts.Dirs[1:] {
			if count[d] < count[best] {
				best = d
			}
		}
		count[best]++
		out[i] = best
	}
	return out
}

// Prepare creates and opens partitions that are about to be created,
// before the metadata names them, so that a disk that cannot hold them (no
// space, no descriptors) fails the creation while the metadata has no trace
// of it. They are kept open, not yet served, until Reconcile finds them in
// the metadata. On failure nothing prepared is left. Discard undoes a
// Prepare whose metadata write failed.
func (m *Manager) Prepare(as []Assignment) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var todo []Assignment
	for _, a := range as {
		tp := TP{a.Topic, a.Index}
		if _, open := m.parts[tp]; !open {
			todo = append(todo, a)
		}
	}
	dirs := m.newDirsLocked(todo)
	out := make([]opened, len(todo))
	parallel(len(todo), func(i int) {
		p, dir, err := m.openLocked(todo[i], dirs[i])
		out[i] = opened{p, dir, err}
	})
	var errs []error
	for i, a := range todo {
		if out[i].err != nil {
			errs = append(errs, out[i].err)
			continue
		}
		if old, ok := m.prepared[TP{a.Topic, a.Index}]; ok {
			old.close()
		}
		m.prepared[TP{a.Topic, a.Index}] = out[i].p
	}
	if len(errs) > 0 {
		m.discardLocked(todo)
		return errors.Join(errs...)
	}
	return nil
}

// Discard closes and removes what Prepare made for as.
func (m *Manager) Discard(as []Assignment) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.discardLocked(as)
}

func (m *Manager) discardLocked(as []Assignment) {
	for _, a := range as {
		tp := TP{a.Topic, a.Index}
		if _, open := m.parts[tp]; open {
			continue
		}
		if p, ok := m.prepared[tp]; ok && p.TopicID == a.TopicID {
			p.close()
			delete(m.prepared, tp)
		}
		for _, d := range m.opts.Dirs {
			path := filepath.Join(d, dirName(a.Topic, a.Index))
			// Only a directory this incarnation owns, which no metadata
			// ever named: it holds nothing.
			if id, err := m.readTopicID(path); err == nil && id == a.TopicID {
				if err := m.fs.RemoveAll(path); err != nil {
					m.lg.Warn("removing the files of a partition that was not created", "dir", path, "err", err)
				}
			}
		}
	}
}

// recordOpenLocked records the outcome of opening a wanted partition: open,
// or offline (logged once per reason).
func (m *Manager) recordOpenLocked(a Assignment, r opened) {
	tp := TP{a.Topic, a.Index}
	if r.err == nil {
		if o, was := m.offline[tp]; was {
			m.lg.Info("partition is online again", "topic", a.Topic, "partition", a.Index, "dir", o.Dir)
			delete(m.offline, tp)
		}
		m.parts[tp] = r.p
		return
	}
	if o, was := m.offline[tp]; was && o.Err.Error() == r.err.Error() {
		o.Since = m.opts.Now()
		return // still offline for the same reason: logged already
	}
	m.offline[tp] = &Offline{Topic: a.Topic, Index: a.Index, Dir: r.dir, Err: r.err, Since: m.opts.Now()}
	m.lg.Error("partition is offline; its files are kept as they are", "topic", a.Topic, "partition", a.Index,
		"dir", r.dir, "err", r.err)
}

// sweepLocked handles, once, the directories no open partition owns:
// leftovers of deletions are scheduled, directories of known topics not
// assigned here are deleted, those of incarnations the metadata does not
// know are set aside as stray, and those whose incarnation cannot be read
// are left alone.
func (m *Manager) sweepLocked(want map[TP]Assignment) []error {
	if m.swept {
		return nil
	}
	m.swept = true
	var errs []error
	for _, d := range m.opts.Dirs {
		ents, err := m.fs.ReadDir(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			path := filepath.Join(d, e.Name())
			if strings.HasSuffix(e.Name(), deleteDirSuffix) {
				m.scheduleDirDelete(path, m.opts.DefaultDeleteDelay)
				continue
			}
			if strings.HasSuffix(e.Name(), strayDirSuffix) {
				m.countStray(path)
				continue
			}
			topic, idx, ok := parseDirName(e.Name())
			if !ok {
				continue
			}
			tp := TP{topic, idx}
			if _, open := m.parts[tp]; open {
				continue
			}
			id, err := m.readTopicID(path)
			if err != nil {
				if _, wanted := want[tp]; !wanted {
					m.leaveInPlace(path, err)
				}
				continue // a wanted one goes offline when it is opened
			}
			if a, wanted := want[tp]; wanted && a.TopicID == id {
				continue
			}
			if err := m.retireDir(path, id, m.opts.DefaultDeleteDelay); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

func (m *Manager) leaveInPlace(path string, err error) {
	if m.left[path] {
		return
	}
	m.left[path] = true
	m.lg.Error("partition directory left in place: its partition.metadata cannot be read, so it cannot be matched to a topic",
		"dir", path, "err", err)
}

// openLocked opens a wanted partition, or creates it in newDir. It
// returns the directory it tried when it fails. It only reads the
// manager's state (openAllLocked runs it on several goroutines).
func (m *Manager) openLocked(a Assignment, newDir string) (*Partition, string, error) {
	name := dirName(a.Topic, a.Index)
	var matches []string
	for _, d := range m.opts.Dirs {
		path := filepath.Join(d, name)
		if _, err := m.fs.Stat(path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, path, fmt.Errorf("partition %s: %w", name, err)
		}
		id, err := m.readTopicID(path)
		if err != nil {
			return nil, path, fmt.Errorf("%w; the directory is kept as it is: if it belongs to this topic, write %q into %s",
				err, "version: 0\ntopic_id: "+encodeTopicID(a.TopicID)+"\n", filepath.Join(path, metaFile))
		}
		if id != a.TopicID {
			// Another incarnation's data must never become this topic's.
			if err := m.retireDir(path, id, msDelay(a.Config.Storage.FileDeleteDelayMs)); err != nil {
				return nil, path, err
			}
			continue
		}
		matches = append(matches, path)
	}
	switch len(matches) {
	case 0:
		dir := filepath.Join(newDir, name)
		if err := m.fs.MkdirAll(dir, 0o755); err != nil {
			return nil, dir, fmt.Errorf("partition %s: %w", name, err)
		}
		if err := m.writeTopicID(dir, a.TopicID); err != nil {
			m.fs.RemoveAll(dir) // just made, and empty: no incarnation owns it
			return nil, dir, fmt.Errorf("partition %s: %w", name, err)
		}
		matches = []string{dir}
	case 1:
	default:
		return nil, matches[0], fmt.Errorf("partition %s is in several log directories: %s; it stays offline until one is moved away",
			name, strings.Join(matches, ", "))
	}
	dir := matches[0]
	p, err := open(dir, a.Topic, a.Index, a.TopicID, a.LeaderEpoch, a.Config,
		storage.Options{Logger: m.lg, Now: m.opts.Now, Files: m.files,
			SharedShutdownMarker: true, Clean: m.firstOpenClean(dir)})
	if err != nil {
		return nil, dir, fmt.Errorf("partition %s: %w", name, err)
	}
	return p, dir, nil
}

func msDelay(ms int64) time.Duration {
	if ms < 0 {
		return 0
	}
	return time.Duration(min(ms, int64(1<<62)/int64(time.Millisecond))) * time.Millisecond
}

// deletePartition closes a partition that is no longer assigned and
// renames its directory for deletion after its file.delete.delay.ms.
func (m *Manager) deletePartition(p *Partition) error {
	dir := p.log.Dir()
	dest := deleteName(dir, p.TopicID)
	if err := p.closeAndRename(dest); err != nil {
		m.lg.Warn("deleting partition", "dir", dir, "err", err)
		if _, serr := m.fs.Stat(dest); serr != nil {
			return fmt.Errorf("partition: deleting %s: %w", dir, err)
		}
	}
	m.scheduleDirDelete(dest, msDelay(p.Config().Storage.FileDeleteDelayMs))
	return nil
}

func deleteName(dir string, id uuid.UUID) string {
	return dir + "." + strings.ReplaceAll(id.String(), "-", "") + deleteDirSuffix
}

// retireDir takes a partition directory that is not open out of the way:
// deleted (after delay) when the metadata knows its topic but does not
// assign that partition here, set aside as stray when the metadata does not
// know its incarnation at all.
func (m *Manager) retireDir(path string, id uuid.UUID, delay time.Duration) error {
	if m.opts.TopicKnown != nil && m.opts.TopicKnown(id) {
		m.lg.Info("deleting partition directory not assigned to this broker", "dir", path, "topic_id", id)
		return m.renameForDelete(path, id, delay)
	}
	dest := path + "." + strings.ReplaceAll(id.String(), "-", "") + strayDirSuffix
	if err := m.fs.Rename(path, dest); err != nil {
		return fmt.Errorf("partition: setting aside %s: %w", path, err)
	}
	if err := storage.SyncDir(m.fs, filepath.Dir(path)); err != nil {
		return fmt.Errorf("partition: setting aside %s: %w", path, err)
	}
	m.lg.Warn("partition directory of a topic incarnation the metadata does not know set aside as stray; it is kept, remove it once it is not needed",
		"dir", path, "kept_in", dest, "topic_id", id)
	m.countStray(dest)
	return nil
}

// countStray records a stray directory (reported by Strays).
func (m *Manager) countStray(path string) {
	m.dmu.Lock()
	defer m.dmu.Unlock()
	m.strays[path] = true
}

// Strays lists the stray partition directories found or made.
func (m *Manager) Strays() []string {
	m.dmu.Lock()
	defer m.dmu.Unlock()
	out := make([]string, 0, len(m.strays))
	for p := range m.strays {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// renameForDelete renames a directory not open as a partition for deletion.
func (m *Manager) renameForDelete(path string, id uuid.UUID, delay time.Duration) error {
	dest := deleteName(path, id)
	if err := m.fs.Rename(path, dest); err != nil {
		return fmt.Errorf("partition: deleting %s: %w", path, err)
	}
	if err := storage.SyncDir(m.fs, filepath.Dir(path)); err != nil {
		return fmt.Errorf("partition: deleting %s: %w", path, err)
	}
	m.scheduleDirDelete(dest, delay)
	return nil
}

func (m *Manager) scheduleDirDelete(path string, delay time.Duration) {
	m.dmu.Lock()
	defer m.dmu.Unlock()
	for _, d := range m.deletes {
		if d.path == path {
			return
		}
	}
	m.deletes = append(m.deletes, dirDelete{path: path, at: m.opts.Now().Add(delay)})
}

// removeDueDirs removes the directories whose delay has passed.
func (m *Manager) removeDueDirs() {
	now := m.opts.Now()
	m.dmu.Lock()
	var due []string
	kept := m.deletes[:0]
	for _, d := range m.deletes {
		if now.Before(d.at) {
			kept = append(kept, d)
			continue
		}
		due = append(due, d.path)
	}
	m.deletes = kept
	m.dmu.Unlock()
	for _, path := range due {
		if err := m.fs.RemoveAll(path); err != nil {
			m.lg.Warn("removing deleted partition directory; will retry", "dir", path, "err", err)
			m.scheduleDirDelete(path, m.opts.RetryOffline)
			continue
		}
		m.dmu.Lock()
		m.nDeleted++
		m.dmu.Unlock()
		m.lg.Info("removed deleted partition directory", "dir", path)
	}
}

// PendingDirDeletes is how many partition directories wait for removal.
func (m *Manager) PendingDirDeletes() int {
	m.dmu.Lock()
	defer m.dmu.Unlock()
	return len(m.deletes)
}

func (m *Manager) writeTopicID(dir string, id uuid.UUID) error {
	body := "version: 0\ntopic_id: " + encodeTopicID(id) + "\n"
	return storage.WriteFileAtomic(m.fs, dir, metaFile, []byte(body))
}

func (m *Manager) readTopicID(dir string) (uuid.UUID, error) {
	path := filepath.Join(dir, metaFile)
	b, err := storage.ReadFile(m.fs, path)
	if err != nil {
		return uuid.Nil, fmt.Errorf("partition: %s: %w", path, err)
	}
	lines := strings.Split(string(b), "\n")
	if strings.TrimSpace(lines[0]) != "version: 0" {
		return uuid.Nil, fmt.Errorf("partition: %s: first line is %q, not \"version: 0\"", path, firstBytes(lines[0]))
	}
	for _, line := range lines[1:] {
		if v, ok := strings.CutPrefix(line, "topic_id: "); ok {
			id, err := decodeTopicID(strings.TrimSpace(v))
			if err != nil {
				return uuid.Nil, fmt.Errorf("partition: %s: %w", path, err)
			}
			return id, nil
		}
	}
	return uuid.Nil, fmt.Errorf("partition: %s has no topic_id", path)
}

func firstBytes(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Run applies retention, flushes (time-based, and of rolled segments),
// removes deleted directories and retries offline partitions until ctx
// ends.
func (m *Manager) Run(ctx context.Context) {
	ret := m.opts.RetentionCheck
	if ret <= 0 {
		ret = 5 * time.Minute
	}
	flush := m.opts.FlushCheck
	if flush <= 0 || flush > ret {
		flush = ret
	}
	flushT := time.NewTicker(flush)
	defer flushT.Stop()
	retT := time.NewTicker(ret)
	defer retT.Stop()
	healT := time.NewTicker(m.opts.RetryOffline)
	defer healT.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-flushT.C:
			m.FlushSealed()
			m.removeDueDirs()
			if flush == ret {
				m.EnforceRetention()
			}
		case <-retT.C:
			if flush != ret {
				m.EnforceRetention()
			}
		case <-healT.C:
			m.Heal()
		}
	}
}

// EnforceRetention runs one retention, roll and time-based flush pass.
func (m *Manager) EnforceRetention() {
	for _, p := range m.All() {
		if _, err := p.log.EnforceRetention(); err != nil && !errors.Is(err, storage.ErrClosed) && !errors.Is(err, storage.ErrFailed) {
			p.lg.Warn("retention failed", "err", err)
		}
	}
}

// FlushSealed fsyncs every partition's rolled segments (see
// storage.Log.FlushSealed).
func (m *Manager) FlushSealed() {
	for _, p := range m.All() {
		if err := p.log.FlushSealed(); err != nil && !errors.Is(err, storage.ErrClosed) && !errors.Is(err, storage.ErrFailed) {
			p.lg.Warn("flushing rolled segments failed", "err", err)
		}
	}
}

// Heal reopens partitions whose log failed (recovering them from their
// files) and retries offline ones; both stay offline, reported, if that
// fails again.
func (m *Manager) Heal() {
	m.mu.Lock()
	defer m.mu.Unlock()
	var retry []Assignment
	for tp, p := range m.parts {
		ferr := p.log.Failed()
		if ferr == nil {
			continue
		}
		a := Assignment{Topic: p.Topic, TopicID: p.TopicID, Index: p.Index, LeaderEpoch: p.LeaderEpoch(), Config: p.Config()}
		m.lg.Warn("reopening a failed partition to recover it from its files", "topic", tp.Topic, "partition", tp.Index, "err", ferr)
		p.close()
		delete(m.parts, tp)
		retry = append(retry, a)
	}
	for tp := range m.offline {
		if a, ok := m.lastWant[tp]; ok {
			retry = append(retry, a)
		}
	}
	m.openAllLocked(retry)
}

// Close closes every partition, snapshotting producer state, and then the
// shared file resources.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var all []*Partition
	for _, p := range m.parts {
		all = append(all, p)
	}
	for _, p := range m.prepared {
		all = append(all, p)
	}
	errs := make([]error, len(all))
	parallel(len(all), func(i int) {
		if err := all[i].close(); err != nil {
			errs[i] = fmt.Errorf("%s-%d: %w", all[i].Topic, all[i].Index, err)
		}
	})
	unclean := map[string]bool{}
	for i, err := range errs {
		if err != nil {
			unclean[filepath.Dir(all[i].log.Dir())] = true
		}
	}
	for _, d := range m.opts.Dirs {
		if unclean[d] {
			m.lg.Warn("log directory not marked clean: a partition did not close cleanly and will be recovered at the next start", "dir", d)
			continue
		}
		if err := storage.WriteFileAtomic(m.fs, d, cleanMarker, nil); err != nil {
			errs = append(errs, fmt.Errorf("partition: marking %s clean: %w", d, err))
		}
	}
	clear(m.parts)
	clear(m.prepared)
	m.files.Close()
	return errors.Join(errs...)
}
