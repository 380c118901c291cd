package storage

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/strait-kafka/strait/internal/record"
)

// activeLogPath is the .log file of the last segment.
func activeLogPath(t *testing.T, dir string) string {
	t.Helper()
	logs := files(t, dir, logSuffix)
	if len(logs) == 0 {
		t.Fatal("no segments")
	}
	return filepath.Join(dir, logs[len(logs)-1])
}

func appendToFile(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func TestStorageCrashRecovery(t *testing.T) {
	next := mkBatch(t, 1_000_000, 4, 0, 5, 9) // what a torn write was writing
	badCRC := bytes.Clone(next.raw)
	badCRC[len(badCRC)-5] ^= 0x40
	tests := []struct {
		name   string
		damage func(last meta) []byte
	}{
		{"partial batch", func(meta) []byte { return next.raw[:len(next.raw)/2] }},
		{"partial length field", func(meta) []byte { return next.raw[:7] }},
		{"header only", func(meta) []byte { return next.raw[:record.HeaderSize] }},
		{"garbage", func(meta) []byte { return bytes.Repeat([]byte{0xA5, 0x17, 0x02}, 400) }},
		{"zeros", func(meta) []byte { return make([]byte, 4096) }},
		{"bad crc", func(meta) []byte { return badCRC }},
		{"valid batch out of order", func(last meta) []byte { return mkBatch(t, last.base, 1, 0, 5, 9).raw }},
		{"two torn batches", func(meta) []byte {
			return append(bytes.Clone(badCRC), next.raw[:100]...)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.SegmentBytes = 2000
			h := newHarness(t, cfg)
			ms := h.fill(40, h.clock.Now().UnixMilli(), 1)
			h.close()
			path := activeLogPath(t, h.dir)
			good := fileSize(t, path)
			damage := tt.damage(ms[len(ms)-1])
			appendToFile(t, path, damage)
			if err := os.Remove(filepath.Join(h.dir, cleanMarkerFile)); err != nil {
				t.Fatal(err)
			}

			h.open()
			equalBatches(t, readAll(t, h.l), visible(ms, 0))
			if got, want := h.l.NextOffset(), ms[len(ms)-1].last+1; got != want {
				t.Fatalf("NextOffset %d, want %d", got, want)
			}
			if got := fileSize(t, path); got != good {
				t.Fatalf("log file %d bytes after recovery, want %d", got, good)
			}
			logs := h.logs.String()
			if !strings.Contains(logs, "cut a torn or corrupt log tail") ||
				!strings.Contains(logs, "bytes="+itoa(int64(len(damage)))) {
				t.Fatalf("recovery did not log the cut of %d bytes:\n%s", len(damage), logs)
			}
			// The cut bytes are kept, not deleted.
			aside := files(t, h.dir, damagedSuffix)
			if len(aside) != 1 {
				t.Fatalf("set-aside files %v, want one", aside)
			}
			if got, err := os.ReadFile(filepath.Join(h.dir, aside[0])); err != nil || !bytes.Equal(got, damage) {
				t.Fatalf("set-aside file holds %d bytes (%v), want the %d cut bytes", len(got), err, len(damage))
			}
			if h.l.LatestEpoch() != 1 {
				t.Fatalf("epoch of the torn batch leaked into the cache: %d", h.l.LatestEpoch())
			}
			more := h.fill(5, h.clock.Now().UnixMilli(), 2)
			all := append(append([]meta(nil), ms...), more...)
			checkReads(t, h.l, all)

			// A clean restart afterwards does nothing.
			h.logs = &logSink{}
			h.reopen()
			if s := h.logs.String(); strings.Contains(s, "recovered log") {
				t.Fatalf("second reopen recovered again:\n%s", s)
			}
			checkReads(t, h.l, all)
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestStorageCrashWhileOpen copies the directory of a live log, as a process
// crash would leave it: no marker, recovery point at the last flush,
// unflushed batches present, plus a torn tail.
func TestStorageCrashWhileOpen(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1500
	h := newHarness(t, cfg)
	ms := h.fill(30, h.clock.Now().UnixMilli(), 1)
	if err := h.l.Flush(); err != nil {
		t.Fatal(err)
	}
	ms = append(ms, h.fill(30, h.clock.Now().UnixMilli(), 2)...)
	dir := copyLogDir(t, h.dir)
	appendToFile(t, activeLogPath(t, dir), mkBatch(t, 1<<40, 3, 0, 1, 3).raw[:90])

	c := &harness{t: t, dir: dir, cfg: cfg, clock: h.clock, logs: &logSink{}}
	c.open()
	t.Cleanup(func() { c.l.Close() })
	equalBatches(t, readAll(t, c.l), visible(ms, 0))
	checkReads(t, c.l, ms)
	if e, o := c.l.EndOffsetForEpoch(1); e != 1 || o != ms[30].base {
		t.Fatalf("EndOffsetForEpoch(1) = %d, %d; want (1, %d)", e, o, ms[30].base)
	}
	if !strings.Contains(c.logs.String(), "unclean shutdown") {
		t.Fatalf("no recovery summary:\n%s", c.logs)
	}
}

// TestStorageCrashCorruptMiddleSegment damages a batch in an older segment
// that was never flushed: recovery keeps only what precedes the damage and
// sets the rest of that segment and every later segment aside, deleting
// nothing.
func TestStorageCrashCorruptMiddleSegment(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1500
	h := newHarness(t, cfg)
	ms := h.fill(40, h.clock.Now().UnixMilli(), 1)
	segs := h.l.Segments()
	if len(segs) < 4 {
		t.Fatalf("%d segments", len(segs))
	}
	h.close()
	victim := segs[1]
	// Flip a byte inside the second batch of segment 1.
	var second meta
	n := 0
	for _, m := range ms {
		if m.base >= victim.BaseOffset {
			n++
			if n == 2 {
				second = m
				break
			}
		}
	}
	path := filepath.Join(h.dir, segmentName(victim.BaseOffset)+logSuffix)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pos := bytes.Index(data, second.raw)
	if pos <= 0 {
		t.Fatal("batch not found in its segment")
	}
	data[pos+record.HeaderSize+3] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(h.dir, cleanMarkerFile))
	os.Remove(filepath.Join(h.dir, recoveryPointFile))

	h.open()
	var kept []meta
	for _, m := range ms {
		if m.base < second.base {
			kept = append(kept, m)
		}
	}
	equalBatches(t, readAll(t, h.l), visible(kept, 0))
	if got := len(h.l.Segments()); got != 2 {
		t.Fatalf("%d segments after recovery, want 2", got)
	}
	if left := files(t, h.dir, logSuffix); len(left) != 2 {
		t.Fatalf("segment files %v", left)
	}
	// Every byte from the damaged batch on is still on disk, set aside.
	var keptAside int64
	for _, name := range files(t, h.dir, damagedSuffix) {
		keptAside += fileSize(t, filepath.Join(h.dir, name))
	}
	var lost int64
	for _, sg := range segs[1:] {
		lost += sg.Size
	}
	lost -= int64(pos)
	if keptAside != lost {
		t.Fatalf("%d bytes set aside, want the %d bytes recovery cut", keptAside, lost)
	}
	if h.l.NextOffset() != second.base {
		t.Fatalf("NextOffset %d, want %d", h.l.NextOffset(), second.base)
	}
}

func TestStorageIndexRebuild(t *testing.T) {
	type damage struct {
		name    string
		suffix  string
		fn      func(t *testing.T, path string)
		rebuilt bool
	}
	overwrite := func(b byte) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for i := range data {
				data[i] = b ^ byte(i*7)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	truncate := func(by int64) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			if err := os.Truncate(path, max(fileSize(t, path)-by, 0)); err != nil {
				t.Fatal(err)
			}
		}
	}
	remove := func(t *testing.T, path string) {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
	// A middle entry moved to another plausible position: nothing at open
	// can tell, but readers must not be misled.
	shiftMiddle := func(t *testing.T, path string) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		n := len(data) / offsetEntrySize
		if n < 3 {
			t.Fatalf("index has %d entries", n)
		}
		i := n / 2
		pos := binary.BigEndian.Uint32(data[i*8+4:])
		binary.BigEndian.PutUint32(data[i*8+4:], pos+1)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []damage{
		{"offset index garbage", indexSuffix, overwrite(0xAB), true},
		{"offset index zeros", indexSuffix, overwrite(0), true},
		{"offset index torn entry", indexSuffix, truncate(3), true},
		{"offset index emptied", indexSuffix, truncate(1 << 30), false},
		{"offset index deleted", indexSuffix, remove, true},
		{"offset index entry shifted", indexSuffix, shiftMiddle, false},
		{"time index garbage", timeIndexSuffix, overwrite(0x5C), true},
		{"time index torn entry", timeIndexSuffix, truncate(5), true},
		{"time index one entry short", timeIndexSuffix, truncate(timeEntrySize), true},
		{"time index emptied", timeIndexSuffix, truncate(1 << 30), true},
		{"time index deleted", timeIndexSuffix, remove, true},
	}
	for _, tt := range tests {
		for _, which := range []string{"sealed", "active"} {
			t.Run(tt.name+"/"+which, func(t *testing.T) {
				cfg := testConfig()
				cfg.SegmentBytes = 3000
				cfg.IndexIntervalBytes = 100
				h := newHarness(t, cfg)
				ts := h.clock.Now().UnixMilli()
				ms := h.fill(60, ts, 1)
				segs := h.l.Segments()
				h.close()
				seg := segs[1]
				if which == "active" {
					seg = segs[len(segs)-1]
				}
				tt.fn(t, filepath.Join(h.dir, segmentName(seg.BaseOffset)+tt.suffix))

				h.open()
				if got := strings.Contains(h.logs.String(), "rebuilt indexes of segment "+itoa(seg.BaseOffset)); got != tt.rebuilt {
					t.Fatalf("rebuilt logged: %v, want %v:\n%s", got, tt.rebuilt, h.logs)
				}
				checkReads(t, h.l, ms)
				checkFindTimestamp(t, h.l, ms)
				got := h.l.Segments()
				if len(got) != len(segs) {
					t.Fatalf("%d segments, want %d", len(got), len(segs))
				}
				for i := range got {
					got[i].Created = segs[i].Created // file mtime after a reopen
					if got[i] != segs[i] {
						t.Fatalf("segment %d changed:\n got %+v\nwant %+v", i, got[i], segs[i])
					}
				}

				// The files are consistent now: a second reopen rebuilds nothing.
				h.logs = &logSink{}
				h.reopen()
				if s := h.logs.String(); strings.Contains(s, "rebuilt") && tt.name != "offset index entry shifted" {
					t.Fatalf("second reopen rebuilt again:\n%s", s)
				}
				checkReads(t, h.l, ms)
			})
		}
	}
}

// checkFindTimestamp compares FindTimestamp with a linear search for every
// timestamp around the batches' maxima.
func checkFindTimestamp(t *testing.T, l *Log, ms []meta) {
	t.Helper()
	start := l.StartOffset()
	var probes []int64
	for _, m := range ms {
		probes = append(probes, m.maxTs-1, m.maxTs, m.maxTs+1)
	}
	probes = append(probes, -1, 0, 1<<62)
	for _, ts := range probes {
		var want []byte
		for _, m := range ms {
			if m.last >= start && m.maxTs >= ts {
				want = m.raw
				break
			}
		}
		got, ok, err := l.FindTimestamp(ts)
		if err != nil {
			t.Fatalf("FindTimestamp(%d): %v", ts, err)
		}
		if ok != (want != nil) || !bytes.Equal(got, want) {
			gh, _ := record.ParseHeader(got)
			wh, _ := record.ParseHeader(want)
			t.Fatalf("FindTimestamp(%d) = batch %d (ok %v), want batch %d", ts, gh.BaseOffset, ok, wh.BaseOffset)
		}
	}
}
