// Package record reads and writes Kafka RecordBatch v2 (magic 2), the only
// message format Strait stores and serves. It does no I/O.
//
// # Batch layout
//
// All integers are big endian. Offsets in the left column are the Off*
// constants; the CRC32C (Castagnoli) covers bytes 21 to the end.
//
//	 0  baseOffset            int64
//	 8  batchLength           int32   bytes after this field: size = batchLength + 12
//	12  partitionLeaderEpoch  int32   outside the CRC: rewritten by leaders and mirrors
//	16  magic                 int8    always 2
//	17  crc                   uint32  CRC32C of bytes [21, size)
//	21  attributes            int16   bits 0-2 codec, 3 LogAppendTime, 4 transactional, 5 control
//	23  lastOffsetDelta       int32
//	27  baseTimestamp         int64
//	35  maxTimestamp          int64
//	43  producerId            int64
//	51  producerEpoch         int16
//	53  baseSequence          int32
//	57  recordCount           int32
//	61  records               compressed as a whole by the codec, if any
//
// Each record is a zigzag varint length followed by that many bytes:
//
//	attributes      int8 (unused)
//	timestampDelta  varlong   relative to baseTimestamp
//	offsetDelta     varint    relative to baseOffset
//	keyLength       varint    -1 = null key
//	key             bytes
//	valueLength     varint    -1 = null value
//	value           bytes
//	headerCount     varint
//	headers         headerCount x (keyLength varint, key, valueLength varint (-1 = null), value)
//
// # Rules
//
// Compaction removes records but keeps a batch's offset range, so recordCount
// may be smaller than lastOffsetDelta+1; Validate does not require equality.
// For LogAppendTime batches every record's timestamp is maxTimestamp.
//
// Codecs: gzip, snappy (raw blocks; xerial framing, which Java clients send,
// is also accepted on input), lz4 (frame format) and zstd. Decompression is
// capped at MaxDecompressedSize.
//
// # Errors and safety
//
// Every parser guards every length against its buffer and never panics on
// arbitrary input (the fuzz tests hold it to that). ErrShort means the bytes
// end before the batch does (a torn write or a partial batch at the end of a
// fetch response); ErrCorrupt means bytes that cannot be a batch or fail the
// CRC; ErrMagic an older message format; ErrInvalid a well-formed batch whose
// fields are inconsistent.
//
// # Concurrency
//
// All functions are safe for concurrent use; compressors and decompressors
// are pooled or shared internally.
package record
