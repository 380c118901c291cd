package metadata

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// storeCases is the behaviour every Store implementation must have. The
// cases share one store per backend, so each uses its own topic names and
// node IDs.
var storeCases = []struct {
	name string
	run  func(t *testing.T, s Store)
}{
	{"ClusterID", testClusterID},
	{"CreateTopic", testCreateTopic},
	{"CreateDuplicate", testCreateDuplicate},
	{"CreateInvalid", testCreateInvalid},
	{"DeleteAndRecreate", testDeleteAndRecreate},
	{"AddPartitions", testAddPartitions},
	{"TopicConfigs", testTopicConfigs},
	{"BrokerConfigs", testBrokerConfigs},
	{"RegisterBroker", testRegisterBroker},
	{"Changes", testChanges},
	{"Copies", testCopies},
	{"CancelledContext", testCancelledContext},
}

func TestMetadataStore(t *testing.T) {
	backends := []struct {
		name string
		open func(t *testing.T) Store
	}{
		{"Memory", func(t *testing.T) Store {
			m := NewMemory("")
			t.Cleanup(func() { m.Close() })
			return m
		}},
		{"Etcd", func(t *testing.T) Store { return openEmbedded(t, t.TempDir()) }},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			for _, c := range storeCases {
				t.Run(c.name, func(t *testing.T) { c.run(t, s) })
			}
		})
	}
}

func TestMetadataMemoryClosed(t *testing.T) {
	m := NewMemory("fixed-id")
	if got := m.ClusterID(); got != "fixed-id" {
		t.Fatalf("ClusterID = %q, want the given one", got)
	}
	checkCloseEndsAll(t, m)
}

// ---- helpers ----

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// openEmbedded opens an embedded store in dir, closed by the test's cleanup.
func openEmbedded(t *testing.T, dir string) *Etcd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	s, err := OpenEmbedded(ctx, EmbeddedConfig{Dir: dir, Logger: testLogger()})
	if err != nil {
		t.Fatalf("OpenEmbedded(%s): %v", dir, err)
	}
	t.Logf("embedded etcd started in %v", time.Since(start))
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// waitFor polls cond until it holds, failing the test after a generous
// deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// signalled reports whether ch holds a signal, taking it.
func signalled(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func mustCreate(t *testing.T, s Store, spec TopicSpec) Topic {
	t.Helper()
	tp, err := s.CreateTopic(context.Background(), spec)
	if err != nil {
		t.Fatalf("CreateTopic(%q): %v", spec.Name, err)
	}
	return tp
}

func mustTopic(t *testing.T, s Store, name string) Topic {
	t.Helper()
	tp, ok := s.Topic(name)
	if !ok {
		t.Fatalf("topic %q not found", name)
	}
	return tp
}

func parts(n int) []Partition {
	ps := make([]Partition, n)
	for i := range ps {
		ps[i] = Partition{Replicas: []int32{int32(i % 3), int32(i%3 + 1)}, Leader: int32(i % 3), LeaderEpoch: int32(i)}
	}
	return ps
}

func hasBroker(s Store, id int32) (Broker, bool) {
	for _, b := range s.Brokers() {
		if b.NodeID == id {
			return b, true
		}
	}
	return Broker{}, false
}

// checkCloseEndsAll closes s and checks what a closed store does.
func checkCloseEndsAll(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	mustCreate(t, s, TopicSpec{Name: "before-close", Partitions: parts(1)})
	if err := s.RegisterBroker(ctx, Broker{NodeID: 42, Host: "h", Port: 1}); err != nil {
		t.Fatalf("RegisterBroker: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, ok := hasBroker(s, 42); ok {
		// Close revokes registrations; the snapshot may not show it any
		// more (the watcher is stopped), so only Memory is held to it.
		if _, mem := s.(*Memory); mem {
			t.Errorf("broker still registered after Close")
		}
	}
	if _, ok := s.Topic("before-close"); !ok {
		t.Errorf("reads after Close lost the snapshot")
	}
	writes := map[string]error{}
	_, writes["CreateTopic"] = s.CreateTopic(ctx, TopicSpec{Name: "after-close", Partitions: parts(1)})
	writes["DeleteTopic"] = s.DeleteTopic(ctx, "before-close")
	writes["AddPartitions"] = s.AddPartitions(ctx, "before-close", parts(1))
	writes["SetTopicConfigs"] = s.SetTopicConfigs(ctx, "before-close", nil)
	writes["SetBrokerConfigs"] = s.SetBrokerConfigs(ctx, "", nil)
	writes["RegisterBroker"] = s.RegisterBroker(ctx, Broker{NodeID: 43})
	for op, err := range writes {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", op, err)
		}
	}
}

// ---- the cases ----

func testClusterID(t *testing.T, s Store) {
	id := s.ClusterID()
	if len(id) != 22 || strings.HasPrefix(id, "-") {
		t.Fatalf("cluster ID %q: want 22 characters, not starting with '-'", id)
	}
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(b) != 16 {
		t.Fatalf("cluster ID %q is not base64url of 16 bytes: %v", id, err)
	}
	if u, _ := uuid.FromBytes(b); u.Version() != 4 {
		t.Errorf("cluster ID %q is not a random UUID (version %d)", id, u.Version())
	}
	if s.ClusterID() != id {
		t.Errorf("cluster ID changed between calls")
	}
}

func testCreateTopic(t *testing.T, s Store) {
	spec := TopicSpec{
		Name: "create.topic_1-a",
		Partitions: []Partition{
			{Replicas: []int32{1, 2, 3}, Leader: 1, LeaderEpoch: 4},
			{Replicas: []int32{2, 3, 1}, Leader: 2},
		},
		Configs: map[string]string{"cleanup.policy": "compact", "retention.ms": "1000"},
	}
	got := mustCreate(t, s, spec)
	if got.Name != spec.Name || got.ID == uuid.Nil || got.ID.Version() != 4 {
		t.Fatalf("created %+v: want name %q and a random v4 ID", got, spec.Name)
	}
	if !reflect.DeepEqual(got.Partitions, spec.Partitions) || !reflect.DeepEqual(got.Configs, spec.Configs) {
		t.Fatalf("created %+v, want partitions %+v configs %v", got, spec.Partitions, spec.Configs)
	}
	if got.Revision <= 0 {
		t.Errorf("created topic has revision %d", got.Revision)
	}
	// Read-your-writes: visible at once, every way.
	if read := mustTopic(t, s, spec.Name); !reflect.DeepEqual(read, got) {
		t.Errorf("Topic() = %+v, want %+v", read, got)
	}
	if byID, ok := s.TopicByID(got.ID); !ok || !reflect.DeepEqual(byID, got) {
		t.Errorf("TopicByID() = %+v %v, want %+v", byID, ok, got)
	}
	all := s.Topics()
	if !slices.IsSortedFunc(all, func(a, b Topic) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("Topics() not sorted by name")
	}
	if !slices.ContainsFunc(all, func(tp Topic) bool { return reflect.DeepEqual(tp, got) }) {
		t.Errorf("Topics() lacks %q", spec.Name)
	}
	if _, ok := s.TopicByID(uuid.New()); ok {
		t.Errorf("TopicByID found an unknown ID")
	}
}

func testCreateDuplicate(t *testing.T, s Store) {
	first := mustCreate(t, s, TopicSpec{Name: "dup", Partitions: parts(1)})
	_, err := s.CreateTopic(context.Background(), TopicSpec{Name: "dup", Partitions: parts(3)})
	if !errors.Is(err, ErrTopicExists) {
		t.Fatalf("second CreateTopic = %v, want ErrTopicExists", err)
	}
	if got := mustTopic(t, s, "dup"); got.ID != first.ID || len(got.Partitions) != 1 {
		t.Errorf("duplicate create changed the topic: %+v", got)
	}
}

func testCreateInvalid(t *testing.T, s Store) {
	for _, spec := range []TopicSpec{
		{Name: "", Partitions: parts(1)},
		{Name: ".", Partitions: parts(1)},
		{Name: "..", Partitions: parts(1)},
		{Name: "a/b", Partitions: parts(1)},
		{Name: "with space", Partitions: parts(1)},
		{Name: "ünicode", Partitions: parts(1)},
		{Name: strings.Repeat("x", 250), Partitions: parts(1)},
		{Name: "no-partitions"},
	} {
		if _, err := s.CreateTopic(context.Background(), spec); !errors.Is(err, ErrInvalid) {
			t.Errorf("CreateTopic(%q, %d partitions) = %v, want ErrInvalid", spec.Name, len(spec.Partitions), err)
		}
		if _, ok := s.Topic(spec.Name); ok {
			t.Errorf("invalid topic %q was created", spec.Name)
		}
	}
	if _, err := s.CreateTopic(context.Background(), TopicSpec{Name: strings.Repeat("y", 249), Partitions: parts(1)}); err != nil {
		t.Errorf("249-character name refused: %v", err)
	}
}

func testDeleteAndRecreate(t *testing.T, s Store) {
	ctx := context.Background()
	old := mustCreate(t, s, TopicSpec{Name: "again", Partitions: parts(2)})
	if err := s.DeleteTopic(ctx, "again"); err != nil {
		t.Fatalf("DeleteTopic: %v", err)
	}
	if _, ok := s.Topic("again"); ok {
		t.Errorf("deleted topic still readable by name")
	}
	if _, ok := s.TopicByID(old.ID); ok {
		t.Errorf("deleted topic still readable by ID")
	}
	if err := s.DeleteTopic(ctx, "again"); !errors.Is(err, ErrTopicNotFound) {
		t.Errorf("second DeleteTopic = %v, want ErrTopicNotFound", err)
	}
	if err := s.DeleteTopic(ctx, "never-was"); !errors.Is(err, ErrTopicNotFound) {
		t.Errorf("DeleteTopic(absent) = %v, want ErrTopicNotFound", err)
	}
	if err := s.DeleteTopic(ctx, "bad/name"); !errors.Is(err, ErrTopicNotFound) {
		t.Errorf("DeleteTopic(bad name) = %v, want ErrTopicNotFound", err)
	}
	renewed := mustCreate(t, s, TopicSpec{Name: "again", Partitions: parts(1)})
	if renewed.ID == old.ID || renewed.ID == uuid.Nil {
		t.Fatalf("re-created topic has ID %v (old %v), want a new one", renewed.ID, old.ID)
	}
	if _, ok := s.TopicByID(old.ID); ok {
		t.Errorf("old incarnation still readable by ID")
	}
	if got, ok := s.TopicByID(renewed.ID); !ok || got.Name != "again" {
		t.Errorf("TopicByID(new) = %+v %v", got, ok)
	}
}

func testAddPartitions(t *testing.T, s Store) {
	ctx := context.Background()
	created := mustCreate(t, s, TopicSpec{Name: "grow", Partitions: parts(1)})
	more := []Partition{{Replicas: []int32{7, 8}, Leader: 7}, {Replicas: []int32{8, 7}, Leader: 8, LeaderEpoch: 2}}
	if err := s.AddPartitions(ctx, "grow", more); err != nil {
		t.Fatalf("AddPartitions: %v", err)
	}
	got := mustTopic(t, s, "grow")
	if want := append(parts(1), more...); !reflect.DeepEqual(got.Partitions, want) {
		t.Fatalf("partitions = %+v, want %+v", got.Partitions, want)
	}
	if got.ID != created.ID || got.Revision <= created.Revision {
		t.Errorf("after AddPartitions: ID %v revision %d (created %v at %d)", got.ID, got.Revision, created.ID, created.Revision)
	}
	for _, shrink := range [][]Partition{nil, {}} {
		if err := s.AddPartitions(ctx, "grow", shrink); !errors.Is(err, ErrInvalid) {
			t.Errorf("AddPartitions(%d) = %v, want ErrInvalid", len(shrink), err)
		}
	}
	if n := len(mustTopic(t, s, "grow").Partitions); n != 3 {
		t.Errorf("refused AddPartitions changed the count to %d", n)
	}
	if err := s.AddPartitions(ctx, "no-such-topic", parts(1)); !errors.Is(err, ErrTopicNotFound) {
		t.Errorf("AddPartitions(absent) = %v, want ErrTopicNotFound", err)
	}
}

func testTopicConfigs(t *testing.T, s Store) {
	ctx := context.Background()
	created := mustCreate(t, s, TopicSpec{Name: "configured", Partitions: parts(2), Configs: map[string]string{"a": "1"}})
	steps := []map[string]string{
		{"a": "2", "b": "x"},
		{"b": "y"}, // replaces: "a" goes
		nil,
	}
	for _, configs := range steps {
		if err := s.SetTopicConfigs(ctx, "configured", configs); err != nil {
			t.Fatalf("SetTopicConfigs(%v): %v", configs, err)
		}
		got := mustTopic(t, s, "configured")
		want := configs
		if want == nil {
			want = map[string]string{}
		}
		if !reflect.DeepEqual(got.Configs, want) {
			t.Fatalf("configs = %v, want %v", got.Configs, want)
		}
		if got.ID != created.ID || !reflect.DeepEqual(got.Partitions, created.Partitions) {
			t.Fatalf("SetTopicConfigs changed more than configs: %+v", got)
		}
	}
	if err := s.SetTopicConfigs(ctx, "no-such-topic", map[string]string{"a": "1"}); !errors.Is(err, ErrTopicNotFound) {
		t.Errorf("SetTopicConfigs(absent) = %v, want ErrTopicNotFound", err)
	}
}

func testBrokerConfigs(t *testing.T, s Store) {
	ctx := context.Background()
	if got := s.BrokerConfigs("17"); got == nil || len(got) != 0 {
		t.Fatalf("BrokerConfigs(unset) = %#v, want an empty map", got)
	}
	sets := []struct {
		node    string
		configs map[string]string
	}{
		{"", map[string]string{"log.retention.ms": "1000"}},
		{"17", map[string]string{"log.cleaner.threads": "2"}},
		{"", map[string]string{"num.io.threads": "8"}}, // replaces the default
	}
	for _, set := range sets {
		if err := s.SetBrokerConfigs(ctx, set.node, set.configs); err != nil {
			t.Fatalf("SetBrokerConfigs(%q): %v", set.node, err)
		}
		if got := s.BrokerConfigs(set.node); !reflect.DeepEqual(got, set.configs) {
			t.Fatalf("BrokerConfigs(%q) = %v, want %v", set.node, got, set.configs)
		}
	}
	if got := s.BrokerConfigs("17"); !reflect.DeepEqual(got, map[string]string{"log.cleaner.threads": "2"}) {
		t.Errorf("node 17 configs = %v after the default changed", got)
	}
	if got := s.BrokerConfigs("18"); len(got) != 0 {
		t.Errorf("node 18 configs = %v, want none", got)
	}
	for _, node := range []string{"x", "-1", "01", "default", "1/2", "99999999999"} {
		if err := s.SetBrokerConfigs(ctx, node, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("SetBrokerConfigs(%q) = %v, want ErrInvalid", node, err)
		}
	}
}

func testRegisterBroker(t *testing.T, s Store) {
	ctx1, cancel1 := context.WithCancel(context.Background())
	defer cancel1()
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	b1 := Broker{NodeID: 101, Host: "host-101", Port: 9092, Rack: "rack-a"}
	b2 := Broker{NodeID: 100, Host: "host-100", Port: 9093}
	if err := s.RegisterBroker(ctx1, b1); err != nil {
		t.Fatalf("RegisterBroker(101): %v", err)
	}
	if err := s.RegisterBroker(ctx2, b2); err != nil {
		t.Fatalf("RegisterBroker(100): %v", err)
	}
	var ours []Broker
	for _, b := range s.Brokers() {
		if b.NodeID == 100 || b.NodeID == 101 {
			ours = append(ours, b)
		}
	}
	if want := []Broker{b2, b1}; !reflect.DeepEqual(ours, want) {
		t.Fatalf("Brokers() = %+v, want %+v in node order", ours, want)
	}
	cancel1()
	waitFor(t, "broker 101 to go after its context ended", func() bool {
		_, ok := hasBroker(s, 101)
		return !ok
	})
	if _, ok := hasBroker(s, 100); !ok {
		t.Errorf("broker 100 went with 101")
	}
	cancel2()
	waitFor(t, "broker 100 to go", func() bool {
		_, ok := hasBroker(s, 100)
		return !ok
	})

	if err := s.RegisterBroker(context.Background(), Broker{NodeID: -1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("RegisterBroker(-1) = %v, want ErrInvalid", err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.RegisterBroker(done, Broker{NodeID: 102}); err == nil {
		t.Errorf("RegisterBroker with an ended context succeeded")
	}
	if _, ok := hasBroker(s, 102); ok {
		t.Errorf("RegisterBroker with an ended context registered")
	}
}

func testChanges(t *testing.T, s Store) {
	ctx := context.Background()
	a, b := s.Changes(), s.Changes()
	if a == b || cap(a) != 1 || cap(b) != 1 {
		t.Fatalf("Changes() must return a new channel of capacity 1 per call")
	}
	mustCreate(t, s, TopicSpec{Name: "changes", Partitions: parts(1)})
	if !signalled(a) || !signalled(b) {
		t.Fatalf("no signal on every channel after CreateTopic returned")
	}
	// Three changes, nobody reading: the store does not block, the channel
	// holds one signal for all of them.
	steps := []func() error{
		func() error { return s.SetTopicConfigs(ctx, "changes", map[string]string{"k": "v"}) },
		func() error { return s.AddPartitions(ctx, "changes", parts(1)) },
		func() error { return s.SetBrokerConfigs(ctx, "3", map[string]string{"k": "v"}) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if !signalled(a) {
		t.Fatalf("no signal after three changes")
	}
	if err := s.DeleteTopic(ctx, "changes"); err != nil {
		t.Fatal(err)
	}
	if !signalled(a) {
		t.Fatalf("no signal after DeleteTopic")
	}
	if err := s.RegisterBroker(ctx, Broker{NodeID: 103}); err != nil {
		t.Fatal(err)
	}
	if !signalled(a) {
		t.Fatalf("no signal after RegisterBroker")
	}
}

func testCopies(t *testing.T, s Store) {
	spec := TopicSpec{Name: "copies", Partitions: parts(2), Configs: map[string]string{"k": "v"}}
	created := mustCreate(t, s, spec)
	spec.Configs["k"] = "changed"
	spec.Partitions[0].Replicas[0] = 99
	created.Configs["k"] = "changed"
	created.Partitions[1].Replicas[0] = 99
	read := mustTopic(t, s, "copies")
	read.Configs["k"] = "changed"
	read.Partitions[0].Replicas[1] = 99
	for _, tp := range []Topic{mustTopic(t, s, "copies"), s.Topics()[slices.IndexFunc(s.Topics(), func(tp Topic) bool { return tp.Name == "copies" })]} {
		if tp.Configs["k"] != "v" || !reflect.DeepEqual(tp.Partitions, parts(2)) {
			t.Fatalf("stored topic changed through a caller's copy: %+v", tp)
		}
	}
	if err := s.SetBrokerConfigs(context.Background(), "5", map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	s.BrokerConfigs("5")["k"] = "changed"
	if got := s.BrokerConfigs("5")["k"]; got != "v" {
		t.Errorf("stored broker config changed through a caller's copy: %q", got)
	}
}

func testCancelledContext(t *testing.T, s Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.CreateTopic(ctx, TopicSpec{Name: "cancelled", Partitions: parts(1)}); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateTopic(cancelled) = %v, want context.Canceled", err)
	}
	if _, ok := s.Topic("cancelled"); ok {
		t.Errorf("CreateTopic with a cancelled context created the topic")
	}
	if err := s.SetBrokerConfigs(ctx, "", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("SetBrokerConfigs(cancelled) = %v, want context.Canceled", err)
	}
}

func TestMetadataEtcdProducerIDsNeverRepeat(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := OpenEmbedded(ctx, EmbeddedConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.AllocateProducerIDs(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.AllocateProducerIDs(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if b != a+1000 {
		t.Fatalf("second block starts at %d, want %d", b, a+1000)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenEmbedded(ctx, EmbeddedConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.AllocateProducerIDs(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if c != b+10 {
		t.Fatalf("block after reopen starts at %d, want %d", c, b+10)
	}
	if _, err := s.AllocateProducerIDs(ctx, 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("zero-sized block: %v", err)
	}
}
