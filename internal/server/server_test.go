package server

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/strait-kafka/strait/internal/broker"
	"github.com/strait-kafka/strait/internal/storage"
)

func TestServerSpliceReplacesMarkers(t *testing.T) {
	for _, flexible := range []bool{false, true} {
		m1 := bytes.Repeat([]byte{0xAB}, broker.MarkerSize)
		m2 := bytes.Repeat([]byte{0xCD}, broker.MarkerSize)
		prefix := func(n int) []byte {
			if flexible {
				return binary.AppendUvarint(nil, uint64(n)+1)
			}
			return binary.BigEndian.AppendUint32(nil, uint32(n))
		}
		var body []byte
		body = append(body, "head"...)
		body = append(body, prefix(len(m1))...)
		body = append(body, m1...)
		body = append(body, "mid"...)
		body = append(body, prefix(len(m2))...)
		body = append(body, m2...)
		body = append(body, "tail"...)
		sps := []broker.Splice{{Marker: m1, Chunk: storage.Chunk{Len: 300}}, {Marker: m2, Chunk: storage.Chunk{Len: 5}}}
		pieces, size, err := splice(body, sps, flexible)
		if err != nil {
			t.Fatal(err)
		}
		var flat []byte
		total := int64(0)
		for _, p := range pieces {
			if p.chunk.Len > 0 {
				flat = append(flat, bytes.Repeat([]byte{'F'}, int(p.chunk.Len))...)
				total += p.chunk.Len
				continue
			}
			flat = append(flat, p.b...)
			total += int64(len(p.b))
		}
		if total != size {
			t.Fatalf("flexible=%v: size %d, pieces add to %d", flexible, size, total)
		}
		var want []byte
		want = append(want, "head"...)
		want = append(want, prefix(300)...)
		want = append(want, bytes.Repeat([]byte{'F'}, 300)...)
		want = append(want, "mid"...)
		want = append(want, prefix(5)...)
		want = append(want, "FFFFF"...)
		want = append(want, "tail"...)
		if !bytes.Equal(flat, want) {
			t.Fatalf("flexible=%v: spliced bytes differ", flexible)
		}
	}
}

func TestServerSpliceMissingMarker(t *testing.T) {
	_, _, err := splice([]byte("no marker here"), []broker.Splice{{Marker: bytes.Repeat([]byte{1}, 16)}}, false)
	if err == nil {
		t.Fatal("missing marker not reported")
	}
}

func FuzzServerSkipTags(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{1, 0, 2, 'a', 'b'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		rest, err := skipTags(b)
		if err == nil && len(rest) > len(b) {
			t.Fatal("skipTags grew the input")
		}
	})
}
