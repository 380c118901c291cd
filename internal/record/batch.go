package record

import (
	"encoding/binary"
	"fmt"
)

// MaxBatchSize bounds the size of one batch (length field + 12). A length
// field above it is treated as garbage rather than as a batch still being
// written, so a corrupt length can never make a reader wait for, or allocate,
// gigabytes.
const MaxBatchSize = 1 << 30

// minBatchLength is the smallest legal batchLength: a header without records.
const minBatchLength = HeaderSize - 12

// minRecordSize is the smallest encoding of one record: length, attributes,
// timestampDelta, offsetDelta, keyLength, valueLength and header count, one
// byte each.
const minRecordSize = 7

// Next splits the first batch off a record set.
//
//   - fewer than 12 bytes, or fewer bytes than the batch claims: ErrShort
//     (a partial batch at the end of a fetch response or a torn write);
//   - a magic byte other than 2: ErrMagic;
//   - a length field below the size of a header or above MaxBatchSize:
//     ErrCorrupt.
//
// Next checks framing only; use Validate for the CRC and field checks.
func Next(set []byte) (batch, rest []byte, h Header, err error) {
	if len(set) < OffLeaderEpoch {
		return nil, set, Header{}, ErrShort
	}
	if len(set) > OffMagic && set[OffMagic] != 2 {
		return nil, set, Header{}, fmt.Errorf("%w: magic %d", ErrMagic, int8(set[OffMagic]))
	}
	length := int32(binary.BigEndian.Uint32(set[OffBatchLength:]))
	if length < minBatchLength || int64(length)+12 > MaxBatchSize {
		return nil, set, Header{}, fmt.Errorf("%w: batch length %d", ErrCorrupt, length)
	}
	size := int(length) + 12
	if len(set) < size {
		return nil, set, Header{}, ErrShort
	}
	h, err = ParseHeader(set[:size])
	if err != nil {
		return nil, set, Header{}, err
	}
	return set[:size:size], set[size:], h, nil
}

// Validate fully checks one batch that must span exactly len(batch) bytes:
// the length field, magic 2, the CRC32C, the codec, and that NumRecords and
// LastOffsetDelta are not negative (and, for uncompressed batches, that the
// records can fit). It does not require NumRecords == LastOffsetDelta+1:
// compaction removes records but keeps the batch's offset range.
func Validate(batch []byte) (Header, error) {
	if len(batch) < HeaderSize {
		return Header{}, ErrShort
	}
	h, err := ParseHeader(batch)
	if err != nil {
		return Header{}, err
	}
	if h.Length < minBatchLength || int64(h.Length)+12 > MaxBatchSize {
		return h, fmt.Errorf("%w: batch length %d", ErrCorrupt, h.Length)
	}
	switch size := h.Size(); {
	case size > len(batch):
		return h, ErrShort
	case size < len(batch):
		return h, fmt.Errorf("%w: batch length %d but %d bytes given", ErrCorrupt, h.Length, len(batch))
	}
	if sum := Checksum(batch); sum != h.CRC {
		return h, fmt.Errorf("%w: crc %08x, computed %08x", ErrCorrupt, h.CRC, sum)
	}
	if c := h.Codec(); c > CodecZstd {
		return h, fmt.Errorf("%w: compression codec %d", ErrInvalid, c)
	}
	if h.NumRecords < 0 {
		return h, fmt.Errorf("%w: record count %d", ErrInvalid, h.NumRecords)
	}
	if h.LastOffsetDelta < 0 {
		return h, fmt.Errorf("%w: last offset delta %d", ErrInvalid, h.LastOffsetDelta)
	}
	if h.Codec() == CodecNone && int64(h.NumRecords)*minRecordSize > int64(len(batch)-HeaderSize) {
		return h, fmt.Errorf("%w: %d records cannot fit in %d bytes", ErrInvalid, h.NumRecords, len(batch)-HeaderSize)
	}
	return h, nil
}
