package metadata

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func init() {
	type storeCase = struct {
		name string
		run  func(t *testing.T, s Store)
	}
	storeCases = append(storeCases,
		storeCase{"links", testLinks},
		storeCase{"mirror topics and UpdateTopic", testMirrorTopics},
	)
}

func testLinks(t *testing.T, s Store) {
	ctx := context.Background()
	l := Link{Name: "east-west", ID: "qz0HDEV-Qz2B5aPFpcWQJQ", SourceClusterID: "src", Configs: map[string]string{"bootstrap.servers": "a:9092"}, CreatedMs: 42}
	if err := s.CreateLink(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLink(ctx, l); !errors.Is(err, ErrLinkExists) {
		t.Fatalf("duplicate link: %v", err)
	}
	if err := s.CreateLink(ctx, Link{Name: "bad/name"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad link name: %v", err)
	}
	got, ok := s.Link("east-west")
	if !ok || got.ID != l.ID || got.Configs["bootstrap.servers"] != "a:9092" || got.CreatedMs != 42 {
		t.Fatalf("link read back as %+v", got)
	}
	if err := s.UpdateLink(ctx, "east-west", func(l *Link) error {
		l.Configs["cluster.link.paused"] = "true"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sentinel := errors.New("refused by caller")
	if err := s.UpdateLink(ctx, "east-west", func(*Link) error { return sentinel }); !errors.Is(err, sentinel) {
		t.Fatalf("update function error not returned: %v", err)
	}
	if got, _ := s.Link("east-west"); got.Configs["cluster.link.paused"] != "true" || len(s.Links()) != 1 {
		t.Fatalf("after update: %+v", got)
	}
	if err := s.UpdateLink(ctx, "nope", func(*Link) error { return nil }); !errors.Is(err, ErrLinkNotFound) {
		t.Fatalf("update of missing link: %v", err)
	}
	if err := s.DeleteLink(ctx, "east-west"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLink(ctx, "east-west"); !errors.Is(err, ErrLinkNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if _, ok := s.Link("east-west"); ok {
		t.Fatal("link still readable after delete")
	}
}

func testMirrorTopics(t *testing.T, s Store) {
	ctx := context.Background()
	srcID := uuid.New()
	m := &Mirror{Link: "l", LinkID: "id", SourceTopic: "orders", SourceTopicID: srcID, State: "ACTIVE", StateTimeMs: 7, StartOffsets: []int64{0, 5}}
	parts := []Partition{{Replicas: []int32{1}, Leader: 1}, {Replicas: []int32{1}, Leader: 1}}
	if _, err := s.CreateTopic(ctx, TopicSpec{Name: "mirror-orders", Partitions: parts, Mirror: m}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Topic("mirror-orders")
	if got.Mirror == nil || !reflect.DeepEqual(got.Mirror.StartOffsets, []int64{0, 5}) || got.Mirror.SourceTopicID != srcID {
		t.Fatalf("mirror read back as %+v", got.Mirror)
	}
	got.Mirror.State = "mutated" // a copy: must not reach the store
	if again, _ := s.Topic("mirror-orders"); again.Mirror.State != "ACTIVE" {
		t.Fatal("Topic returned the store's own mirror state")
	}
	if err := s.UpdateTopic(ctx, "mirror-orders", func(tp *Topic) error {
		tp.Mirror.State, tp.Mirror.StoppedLogEndOffsets = "STOPPED", []int64{10, 20}
		tp.Partitions[1].LeaderEpoch = 3
		tp.Configs = map[string]string{"retention.ms": "1"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Topic("mirror-orders")
	if got.Mirror.State != "STOPPED" || got.Partitions[1].LeaderEpoch != 3 || got.Configs["retention.ms"] != "1" ||
		!reflect.DeepEqual(got.Mirror.StoppedLogEndOffsets, []int64{10, 20}) || got.Partitions[1].Leader != 1 {
		t.Fatalf("after UpdateTopic: %+v %+v", got, got.Mirror)
	}
	if err := s.UpdateTopic(ctx, "absent", func(*Topic) error { return nil }); !errors.Is(err, ErrTopicNotFound) {
		t.Fatalf("update of missing topic: %v", err)
	}
	// An ordinary topic has no mirror.
	if _, err := s.CreateTopic(ctx, TopicSpec{Name: "plain", Partitions: parts}); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Topic("plain"); p.Mirror != nil {
		t.Fatal("ordinary topic has a mirror state")
	}
}

// TestMetadataEtcdMirrorUnknownFields: fields a newer version wrote inside
// the mirror object survive an UpdateTopic by this version.
func TestMetadataEtcdMirrorUnknownFields(t *testing.T) {
	s := openEmbedded(t, t.TempDir())
	ctx := context.Background()
	cli, err := clientv3.New(clientv3.Config{Endpoints: s.ClientURLs()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	raw := `{"version":1,"name":"m","id":"` + uuid.NewString() + `","partitions":[{"replicas":[1],"leader":1,"leader_epoch":0,"future_p":1}],"configs":{},` +
		`"mirror":{"link":"l","state":"ACTIVE","future_m":{"x":2}},"future_t":"keep"}`
	if _, err := cli.Put(ctx, DefaultPrefix+"topics/m", raw); err != nil {
		t.Fatal(err)
	}
	if err := waitForTopic(s, "m"); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateTopic(ctx, "m", func(tp *Topic) error { tp.Mirror.State = "PAUSED"; return nil }); err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Get(ctx, DefaultPrefix+"topics/m")
	if err != nil {
		t.Fatal(err)
	}
	stored := string(resp.Kvs[0].Value)
	for _, want := range []string{`"future_m":{"x":2}`, `"future_t":"keep"`, `"future_p":1`, `"state":"PAUSED"`} {
		if !strings.Contains(stored, want) {
			t.Fatalf("stored record %s lacks %s", stored, want)
		}
	}
}

func waitForTopic(s Store, name string) error {
	ch := s.Changes()
	deadline := time.After(10 * time.Second)
	for {
		if _, ok := s.Topic(name); ok {
			return nil
		}
		select {
		case <-ch:
		case <-deadline:
			return errors.New("topic never appeared")
		}
	}
}
