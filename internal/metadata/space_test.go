package metadata

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestMetadataEtcdRefusesWritesLowOnSpace: below metadata.min.free.bytes the
// embedded store refuses writes with ErrUnavailable naming the free space,
// still allows removals down to a quarter of it, keeps answering reads, and
// takes writes again by itself once space returns. It does not start below
// the margin.
func TestMetadataEtcdRefusesWritesLowOnSpace(t *testing.T) {
	var free atomic.Uint64
	free.Store(1 << 40)
	dir := t.TempDir()
	cfg := EmbeddedConfig{Dir: dir, Logger: testLogger(), MinFreeBytes: 100 << 20,
		FreeBytes: func(string) (uint64, error) { return free.Load(), nil }}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := OpenEmbedded(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	spec := func(name string) TopicSpec {
		return TopicSpec{Name: name, Partitions: []Partition{{Replicas: []int32{1}, Leader: 1}}}
	}
	if _, err := s.CreateTopic(ctx, spec("kept")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTopic(ctx, spec("doomed")); err != nil {
		t.Fatal(err)
	}

	free.Store(50 << 20) // below the margin, above a quarter of it
	_, err = s.CreateTopic(ctx, spec("refused"))
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "metadata.min.free.bytes") {
		t.Fatalf("CreateTopic low on space: %v", err)
	}
	if _, ok := s.Topic("refused"); ok {
		t.Fatal("a refused topic is in the snapshot")
	}
	if _, err := s.AllocateProducerIDs(ctx, 1000); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("AllocateProducerIDs low on space: %v", err)
	}
	if err := s.SetBrokerConfigs(ctx, "", map[string]string{"a": "b"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("SetBrokerConfigs low on space: %v", err)
	}
	if _, ok := s.Topic("kept"); !ok {
		t.Fatal("reads stopped")
	}
	if err := s.DeleteTopic(ctx, "doomed"); err != nil {
		t.Fatalf("a removal was refused above a quarter of the margin: %v", err)
	}
	free.Store(10 << 20)
	if err := s.DeleteTopic(ctx, "kept"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("DeleteTopic with almost no space: %v", err)
	}

	free.Store(1 << 40)
	if _, err := s.CreateTopic(ctx, spec("later")); err != nil {
		t.Fatalf("writes did not resume with space back: %v", err)
	}
	s.Close()

	free.Store(1 << 20)
	if _, err := OpenEmbedded(ctx, cfg); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("OpenEmbedded without space: %v", err)
	}
}

// TestMetadataEtcdFailureStopsWritesNotTheProcess: when the embedded etcd
// hits a fatal error (as a failed WAL write would give), the process goes
// on, writes are refused saying why, and reads answer from the snapshot.
func TestMetadataEtcdFailureStopsWritesNotTheProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var failed func(error)
	s, err := openEmbeddedWithHook(ctx, EmbeddedConfig{Dir: t.TempDir(), Logger: testLogger(), MinFreeBytes: -1}, &failed)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateTopic(ctx, TopicSpec{Name: "t", Partitions: []Partition{{Replicas: []int32{1}, Leader: 1}}}); err != nil {
		t.Fatal(err)
	}
	lg := newServerZapLogger(testLogger(), s.quiet, failed)
	done := make(chan struct{})
	go func() {
		defer close(done)
		lg.Fatal("failed to save Raft hard state and entries")
		t.Error("Fatal returned")
	}()
	<-done
	_, err = s.CreateTopic(ctx, TopicSpec{Name: "u", Partitions: []Partition{{Replicas: []int32{1}, Leader: 1}}})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "restart the broker") {
		t.Fatalf("write after a failure: %v", err)
	}
	if _, ok := s.Topic("t"); !ok {
		t.Fatal("reads stopped")
	}
}
