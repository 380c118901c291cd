package record

import (
	"encoding/binary"
	"hash/crc32"
)

// castagnoli is the CRC32C table used by the v2 batch checksum.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ParseHeader decodes the 61-byte header at the start of b. It checks only that
// b is long enough (ErrShort) and that the magic is 2 (ErrMagic); it does not
// check the CRC, the batch length or the record count.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, ErrShort
	}
	if b[OffMagic] != 2 {
		return Header{}, ErrMagic
	}
	be := binary.BigEndian
	return Header{
		BaseOffset:           int64(be.Uint64(b[OffBaseOffset:])),
		Length:               int32(be.Uint32(b[OffBatchLength:])),
		PartitionLeaderEpoch: int32(be.Uint32(b[OffLeaderEpoch:])),
		Magic:                int8(b[OffMagic]),
		CRC:                  be.Uint32(b[OffCRC:]),
		Attributes:           int16(be.Uint16(b[OffAttributes:])),
		LastOffsetDelta:      int32(be.Uint32(b[OffLastOffsetDelta:])),
		BaseTimestamp:        int64(be.Uint64(b[OffBaseTimestamp:])),
		MaxTimestamp:         int64(be.Uint64(b[OffMaxTimestamp:])),
		ProducerID:           int64(be.Uint64(b[OffProducerID:])),
		ProducerEpoch:        int16(be.Uint16(b[OffProducerEpoch:])),
		BaseSequence:         int32(be.Uint32(b[OffBaseSequence:])),
		NumRecords:           int32(be.Uint32(b[OffNumRecords:])),
	}, nil
}

// LastOffset is BaseOffset + LastOffsetDelta.
func (h Header) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// Size is the whole batch size on the wire: Length + 12.
func (h Header) Size() int { return int(h.Length) + 12 }

// Codec returns the compression codec.
func (h Header) Codec() Codec { return Codec(h.Attributes & AttrCodecMask) }

// IsControl reports the control bit.
func (h Header) IsControl() bool { return h.Attributes&AttrControl != 0 }

// IsTransactional reports the transactional bit.
func (h Header) IsTransactional() bool { return h.Attributes&AttrTransactional != 0 }

// IsLogAppendTime reports the timestamp-type bit: every record of the batch
// carries MaxTimestamp as its timestamp.
func (h Header) IsLogAppendTime() bool { return h.Attributes&AttrLogAppendTime != 0 }

// Checksum computes the CRC32C a batch should carry: it covers everything from
// the attributes field to the end. b must hold at least HeaderSize bytes.
func Checksum(batch []byte) uint32 {
	if len(batch) < OffAttributes {
		return 0
	}
	return crc32.Checksum(batch[OffAttributes:], castagnoli)
}

// SetBaseOffset rewrites baseOffset (outside the CRC). Batches shorter than a
// header are left untouched.
func SetBaseOffset(batch []byte, off int64) {
	if len(batch) < HeaderSize {
		return
	}
	binary.BigEndian.PutUint64(batch[OffBaseOffset:], uint64(off))
}

// SetPartitionLeaderEpoch rewrites partitionLeaderEpoch (outside the CRC).
// Batches shorter than a header are left untouched.
func SetPartitionLeaderEpoch(batch []byte, epoch int32) {
	if len(batch) < HeaderSize {
		return
	}
	binary.BigEndian.PutUint32(batch[OffLeaderEpoch:], uint32(epoch))
}

// SetLogAppendTime sets the LogAppendTime attribute bit and maxTimestamp to ts
// and recomputes the CRC, as Kafka does for message.timestamp.type=LogAppendTime.
// Batches shorter than a header are left untouched.
func SetLogAppendTime(batch []byte, ts int64) {
	if len(batch) < HeaderSize {
		return
	}
	be := binary.BigEndian
	attrs := be.Uint16(batch[OffAttributes:]) | AttrLogAppendTime
	be.PutUint16(batch[OffAttributes:], attrs)
	be.PutUint64(batch[OffMaxTimestamp:], uint64(ts))
	be.PutUint32(batch[OffCRC:], Checksum(batch))
}
