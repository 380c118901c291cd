package metadata

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// rawClient is a plain etcd client on a store's etcd, for tests that write
// or inspect keys behind the store's back.
func rawClient(t *testing.T, s *Etcd) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: s.ClientURLs(), DialTimeout: 5 * time.Second, Logger: newZapLogger(testLogger(), s.quiet)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func rawPut(t *testing.T, cli *clientv3.Client, key, value string) {
	t.Helper()
	if _, err := cli.Put(context.Background(), key, value); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func rawGetJSON(t *testing.T, cli *clientv3.Client, key string) map[string]any {
	t.Helper()
	resp, err := cli.Get(context.Background(), key)
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("get %s: %v (%d keys)", key, err, len(resp.Kvs))
	}
	var m map[string]any
	if err := json.Unmarshal(resp.Kvs[0].Value, &m); err != nil {
		t.Fatalf("%s holds %q: %v", key, resp.Kvs[0].Value, err)
	}
	return m
}

// jsonOf normalises a JSON text for comparison.
func jsonOf(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMetadataEtcdReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s1 := openEmbedded(t, dir)
	id := s1.ClusterID()
	kept := mustCreate(t, s1, TopicSpec{Name: "kept", Partitions: parts(3), Configs: map[string]string{"k": "v"}})
	if err := s1.SetBrokerConfigs(ctx, "", map[string]string{"d": "1"}); err != nil {
		t.Fatal(err)
	}

	// The directory is taken while s1 runs, by this process or any other.
	if s, err := OpenEmbedded(ctx, EmbeddedConfig{Dir: dir}); !errors.Is(err, ErrDirLocked) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("second OpenEmbedded on the same directory = %v, want ErrDirLocked", err)
	}
	if _, err := s1.CreateTopic(ctx, TopicSpec{Name: "still-serving", Partitions: parts(1)}); err != nil {
		t.Fatalf("store broken by the refused second open: %v", err)
	}

	checkCloseEndsAll(t, s1)

	// Leave a stale socket behind, as a killed process would.
	l, err := net.Listen("unix", filepath.Join(dir, "etcd", "client.sock"))
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()

	s2 := openEmbedded(t, dir)
	if s2.ClusterID() != id {
		t.Errorf("cluster ID %q after reopen, was %q", s2.ClusterID(), id)
	}
	got := mustTopic(t, s2, "kept")
	if got.ID != kept.ID || !reflect.DeepEqual(got.Partitions, kept.Partitions) || !reflect.DeepEqual(got.Configs, kept.Configs) {
		t.Errorf("after reopen: %+v, want %+v", got, kept)
	}
	if _, ok := s2.Topic("before-close"); !ok {
		t.Errorf("topic written just before Close lost")
	}
	if got := s2.BrokerConfigs(""); !reflect.DeepEqual(got, map[string]string{"d": "1"}) {
		t.Errorf("default broker configs after reopen = %v", got)
	}
	if _, ok := hasBroker(s2, 42); ok {
		t.Errorf("broker registered at Close survived it (lease not revoked)")
	}
}

// TestMetadataEtcdKill9 kills a process that has the embedded etcd open and
// opens the same directory again.
func TestMetadataEtcdKill9(t *testing.T) {
	if dir := os.Getenv("STRAIT_METADATA_KILL9_DIR"); dir != "" {
		kill9Child(dir)
		return
	}
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMetadataEtcdKill9$")
	cmd.Env = append(os.Environ(), "STRAIT_METADATA_KILL9_DIR="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var clusterID, topicID string
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if _, err := fmt.Sscanf(lines.Text(), "ready %s %s", &clusterID, &topicID); err == nil {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if clusterID == "" {
		t.Fatalf("child never became ready")
	}

	s := openEmbedded(t, dir)
	if s.ClusterID() != clusterID {
		t.Errorf("cluster ID %q after kill -9, was %q", s.ClusterID(), clusterID)
	}
	if got := mustTopic(t, s, "survivor"); got.ID.String() != topicID {
		t.Errorf("topic ID %v after kill -9, was %s", got.ID, topicID)
	}
	mustCreate(t, s, TopicSpec{Name: "after-kill", Partitions: parts(1)})
}

func kill9Child(dir string) {
	ctx := context.Background()
	s, err := OpenEmbedded(ctx, EmbeddedConfig{Dir: dir, Logger: testLogger()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	tp, err := s.CreateTopic(ctx, TopicSpec{Name: "survivor", Partitions: parts(2)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	fmt.Printf("ready %s %s\n", s.ClusterID(), tp.ID)
	select {} // until killed
}

func TestMetadataEtcdUnknownFields(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openEmbedded(t, t.TempDir())
	cli := rawClient(t, s)
	id := uuid.New()

	rawPut(t, cli, "/strait/topics/future", fmt.Sprintf(`{"version":1,"name":"future","id":%q,
		"partitions":[{"replicas":[1],"leader":1,"leader_epoch":0,"future_part":"p0"}],
		"configs":{"a":"1"},"future_top":{"x":[1,2,{"y":null}]}}`, id))
	rawPut(t, cli, "/strait/topics/newer", fmt.Sprintf(`{"version":2,"name":"newer","id":%q,"partitions":[],"configs":{}}`, uuid.New()))
	rawPut(t, cli, "/strait/configs/brokers/default", `{"version":1,"configs":{"a":"1"},"future_cfg":true}`)
	// Records the store must ignore without touching them.
	rawPut(t, cli, "/strait/topics/broken", `not json`)
	rawPut(t, cli, "/strait/topics/misnamed", fmt.Sprintf(`{"version":1,"name":"other","id":%q}`, uuid.New()))
	rawPut(t, cli, "/strait/topics/unversioned", fmt.Sprintf(`{"name":"unversioned","id":%q}`, uuid.New()))
	rawPut(t, cli, "/strait/links/from-a-later-version", `{"version":1}`)
	rawPut(t, cli, "/strait/topics/last", fmt.Sprintf(`{"version":1,"name":"last","id":%q}`, uuid.New()))

	waitFor(t, "the raw writes to reach the snapshot", func() bool {
		_, ok := s.Topic("last")
		return ok
	})
	for _, name := range []string{"broken", "misnamed", "other", "unversioned"} {
		if _, ok := s.Topic(name); ok {
			t.Errorf("unreadable record %q is in the snapshot", name)
		}
	}
	got := mustTopic(t, s, "future")
	if !reflect.DeepEqual(jsonOf(t, string(got.Extra["future_top"])), jsonOf(t, `{"x":[1,2,{"y":null}]}`)) || len(got.Extra) != 1 {
		t.Errorf("Extra = %s, want future_top only", got.Extra)
	}

	if err := s.SetTopicConfigs(ctx, "future", map[string]string{"b": "2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPartitions(ctx, "future", []Partition{{Replicas: []int32{2}, Leader: 2}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTopicConfigs(ctx, "newer", map[string]string{"b": "2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBrokerConfigs(ctx, "", map[string]string{"b": "2"}); err != nil {
		t.Fatal(err)
	}

	want := jsonOf(t, fmt.Sprintf(`{"version":1,"name":"future","id":%q,
		"partitions":[{"replicas":[1],"leader":1,"leader_epoch":0,"future_part":"p0"},
		              {"replicas":[2],"leader":2,"leader_epoch":0}],
		"configs":{"b":"2"},"future_top":{"x":[1,2,{"y":null}]}}`, id))
	if got := rawGetJSON(t, cli, "/strait/topics/future"); !reflect.DeepEqual(got, want) {
		t.Errorf("rewritten topic record =\n%v\nwant\n%v", got, want)
	}
	if got := rawGetJSON(t, cli, "/strait/topics/newer"); got["version"] != float64(2) {
		t.Errorf("rewrite downgraded the record version: %v", got)
	}
	if got := rawGetJSON(t, cli, "/strait/configs/brokers/default"); !reflect.DeepEqual(got, jsonOf(t, `{"version":1,"configs":{"b":"2"},"future_cfg":true}`)) {
		t.Errorf("rewritten broker configs record = %v", got)
	}
	if got := mustTopic(t, s, "future"); len(got.Extra) != 1 || got.Configs["b"] != "2" {
		t.Errorf("snapshot after rewrite: %+v", got)
	}
	if got := rawGetJSON(t, cli, "/strait/links/from-a-later-version"); got["version"] != float64(1) {
		t.Errorf("unknown key changed: %v", got)
	}

	// A fresh topic's stored form is the documented one.
	created := mustCreate(t, s, TopicSpec{Name: "fresh", Partitions: []Partition{{Replicas: []int32{1, 2}, Leader: 1, LeaderEpoch: 3}}})
	want = jsonOf(t, fmt.Sprintf(`{"version":1,"name":"fresh","id":%q,
		"partitions":[{"replicas":[1,2],"leader":1,"leader_epoch":3}],"configs":{}}`, created.ID))
	if got := rawGetJSON(t, cli, "/strait/topics/fresh"); !reflect.DeepEqual(got, want) {
		t.Errorf("stored topic = %v, want %v", got, want)
	}
	if err := s.RegisterBroker(ctx, Broker{NodeID: 3, Host: "h", Port: 9092, Rack: "r"}); err != nil {
		t.Fatal(err)
	}
	if got := rawGetJSON(t, cli, "/strait/brokers/3"); !reflect.DeepEqual(got, jsonOf(t, `{"version":1,"node_id":3,"host":"h","port":9092,"rack":"r"}`)) {
		t.Errorf("stored broker = %v", got)
	}
	if got := rawGetJSON(t, cli, "/strait/cluster/id"); !reflect.DeepEqual(got, map[string]any{"version": float64(1), "id": s.ClusterID()}) {
		t.Errorf("stored cluster ID = %v", got)
	}
}

func TestMetadataEtcdTwoEmbedded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	short := t.TempDir()
	// Too long for a socket path: the sockets go to a temporary directory.
	long := filepath.Join(t.TempDir(), strings.Repeat("d", 60), strings.Repeat("e", 60))
	a := openEmbedded(t, short)
	b, err := OpenEmbedded(ctx, EmbeddedConfig{Dir: long, Logger: testLogger()})
	if err != nil {
		t.Fatalf("OpenEmbedded(long dir): %v", err)
	}
	defer b.Close()

	if a.ClusterID() == b.ClusterID() {
		t.Errorf("two clusters share the ID %s", a.ClusterID())
	}
	sock := strings.TrimPrefix(b.ClientURLs()[0], "unix://")
	if strings.HasPrefix(sock, long) || len(sock) > maxSocketPath {
		t.Errorf("long directory's socket is %s", sock)
	}
	mustCreate(t, a, TopicSpec{Name: "only-in-a", Partitions: parts(1)})
	mustCreate(t, b, TopicSpec{Name: "only-in-b", Partitions: parts(1)})
	if _, ok := b.Topic("only-in-a"); ok {
		t.Errorf("b sees a's topic")
	}
	if _, ok := a.Topic("only-in-b"); ok {
		t.Errorf("a sees b's topic")
	}

	id := b.ClusterID()
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(sock)); !os.IsNotExist(err) {
		t.Errorf("temporary socket directory %s left behind: %v", filepath.Dir(sock), err)
	}
	// Restart with a new socket directory (so a new peer URL).
	b2, err := OpenEmbedded(ctx, EmbeddedConfig{Dir: long, Logger: testLogger()})
	if err != nil {
		t.Fatalf("reopening the long directory: %v", err)
	}
	defer b2.Close()
	if b2.ClusterID() != id {
		t.Errorf("cluster ID changed across restart")
	}
	mustTopic(t, b2, "only-in-b")
	mustCreate(t, b2, TopicSpec{Name: "after-restart", Partitions: parts(1)})
}

func TestMetadataEtcdRemote(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := openEmbedded(t, t.TempDir())
	mustCreate(t, a, TopicSpec{Name: "before", Partitions: parts(1)})

	openRemote := func(prefix string) *Etcd {
		t.Helper()
		s, err := OpenRemote(ctx, RemoteConfig{Endpoints: a.ClientURLs(), Prefix: prefix, Logger: testLogger()})
		if err != nil {
			t.Fatalf("OpenRemote(%q): %v", prefix, err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	b := openRemote("")
	if b.ClusterID() != a.ClusterID() {
		t.Fatalf("remote cluster ID %q, embedded %q", b.ClusterID(), a.ClusterID())
	}
	if !reflect.DeepEqual(b.Topics(), a.Topics()) {
		t.Fatalf("remote topics %+v, embedded %+v", b.Topics(), a.Topics())
	}

	changes := b.Changes()
	created := mustCreate(t, a, TopicSpec{Name: "from-a", Partitions: parts(2)})
	waitFor(t, "a change signal at b", func() bool { return signalled(changes) })
	waitFor(t, "b to see a's topic", func() bool {
		got, ok := b.Topic("from-a")
		return ok && reflect.DeepEqual(got, created)
	})
	mustCreate(t, b, TopicSpec{Name: "from-b", Partitions: parts(1)})
	waitFor(t, "a to see b's topic", func() bool { _, ok := a.Topic("from-b"); return ok })
	if err := b.DeleteTopic(ctx, "from-a"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a to see b's delete", func() bool { _, ok := a.Topic("from-a"); return !ok })
	if _, err := a.CreateTopic(ctx, TopicSpec{Name: "from-b", Partitions: parts(1)}); !errors.Is(err, ErrTopicExists) {
		t.Errorf("creating b's topic at a = %v, want ErrTopicExists", err)
	}

	if err := b.RegisterBroker(ctx, Broker{NodeID: 5, Host: "b", Port: 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a to see b's broker", func() bool { _, ok := hasBroker(a, 5); return ok })
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b's broker to go when b closes", func() bool { _, ok := hasBroker(a, 5); return !ok })

	// Another prefix is another cluster; stores opening on an empty prefix
	// at the same time agree on one cluster ID.
	var wg sync.WaitGroup
	fresh := make([]*Etcd, 4)
	for i := range fresh {
		wg.Go(func() { fresh[i] = openRemote("/fresh") })
	}
	wg.Wait()
	for _, s := range fresh {
		if s.ClusterID() == a.ClusterID() || s.ClusterID() != fresh[0].ClusterID() {
			t.Errorf("cluster IDs on /fresh/: %s, first %s, default prefix %s", s.ClusterID(), fresh[0].ClusterID(), a.ClusterID())
		}
		if len(s.Topics()) != 0 {
			t.Errorf("/fresh/ sees topics of /strait/")
		}
	}

	if _, err := OpenRemote(ctx, RemoteConfig{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("OpenRemote without endpoints = %v, want ErrInvalid", err)
	}
}

// TestMetadataEtcdWatchCompacted covers the watcher's recovery path: a watch
// from a compacted revision fails, and a reload replaces the snapshot.
func TestMetadataEtcdWatchCompacted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openEmbedded(t, t.TempDir())
	cli := rawClient(t, s)
	mustCreate(t, s, TopicSpec{Name: "one", Partitions: parts(1)})
	two := mustCreate(t, s, TopicSpec{Name: "two", Partitions: parts(1)})
	if _, err := cli.Compact(ctx, two.Revision); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.watch(wctx, 1); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Fatalf("watch from a compacted revision = %v, want ErrCompacted", err)
	}

	// A snapshot that missed changes (here: a topic that is not in etcd).
	s.snap.mu.Lock()
	s.snap.putTopicLocked(Topic{Name: "ghost", ID: uuid.New()})
	s.snap.mu.Unlock()
	changes := s.Changes()
	rev, err := s.load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rev < two.Revision {
		t.Errorf("reload at revision %d, before %d", rev, two.Revision)
	}
	if _, ok := s.Topic("ghost"); ok {
		t.Errorf("reload kept a topic etcd does not have")
	}
	mustTopic(t, s, "one")
	mustTopic(t, s, "two")
	if !signalled(changes) {
		t.Errorf("no change signal after a reload")
	}
}

// BenchmarkMetadataEtcdOpen measures the embedded store's start-up: a first
// start in an empty directory and a restart of an existing one.
func BenchmarkMetadataEtcdOpen(b *testing.B) {
	ctx := context.Background()
	open := func(b *testing.B, dir string) {
		s, err := OpenEmbedded(ctx, EmbeddedConfig{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.Run("Fresh", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			dir := b.TempDir()
			b.StartTimer()
			open(b, dir)
		}
	})
	b.Run("Restart", func(b *testing.B) {
		dir := b.TempDir()
		open(b, dir)
		for b.Loop() {
			open(b, dir)
		}
	})
}
