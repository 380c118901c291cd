package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"
	"testing"

	"github.com/klauspost/compress/snappy"
)

var allCodecs = []Codec{CodecNone, CodecGzip, CodecSnappy, CodecLZ4, CodecZstd}

// mustBuild builds b or fails the test.
func mustBuild(t testing.TB, b Batch) []byte {
	t.Helper()
	out, err := Build(b)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return out
}

// sampleBatch is a batch exercising null and empty keys and values, headers
// (with a null value), offset gaps and timestamps below the base.
func sampleBatch(c Codec, base int64) Batch {
	return Batch{
		BaseOffset:           base,
		PartitionLeaderEpoch: 7,
		Codec:                c,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		BaseSequence:         -1,
		Records: []Record{
			{Offset: base, Timestamp: 1_700_000_000_000, Key: []byte("k0"), Value: []byte("v0")},
			{Offset: base + 1, Timestamp: 1_700_000_000_005, Key: nil, Value: []byte("null key")},
			{Offset: base + 2, Timestamp: 1_699_999_999_990, Key: []byte("tombstone"), Value: nil},
			{Offset: base + 5, Timestamp: 1_700_000_000_100, Key: []byte{}, Value: []byte{},
				Headers: []RecordHeader{{Key: "h1", Value: []byte("x")}, {Key: "", Value: nil}, {Key: "h3", Value: []byte{}}}},
			{Offset: base + 6, Timestamp: 1_700_000_000_050, Value: bytes.Repeat([]byte("compressible "), 200)},
		},
	}
}

func TestRecordBuildRoundTrip(t *testing.T) {
	for _, c := range allCodecs {
		t.Run(c.String(), func(t *testing.T) {
			b := sampleBatch(c, 1000)
			raw := mustBuild(t, b)
			h, err := Validate(raw)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			want := Header{
				BaseOffset: 1000, Length: int32(len(raw) - 12), PartitionLeaderEpoch: 7, Magic: 2,
				CRC: h.CRC, Attributes: int16(c), LastOffsetDelta: 6,
				BaseTimestamp: 1_700_000_000_000, MaxTimestamp: 1_700_000_000_100,
				ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, NumRecords: 5,
			}
			if h != want {
				t.Fatalf("header\n got %+v\nwant %+v", h, want)
			}
			if h.Codec() != c || h.LastOffset() != 1006 || h.Size() != len(raw) {
				t.Fatalf("codec %v last %d size %d", h.Codec(), h.LastOffset(), h.Size())
			}
			recs, err := Records(raw)
			if err != nil {
				t.Fatalf("Records: %v", err)
			}
			if !reflect.DeepEqual(recs, b.Records) {
				t.Fatalf("records differ\n got %+v\nwant %+v", recs, b.Records)
			}
			// Null stays null and empty stays empty.
			if recs[1].Key != nil || recs[2].Value != nil || recs[3].Key == nil || recs[3].Headers[1].Value != nil {
				t.Fatal("null/empty distinction lost")
			}
		})
	}
}

func TestRecordBuildEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		b       Batch
		wantErr error
		check   func(t *testing.T, h Header)
	}{
		{
			name: "empty batch",
			b:    Batch{BaseOffset: 3, BaseTimestamp: 42},
			check: func(t *testing.T, h Header) {
				if h.NumRecords != 0 || h.LastOffsetDelta != 0 || h.MaxTimestamp != 42 {
					t.Fatalf("header %+v", h)
				}
			},
		},
		{
			name: "explicit base timestamp",
			b:    Batch{BaseTimestamp: 100, Records: []Record{{Offset: 0, Timestamp: 150}}},
			check: func(t *testing.T, h Header) {
				if h.BaseTimestamp != 100 || h.MaxTimestamp != 150 {
					t.Fatalf("header %+v", h)
				}
			},
		},
		{
			name: "control and transactional bits kept, codec bits replaced",
			b:    Batch{Attributes: AttrControl | AttrTransactional | 0x7, Codec: CodecGzip, Records: []Record{{Offset: 0}}},
			check: func(t *testing.T, h Header) {
				if !h.IsControl() || !h.IsTransactional() || h.Codec() != CodecGzip {
					t.Fatalf("attributes %x", h.Attributes)
				}
			},
		},
		{name: "offset below base", b: Batch{BaseOffset: 10, Records: []Record{{Offset: 9}}}, wantErr: ErrInvalid},
		{name: "offsets not increasing", b: Batch{Records: []Record{{Offset: 1}, {Offset: 1}}}, wantErr: ErrInvalid},
		{name: "delta overflows int32", b: Batch{Records: []Record{{Offset: math.MaxInt32 + 1}}}, wantErr: ErrInvalid},
		{name: "unknown codec", b: Batch{Codec: 5}, wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := Build(tt.b)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Build error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			h, err := Validate(raw)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			tt.check(t, h)
		})
	}
}

// patch returns a copy of batch with fn applied and, if fixCRC, the CRC redone.
func patch(batch []byte, fixCRC bool, fn func(b []byte)) []byte {
	b := bytes.Clone(batch)
	fn(b)
	if fixCRC && len(b) >= HeaderSize {
		binary.BigEndian.PutUint32(b[OffCRC:], Checksum(b))
	}
	return b
}

func TestRecordValidateErrors(t *testing.T) {
	good := mustBuild(t, sampleBatch(CodecNone, 0))
	be := binary.BigEndian
	tests := []struct {
		name  string
		batch []byte
		want  error
	}{
		{"too short for a header", good[:HeaderSize-1], ErrShort},
		{"truncated", good[:len(good)-1], ErrShort},
		{"trailing byte", append(bytes.Clone(good), 0), ErrCorrupt},
		{"magic 1", patch(good, false, func(b []byte) { b[OffMagic] = 1 }), ErrMagic},
		{"crc mismatch", patch(good, false, func(b []byte) { b[len(b)-1] ^= 0xff }), ErrCorrupt},
		{"length below a header", patch(good, false, func(b []byte) { be.PutUint32(b[OffBatchLength:], 10) }), ErrCorrupt},
		{"negative length", patch(good, false, func(b []byte) { be.PutUint32(b[OffBatchLength:], 0xffffffff) }), ErrCorrupt},
		{"codec 5", patch(good, true, func(b []byte) { b[OffAttributes+1] |= 5 }), ErrInvalid},
		{"negative record count", patch(good, true, func(b []byte) { be.PutUint32(b[OffNumRecords:], 0xffffffff) }), ErrInvalid},
		{"negative last offset delta", patch(good, true, func(b []byte) { be.PutUint32(b[OffLastOffsetDelta:], 0xffffffff) }), ErrInvalid},
		{"more records than bytes", patch(good, true, func(b []byte) { be.PutUint32(b[OffNumRecords:], 1_000_000) }), ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Validate(tt.batch); !errors.Is(err, tt.want) {
				t.Fatalf("Validate error %v, want %v", err, tt.want)
			}
		})
	}
	// Compaction leaves fewer records than the offset range: still valid.
	compacted := patch(good, true, func(b []byte) { be.PutUint32(b[OffLastOffsetDelta:], 100) })
	if _, err := Validate(compacted); err != nil {
		t.Fatalf("compacted batch rejected: %v", err)
	}
}

func TestRecordNext(t *testing.T) {
	var set []byte
	var want []int64
	for i, c := range allCodecs {
		b := sampleBatch(c, int64(i*10))
		set = append(set, mustBuild(t, b)...)
		want = append(want, int64(i*10))
	}
	rest := set
	var got []int64
	for len(rest) > 0 {
		batch, r, h, err := Next(rest)
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if _, err := Validate(batch); err != nil {
			t.Fatalf("Validate of split batch: %v", err)
		}
		if cap(batch) != len(batch) {
			t.Fatal("batch slice must not expose the rest through its capacity")
		}
		got = append(got, h.BaseOffset)
		rest = r
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("base offsets %v, want %v", got, want)
	}

	one := mustBuild(t, sampleBatch(CodecNone, 0))
	be := binary.BigEndian
	tests := []struct {
		name string
		set  []byte
		want error
	}{
		{"empty", nil, ErrShort},
		{"shorter than the length field", one[:11], ErrShort},
		{"torn after the magic", one[:40], ErrShort},
		{"torn in the records", one[:len(one)-3], ErrShort},
		{"length below a header", patch(one, false, func(b []byte) { be.PutUint32(b[OffBatchLength:], 48) }), ErrCorrupt},
		{"absurd length", patch(one, false, func(b []byte) { be.PutUint32(b[OffBatchLength:], 0x7fffffff) }), ErrCorrupt},
		{"negative length", patch(one, false, func(b []byte) { be.PutUint32(b[OffBatchLength:], 0x80000000) }), ErrCorrupt},
		{"old magic", patch(one, false, func(b []byte) { b[OffMagic] = 1 }), ErrMagic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, rest, _, err := Next(tt.set)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Next error %v, want %v", err, tt.want)
			}
			if len(rest) != len(tt.set) {
				t.Fatal("a failed Next must return the set unconsumed")
			}
		})
	}
}

func TestRecordSetters(t *testing.T) {
	for _, c := range allCodecs {
		t.Run(c.String(), func(t *testing.T) {
			raw := mustBuild(t, sampleBatch(c, 0))
			SetBaseOffset(raw, 5000)
			SetPartitionLeaderEpoch(raw, 42)
			h, err := Validate(raw)
			if err != nil {
				t.Fatalf("fields outside the CRC broke it: %v", err)
			}
			if h.BaseOffset != 5000 || h.PartitionLeaderEpoch != 42 {
				t.Fatalf("header %+v", h)
			}
			recs, err := Records(raw)
			if err != nil {
				t.Fatal(err)
			}
			if recs[0].Offset != 5000 || recs[3].Offset != 5005 {
				t.Fatalf("offsets %d %d", recs[0].Offset, recs[3].Offset)
			}

			const appendTime = 1_800_000_000_000
			SetLogAppendTime(raw, appendTime)
			h, err = Validate(raw)
			if err != nil {
				t.Fatalf("SetLogAppendTime left a bad CRC: %v", err)
			}
			if !h.IsLogAppendTime() || h.MaxTimestamp != appendTime || h.Codec() != c {
				t.Fatalf("header %+v", h)
			}
			recs, err = Records(raw)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.Timestamp != appendTime {
					t.Fatalf("record %d timestamp %d, want the log append time", r.Offset, r.Timestamp)
				}
			}
		})
	}
	// Short input is ignored rather than panicking.
	short := make([]byte, 10)
	SetBaseOffset(short, 1)
	SetPartitionLeaderEpoch(short, 1)
	SetLogAppendTime(short, 1)
	if !bytes.Equal(short, make([]byte, 10)) {
		t.Fatal("setters wrote into a buffer shorter than a header")
	}
}

// xerialFrame wraps data the way snappy-java's SnappyOutputStream does.
func xerialFrame(data []byte, chunk int) []byte {
	out := append([]byte(nil), xerialMagic...)
	out = binary.BigEndian.AppendUint32(out, 1)
	out = binary.BigEndian.AppendUint32(out, 1)
	for len(data) > 0 {
		n := min(chunk, len(data))
		block := snappy.Encode(nil, data[:n])
		out = binary.BigEndian.AppendUint32(out, uint32(len(block)))
		out = append(out, block...)
		data = data[n:]
	}
	return out
}

func TestRecordSnappyXerial(t *testing.T) {
	data := bytes.Repeat([]byte("strait snappy xerial "), 5000)
	for _, chunk := range []int{len(data), 32 << 10, 1000} {
		t.Run(fmt.Sprintf("chunk %d", chunk), func(t *testing.T) {
			got, err := Decompress(CodecSnappy, xerialFrame(data, chunk))
			if err != nil {
				t.Fatalf("Decompress: %v", err)
			}
			if !bytes.Equal(got, data) {
				t.Fatal("xerial payload mangled")
			}
		})
	}
	// A whole batch whose records are xerial-framed, as a Java producer sends.
	plain := mustBuild(t, sampleBatch(CodecNone, 0))
	framed := append(bytes.Clone(plain[:HeaderSize]), xerialFrame(plain[HeaderSize:], 100)...)
	binary.BigEndian.PutUint32(framed[OffBatchLength:], uint32(len(framed)-12))
	framed[OffAttributes+1] |= byte(CodecSnappy)
	binary.BigEndian.PutUint32(framed[OffCRC:], Checksum(framed))
	if _, err := Validate(framed); err != nil {
		t.Fatal(err)
	}
	recs, err := Records(framed)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(recs, sampleBatch(CodecNone, 0).Records) {
		t.Fatal("records of a xerial batch differ")
	}
	// Truncated frames are corrupt, not a panic.
	x := xerialFrame(data, 1000)
	for _, n := range []int{17, 20, len(x) - 1} {
		if _, err := Decompress(CodecSnappy, x[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated xerial at %d: %v", n, err)
		}
	}
}

func TestRecordDecompressGarbage(t *testing.T) {
	garbage := bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 64)
	for _, c := range allCodecs[1:] {
		t.Run(c.String(), func(t *testing.T) {
			if _, err := Decompress(c, garbage); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Decompress garbage: %v", err)
			}
			good, err := Compress(c, []byte("hello hello hello"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Decompress(c, good[:len(good)/2]); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Decompress truncated: %v", err)
			}
		})
	}
	if _, err := Decompress(6, nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown codec: %v", err)
	}
}

func TestRecordDecompressCap(t *testing.T) {
	const limit = 64 << 10
	data := make([]byte, limit+1)
	for _, c := range []Codec{CodecGzip, CodecSnappy, CodecLZ4} {
		t.Run(c.String(), func(t *testing.T) {
			z, err := Compress(c, data)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := decompress(c, z, limit); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decompressing past the cap: %v", err)
			}
			if got, err := decompress(c, z, limit+1); err != nil || len(got) != limit+1 {
				t.Fatalf("decompressing at the cap: %d bytes, %v", len(got), err)
			}
		})
	}
	t.Run("snappy xerial", func(t *testing.T) {
		if _, err := decompress(CodecSnappy, xerialFrame(data, 4096), limit); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("decompressing past the cap: %v", err)
		}
	})
	t.Run("zstd", func(t *testing.T) {
		// The shared zstd decoder has the real cap built in.
		z, err := Compress(CodecZstd, make([]byte, MaxDecompressedSize+1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decompress(CodecZstd, z); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("decompressing past the cap: %v", err)
		}
	})
}

func TestRecordCodecsConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				c := allCodecs[(g+i)%len(allCodecs)]
				b := sampleBatch(c, int64(g*1000+i))
				raw, err := Build(b)
				if err != nil {
					errs <- err
					return
				}
				recs, err := Records(raw)
				if err != nil {
					errs <- err
					return
				}
				if !reflect.DeepEqual(recs, b.Records) {
					errs <- fmt.Errorf("goroutine %d codec %v: records differ", g, c)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestRecordRecordsCorrupt(t *testing.T) {
	good := mustBuild(t, Batch{Records: []Record{{Offset: 0, Key: []byte("key"), Value: []byte("value")}}})
	be := binary.BigEndian
	body := good[HeaderSize:]
	tests := []struct {
		name  string
		batch []byte
	}{
		{"too short", good[:30]},
		{"length past the end", patch(good, false, func(b []byte) { be.PutUint32(b[OffBatchLength:], uint32(len(b))) })},
		{"count too high", patch(good, false, func(b []byte) { be.PutUint32(b[OffNumRecords:], 2) })},
		{"negative count", patch(good, false, func(b []byte) { be.PutUint32(b[OffNumRecords:], 0xffffffff) })},
		{"trailing bytes", func() []byte {
			b := append(bytes.Clone(good), 0, 0)
			be.PutUint32(b[OffBatchLength:], uint32(len(b)-12))
			return b
		}()},
		{"record length too long", patch(good, false, func(b []byte) { b[HeaderSize] = byte(len(body)) * 2 })},
		{"key length too long", patch(good, false, func(b []byte) { b[HeaderSize+4] = 100 })},
		{"key length below -1", patch(good, false, func(b []byte) { b[HeaderSize+4] = 5 })},
		{"codec garbage", patch(good, false, func(b []byte) { b[OffAttributes+1] = byte(CodecZstd) })},
		{"unknown codec", patch(good, false, func(b []byte) { b[OffAttributes+1] = 6 })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Records(tt.batch); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Records error %v, want ErrCorrupt", err)
			}
		})
	}
}
