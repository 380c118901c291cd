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
//	  .clean-shutdown                 written by Close, removed by Open (unless the owner keeps one marker for many logs)
//	  *.deleted                       segments waiting for file.delete.delay.ms
//	  *.damaged                       bytes recovery set aside instead of deleting them (never removed)
//
// Checkpoint files are replaced atomically: temp file, fsync, rename, fsync
// of the directory (several files may share one directory fsync).
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
// are strictly increasing in every field. The active segment's indexes live
// on the heap and are written to their files at flush, roll and close (after
// a crash, recovery rebuilds them); a sealed segment's are mapped read-only
// when first needed and unmapped when idle.
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
//   - *.deleted and *.tmp files, and index files without a .log, are removed
//     (deletions already decided, incomplete atomic writes, derived data).
//   - Segments that had reached the disk are trusted: all of them after a
//     clean shutdown, else those before the one holding the recovery point.
//     Their index files are checked (missing, not a whole number of entries,
//     not strictly increasing, past the end of the log, or a last entry that
//     does not name the batch at its position (offset index) or carry that
//     batch's maximum timestamp (time index)) and rebuilt from the batch
//     headers when wrong. The segment's end comes from scanning the headers
//     after the last offset index entry. Damaged framing in one of these
//     segments, or a segment that starts inside the previous one, is not an
//     interrupted write: Open fails with ErrDamaged and changes nothing, and
//     the owner reports the log offline.
//   - Every later segment is read in full: framing, CRC (record.Validate) and
//     offset order. At the first torn or bad batch the rest of the file is
//     copied to "<segment>.log.<position>.<ms>.damaged", fsynced, and the
//     segment truncated there; later segments are set aside by renaming
//     their logs to "*.<ms>.damaged" (so is that segment, if it kept nothing
//     and began inside the previous one). Nothing is deleted, and the cut
//     (segment, offset, bytes, cause, where the bytes went) is logged at
//     WARN. Their indexes are rebuilt and their batches' epochs fed to the
//     epoch cache.
//   - A missing or unreadable leader-epoch checkpoint is rebuilt from the
//     batch headers; epochs at or past the end and below the start are
//     trimmed. An unreadable start offset falls back to the first segment's
//     base, an unreadable recovery point to 0 (everything is checked).
//     Segments wholly below the start offset are left to retention, which
//     deletes them the usual way.
//   - A one-line summary is logged when any of this changed something.
//
// Readers never trust an index entry blindly either: if the batch at an
// entry's position is not the one it names, the scan restarts from the
// segment's first batch. A mapped index whose file shrank underneath turns
// the fault into a scan from the segment's start, not a crash.
//
// # Durability
//
// Append writes with pwrite and returns without fsync unless flush.messages
// messages accumulated since the last flush. flush.ms is applied by
// EnforceRetention, so its precision is the period at which the owner calls
// it. Segments that were rolled away from are fsynced by FlushSealed, which
// the owner calls periodically (Kafka flushes a segment once it is rolled):
// the recovery point then moves past them. Flush and Close fsync everything
// and advance the recovery point; a truncation lowers it. The start offset
// and the leader-epoch checkpoint are made durable before the recovery point
// passes the batches they describe (appends only mark the checkpoint stale;
// recovery reads the epochs of unflushed batches from the batches).
//
// Retention renames deleted segments before it persists the new start
// offset, so it frees space on a full disk; until the offset is persisted a
// reopen derives it from the first remaining segment, which is exact for
// whole segments. A start offset inside a segment (DeleteRecords) that
// cannot be persisted is an error, retried by the next call, flush or close.
//
// Errors: a failed write leaves the log as it was (the append is undone, or
// never published) and is returned; it can succeed later, so a full disk
// only refuses appends until space returns. A failed fsync (or a failed
// truncation) means the disk's content is unknown: the log fails (ErrFailed,
// logged at ERROR) and refuses reads and writes until it is closed and
// opened again, which recovers it from the files.
//
// # Files and descriptors
//
// Every file operation goes through an FS (Options.Files; OS by default), so
// that tests inject ENOSPC, EIO and short writes (package errorfs). Files,
// shared by the logs of a broker, opens a segment's log file when it is
// first read or written and closes it when it has not been used for
// IdleTimeout, or earlier when more than MaxOpen unused files are open
// (least recently used first); sealed segments' indexes are mapped and
// unmapped the same way under MaxMapped. A segment in use is pinned: a read
// pins it between its snapshot and the end of its scan, a Chunk until
// Release, the writer during an append. A pinned segment, or one with writes
// not yet fsynced, keeps its descriptor (so a write-back error reaches the
// descriptor that made the writes). Descriptors therefore scale with what is
// active, not with the number of partitions.
//
// # Concurrency
//
// A Log is safe for concurrent use. Mutations (Append, TruncateTo,
// SetStartOffset, EnforceRetention, Flush, FlushSealed, Close,
// CloseAndRename) are serialised by the Log's writer lock; readers (Read,
// FindTimestamp, MaxTimestampBatch, ScanHeaders and the getters) snapshot
// the state they need under a read lock held only for in-memory lookups (and
// loading a sealed segment's index), then read files with ReadAt without any
// lock, never past the committed size they saw. An append is published only
// when it is complete, so a reader sees all of it or none of it.
//
// A segment's File is shared by every reader and the writer and used only
// with ReadAt and WriteAt, never Seek or Read, so a Chunk's File may be handed
// to sendfile (the form that takes an explicit offset; OSFile gives the
// *os.File) while the log keeps appending. Deleted segments (retention,
// SetStartOffset, TruncateTo) are renamed to *.deleted and removed after
// file.delete.delay.ms by the Files goroutine; a Chunk handed out before keeps
// its descriptor, so its bytes stay readable until it is released. Close
// removes the log's pending deletions at once. After Close every method
// returns ErrClosed (getters return zero values).
//
// Lock order: Log.appendMu, then Log.mu, then a segment's files lock, then
// Files.mu (code holding Files.mu only TryLocks segment locks).
package storage
