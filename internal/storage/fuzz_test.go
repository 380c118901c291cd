package storage

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// fuzzBase is a small valid log written once per fuzz target: batches and
// the raw bytes of each segment file.
type fuzzBase struct {
	ms    []meta
	files map[string][]byte
}

func makeFuzzBase(f *testing.F) fuzzBase {
	f.Helper()
	dir := f.TempDir()
	cfg := testConfig()
	cfg.SegmentBytes = 800
	cfg.IndexIntervalBytes = 100
	l, err := Open(dir, cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	var ms []meta
	off := int64(0)
	for i := 0; i < 12; i++ {
		m := mkBatch(f, off, 1+i%3, i%2, 1000+int64(i*10), int32(i/4))
		if _, err := l.Append(m.raw); err != nil {
			f.Fatal(err)
		}
		ms = append(ms, m)
		off = m.last + 1
	}
	if err := l.Close(); err != nil {
		f.Fatal(err)
	}
	out := fuzzBase{ms: ms, files: map[string][]byte{}}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		out.files[e.Name()] = data
	}
	return out
}

// materialize writes the base log into a fresh directory, with edit applied
// to the file contents first.
func (b fuzzBase) materialize(t *testing.T, edit func(name string, data []byte) []byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "p-0")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range b.files {
		data = edit(name, bytes.Clone(data))
		if data == nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func (b fuzzBase) lastLog() string {
	last := ""
	for name := range b.files {
		if filepath.Ext(name) == logSuffix && name > last {
			last = name
		}
	}
	return last
}

// FuzzStorageRecovery appends arbitrary bytes to the active segment of a
// valid log and reopens it without the clean-shutdown marker: Open must not
// fail or panic, every original batch must survive, and appends must go on.
func FuzzStorageRecovery(f *testing.F) {
	base := makeFuzzBase(f)
	next := mkBatch(f, 10_000, 3, 0, 5, 3)
	f.Add(next.raw[:len(next.raw)/2])
	f.Add(next.raw)
	f.Add(make([]byte, 100))
	f.Add(bytes.Repeat([]byte{0xff}, 70))
	bad := bytes.Clone(next.raw)
	bad[len(bad)-1] ^= 1
	f.Add(bad)
	f.Add(append(bytes.Clone(next.raw), next.raw[:20]...))
	f.Fuzz(func(t *testing.T, garbage []byte) {
		last := base.lastLog()
		dir := base.materialize(t, func(name string, data []byte) []byte {
			switch name {
			case cleanMarkerFile:
				return nil
			case last:
				return append(data, garbage...)
			}
			return data
		})
		checkFuzzedLog(t, dir, base.ms, true)
	})
}

// FuzzStorageIndexFiles replaces the index files of a segment with arbitrary
// bytes in a cleanly closed log: reads and timestamp lookups must stay right.
func FuzzStorageIndexFiles(f *testing.F) {
	base := makeFuzzBase(f)
	var stems []string
	for name := range base.files {
		if filepath.Ext(name) == logSuffix {
			stems = append(stems, name[:20])
		}
	}
	f.Add(uint8(0), []byte{}, []byte{})
	f.Add(uint8(1), []byte{0, 0, 0, 1, 0, 0, 0, 9}, []byte{0, 0, 0, 0, 0, 0, 3, 232, 0, 0, 0, 0})
	f.Add(uint8(2), base.files[stems[0]+indexSuffix], base.files[stems[0]+timeIndexSuffix])
	f.Fuzz(func(t *testing.T, which uint8, index, timeIndex []byte) {
		stem := stems[int(which)%len(stems)]
		dir := base.materialize(t, func(name string, data []byte) []byte {
			switch name {
			case stem + indexSuffix:
				return index
			case stem + timeIndexSuffix:
				return timeIndex
			}
			return data
		})
		checkFuzzedLog(t, dir, base.ms, false)
	})
}

func checkFuzzedLog(t *testing.T, dir string, ms []meta, extraAllowed bool) {
	t.Helper()
	cfg := testConfig()
	cfg.SegmentBytes = 800
	l, err := Open(dir, cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer l.Close()
	got := readAll(t, l)
	want := visible(ms, 0)
	if len(got) < len(want) || (!extraAllowed && len(got) != len(want)) {
		t.Fatalf("%d batches after reopening, want %d", len(got), len(want))
	}
	equalBatches(t, got[:len(want)], want)
	if len(got) == len(want) {
		checkReads(t, l, ms)
		checkFindTimestamp(t, l, ms)
	}
	m := mkBatch(t, l.NextOffset(), 1, 0, 1, 9)
	if _, err := l.Append(m.raw); err != nil {
		t.Fatalf("append after recovery: %v", err)
	}
	c, err := l.Read(m.base, 1, -1)
	if err != nil {
		t.Fatal(err)
	}
	data, err := ReadChunk(c)
	c.Release()
	if err != nil || !bytes.Equal(data, m.raw) {
		t.Fatalf("appended batch not readable: %v", err)
	}
}

func FuzzStorageCheckpoint(f *testing.F) {
	f.Add([]byte("0\n2\n0 0\n3 150\n"))
	f.Add([]byte("0\n42\n"))
	f.Add([]byte("1\n0\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		for _, name := range []string{epochFile, startOffsetFile} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if lines, found, err := readCheckpoint(OS, dir, epochFile); err == nil && found {
			if entries, err := decodeEpochs(lines); err == nil {
				for i := 1; i < len(entries); i++ {
					if entries[i].epoch <= entries[i-1].epoch || entries[i].start < entries[i-1].start {
						t.Fatalf("decodeEpochs accepted unordered entries %v", entries)
					}
				}
				again, err := decodeEpochs(mustLines(t, encodeEpochs(entries)))
				if err != nil || len(again) != len(entries) {
					t.Fatalf("round trip of %v: %v", entries, err)
				}
			}
		}
		if off, found, err := readOffsetFile(OS, dir, startOffsetFile); err == nil && found && off < 0 {
			t.Fatalf("negative offset %d accepted", off)
		}
		// Open survives any content in both files.
		l, err := Open(dir, testConfig(), Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if l.StartOffset() != l.NextOffset() {
			t.Fatalf("empty log with start %d next %d", l.StartOffset(), l.NextOffset())
		}
		l.Close()
	})
}

func mustLines(t *testing.T, data []byte) []string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	lines, _, err := readCheckpoint(OS, dir, "x")
	if err != nil {
		t.Fatal(err)
	}
	return lines
}
