package storage

// This file fixes the package's exported surface for the rest of the broker.

import (
	"errors"
	"log/slog"
	"sync/atomic"
	"time"
)

var (
	// ErrOffsetOutOfRange: a read below the log start offset or above the log end offset.
	ErrOffsetOutOfRange = errors.New("storage: offset out of range")
	// ErrOutOfOrder: an append whose first base offset is below the log end offset,
	// or whose batches are not in increasing offset order.
	ErrOutOfOrder = errors.New("storage: append out of order")
	// ErrClosed: the log was closed or deleted.
	ErrClosed = errors.New("storage: log closed")
	// ErrFailed: an fsync failed, so what the disk holds is unknown; the log
	// refuses reads and writes until it is reopened (which recovers it from
	// the files). Errors wrapping it carry the cause.
	ErrFailed = errors.New("storage: log failed")
)

// Config is the per-log configuration (Kafka's topic-level names in comments).
type Config struct {
	SegmentBytes       int64 // segment.bytes (default 1 GiB)
	SegmentMs          int64 // segment.ms (default 7 days)
	RetentionMs        int64 // retention.ms; -1 = unlimited (default 7 days)
	RetentionBytes     int64 // retention.bytes; -1 = unlimited (default -1)
	IndexIntervalBytes int32 // index.interval.bytes (default 4096)
	SegmentIndexBytes  int32 // segment.index.bytes (default 10 MiB): index size that forces a roll
	FlushMessages      int64 // flush.messages: fsync after this many messages; <=0 or MaxInt64 = never
	FlushMs            int64 // flush.ms: fsync when this old; <=0 or MaxInt64 = never
	FileDeleteDelayMs  int64 // file.delete.delay.ms (default 60000): deleted segments stay readable this long
}

// Options are the injected dependencies of a Log.
type Options struct {
	Logger *slog.Logger     // nil = slog.Default()
	Now    func() time.Time // nil = time.Now
	// Files are the resources shared with the broker's other logs; nil
	// gives the Log its own (with the OS file system), closed with it.
	Files *Files
	// SharedShutdownMarker says the owner records clean shutdowns for all
	// its logs at once (one marker per log directory, as Kafka does): Close
	// writes no marker of its own and Open trusts Clean instead. Open
	// still honours a marker of the log's own.
	SharedShutdownMarker bool
	// Clean: the owner's marker says this log was closed cleanly and not
	// opened since.
	Clean bool
}

// AppendInfo describes a completed append.
type AppendInfo struct {
	FirstOffset  int64 // base offset of the first batch
	LastOffset   int64 // last offset of the last batch
	MaxTimestamp int64
	Bytes        int
}

// Chunk is a byte range of one segment file holding whole batches. Its file
// stays open, even if retention deletes the segment meanwhile, until Release.
// A Chunk with Len 0 holds nothing.
type Chunk struct {
	File File
	Pos  int64
	Len  int64
	pin  *pinToken
}

// pinToken releases a Chunk's segment exactly once, whichever copy of the
// Chunk calls Release.
type pinToken struct {
	seg  *segment
	done atomic.Bool
}

// Release gives the Chunk's file back. It may be called more than once and
// on the zero Chunk; the Chunk must not be read afterwards.
func (c Chunk) Release() {
	if c.pin != nil && c.pin.done.CompareAndSwap(false, true) {
		c.pin.seg.unpin()
	}
}

// SegmentInfo describes one segment (for tests and describe output).
type SegmentInfo struct {
	BaseOffset   int64
	NextOffset   int64
	Size         int64
	MaxTimestamp int64
	Created      time.Time
}
