package record

// This file fixes the package's exported surface. Bodies live in the other files.

import "errors"

// HeaderSize is the size of a v2 record batch header.
const HeaderSize = 61

// Byte positions of header fields inside a v2 batch.
const (
	OffBaseOffset      = 0
	OffBatchLength     = 8
	OffLeaderEpoch     = 12
	OffMagic           = 16
	OffCRC             = 17
	OffAttributes      = 21
	OffLastOffsetDelta = 23
	OffBaseTimestamp   = 27
	OffMaxTimestamp    = 35
	OffProducerID      = 43
	OffProducerEpoch   = 51
	OffBaseSequence    = 53
	OffNumRecords      = 57
)

// Codec is the compression codec in attribute bits 0-2.
type Codec int8

const (
	CodecNone   Codec = 0
	CodecGzip   Codec = 1
	CodecSnappy Codec = 2
	CodecLZ4    Codec = 3
	CodecZstd   Codec = 4
)

// Attribute bits.
const (
	AttrCodecMask     = 0x07
	AttrLogAppendTime = 0x08
	AttrTransactional = 0x10
	AttrControl       = 0x20
)

var (
	// ErrCorrupt means a CRC mismatch or bytes that cannot be a batch.
	ErrCorrupt = errors.New("record: corrupt batch")
	// ErrShort means fewer bytes than the batch claims (a torn or partial batch).
	ErrShort = errors.New("record: truncated batch")
	// ErrMagic means a magic byte other than 2.
	ErrMagic = errors.New("record: unsupported magic")
	// ErrInvalid means a well-formed batch whose fields are inconsistent
	// (record count vs last offset delta, negative lengths, bad codec, ...).
	ErrInvalid = errors.New("record: invalid batch")
)

// Header is a decoded v2 batch header.
type Header struct {
	BaseOffset           int64
	Length               int32 // batchLength: bytes after the length field
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	BaseTimestamp        int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	NumRecords           int32
}

// Record is one decoded record of a batch, with absolute offset and timestamp.
type Record struct {
	Offset    int64
	Timestamp int64
	Key       []byte // nil for a null key
	Value     []byte // nil for a null value
	Headers   []RecordHeader
}

// RecordHeader is a record header.
type RecordHeader struct {
	Key   string
	Value []byte
}
