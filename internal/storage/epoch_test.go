package storage

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestStorageEpochCacheEndOffsetFor(t *testing.T) {
	c := epochCache{entries: []epochEntry{{1, 0}, {3, 100}, {4, 250}, {7, 400}}}
	const logEnd = 500
	tests := []struct {
		requested  int32
		wantEpoch  int32
		wantOffset int64
	}{
		{-1, -1, -1},   // undefined epoch
		{7, 7, logEnd}, // latest: the log end offset
		{8, -1, -1},    // above every cached epoch
		{0, 0, 0},      // below every cached epoch: (requested, first start)
		{1, 1, 100},    // exact, not latest: next epoch's start
		{2, 1, 100},    // between: floor epoch, next start
		{3, 3, 250},
		{5, 4, 400},
		{6, 4, 400},
		{4, 4, 400},
		{100, -1, -1},
		{-5, -5, 0}, // negative but not -1: below every epoch
		{0x7fff, -1, -1},
	}
	for _, tt := range tests {
		e, o := c.endOffsetFor(tt.requested, logEnd)
		if e != tt.wantEpoch || o != tt.wantOffset {
			t.Errorf("endOffsetFor(%d) = (%d, %d), want (%d, %d)", tt.requested, e, o, tt.wantEpoch, tt.wantOffset)
		}
	}
	var empty epochCache
	if e, o := empty.endOffsetFor(3, logEnd); e != -1 || o != -1 {
		t.Errorf("empty cache: (%d, %d)", e, o)
	}
}

func TestStorageEpochCacheTruncation(t *testing.T) {
	base := []epochEntry{{1, 0}, {3, 100}, {4, 250}, {7, 400}}
	tests := []struct {
		name    string
		op      func(c *epochCache) bool
		want    []epochEntry
		changed bool
	}{
		{"from end inside", func(c *epochCache) bool { return c.truncateFromEnd(260) }, base[:3], true},
		{"from end at a start", func(c *epochCache) bool { return c.truncateFromEnd(250) }, base[:2], true},
		{"from end past all", func(c *epochCache) bool { return c.truncateFromEnd(1000) }, base, false},
		{"from end to zero", func(c *epochCache) bool { return c.truncateFromEnd(0) }, []epochEntry{}, true},
		{"from start inside", func(c *epochCache) bool { return c.truncateFromStart(120) }, []epochEntry{{3, 120}, {4, 250}, {7, 400}}, true},
		{"from start at a start", func(c *epochCache) bool { return c.truncateFromStart(250) }, []epochEntry{{4, 250}, {7, 400}}, true},
		{"from start at the first start", func(c *epochCache) bool { return c.truncateFromStart(0) }, base, false},
		{"from start past all", func(c *epochCache) bool { return c.truncateFromStart(900) }, []epochEntry{{7, 900}}, true},
		{"assign newer", func(c *epochCache) bool { return c.assign(9, 450) }, append(append([]epochEntry(nil), base...), epochEntry{9, 450}), true},
		{"assign same", func(c *epochCache) bool { return c.assign(7, 450) }, base, false},
		{"assign older", func(c *epochCache) bool { return c.assign(2, 450) }, base, false},
		{"assign negative", func(c *epochCache) bool { return c.assign(-1, 450) }, base, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := epochCache{entries: append([]epochEntry(nil), base...)}
			if got := tt.op(&c); got != tt.changed {
				t.Fatalf("changed = %v, want %v", got, tt.changed)
			}
			if len(c.entries) != len(tt.want) || (len(tt.want) > 0 && !reflect.DeepEqual(c.entries, tt.want)) {
				t.Fatalf("entries %v, want %v", c.entries, tt.want)
			}
		})
	}
}

func TestStorageEpochCacheLog(t *testing.T) {
	h := newHarness(t, testConfig())
	if h.l.LatestEpoch() != -1 {
		t.Fatal("fresh log has an epoch")
	}
	ms := []meta{
		mkBatch(t, 0, 5, 0, 1, 0),
		mkBatch(t, 5, 5, 0, 1, 0),
		mkBatch(t, 10, 5, 0, 1, 2),
		mkBatch(t, 15, 5, 0, 1, 2),
		mkBatch(t, 20, 5, 0, 1, 1), // an older epoch never goes back into the cache
		mkBatch(t, 25, 5, 0, 1, -1),
		mkBatch(t, 30, 5, 0, 1, 5),
	}
	h.appendMetas(ms...)
	want := []epochEntry{{0, 0}, {2, 10}, {5, 30}}
	checkCache := func(stage string) {
		t.Helper()
		h.l.mu.RLock()
		got := h.l.epochs.clone()
		h.l.mu.RUnlock()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: cache %v, want %v", stage, got, want)
		}
	}
	check := func(stage string) {
		t.Helper()
		checkCache(stage)
		if e, o := h.l.EndOffsetForEpoch(5); e != 5 || o != 35 {
			t.Fatalf("%s: EndOffsetForEpoch(5) = %d, %d", stage, e, o)
		}
		if e, o := h.l.EndOffsetForEpoch(3); e != 2 || o != 30 {
			t.Fatalf("%s: EndOffsetForEpoch(3) = %d, %d", stage, e, o)
		}
		if e, o := h.l.EndOffsetForEpoch(0); e != 0 || o != 10 {
			t.Fatalf("%s: EndOffsetForEpoch(0) = %d, %d", stage, e, o)
		}
	}
	check("live")
	h.reopen()
	check("reopened")

	ckpt := filepath.Join(h.dir, epochFile)
	data, err := os.ReadFile(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "0\n3\n0 0\n2 10\n5 30\n" {
		t.Fatalf("checkpoint file:\n%s", data)
	}
	for name, damage := range map[string]func(){
		"missing": func() { os.Remove(ckpt) },
		"garbage": func() { os.WriteFile(ckpt, []byte("0\n7\n1 x\n"), 0o644) },
	} {
		h.close()
		damage()
		h.open()
		if !strings.Contains(h.logs.String(), "rebuilt the leader epoch cache") {
			t.Fatalf("%s checkpoint: no rebuild logged", name)
		}
		check(name + " checkpoint rebuilt")
	}

	// Start offset moves drop older epochs (Kafka's truncateFromStart).
	if err := h.l.SetStartOffset(12); err != nil {
		t.Fatal(err)
	}
	want = []epochEntry{{2, 12}, {5, 30}}
	checkCache("after SetStartOffset")
	h.reopen()
	checkCache("after SetStartOffset and reopen")
	if e, o := h.l.EndOffsetForEpoch(1); e != 1 || o != 12 {
		t.Fatalf("EndOffsetForEpoch below the first cached epoch = %d, %d; want (1, 12)", e, o)
	}
}
