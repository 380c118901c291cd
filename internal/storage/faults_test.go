package storage_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/strait-kafka/strait/internal/record"
	"github.com/strait-kafka/strait/internal/storage"
	"github.com/strait-kafka/strait/internal/storage/errorfs"
)

// faultBatch is one batch the workload tried to append.
type faultBatch struct {
	base, last int64
	raw        []byte
}

func buildFaultBatch(t *testing.T, base int64, i int) faultBatch {
	t.Helper()
	b := record.Batch{BaseOffset: base, PartitionLeaderEpoch: int32(1 + i/9), ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
	for r := 0; r < 3; r++ {
		b.Records = append(b.Records, record.Record{
			Offset: base + int64(r), Timestamp: 1_700_000_000_000 + int64(i*10+r),
			Key: []byte(fmt.Sprintf("k%d-%d", i, r)), Value: bytes.Repeat([]byte{byte('a' + i%26)}, 60+i),
		})
	}
	raw, err := record.Build(b)
	if err != nil {
		t.Fatal(err)
	}
	return faultBatch{base: base, last: base + 2, raw: raw}
}

// faultRun is one run of the workload over a file system that fails one
// operation. It records what the log acknowledged.
type faultRun struct {
	t     *testing.T
	dir   string
	cfg   storage.Config
	fs    storage.FS
	files *storage.Files
	l     *storage.Log

	acked     []faultBatch // the log as acknowledged, in order
	attempted map[string]bool
	start     int64 // acknowledged start offset
	// unsure is set once an operation other than an append failed: a
	// failed truncation or start offset move may have partly happened.
	unsure     bool
	failedOps  []string
	startTried int64 // the start offset a failed SetStartOffset asked for
}

func (r *faultRun) open() {
	r.t.Helper()
	var err error
	for try := 0; try < 2; try++ { // the injected fault may hit the open itself
		r.l, err = storage.Open(r.dir, r.cfg, storage.Options{Files: r.files})
		if err == nil {
			return
		}
		r.failedOps = append(r.failedOps, "open: "+err.Error())
		if errors.Is(err, storage.ErrDamaged) {
			r.t.Fatalf("an injected fault made the log look damaged: %v", err)
		}
	}
	r.t.Fatalf("open failed twice: %v", err)
}

func (r *faultRun) step(i int) {
	l := r.l
	b := buildFaultBatch(r.t, l.NextOffset(), i)
	r.attempted[string(b.raw)] = true
	if _, err := l.Append(b.raw); err == nil {
		r.acked = append(r.acked, b)
	} else {
		r.failedOps = append(r.failedOps, "append: "+err.Error())
	}
	var err error
	switch {
	case i%7 == 6:
		err = l.Flush()
	case i%10 == 9:
		err = l.FlushSealed()
	case i == 15:
		if len(r.acked) > 2 {
			off := r.acked[len(r.acked)-3].base + 1
			if err = l.SetStartOffset(off); err == nil {
				r.start = off
			} else {
				r.unsure, r.startTried = true, off
			}
		}
	case i == 20:
		if len(r.acked) > 1 {
			off := r.acked[len(r.acked)-2].base
			if err = l.TruncateTo(off); err == nil {
				r.acked = r.acked[:len(r.acked)-2]
				r.start = min(r.start, off)
			} else {
				r.unsure = true
			}
		}
	case i == 24:
		_, err = l.EnforceRetention()
	case i == 25:
		err = l.Close()
		r.open()
	}
	if err != nil {
		r.failedOps = append(r.failedOps, fmt.Sprintf("step %d: %v", i, err))
	}
}

// check reopens the directory with the plain file system and compares it
// with what was acknowledged.
func (r *faultRun) check() {
	t := r.t
	t.Helper()
	l, err := storage.Open(r.dir, r.cfg, storage.Options{})
	if err != nil {
		t.Fatalf("reopening after the fault: %v (failed operations: %q)", err, r.failedOps)
	}
	defer l.Close()
	var got []faultBatch
	for off := l.StartOffset(); off < l.NextOffset(); {
		c, err := l.Read(off, 1, -1)
		if err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		if c.Len == 0 {
			break
		}
		raw, err := storage.ReadChunk(c)
		c.Release()
		if err != nil {
			t.Fatal(err)
		}
		h, err := record.ParseHeader(raw)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, faultBatch{base: h.BaseOffset, last: h.LastOffset(), raw: raw})
		off = h.LastOffset() + 1
	}
	// Nothing that was never sent, and offsets in order.
	for i, b := range got {
		if !r.attempted[string(b.raw)] {
			t.Fatalf("batch at %d is not one the workload sent", b.base)
		}
		if i > 0 && b.base <= got[i-1].last {
			t.Fatalf("batch at %d overlaps the previous one", b.base)
		}
	}
	// Every acknowledged batch at or after the start offset, byte for byte.
	start := l.StartOffset()
	if !r.unsure && start != r.start {
		t.Fatalf("start offset %d, acknowledged %d", start, r.start)
	}
	if r.unsure && start != r.start && start != r.startTried {
		t.Fatalf("start offset %d, neither the acknowledged %d nor the one asked for %d", start, r.start, r.startTried)
	}
	// The leader epoch cache describes exactly the batches present.
	var epochs []int32
	var firsts []int64
	for _, b := range got {
		h, _ := record.ParseHeader(b.raw)
		if len(epochs) == 0 || epochs[len(epochs)-1] != h.PartitionLeaderEpoch {
			epochs, firsts = append(epochs, h.PartitionLeaderEpoch), append(firsts, b.base)
		}
	}
	for i, e := range epochs {
		want := l.NextOffset()
		if i+1 < len(epochs) {
			want = firsts[i+1]
		}
		if ge, end := l.EndOffsetForEpoch(e); ge != e || end != want {
			t.Fatalf("EndOffsetForEpoch(%d) = (%d, %d), want (%d, %d)", e, ge, end, e, want)
		}
	}
	if len(epochs) > 0 && l.LatestEpoch() != epochs[len(epochs)-1] {
		t.Fatalf("latest epoch %d, batches end with epoch %d", l.LatestEpoch(), epochs[len(epochs)-1])
	}
	byBase := map[int64][]byte{}
	for _, b := range got {
		byBase[b.base] = b.raw
	}
	for _, b := range r.acked {
		if b.last < start {
			continue
		}
		raw, ok := byBase[b.base]
		if !ok && r.unsure {
			continue // a failed truncation may have removed it
		}
		if !ok || !bytes.Equal(raw, b.raw) {
			t.Fatalf("acknowledged batch at %d is missing or changed (failed operations: %q)", b.base, r.failedOps)
		}
	}
}

// TestStorageFaultInjection runs a workload of appends, flushes, rolls, a
// start offset move, a truncation, retention and a reopen, failing the k-th
// write, fsync, truncate, create, rename or remove, for every k, with ENOSPC
// after a short write and with EIO. After each run the log, reopened, must
// hold every acknowledged batch byte for byte, nothing it was not sent, and
// it must never look damaged because of the fault.
func TestStorageFaultInjection(t *testing.T) {
	cfg := storage.DefaultConfig()
	cfg.SegmentBytes = 1500
	cfg.IndexIntervalBytes = 100
	cfg.FileDeleteDelayMs = 0
	cfg.RetentionMs = -1
	const steps = 30
	ops := errorfs.Of(errorfs.OpWrite, errorfs.OpSync, errorfs.OpTruncate, errorfs.OpCreate, errorfs.OpRename, errorfs.OpRemove)

	run := func(t *testing.T, inj *errorfs.Nth) *faultRun {
		fsys := errorfs.Wrap(storage.OS, inj)
		files := storage.NewFiles(storage.FilesConfig{FS: fsys})
		t.Cleanup(files.Close)
		r := &faultRun{t: t, dir: filepath.Join(t.TempDir(), "t-0"), cfg: cfg, fs: fsys, files: files, attempted: map[string]bool{}}
		r.open()
		for i := 0; i < steps; i++ {
			r.step(i)
		}
		if err := r.l.Close(); err != nil {
			r.failedOps = append(r.failedOps, "close: "+err.Error())
		}
		return r
	}
	dry := &errorfs.Nth{Ops: ops, N: -1}
	r := run(t, dry)
	if len(r.failedOps) > 0 {
		t.Fatalf("the workload fails without faults: %q", r.failedOps)
	}
	r.check()
	total := dry.Count()
	if total < 50 {
		t.Fatalf("the workload makes only %d faultable operations", total)
	}
	faults := []struct {
		name  string
		err   error
		short bool
	}{
		{"ENOSPC short", syscall.ENOSPC, true},
		{"EIO", syscall.EIO, false},
	}
	for _, f := range faults {
		for k := 0; k < total; k++ {
			t.Run(fmt.Sprintf("%s/%d", f.name, k), func(t *testing.T) {
				inj := &errorfs.Nth{Ops: ops, N: k, Err: f.err, Short: f.short}
				r := run(t, inj)
				if inj.Fired() == "" {
					t.Fatalf("fault %d never fired", k)
				}
				r.check()
			})
		}
	}
}

// TestStorageRetentionFreesSpaceOnAFullDisk: with every write failing for
// lack of space, appends fail and change nothing, but retention still
// deletes old segments (renames and removals need no space), so the disk
// gets room back; then appends resume, and a reopen agrees with what was
// acknowledged.
func TestStorageRetentionFreesSpaceOnAFullDisk(t *testing.T) {
	full := &errorfs.Full{Ops: errorfs.Of(errorfs.OpWrite, errorfs.OpCreate, errorfs.OpSync, errorfs.OpTruncate, errorfs.OpMkdir)}
	fsys := errorfs.Wrap(storage.OS, full)
	files := storage.NewFiles(storage.FilesConfig{FS: fsys})
	t.Cleanup(files.Close)
	cfg := storage.DefaultConfig()
	cfg.SegmentBytes = 1500
	cfg.RetentionMs = -1
	cfg.RetentionBytes = 3000
	cfg.FileDeleteDelayMs = 0
	dir := filepath.Join(t.TempDir(), "t-0")
	l, err := storage.Open(dir, cfg, storage.Options{Files: files})
	if err != nil {
		t.Fatal(err)
	}
	var acked []faultBatch
	for i := 0; i < 30; i++ {
		b := buildFaultBatch(t, l.NextOffset(), i)
		if _, err := l.Append(b.raw); err != nil {
			t.Fatal(err)
		}
		acked = append(acked, b)
	}
	full.Set(true)
	end := l.NextOffset()
	if _, err := l.Append(buildFaultBatch(t, end, 99).raw); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("append on a full disk: %v", err)
	}
	if l.NextOffset() != end {
		t.Fatal("a failed append moved the log end")
	}
	before := len(l.Segments())
	if n, err := l.EnforceRetention(); n == 0 {
		t.Fatalf("retention deleted nothing on a full disk: %v", err)
	}
	if after := len(l.Segments()); after >= before {
		t.Fatalf("%d segments after retention, %d before", after, before)
	}
	full.Set(false)
	b := buildFaultBatch(t, l.NextOffset(), 31)
	if _, err := l.Append(b.raw); err != nil {
		t.Fatalf("append once space returned: %v", err)
	}
	acked = append(acked, b)
	start := l.StartOffset()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = storage.Open(dir, cfg, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.StartOffset() != start {
		t.Fatalf("start offset %d after reopen, %d before", l.StartOffset(), start)
	}
	for _, a := range acked {
		if a.last < start {
			continue
		}
		c, err := l.Read(a.base, 1, -1)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := storage.ReadChunk(c)
		c.Release()
		if err != nil || !bytes.Equal(raw, a.raw) {
			t.Fatalf("batch at %d lost: %v", a.base, err)
		}
	}
}
