// Package storage is Strait's segmented log: one directory per partition
// holding Kafka-like segment files, sparse offset and time indexes, and a few
// small checkpoint files. Batches are stored verbatim, exactly as appended
// (see package record for their format), so reads can hand file ranges to
// sendfile.
//
// # Directory layout
//
//	<dir>/
//	  00000000000000000000.log        batches, verbatim, back to back
//	  00000000000000000000.index      sparse offset index
//	  00000000000000000000.timeindex  time index
//	  00000000000000004711.log        next segment: name = its base offset, 20 digits
//	  ...
//	  log-start-offset                "0\n<offset>\n"
//	  recovery-point                  "0\n<offset>\n": every offset below it was fsynced
//	  leader-epoch-checkpoint         "0\n<count>\n<epoch> <startOffset>\n..." (Kafka's format)
//	  .clean-shutdown                 written by Close, removed by Open
//	  *.deleted                       segments waiting for file.delete.delay.ms
//
// Checkpoint files are replaced atomically: temp file, fsync, rename, fsync
// of the directory.
//
// # Index files
//
// Both indexes are big endian, trimmed (no preallocation), and relative to
// the segment's base offset; a batch's last offset is at most base + 2^31-1
// (otherwise the log rolls first).
//
//	.index      +----------------------+----------------------+
//	entry (8):  | relativeOffset uint32| position uint32      |   base offset of a batch, its byte position
//	            +----------------------+----------------------+
//
//	.timeindex  +---------------------------------+----------------------+
//	entry (12): | timestamp int64                 | relativeOffset uint32|
//	            +---------------------------------+----------------------+
//
// A batch gets an offset index entry when more than index.interval.bytes were
// appended since the previous entry (the first batch of a segment never: it
// is at position 0). At that moment, if the segment's maximum timestamp rose
// since the last time entry, the time index gets (maximum so far, base offset
// of the batch that first reached it). When a segment is rolled away from, or
// the log is closed, a final time entry records the segment's maximum, so the
// last time entry of a sealed segment is its maximum timestamp. Both indexes
// are strictly increasing in every field. In memory, the active segment's
// indexes live on the heap; sealed segments' indexes are mapped read-only.
//
// # Offsets
//
// StartOffset <= every readable offset < NextOffset. Batches need not be
// contiguous: mirrors of compacted topics have gaps, and a read in a gap gets
// the next batch. NextOffset is the end of the last batch, but never below
// the start offset (so SetStartOffset past the end moves it there, with a new
// empty segment based at that offset). It is recomputed from the files at
// Open by the same rule.
//
// # Recovery (Open)
//
//   - *.deleted and *.tmp files, and index files without a .log, are removed.
//   - Without the clean-shutdown marker, every segment from the one holding
//     the recovery point to the last is read in full: framing, CRC
//     (record.Validate) and offset order. At the first torn or bad batch the
//     file is truncated there, later segments are dropped (and so is that
//     segment if it kept nothing and began inside the previous one), and
//     the cut (segment, offset, bytes, cause) is logged. Their indexes are rebuilt
//     and their batches' leader epochs fed to the epoch cache.
//   - Every other segment keeps its log, but its index files are checked:
//     missing, not a whole number of entries, not strictly increasing, past
//     the end of the log, or a last entry that does not name the batch at its
//     position (offset index) or carry that batch's maximum timestamp (time
//     index) all trigger a rebuild from the batch headers. The segment's end
//     comes from scanning the headers after the last offset index entry; any
//     framing damage there sends the segment (and all later ones) to the full
//     recovery above, marker or not.
//   - Segments wholly below the log start offset are deleted; a missing or
//     unreadable leader-epoch checkpoint is rebuilt from the batch headers;
//     epochs at or past the end and below the start are trimmed.
//   - A one-line summary is logged when any of this changed something.
//
// Readers never trust an index entry blindly either: if the batch at an
// entry's position is not the one it names, the scan restarts from the
// segment's first batch.
//
// # Durability
//
// Append writes with pwrite and returns without fsync unless flush.messages
// messages accumulated since the last flush. flush.ms is applied by
// EnforceRetention, so its precision is the period at which the owner calls
// it. Flush and Close fsync everything and advance the recovery point; a
// truncation lowers it.
//
// # Concurrency
//
// A Log is safe for concurrent use. Mutations (Append, TruncateTo,
// SetStartOffset, EnforceRetention, Flush, Close, Delete) are serialised by
// the Log's writer lock; readers (Read, FindTimestamp, MaxTimestampBatch,
// ScanHeaders and the getters) snapshot the state they need under a read
// lock held only for in-memory lookups, then read files with ReadAt without
// any lock, never past the committed size they saw. An append is published
// only when it is complete, so a reader sees all of it or none of it.
//
// Segment files are shared *os.File values used only with ReadAt (pread),
// never Seek or Read, so a Chunk's File may be handed to sendfile (the form
// that takes an explicit offset: the file position is meaningless) while the
// log keeps appending. Deleted segments (retention, SetStartOffset,
// TruncateTo) are renamed to *.deleted and closed and removed after
// file.delete.delay.ms by a goroutine the Log owns, so a Chunk stays readable
// for at least that long; Close stops that goroutine and removes whatever is
// pending at once. After Close every method returns ErrClosed (getters return
// zero values).
//
// Lock order: Log.appendMu, then Log.mu; the deleter's lock is a leaf.
package storage
