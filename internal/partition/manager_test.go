package partition

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/strait-kafka/strait/internal/record"
	"github.com/strait-kafka/strait/internal/storage"
	"github.com/strait-kafka/strait/internal/storage/errorfs"
)

// mgrClock is the managers' injected clock.
type mgrClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *mgrClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *mgrClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type mgrHarness struct {
	t     *testing.T
	dir   string
	clock *mgrClock
	logs  *bytes.Buffer
	lmu   sync.Mutex
	m     *Manager
	fs    storage.FS
	known func(uuid.UUID) bool
}

func (h *mgrHarness) Write(p []byte) (int, error) {
	h.lmu.Lock()
	defer h.lmu.Unlock()
	return h.logs.Write(p)
}

func (h *mgrHarness) log() string {
	h.lmu.Lock()
	defer h.lmu.Unlock()
	return h.logs.String()
}

func newMgrHarness(t *testing.T) *mgrHarness {
	h := &mgrHarness{t: t, dir: t.TempDir(), clock: &mgrClock{now: time.UnixMilli(1_800_000_000_000)}, logs: &bytes.Buffer{}}
	t.Cleanup(func() {
		if h.m != nil {
			h.m.Close()
		}
	})
	return h
}

func (h *mgrHarness) options() ManagerOptions {
	return ManagerOptions{
		Dirs: []string{h.dir}, Logger: slog.New(slog.NewTextHandler(h, nil)), Now: h.clock.Now,
		ClusterID: "cluster-A", NodeID: 1, DefaultDeleteDelay: time.Minute,
		Files: storage.FilesConfig{FS: h.fs}, TopicKnown: h.known,
	}
}

func (h *mgrHarness) start() {
	h.t.Helper()
	m, err := NewManager(h.options())
	if err != nil {
		h.t.Fatal(err)
	}
	h.m = m
}

func (h *mgrHarness) stop() {
	h.t.Helper()
	if err := h.m.Close(); err != nil {
		h.t.Fatal(err)
	}
	h.m = nil
}

func assignment(topic string, id uuid.UUID, idx int32) Assignment {
	return Assignment{Topic: topic, TopicID: id, Index: idx, Config: testPartitionConfig()}
}

// fillPartition appends n single-record batches and returns them.
func fillPartition(t *testing.T, p *Partition, n int) [][]byte {
	t.Helper()
	var out [][]byte
	for i := 0; i < n; i++ {
		b, err := record.Build(record.Batch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
			Records: []record.Record{{Timestamp: time.Now().UnixMilli(), Value: []byte(fmt.Sprintf("value-%d", i))}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.AppendAsLeader(b, -1); err != nil {
			t.Fatal(err)
		}
		c, err := p.Log().Read(p.Log().NextOffset()-1, 1, -1)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := storage.ReadChunk(c)
		c.Release()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, raw)
	}
	return out
}

func readPartition(t *testing.T, p *Partition) [][]byte {
	t.Helper()
	var out [][]byte
	l := p.Log()
	for off := l.StartOffset(); off < l.NextOffset(); off++ {
		c, err := l.Read(off, 1, -1)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := storage.ReadChunk(c)
		c.Release()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, raw)
	}
	return out
}

func digestTree(t *testing.T, root string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel == cleanMarker {
			return nil // taken away at every start, by design
		}
		out[rel] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, before, after map[string][32]byte) {
	t.Helper()
	for k, v := range before {
		if w, ok := after[k]; !ok {
			t.Fatalf("%s was removed", k)
		} else if w != v {
			t.Fatalf("%s changed", k)
		}
	}
}

// TestPartitionDamagedMetadataNeverDeletes is the regression test for a
// damaged partition.metadata deleting the partition: emptied, blank topic
// ID, garbage, truncated, or missing, the partition goes offline, every
// file stays, and repairing the file brings it back with all its records.
func TestPartitionDamagedMetadataNeverDeletes(t *testing.T) {
	damages := []struct {
		name string
		fn   func(path string) error
	}{
		{"emptied", func(p string) error { return os.WriteFile(p, nil, 0o644) }},
		{"blank topic id", func(p string) error { return os.WriteFile(p, []byte("version: 0\ntopic_id: \n"), 0o644) }},
		{"garbage", func(p string) error { return os.WriteFile(p, bytes.Repeat([]byte{0xfe, 0x01}, 64), 0o644) }},
		{"zeroed", func(p string) error { return os.WriteFile(p, make([]byte, 48), 0o644) }},
		{"truncated", func(p string) error { return os.Truncate(p, 20) }},
		{"removed", os.Remove},
	}
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			h := newMgrHarness(t)
			h.start()
			id := uuid.New()
			a := assignment("orders", id, 0)
			if err := h.m.Reconcile([]Assignment{a}); err != nil {
				t.Fatal(err)
			}
			want := fillPartition(t, h.m.Get("orders", 0), 50)
			h.stop()
			metaPath := filepath.Join(h.dir, "orders-0", metaFile)
			good, err := os.ReadFile(metaPath)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.fn(metaPath); err != nil {
				t.Fatal(err)
			}
			before := digestTree(t, h.dir)

			h.start()
			if err := h.m.Reconcile([]Assignment{a}); err != nil {
				t.Fatal(err)
			}
			if h.m.Get("orders", 0) != nil {
				t.Fatal("a partition with a damaged partition.metadata was opened")
			}
			o, ok := h.m.Offline("orders", 0)
			if !ok || !strings.Contains(o.Err.Error(), metaFile) {
				t.Fatalf("offline = %+v, %v; want offline naming %s", o, ok, metaFile)
			}
			if !strings.Contains(h.log(), "level=ERROR") {
				t.Fatalf("no ERROR logged:\n%s", h.log())
			}
			sameTree(t, before, digestTree(t, h.dir))

			// Repaired, the next retry brings it back.
			if err := os.WriteFile(metaPath, good, 0o644); err != nil {
				t.Fatal(err)
			}
			h.clock.advance(time.Minute)
			h.m.Heal()
			p := h.m.Get("orders", 0)
			if p == nil {
				o, _ := h.m.Offline("orders", 0)
				t.Fatalf("still offline after the repair: %v", o.Err)
			}
			got := readPartition(t, p)
			if len(got) != len(want) {
				t.Fatalf("%d batches, want %d", len(got), len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("batch %d changed", i)
				}
			}
		})
	}
}

// TestPartitionUnclaimedUnreadableDirIsLeft: a directory no assignment
// claims and whose incarnation cannot be read is left where it is.
func TestPartitionUnclaimedUnreadableDirIsLeft(t *testing.T) {
	h := newMgrHarness(t)
	h.start()
	if err := h.m.Reconcile([]Assignment{assignment("old", uuid.New(), 0)}); err != nil {
		t.Fatal(err)
	}
	fillPartition(t, h.m.Get("old", 0), 5)
	h.stop()
	if err := os.WriteFile(filepath.Join(h.dir, "old-0", metaFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	before := digestTree(t, h.dir)
	h.start()
	if err := h.m.Reconcile(nil); err != nil {
		t.Fatal(err)
	}
	h.clock.advance(time.Hour)
	h.m.removeDueDirs()
	sameTree(t, before, digestTree(t, h.dir))
	if !strings.Contains(h.log(), "left in place") {
		t.Fatalf("not reported:\n%s", h.log())
	}
}

// TestPartitionDeleteByRenameAndDelay: a partition whose topic is deleted
// while the broker runs, and a directory of a topic the metadata still
// knows but no longer assigns here, are renamed *-delete and removed only
// after the delay. Directories of incarnations the metadata does not know
// at start (deleted while the broker was down, or a lost metadata store)
// are set aside as stray and kept; a recreated topic starts empty.
func TestPartitionDeleteByRenameAndDelay(t *testing.T) {
	h := newMgrHarness(t)
	idA, idB, idGone, idMoved := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	known := map[uuid.UUID]bool{}
	var kmu sync.Mutex
	h.known = func(id uuid.UUID) bool { kmu.Lock(); defer kmu.Unlock(); return known[id] }
	h.start()
	all := []Assignment{assignment("a", idA, 0), assignment("b", idB, 0), assignment("gone", idGone, 0), assignment("moved", idMoved, 0)}
	if err := h.m.Reconcile(all); err != nil {
		t.Fatal(err)
	}
	for _, tp := range []string{"a", "b", "gone", "moved"} {
		fillPartition(t, h.m.Get(tp, 0), 3)
	}
	// "a" is deleted while the broker runs.
	if err := h.m.Reconcile(all[1:]); err != nil {
		t.Fatal(err)
	}
	h.stop()
	// While it was down, "gone" was deleted, "b" recreated, and "moved"
	// assigned to another broker (its topic still exists).
	idB2 := uuid.New()
	kmu.Lock()
	known[idB2], known[idMoved] = true, true
	kmu.Unlock()
	h.start()
	if err := h.m.Reconcile([]Assignment{assignment("b", idB2, 0)}); err != nil {
		t.Fatal(err)
	}
	glob := func(suffix string) []string {
		out, _ := filepath.Glob(filepath.Join(h.dir, "*"+suffix))
		return out
	}
	if got := glob(deleteDirSuffix); len(got) != 2 {
		t.Fatalf("directories waiting for deletion: %v, want a's and moved's", got)
	}
	strays := glob(strayDirSuffix)
	if len(strays) != 2 || len(h.m.Strays()) != 2 {
		t.Fatalf("stray directories: %v (reported %v), want gone's and the old b's", strays, h.m.Strays())
	}
	if p := h.m.Get("b", 0); p == nil || p.TopicID != idB2 || p.Log().NextOffset() != 0 {
		t.Fatalf("the new incarnation of b is not a new, empty partition")
	}
	h.m.removeDueDirs()
	if left := glob(deleteDirSuffix); len(left) != 2 {
		t.Fatalf("removed before the delay: %v left", left)
	}
	h.clock.advance(2 * time.Minute)
	h.m.removeDueDirs()
	if left := glob(deleteDirSuffix); len(left) != 0 {
		t.Fatalf("not removed after the delay: %v", left)
	}
	if got := glob(strayDirSuffix); len(got) != 2 {
		t.Fatalf("stray directories removed: %v left", got)
	}
	for _, d := range strays {
		if _, err := os.Stat(filepath.Join(d, "00000000000000000000.log")); err != nil {
			t.Fatalf("stray %s lost its data: %v", d, err)
		}
	}
}

// TestPartitionMetaProperties: a log directory records its cluster; a
// broker on another (or a freshly created) metadata store refuses it and
// deletes nothing.
func TestPartitionMetaProperties(t *testing.T) {
	h := newMgrHarness(t)
	h.start()
	if err := h.m.Reconcile([]Assignment{assignment("orders", uuid.New(), 0)}); err != nil {
		t.Fatal(err)
	}
	h.stop()
	b, err := os.ReadFile(filepath.Join(h.dir, metaPropertiesFile))
	if err != nil || !strings.Contains(string(b), "cluster.id=cluster-A") {
		t.Fatalf("meta.properties: %q, %v", b, err)
	}
	before := digestTree(t, h.dir)
	for _, tc := range []struct {
		name    string
		cluster string
		file    []byte
	}{
		{"another cluster", "cluster-B", nil},
		{"emptied file", "cluster-A", []byte{}},
		{"garbage file", "cluster-A", []byte("\x00\x01garbage")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.file != nil {
				if err := os.WriteFile(filepath.Join(h.dir, metaPropertiesFile), tc.file, 0o644); err != nil {
					t.Fatal(err)
				}
				defer os.WriteFile(filepath.Join(h.dir, metaPropertiesFile), b, 0o644)
			}
			opts := h.options()
			opts.ClusterID = tc.cluster
			if _, err := NewManager(opts); err == nil || !strings.Contains(err.Error(), "refusing to start") {
				t.Fatalf("NewManager: %v, want a refusal", err)
			}
		})
	}
	after := digestTree(t, h.dir)
	delete(after, metaPropertiesFile)
	delete(before, metaPropertiesFile)
	sameTree(t, before, after)
}

// TestPartitionDamagedLogIsOffline: a log whose flushed data is damaged is
// offline, with its files intact.
func TestPartitionDamagedLogIsOffline(t *testing.T) {
	h := newMgrHarness(t)
	h.start()
	a := assignment("orders", uuid.New(), 0)
	if err := h.m.Reconcile([]Assignment{a}); err != nil {
		t.Fatal(err)
	}
	fillPartition(t, h.m.Get("orders", 0), 20)
	h.stop()
	seg := filepath.Join(h.dir, "orders-0", "00000000000000000000.log")
	b, _ := os.ReadFile(seg)
	if err := os.WriteFile(seg, make([]byte, len(b)), 0o644); err != nil {
		t.Fatal(err)
	}
	before := digestTree(t, h.dir)
	h.start()
	if err := h.m.Reconcile([]Assignment{a}); err != nil {
		t.Fatal(err)
	}
	o, ok := h.m.Offline("orders", 0)
	if !ok || !errors.Is(o.Err, storage.ErrDamaged) {
		t.Fatalf("offline = %+v, %v; want ErrDamaged", o, ok)
	}
	sameTree(t, before, digestTree(t, h.dir))
}

// TestPartitionFailedLogHeals: an fsync that fails makes the partition's
// log refuse reads and writes; Heal reopens it from its files and it
// serves every acknowledged record again.
func TestPartitionFailedLogHeals(t *testing.T) {
	h := newMgrHarness(t)
	inj := &syncFailer{}
	h.fs = errorfs.Wrap(storage.OS, inj)
	h.start()
	a := assignment("orders", uuid.New(), 0)
	if err := h.m.Reconcile([]Assignment{a}); err != nil {
		t.Fatal(err)
	}
	p := h.m.Get("orders", 0)
	want := fillPartition(t, p, 10)
	inj.set(true)
	if err := p.Log().Flush(); !errors.Is(err, storage.ErrFailed) {
		t.Fatalf("Flush with a failing fsync: %v", err)
	}
	if _, err := p.AppendAsLeader(want[0], -1); err == nil {
		t.Fatal("append accepted by a failed log")
	}
	inj.set(false)
	h.m.Heal()
	p = h.m.Get("orders", 0)
	if p == nil || p.Failed() != nil {
		t.Fatal("not healed")
	}
	got := readPartition(t, p)
	if len(got) != len(want) {
		t.Fatalf("%d batches after healing, want %d", len(got), len(want))
	}
	fillPartition(t, p, 1)
}

type syncFailer struct {
	mu   sync.Mutex
	fail bool
}

func (s *syncFailer) set(v bool) { s.mu.Lock(); s.fail = v; s.mu.Unlock() }

func (s *syncFailer) Inject(op errorfs.Op, _ string) errorfs.Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail && op == errorfs.OpSync {
		return errorfs.Fault{Err: syscall.EIO}
	}
	return errorfs.Fault{}
}
