package server

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/record"
	"github.com/strait-kafka/strait/internal/storage"
)

// TestServerShrunkChunkPaddingIsAPartialBatch: when a segment shrank after
// its Chunk was handed out (a truncation), the writer must still send Len
// bytes, and what it fills the gap with must read as a partial trailing
// batch, which clients skip, not as a corrupt one, which they report. Zero
// filler read as a batch of length 0 (Java: CorruptRecordException; franz-go:
// a partition error).
func TestServerShrunkChunkPaddingIsAPartialBatch(t *testing.T) {
	batch, err := record.Build(record.Batch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
		Records: []record.Record{{Offset: 0, Timestamp: 1000, Value: []byte("kept")}}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "00000000000000000000.log")
	if err := os.WriteFile(path, batch, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	// The chunk was taken when the file held a second batch of 80 bytes.
	ch := storage.Chunk{File: f, Pos: 0, Len: int64(len(batch)) + 80}

	pair := map[string]func(t *testing.T) (server, client net.Conn, tcp *net.TCPConn){
		"copy": func(t *testing.T) (net.Conn, net.Conn, *net.TCPConn) {
			a, b := net.Pipe()
			return a, b, nil
		},
		"sendfile": func(t *testing.T) (net.Conn, net.Conn, *net.TCPConn) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			cl, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			sv, err := ln.Accept()
			if err != nil {
				cl.Close()
				t.Fatal(err)
			}
			return sv, cl, sv.(*net.TCPConn)
		},
	}
	for name, mk := range pair {
		t.Run(name, func(t *testing.T) {
			sv, cl, tcp := mk(t)
			defer sv.Close()
			defer cl.Close()
			_ = cl.SetDeadline(time.Now().Add(30 * time.Second))
			got := make(chan []byte, 1)
			go func() {
				b := make([]byte, ch.Len)
				n, _ := io.ReadFull(cl, b)
				got <- b[:n]
			}()
			s := New(Options{})
			wr := bufio.NewWriter(sv)
			if err := s.writeChunk(tcp, wr, ch); err != nil {
				t.Fatal(err)
			}
			if err := wr.Flush(); err != nil {
				t.Fatal(err)
			}
			b := <-got
			if int64(len(b)) != ch.Len {
				t.Fatalf("sent %d bytes, the frame promised %d", len(b), ch.Len)
			}
			rp := kmsg.NewFetchResponseTopicPartition()
			rp.HighWatermark, rp.LastStableOffset = 2, 2
			rp.RecordBatches = b
			fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{Topic: "t"}, &rp, kgo.DefaultDecompressor(), nil)
			if fp.Err != nil {
				t.Fatalf("client rejects the padded records: %v", fp.Err)
			}
			if len(fp.Records) != 1 || string(fp.Records[0].Value) != "kept" {
				t.Fatalf("client read %d records, want the one kept batch", len(fp.Records))
			}
		})
	}
}
