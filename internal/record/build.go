package record

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Batch describes a batch to build.
type Batch struct {
	BaseOffset           int64
	PartitionLeaderEpoch int32
	Attributes           int16 // codec bits are taken from Codec
	Codec                Codec
	BaseTimestamp        int64    // 0 means "first record's timestamp"
	ProducerID           int64    // -1 when not idempotent
	ProducerEpoch        int16    // -1 when not idempotent
	BaseSequence         int32    // -1 when not idempotent
	Records              []Record // Offset and Timestamp absolute; deltas computed
}

// Build encodes a batch with a correct CRC (used by tests, the bench and the
// broker for internal topics and control batches).
//
// Record offsets must be strictly increasing and at or above b.BaseOffset;
// lastOffsetDelta is the last record's delta and maxTimestamp the largest
// record timestamp. A batch without records gets lastOffsetDelta 0 and
// maxTimestamp = BaseTimestamp. Record offsets and timestamps are absolute;
// Build computes the deltas.
func Build(b Batch) ([]byte, error) {
	if b.Codec < CodecNone || b.Codec > CodecZstd {
		return nil, fmt.Errorf("%w: compression codec %d", ErrInvalid, int8(b.Codec))
	}
	baseTs := b.BaseTimestamp
	if baseTs == 0 && len(b.Records) > 0 {
		baseTs = b.Records[0].Timestamp
	}
	maxTs := baseTs
	var lastDelta int64
	var body []byte
	for i, r := range b.Records {
		delta := r.Offset - b.BaseOffset
		if delta < 0 || delta > math.MaxInt32 || (i > 0 && delta <= lastDelta) {
			return nil, fmt.Errorf("%w: record %d has offset %d (base %d, previous delta %d)",
				ErrInvalid, i, r.Offset, b.BaseOffset, lastDelta)
		}
		lastDelta = delta
		if i == 0 || r.Timestamp > maxTs {
			maxTs = r.Timestamp
		}
		body = appendRecord(body, r, r.Timestamp-baseTs, int32(delta))
	}
	if len(b.Records) > math.MaxInt32 {
		return nil, fmt.Errorf("%w: %d records", ErrInvalid, len(b.Records))
	}
	payload, err := Compress(b.Codec, body)
	if err != nil {
		return nil, err
	}
	size := HeaderSize + len(payload)
	if size > MaxBatchSize {
		return nil, fmt.Errorf("%w: batch of %d bytes", ErrInvalid, size)
	}
	out := make([]byte, HeaderSize, size)
	be := binary.BigEndian
	be.PutUint64(out[OffBaseOffset:], uint64(b.BaseOffset))
	be.PutUint32(out[OffBatchLength:], uint32(size-12))
	be.PutUint32(out[OffLeaderEpoch:], uint32(b.PartitionLeaderEpoch))
	out[OffMagic] = 2
	attrs := b.Attributes&^AttrCodecMask | int16(b.Codec)
	be.PutUint16(out[OffAttributes:], uint16(attrs))
	be.PutUint32(out[OffLastOffsetDelta:], uint32(lastDelta))
	be.PutUint64(out[OffBaseTimestamp:], uint64(baseTs))
	be.PutUint64(out[OffMaxTimestamp:], uint64(maxTs))
	be.PutUint64(out[OffProducerID:], uint64(b.ProducerID))
	be.PutUint16(out[OffProducerEpoch:], uint16(b.ProducerEpoch))
	be.PutUint32(out[OffBaseSequence:], uint32(b.BaseSequence))
	be.PutUint32(out[OffNumRecords:], uint32(len(b.Records)))
	out = append(out, payload...)
	be.PutUint32(out[OffCRC:], Checksum(out))
	return out, nil
}

// appendRecord appends one length-prefixed record to dst.
func appendRecord(dst []byte, r Record, tsDelta int64, offDelta int32) []byte {
	var body []byte
	body = append(body, 0) // attributes
	body = binary.AppendVarint(body, tsDelta)
	body = binary.AppendVarint(body, int64(offDelta))
	body = appendBytes(body, r.Key)
	body = appendBytes(body, r.Value)
	body = binary.AppendVarint(body, int64(len(r.Headers)))
	for _, h := range r.Headers {
		body = binary.AppendVarint(body, int64(len(h.Key)))
		body = append(body, h.Key...)
		body = appendBytes(body, h.Value)
	}
	dst = binary.AppendVarint(dst, int64(len(body)))
	return append(dst, body...)
}

// appendBytes appends a varint length and b; nil is encoded as length -1.
func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
}
