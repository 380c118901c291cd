package storage

import (
	"fmt"
	"math"
	"time"
)

// DefaultConfig returns Kafka's defaults.
func DefaultConfig() Config {
	return Config{
		SegmentBytes:       1 << 30,
		SegmentMs:          7 * 24 * 60 * 60 * 1000,
		RetentionMs:        7 * 24 * 60 * 60 * 1000,
		RetentionBytes:     -1,
		IndexIntervalBytes: 4096,
		SegmentIndexBytes:  10 << 20,
		FlushMessages:      math.MaxInt64,
		FlushMs:            math.MaxInt64,
		FileDeleteDelayMs:  60000,
	}
}

// Validate reports the first setting out of range, naming its Kafka key.
func (c Config) Validate() error {
	switch {
	case c.SegmentBytes < 14:
		return fmt.Errorf("storage: segment.bytes=%d: must be at least 14", c.SegmentBytes)
	case c.SegmentMs < 1:
		return fmt.Errorf("storage: segment.ms=%d: must be at least 1", c.SegmentMs)
	case c.RetentionMs < -1:
		return fmt.Errorf("storage: retention.ms=%d: must be -1 or more", c.RetentionMs)
	case c.RetentionBytes < -1:
		return fmt.Errorf("storage: retention.bytes=%d: must be -1 or more", c.RetentionBytes)
	case c.IndexIntervalBytes < 0:
		return fmt.Errorf("storage: index.interval.bytes=%d: must not be negative", c.IndexIntervalBytes)
	case c.SegmentIndexBytes < 4:
		return fmt.Errorf("storage: segment.index.bytes=%d: must be at least 4", c.SegmentIndexBytes)
	case c.FileDeleteDelayMs < 0:
		return fmt.Errorf("storage: file.delete.delay.ms=%d: must not be negative", c.FileDeleteDelayMs)
	}
	return nil
}

// normalized clamps out-of-range settings to the nearest legal value, for
// SetConfig, which cannot report an error.
func (c Config) normalized() Config {
	d := DefaultConfig()
	if c.SegmentBytes < 14 {
		c.SegmentBytes = d.SegmentBytes
	}
	if c.SegmentMs < 1 {
		c.SegmentMs = d.SegmentMs
	}
	c.RetentionMs = max(c.RetentionMs, -1)
	c.RetentionBytes = max(c.RetentionBytes, -1)
	c.IndexIntervalBytes = max(c.IndexIntervalBytes, 0)
	if c.SegmentIndexBytes < 4 {
		c.SegmentIndexBytes = d.SegmentIndexBytes
	}
	c.FileDeleteDelayMs = max(c.FileDeleteDelayMs, 0)
	return c
}

// segmentBytes is segment.bytes capped so file positions fit the index's uint32.
func (c Config) segmentBytes() int64 { return min(c.SegmentBytes, math.MaxInt32) }

// indexEntries and timeEntries are the index capacities that force a roll.
func (c Config) indexEntries() int { return max(int(c.SegmentIndexBytes)/offsetEntrySize, 1) }
func (c Config) timeEntries() int  { return max(int(c.SegmentIndexBytes)/timeEntrySize, 1) }

func (c Config) flushMessagesEnabled() bool {
	return c.FlushMessages > 0 && c.FlushMessages != math.MaxInt64
}

func (c Config) flushMsEnabled() bool { return c.FlushMs > 0 && c.FlushMs != math.MaxInt64 }

// msDuration converts a millisecond setting to a Duration without overflow.
func msDuration(ms int64) time.Duration {
	if ms > math.MaxInt64/int64(time.Millisecond) {
		return math.MaxInt64
	}
	return time.Duration(ms) * time.Millisecond
}
