package storage

import (
	"fmt"
	"strconv"
	"strings"
)

// epochEntry says that leader epoch epoch wrote its first batch at start.
type epochEntry struct {
	epoch int32
	start int64
}

// epochCache is the leader-epoch cache (Kafka's LeaderEpochFileCache):
// entries in increasing epoch and start offset order. Guarded by Log.mu
// (written with appendMu held too).
type epochCache struct {
	entries []epochEntry
}

func (c *epochCache) latest() int32 {
	if len(c.entries) == 0 {
		return -1
	}
	return c.entries[len(c.entries)-1].epoch
}

// assign records that epoch starts at offset start when it is newer than the
// latest cached epoch (negative epochs are ignored). It reports a change.
func (c *epochCache) assign(epoch int32, start int64) bool {
	if epoch < 0 || epoch <= c.latest() {
		return false
	}
	if n := len(c.entries); n > 0 && start < c.entries[n-1].start {
		// Cannot happen for appends in offset order; keep the cache monotonic.
		return false
	}
	c.entries = append(c.entries, epochEntry{epoch, start})
	return true
}

// truncateFromEnd drops epochs that start at or after end (the new log end).
func (c *epochCache) truncateFromEnd(end int64) bool {
	n := len(c.entries)
	for n > 0 && c.entries[n-1].start >= end {
		n--
	}
	changed := n != len(c.entries)
	c.entries = c.entries[:n]
	return changed
}

// truncateFromStart drops epochs wholly below the new log start: entries
// starting at or before start go, and the last of them comes back starting
// at start (Kafka's truncateFromStart).
func (c *epochCache) truncateFromStart(start int64) bool {
	i := 0
	for i < len(c.entries) && c.entries[i].start <= start {
		i++
	}
	if i == 0 {
		return false
	}
	last := c.entries[i-1]
	if i == 1 && last.start == start {
		return false
	}
	rest := append([]epochEntry{{last.epoch, start}}, c.entries[i:]...)
	c.entries = rest
	return true
}

// endOffsetFor answers OffsetForLeaderEpoch exactly as Kafka's
// LeaderEpochFileCache.endOffsetFor:
//
//   - requested -1 (undefined), or an empty cache: (-1, -1);
//   - requested == latest epoch: (latest, log end offset);
//   - requested above every cached epoch: (-1, -1);
//   - requested below every cached epoch: (requested, start of the first
//     cached epoch);
//   - otherwise: (largest cached epoch <= requested, start of the smallest
//     cached epoch > requested).
func (c *epochCache) endOffsetFor(requested int32, logEnd int64) (int32, int64) {
	if requested == -1 || len(c.entries) == 0 {
		return -1, -1
	}
	if requested == c.latest() {
		return requested, logEnd
	}
	higher := -1
	for i, e := range c.entries {
		if e.epoch > requested {
			higher = i
			break
		}
	}
	if higher < 0 {
		return -1, -1
	}
	if higher == 0 {
		return requested, c.entries[0].start
	}
	return c.entries[higher-1].epoch, c.entries[higher].start
}

func (c *epochCache) clone() []epochEntry { return append([]epochEntry(nil), c.entries...) }

// encodeEpochs writes Kafka's leader-epoch-checkpoint format: version line,
// entry count, then "epoch startOffset" lines.
func encodeEpochs(entries []epochEntry) []byte {
	lines := []string{strconv.Itoa(len(entries))}
	for _, e := range entries {
		lines = append(lines, fmt.Sprintf("%d %d", e.epoch, e.start))
	}
	return checkpointLines(lines...)
}

func decodeEpochs(lines []string) ([]epochEntry, error) {
	if len(lines) == 0 {
		return nil, fmt.Errorf("storage: %s: missing entry count", epochFile)
	}
	n, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || n < 0 || n != len(lines)-1 {
		return nil, fmt.Errorf("storage: %s: entry count %q for %d lines", epochFile, lines[0], len(lines)-1)
	}
	out := make([]epochEntry, 0, n)
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 2 {
			return nil, fmt.Errorf("storage: %s: bad line %q", epochFile, l)
		}
		epoch, err1 := strconv.ParseInt(f[0], 10, 32)
		start, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil || epoch < 0 || start < 0 {
			return nil, fmt.Errorf("storage: %s: bad line %q", epochFile, l)
		}
		if k := len(out); k > 0 && (int32(epoch) <= out[k-1].epoch || start < out[k-1].start) {
			return nil, fmt.Errorf("storage: %s: entries out of order at %q", epochFile, l)
		}
		out = append(out, epochEntry{int32(epoch), start})
	}
	return out, nil
}
