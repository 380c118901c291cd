package storage

// This file fixes the package's exported surface for the rest of the broker.

import (
	"errors"
	"log/slog"
	"os"
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
}

// AppendInfo describes a completed append.
type AppendInfo struct {
	FirstOffset  int64 // base offset of the first batch
	LastOffset   int64 // last offset of the last batch
	MaxTimestamp int64
	Bytes        int
}

// Chunk is a byte range of one segment file holding whole batches. It stays
// valid for at least FileDeleteDelayMs after the segment is deleted by retention.
type Chunk struct {
	File *os.File
	Pos  int64
	Len  int64
}

// SegmentInfo describes one segment (for tests and describe output).
type SegmentInfo struct {
	BaseOffset   int64
	NextOffset   int64
	Size         int64
	MaxTimestamp int64
	Created      time.Time
}
