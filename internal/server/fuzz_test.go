package server

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/broker"
	"github.com/strait-kafka/strait/internal/config"
	"github.com/strait-kafka/strait/internal/metadata"
	"github.com/strait-kafka/strait/internal/partition"
)

// readOnlyKeys are the APIs the fuzzer dispatches to a live broker; the
// others (which create or delete state) are only decoded.
var readOnlyKeys = map[int16]bool{0: true, 1: true, 2: true, 3: true, 18: true, 22: true, 23: true, 32: true, 60: true}

// FuzzServerFrame feeds random request frames through decoding and, for the
// read-mostly APIs, through the broker's handlers. Nothing may panic.
func FuzzServerFrame(f *testing.F) {
	for key := int16(0); key < 70; key++ {
		if _, maxV, ok := broker.SupportedVersions(key); ok {
			req := kmsg.RequestForKey(key)
			req.SetVersion(maxV)
			f.Add(frameOf(req, maxV))
			req.SetVersion(0)
			f.Add(frameOf(req, 0))
		}
	}
	f.Add([]byte{0, 18, 0, 99, 0, 0, 0, 1, 0xff, 0xff})

	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := config.DefaultBroker()
	cfg.AutoCreateTopics = false
	meta := metadata.NewMemory("")
	mgr, err := partition.NewManager(partition.ManagerOptions{Dirs: []string{f.TempDir()}, Logger: lg})
	if err != nil {
		f.Fatal(err)
	}
	b, err := broker.New(broker.Options{Config: cfg, Meta: meta, Partitions: mgr, Logger: lg})
	if err != nil {
		f.Fatal(err)
	}
	b.SetAdvertised("127.0.0.1", 9092)
	if _, err := meta.CreateTopic(context.Background(), metadata.TopicSpec{Name: "fuzz", Partitions: []metadata.Partition{{Replicas: []int32{cfg.NodeID}, Leader: cfg.NodeID}}}); err != nil {
		f.Fatal(err)
	}
	if err := b.Reconcile(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { mgr.Close() })
	s := New(Options{Broker: b, Logger: lg, MaxRequestBytes: func() int32 { return 1 << 20 }})

	f.Fuzz(func(t *testing.T, frame []byte) {
		h, req, err := decodeFrame(frame)
		if err != nil || !readOnlyKeys[h.key] {
			return
		}
		_ = req
		c1, c2 := net.Pipe()
		defer c1.Close()
		go io.Copy(io.Discard, c2)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		wr := bufio.NewWriter(c1)
		_ = s.handleFrame(ctx, &broker.Session{}, c1, nil, wr, frame, &charge{})
		c2.Close()
	})
}

func frameOf(req kmsg.Request, v int16) []byte {
	b := (&kmsg.RequestFormatter{}).AppendRequest(nil, req, 1)
	out := b[4:]
	binary.BigEndian.PutUint16(out[2:], uint16(v))
	return out
}
