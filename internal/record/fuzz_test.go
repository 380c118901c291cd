package record

import (
	"bytes"
	"errors"
	"testing"
)

// seedBatches adds one valid batch per codec, a record set of several
// batches, and a few damaged variants to f's corpus.
func seedBatches(f *testing.F) {
	f.Helper()
	var set []byte
	for _, c := range allCodecs {
		b := mustBuild(f, sampleBatch(c, 100))
		f.Add(b)
		f.Add(b[:len(b)/2])
		set = append(set, b...)
	}
	f.Add(set)
	f.Add(set[:len(set)-5])
	f.Add(mustBuild(f, Batch{}))
	f.Add(append(mustBuild(f, Batch{Records: []Record{{Key: []byte("k")}}}), 0, 0, 0))
	f.Add([]byte{})
}

func FuzzNext(f *testing.F) {
	seedBatches(f)
	f.Fuzz(func(t *testing.T, set []byte) {
		rest := set
		for len(rest) > 0 {
			batch, r, h, err := Next(rest)
			if err != nil {
				if !errors.Is(err, ErrShort) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrMagic) {
					t.Fatalf("Next: unexpected error class %v", err)
				}
				if len(r) != len(rest) {
					t.Fatal("failed Next consumed bytes")
				}
				return
			}
			if len(batch) != h.Size() || len(batch)+len(r) != len(rest) {
				t.Fatalf("Next split %d+%d of %d, header size %d", len(batch), len(r), len(rest), h.Size())
			}
			if _, err := Validate(batch); err == nil {
				if _, err := Records(batch); err != nil && !errors.Is(err, ErrCorrupt) {
					t.Fatalf("Records: error not wrapping ErrCorrupt: %v", err)
				}
			}
			rest = r
		}
	})
}

func FuzzRecords(f *testing.F) {
	seedBatches(f)
	f.Fuzz(func(t *testing.T, batch []byte) {
		orig := bytes.Clone(batch)
		recs, err := Records(batch)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Records: error not wrapping ErrCorrupt: %v", err)
			}
			return
		}
		if !bytes.Equal(orig, batch) {
			t.Fatal("Records modified its input")
		}
		// Whatever decoded must survive a rebuild with the same base.
		h, _ := ParseHeader(batch)
		if len(recs) == 0 || h.IsLogAppendTime() {
			return
		}
		for i := 1; i < len(recs); i++ {
			if recs[i].Offset <= recs[i-1].Offset {
				return // garbage deltas; Build rightly refuses those
			}
		}
		if recs[0].Offset < h.BaseOffset {
			return
		}
		rebuilt, err := Build(Batch{BaseOffset: h.BaseOffset, BaseTimestamp: h.BaseTimestamp, Codec: CodecNone, Records: recs})
		if err != nil {
			return // e.g. deltas past int32 after a wrapped base
		}
		again, err := Records(rebuilt)
		if err != nil {
			t.Fatalf("records that decoded once do not decode after a rebuild: %v", err)
		}
		if len(again) != len(recs) {
			t.Fatalf("rebuild gave %d records, want %d", len(again), len(recs))
		}
		for i := range recs {
			if again[i].Offset != recs[i].Offset || !bytes.Equal(again[i].Key, recs[i].Key) ||
				!bytes.Equal(again[i].Value, recs[i].Value) || len(again[i].Headers) != len(recs[i].Headers) {
				t.Fatalf("record %d changed in a rebuild", i)
			}
		}
	})
}

func FuzzDecompress(f *testing.F) {
	for _, c := range allCodecs[1:] {
		z, err := Compress(c, bytes.Repeat([]byte("fuzz"), 100))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(int8(c), z)
	}
	f.Add(int8(CodecSnappy), xerialFrame([]byte("xerial framed"), 4))
	f.Fuzz(func(t *testing.T, c int8, in []byte) {
		out, err := Decompress(Codec(c&AttrCodecMask), in)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrInvalid) {
				t.Fatalf("Decompress: unexpected error class %v", err)
			}
			return
		}
		if len(out) > MaxDecompressedSize {
			t.Fatalf("Decompress produced %d bytes", len(out))
		}
	})
}
