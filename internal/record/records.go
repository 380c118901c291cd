package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Records decompresses and decodes every record of one batch, giving each its
// absolute offset (BaseOffset + offsetDelta) and timestamp (BaseTimestamp +
// timestampDelta, or MaxTimestamp for LogAppendTime batches).
//
// Records checks the framing of the batch (ParseHeader and the length field)
// but not its CRC; call Validate first for bytes from the network or disk.
// Keys, values and header values alias batch for uncompressed batches (and a
// private buffer otherwise); copy them to keep them past batch's lifetime.
// Every decoding failure wraps ErrCorrupt.
func Records(batch []byte) ([]Record, error) {
	h, err := ParseHeader(batch)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if h.Length < minBatchLength || h.Size() > len(batch) {
		return nil, fmt.Errorf("%w: batch length %d, %d bytes given", ErrCorrupt, h.Length, len(batch))
	}
	if h.NumRecords < 0 {
		return nil, fmt.Errorf("%w: record count %d", ErrCorrupt, h.NumRecords)
	}
	data := batch[HeaderSize:h.Size()]
	if c := h.Codec(); c != CodecNone {
		if data, err = Decompress(c, data); err != nil {
			if !errors.Is(err, ErrCorrupt) {
				err = fmt.Errorf("%w: %w", ErrCorrupt, err)
			}
			return nil, err
		}
	}
	// Never trust the count for the allocation: each record takes at least
	// minRecordSize bytes.
	n := int(h.NumRecords)
	if limit := len(data) / minRecordSize; n > limit {
		return nil, fmt.Errorf("%w: %d records cannot fit in %d bytes", ErrCorrupt, n, len(data))
	}
	out := make([]Record, 0, n)
	d := decoder{b: data}
	for i := 0; i < n; i++ {
		r, err := d.record(h)
		if err != nil {
			return nil, fmt.Errorf("%w: record %d: %v", ErrCorrupt, i, err)
		}
		out = append(out, r)
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last record", ErrCorrupt, len(d.b))
	}
	return out, nil
}

// decoder consumes varint-framed record fields from b.
type decoder struct{ b []byte }

type decodeError string

func (e decodeError) Error() string { return string(e) }

const (
	errVarint   = decodeError("bad varint")
	errOverflow = decodeError("field past the end of the record")
)

func (d *decoder) varlong() (int64, error) {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		return 0, errVarint
	}
	d.b = d.b[n:]
	return v, nil
}

func (d *decoder) varint() (int32, error) {
	v, err := d.varlong()
	if err != nil {
		return 0, err
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, errVarint
	}
	return int32(v), nil
}

// bytes reads a varint length and that many bytes; -1 means null.
func (d *decoder) bytes() ([]byte, error) {
	n, err := d.varint()
	if err != nil {
		return nil, err
	}
	switch {
	case n == -1:
		return nil, nil
	case n < -1:
		return nil, fmt.Errorf("negative length %d", n)
	case int(n) > len(d.b):
		return nil, errOverflow
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v, nil
}

func (d *decoder) record(h Header) (Record, error) {
	length, err := d.varint()
	if err != nil {
		return Record{}, err
	}
	if length < 0 || int(length) > len(d.b) {
		return Record{}, fmt.Errorf("record length %d with %d bytes left", length, len(d.b))
	}
	body := decoder{b: d.b[:length]}
	d.b = d.b[length:]

	if len(body.b) < 1 {
		return Record{}, errOverflow
	}
	body.b = body.b[1:] // attributes: unused in v2
	tsDelta, err := body.varlong()
	if err != nil {
		return Record{}, err
	}
	offDelta, err := body.varint()
	if err != nil {
		return Record{}, err
	}
	r := Record{
		Offset:    h.BaseOffset + int64(offDelta),
		Timestamp: h.BaseTimestamp + tsDelta,
	}
	if h.IsLogAppendTime() {
		r.Timestamp = h.MaxTimestamp
	}
	if r.Key, err = body.bytes(); err != nil {
		return Record{}, err
	}
	if r.Value, err = body.bytes(); err != nil {
		return Record{}, err
	}
	count, err := body.varint()
	if err != nil {
		return Record{}, err
	}
	// Each header takes at least two bytes (two lengths).
	if count < 0 || int(count) > len(body.b)/2 {
		return Record{}, fmt.Errorf("header count %d", count)
	}
	if count > 0 {
		r.Headers = make([]RecordHeader, 0, count)
	}
	for j := int32(0); j < count; j++ {
		k, err := body.bytes()
		if err != nil {
			return Record{}, err
		}
		if k == nil {
			return Record{}, fmt.Errorf("header %d has a null key", j)
		}
		v, err := body.bytes()
		if err != nil {
			return Record{}, err
		}
		r.Headers = append(r.Headers, RecordHeader{Key: string(k), Value: v})
	}
	if len(body.b) != 0 {
		return Record{}, fmt.Errorf("%d bytes left in the record", len(body.b))
	}
	return r, nil
}
