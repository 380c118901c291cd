package metadata

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// DefaultPrefix is the key prefix a store uses unless told otherwise.
const DefaultPrefix = "/strait/"

// Key segments below the prefix (see doc.go).
const (
	clusterIDKey     = "cluster/id"
	topicsDir        = "topics/"
	producerIDsKey   = "producer-ids/next"
	linksDir         = "links/"
	brokersDir       = "brokers/"
	brokerConfigsDir = "configs/brokers/"
)

const (
	// brokerLeaseTTL is how long a broker stays registered after its
	// process died without revoking its lease, in seconds.
	brokerLeaseTTL = 10
	// revokeTimeout bounds the revoke that ends a registration cleanly.
	revokeTimeout = 2 * time.Second
)

// RemoteConfig is how to reach an external etcd cluster.
type RemoteConfig struct {
	Endpoints []string // client URLs, e.g. http://10.0.0.1:2379 or unix:///run/etcd.sock
	Prefix    string   // key prefix; DefaultPrefix if ""
	Logger    *slog.Logger
}

// Etcd is the production Store: cluster metadata in etcd, either a cluster
// of its own (OpenRemote) or a single member embedded in this process
// (OpenEmbedded). See doc.go for the key layout and the contracts.
type Etcd struct {
	cli       *clientv3.Client
	prefix    string
	lg        *slog.Logger
	clusterID string
	urls      []string
	snap      *snapshot
	server    *embeddedServer // nil for a remote cluster
	quiet     *atomic.Bool    // set by Close: etcd's shutdown noise goes to debug

	ctx    context.Context // ends when Close begins
	cancel context.CancelFunc
	wg     sync.WaitGroup // the watcher, registrations, the server monitor

	// mu guards closed, which stops new goroutines once Close has begun.
	mu     sync.Mutex
	closed bool

	// guard, when set, says why writes must be refused now (nil: allowed);
	// deletes is true for writes that only remove keys, which need less.
	guard func(deletes bool) error
	// writesStopped, when set, ends every write in flight when it ends.
	writesStopped context.Context

	closeOnce sync.Once
	closeErr  error
}

var _ Store = (*Etcd)(nil)

// OpenRemote opens the store on an external etcd cluster. It returns once
// the cluster ID is settled and the snapshot is loaded; ctx bounds that (an
// unreachable cluster makes OpenRemote wait for ctx).
func OpenRemote(ctx context.Context, cfg RemoteConfig) (*Etcd, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, fmt.Errorf("%w: metadata.endpoints is empty", ErrInvalid)
	}
	lg := orDiscard(cfg.Logger)
	quiet := new(atomic.Bool)
	cli, err := newClient(cfg.Endpoints, lg, quiet)
	if err != nil {
		return nil, fmt.Errorf("metadata: etcd client for %v: %w", cfg.Endpoints, err)
	}
	s, err := open(ctx, cli, cfg.Prefix, lg, cfg.Endpoints, quiet, nil)
	if err != nil {
		cli.Close()
		return nil, err
	}
	return s, nil
}

func newClient(endpoints []string, lg *slog.Logger, quiet *atomic.Bool) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints:            endpoints,
		DialTimeout:          5 * time.Second,
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: 5 * time.Second,
		Logger:               newZapLogger(lg.With("component", "etcd-client"), quiet),
	})
}

func orDiscard(lg *slog.Logger) *slog.Logger {
	if lg == nil {
		return slog.New(slog.DiscardHandler)
	}
	return lg
}

// open settles the cluster ID, loads the snapshot and starts the watcher.
// On error the caller still owns cli (and server).
func open(ctx context.Context, cli *clientv3.Client, prefix string, lg *slog.Logger, urls []string, quiet *atomic.Bool, server *embeddedServer) (*Etcd, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	s := &Etcd{
		cli:    cli,
		prefix: prefix,
		lg:     lg,
		urls:   append([]string(nil), urls...),
		snap:   newSnapshot(),
		quiet:  quiet,
		server: server,
	}
	id, err := s.settleClusterID(ctx)
	if err != nil {
		return nil, err
	}
	s.clusterID = id
	rev, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.watchLoop(rev)
	}()
	if server != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.monitor(server)
		}()
	}
	return s, nil
}

// settleClusterID creates cluster/id if absent, in one transaction, so
// that stores starting together on an empty etcd agree on one ID.
func (s *Etcd) settleClusterID(ctx context.Context) (string, error) {
	key := s.prefix + clusterIDKey
	data, err := clusterRecord{Version: recordVersion, ID: newClusterID()}.encode()
	if err != nil {
		return "", err
	}
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(data))).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		return "", fmt.Errorf("metadata: settling the cluster ID: %w", err)
	}
	if !resp.Succeeded {
		kvs := resp.Responses[0].GetResponseRange().GetKvs()
		if len(kvs) == 0 {
			return "", fmt.Errorf("metadata: %s vanished while being read", key)
		}
		data = kvs[0].Value
	}
	r, err := decodeCluster(data)
	if err != nil {
		return "", fmt.Errorf("metadata: %s: %w", key, err)
	}
	return r.ID, nil
}

// ClientURLs returns the etcd client URLs the store talks to: the embedded
// server's (a unix socket) or the endpoints given to OpenRemote. Another
// process can open the same metadata with OpenRemote on them.
func (s *Etcd) ClientURLs() []string { return append([]string(nil), s.urls...) }

func (s *Etcd) ClusterID() string                           { return s.clusterID }
func (s *Etcd) Topics() []Topic                             { return s.snap.topicList() }
func (s *Etcd) Topic(name string) (Topic, bool)             { return s.snap.topic(name) }
func (s *Etcd) TopicByID(id uuid.UUID) (Topic, bool)        { return s.snap.topicByID(id) }
func (s *Etcd) Brokers() []Broker                           { return s.snap.brokerList() }
func (s *Etcd) BrokerConfigs(node string) map[string]string { return s.snap.brokerConfigs(node) }
func (s *Etcd) Changes() <-chan struct{}                    { return s.snap.subscribe() }
func (s *Etcd) Links() []Link                               { return s.snap.linkList() }
func (s *Etcd) Link(name string) (Link, bool)               { return s.snap.link(name) }

// ---- the snapshot: load and watch ----

// load replaces the snapshot with everything under the prefix and returns
// the revision it reflects.
func (s *Etcd) load(ctx context.Context) (int64, error) {
	resp, err := s.cli.Get(ctx, s.prefix, clientv3.WithPrefix())
	if err != nil {
		return 0, fmt.Errorf("metadata: loading %s: %w", s.prefix, err)
	}
	s.snap.mu.Lock()
	s.snap.resetLocked()
	for _, kv := range resp.Kvs {
		s.applyPutLocked(kv)
	}
	s.snap.mu.Unlock()
	s.snap.publish(resp.Header.Revision)
	return resp.Header.Revision, nil
}

// watchLoop keeps the snapshot current from revision rev on. A watch that
// ends (compaction, cancellation, lost leader) is followed by a full reload
// and a new watch from the reloaded revision.
func (s *Etcd) watchLoop(rev int64) {
	bo := backoff{min: 50 * time.Millisecond, max: 5 * time.Second}
	for {
		started := time.Now()
		err := s.watch(s.ctx, rev)
		if s.ctx.Err() != nil {
			return
		}
		if time.Since(started) > time.Minute {
			bo.reset()
		}
		s.lg.Warn("metadata watch ended; reloading", "revision", rev, "err", err)
		for {
			if !sleepCtx(s.ctx, bo.next()) {
				return
			}
			r, err := s.load(s.ctx)
			if err == nil {
				rev = r
				break
			}
			if s.ctx.Err() != nil {
				return
			}
			s.lg.Warn("metadata reload failed", "err", err)
		}
	}
}

var errWatchClosed = errors.New("metadata: watch channel closed")

// watch applies the changes after revision rev until the watch fails.
func (s *Etcd) watch(ctx context.Context, rev int64) error {
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	for resp := range s.cli.Watch(ctx, s.prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1)) {
		if err := resp.Err(); err != nil {
			return err
		}
		if len(resp.Events) > 0 {
			s.applyEvents(resp.Events)
		}
	}
	return errWatchClosed
}

func (s *Etcd) applyEvents(evs []*clientv3.Event) {
	var rev int64
	s.snap.mu.Lock()
	for _, ev := range evs {
		switch ev.Type {
		case clientv3.EventTypePut:
			s.applyPutLocked(ev.Kv)
		case clientv3.EventTypeDelete:
			s.applyDeleteLocked(ev.Kv.Key)
		}
		rev = max(rev, ev.Kv.ModRevision)
	}
	s.snap.mu.Unlock()
	s.snap.publish(rev)
}

// splitKey returns the directory (one of the *Dir constants) and the name
// below it, or "" for keys this version does not keep in the snapshot.
func (s *Etcd) splitKey(key []byte) (dir, name string) {
	rest, ok := strings.CutPrefix(string(key), s.prefix)
	if !ok {
		return "", ""
	}
	for _, d := range []string{topicsDir, brokersDir, brokerConfigsDir, linksDir} {
		if name, ok := strings.CutPrefix(rest, d); ok && name != "" {
			return d, name
		}
	}
	return "", ""
}

// applyPutLocked puts one stored record into the snapshot. A record that
// cannot be read is logged and left out (its key then reads as absent).
func (s *Etcd) applyPutLocked(kv *mvccpb.KeyValue) {
	dir, name := s.splitKey(kv.Key)
	var err error
	switch dir {
	case topicsDir:
		var r topicRecord
		if r, err = decodeTopic(kv.Value); err == nil && r.Name != name {
			err = fmt.Errorf("record names topic %q", r.Name)
		}
		if err == nil {
			s.snap.putTopicLocked(r.topic(kv.ModRevision))
		}
	case brokersDir:
		var r brokerRecord
		if r, err = decodeBroker(kv.Value); err == nil && strconv.Itoa(int(r.NodeID)) != name {
			err = fmt.Errorf("record names node %d", r.NodeID)
		}
		if err == nil {
			s.snap.putBrokerLocked(Broker{NodeID: r.NodeID, Host: r.Host, Port: r.Port, Rack: r.Rack})
		}
	case brokerConfigsDir:
		var r configsRecord
		if r, err = decodeConfigs(kv.Value); err == nil {
			s.snap.putConfigsLocked(configsNodeOfKey(name), cloneConfigs(r.Configs))
		}
	case linksDir:
		var r linkRecord
		if r, err = decodeLink(kv.Value); err == nil && r.Name != name {
			err = fmt.Errorf("record names link %q", r.Name)
		}
		if err == nil {
			s.snap.putLinkLocked(r.link(kv.ModRevision))
		}
	default:
		return
	}
	if err != nil {
		s.lg.Warn("metadata: ignoring unreadable record", "key", string(kv.Key), "revision", kv.ModRevision, "err", err)
		s.applyDeleteLocked(kv.Key)
	}
}

func (s *Etcd) applyDeleteLocked(key []byte) {
	dir, name := s.splitKey(key)
	switch dir {
	case topicsDir:
		s.snap.deleteTopicLocked(name)
	case brokersDir:
		if id, err := strconv.ParseInt(name, 10, 32); err == nil {
			s.snap.deleteBrokerLocked(int32(id))
		}
	case brokerConfigsDir:
		s.snap.deleteConfigsLocked(configsNodeOfKey(name))
	case linksDir:
		s.snap.deleteLinkLocked(name)
	}
}

// configsNodeOfKey is the inverse of configsNode.
func configsNodeOfKey(name string) string {
	if name == "default" {
		return ""
	}
	return name
}

// ---- writes ----

// begin returns the context for one write: it ends with ctx or when the
// store closes. A write the store cannot take now fails with ErrUnavailable.
func (s *Etcd) begin(ctx context.Context) (context.Context, context.CancelFunc, error) {
	return s.beginWrite(ctx, false)
}

func (s *Etcd) beginWrite(ctx context.Context, deletes bool) (context.Context, context.CancelFunc, error) {
	if s.ctx.Err() != nil {
		return nil, nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if s.guard != nil {
		if err := s.guard(deletes); err != nil {
			return nil, nil, err
		}
	}
	octx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	stopFailed := func() bool { return true }
	if s.writesStopped != nil {
		stopFailed = context.AfterFunc(s.writesStopped, cancel)
	}
	return octx, func() { stop(); stopFailed(); cancel() }, nil
}

// fail maps the error of a write made under caller context ctx: one caused
// by Close becomes ErrClosed, others from etcd or decoding get the package's
// prefix.
func (s *Etcd) fail(ctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() == nil && s.ctx.Err() != nil:
		return ErrClosed
	case ctx.Err() == nil && s.writesStopped != nil && s.writesStopped.Err() != nil && s.guard(false) != nil:
		return s.guard(false)
	case errors.Is(err, ErrTopicExists), errors.Is(err, ErrTopicNotFound),
		errors.Is(err, ErrInvalid), errors.Is(err, ErrClosed), errors.Is(err, ErrUnavailable),
		errors.Is(err, ErrLinkExists), errors.Is(err, ErrLinkNotFound):
		return err
	default:
		return fmt.Errorf("metadata: %w", err)
	}
}

// commit waits until the snapshot reflects revision rev (read-your-writes).
func (s *Etcd) commit(ctx context.Context, rev int64) error {
	return s.snap.waitRev(ctx, rev)
}

func (s *Etcd) CreateTopic(ctx context.Context, spec TopicSpec) (Topic, error) {
	if err := validateSpec(spec); err != nil {
		return Topic{}, err
	}
	if _, taken := s.snap.topicByID(spec.ID); spec.ID != uuid.Nil && taken {
		return Topic{}, fmt.Errorf("%w: topic ID %s is taken", ErrInvalid, spec.ID)
	}
	r := topicRecord{
		Version:    recordVersion,
		Name:       spec.Name,
		ID:         specID(spec),
		Partitions: partitionRecords(spec.Partitions),
		Configs:    cloneConfigs(spec.Configs),
		Mirror:     mirrorToRecord(spec.Mirror),
	}
	data, err := r.encode()
	if err != nil {
		return Topic{}, err
	}
	rev, err := s.createKey(ctx, s.prefix+topicsDir+spec.Name, data, fmt.Errorf("%w: %q", ErrTopicExists, spec.Name))
	if err != nil {
		return Topic{}, err
	}
	return r.topic(rev), nil
}

func (s *Etcd) DeleteTopic(ctx context.Context, name string) error {
	if validateTopicName(name) != nil {
		return fmt.Errorf("%w: %q", ErrTopicNotFound, name)
	}
	return s.deleteKey(ctx, s.prefix+topicsDir+name, fmt.Errorf("%w: %q", ErrTopicNotFound, name))
}

// deleteKey deletes key, or returns absent if there is none, and waits for
// the snapshot to reflect the deletion.
func (s *Etcd) deleteKey(ctx context.Context, key string, absent error) error {
	octx, done, err := s.beginWrite(ctx, true)
	if err != nil {
		return err
	}
	defer done()
	resp, err := s.cli.Delete(octx, key)
	if err != nil {
		return s.fail(ctx, err)
	}
	if resp.Deleted == 0 {
		return absent
	}
	return s.fail(ctx, s.commit(octx, resp.Header.Revision))
}

// createKey writes data under key only if the key does not exist (else
// exists), and waits for the snapshot to reflect it. It returns the write's
// revision.
func (s *Etcd) createKey(ctx context.Context, key string, data []byte, exists error) (int64, error) {
	octx, done, err := s.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	resp, err := s.cli.Txn(octx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(data))).
		Commit()
	if err != nil {
		return 0, s.fail(ctx, err)
	}
	if !resp.Succeeded {
		return 0, exists
	}
	if err := s.commit(octx, resp.Header.Revision); err != nil {
		return 0, s.fail(ctx, err)
	}
	return resp.Header.Revision, nil
}

func (s *Etcd) AddPartitions(ctx context.Context, name string, parts []Partition) error {
	if len(parts) == 0 {
		return fmt.Errorf("%w: adding no partitions to %q", ErrInvalid, name)
	}
	return s.updateTopic(ctx, name, func(r *topicRecord) {
		r.Partitions = append(r.Partitions, partitionRecords(parts)...)
	})
}

func (s *Etcd) SetTopicConfigs(ctx context.Context, name string, configs map[string]string) error {
	return s.updateTopic(ctx, name, func(r *topicRecord) {
		r.Configs = cloneConfigs(configs)
	})
}

// UpdateTopic rewrites a topic through fn, keeping every stored field fn
// cannot see (unknown fields, partition extras).
func (s *Etcd) UpdateTopic(ctx context.Context, name string, fn func(*Topic) error) error {
	if validateTopicName(name) != nil {
		return fmt.Errorf("%w: %q", ErrTopicNotFound, name)
	}
	return s.update(ctx, s.prefix+topicsDir+name, func(cur []byte) ([]byte, error) {
		if cur == nil {
			return nil, fmt.Errorf("%w: %q", ErrTopicNotFound, name)
		}
		r, err := decodeTopic(cur)
		if err != nil {
			return nil, err
		}
		if err := applyTopicUpdate(&r, fn); err != nil {
			return nil, err
		}
		return r.encode()
	})
}

// CreateLink stores a new link.
func (s *Etcd) CreateLink(ctx context.Context, l Link) error {
	if err := validateLinkName(l.Name); err != nil {
		return err
	}
	data, err := linkToRecord(l).encode()
	if err != nil {
		return err
	}
	_, err = s.createKey(ctx, s.prefix+linksDir+l.Name, data, fmt.Errorf("%w: %q", ErrLinkExists, l.Name))
	return err
}

// UpdateLink rewrites a link through fn, keeping unknown fields.
func (s *Etcd) UpdateLink(ctx context.Context, name string, fn func(*Link) error) error {
	if validateLinkName(name) != nil {
		return fmt.Errorf("%w: %q", ErrLinkNotFound, name)
	}
	return s.update(ctx, s.prefix+linksDir+name, func(cur []byte) ([]byte, error) {
		if cur == nil {
			return nil, fmt.Errorf("%w: %q", ErrLinkNotFound, name)
		}
		r, err := decodeLink(cur)
		if err != nil {
			return nil, err
		}
		l := r.link(0)
		if err := fn(&l); err != nil {
			return nil, err
		}
		l.Name = r.Name
		nr := linkToRecord(l)
		nr.Version = r.Version
		return nr.encode()
	})
}

// DeleteLink removes a link.
func (s *Etcd) DeleteLink(ctx context.Context, name string) error {
	if validateLinkName(name) != nil {
		return fmt.Errorf("%w: %q", ErrLinkNotFound, name)
	}
	return s.deleteKey(ctx, s.prefix+linksDir+name, fmt.Errorf("%w: %q", ErrLinkNotFound, name))
}

// updateTopic rewrites a topic record through fn, keeping the fields fn
// does not touch, including those this version does not know.
func (s *Etcd) updateTopic(ctx context.Context, name string, fn func(*topicRecord)) error {
	if validateTopicName(name) != nil {
		return fmt.Errorf("%w: %q", ErrTopicNotFound, name)
	}
	return s.update(ctx, s.prefix+topicsDir+name, func(cur []byte) ([]byte, error) {
		if cur == nil {
			return nil, fmt.Errorf("%w: %q", ErrTopicNotFound, name)
		}
		r, err := decodeTopic(cur)
		if err != nil {
			return nil, err
		}
		fn(&r)
		return r.encode()
	})
}

func (s *Etcd) SetBrokerConfigs(ctx context.Context, node string, configs map[string]string) error {
	seg, err := configsNode(node)
	if err != nil {
		return err
	}
	return s.update(ctx, s.prefix+brokerConfigsDir+seg, func(cur []byte) ([]byte, error) {
		r := configsRecord{Version: recordVersion}
		if cur != nil {
			if r, err = decodeConfigs(cur); err != nil {
				return nil, err
			}
		}
		r.Configs = cloneConfigs(configs)
		return r.encode()
	})
}

// update is a compare-and-swap loop on one key: fn maps its current value
// (nil if absent) to the new one, which is written only if the key has not
// changed since it was read; otherwise it starts over.
func (s *Etcd) update(ctx context.Context, key string, fn func(cur []byte) ([]byte, error)) error {
	octx, done, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	for {
		get, err := s.cli.Get(octx, key)
		if err != nil {
			return s.fail(ctx, err)
		}
		var cur []byte
		var modRev int64
		if len(get.Kvs) > 0 {
			cur, modRev = get.Kvs[0].Value, get.Kvs[0].ModRevision
		}
		next, err := fn(cur)
		if err != nil {
			return err // the update function's own error, as it is
		}
		resp, err := s.cli.Txn(octx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", modRev)).
			Then(clientv3.OpPut(key, string(next))).
			Commit()
		if err != nil {
			return s.fail(ctx, err)
		}
		if resp.Succeeded {
			return s.fail(ctx, s.commit(octx, resp.Header.Revision))
		}
	}
}

// AllocateProducerIDs advances the cluster's producer ID counter by count
// with a compare-and-swap, so concurrent brokers get disjoint blocks.
func (s *Etcd) AllocateProducerIDs(ctx context.Context, count int64) (int64, error) {
	if count <= 0 {
		return 0, fmt.Errorf("%w: producer id block of %d", ErrInvalid, count)
	}
	var first int64
	err := s.update(ctx, s.prefix+producerIDsKey, func(cur []byte) ([]byte, error) {
		r := producerIDsRecord{Version: recordVersion}
		if cur != nil {
			var err error
			if r, err = decodeProducerIDs(cur); err != nil {
				return nil, err
			}
		}
		first = r.Next
		r.Next += count
		return r.encode()
	})
	return first, err
}

// ---- broker registrations ----

// RegisterBroker writes b under a lease of its own and returns once the
// snapshot shows it. The lease is kept alive until ctx ends or the store
// closes, then revoked, which removes the registration at once; if the
// process dies instead, the lease expires after brokerLeaseTTL seconds. If
// the lease is lost while ctx lives (etcd unreachable for longer than the
// TTL), the registration is written again under a new lease. A later
// registration of the same node ID replaces the key; the earlier lease then
// no longer owns it.
func (s *Etcd) RegisterBroker(ctx context.Context, b Broker) error {
	if err := validateBroker(b); err != nil {
		return err
	}
	data, err := brokerRecord{Version: recordVersion, NodeID: b.NodeID, Host: b.Host, Port: b.Port, Rack: b.Rack}.encode()
	if err != nil {
		return err
	}
	key := s.prefix + brokersDir + strconv.Itoa(int(b.NodeID))

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.wg.Add(1)
	s.mu.Unlock()

	rctx, done, err := s.beginWrite(ctx, true) // small and essential, like a delete
	if err != nil {
		s.wg.Done()
		return err
	}
	lease, rev, err := s.grantAndPut(rctx, key, data)
	if err == nil {
		if err = s.commit(rctx, rev); err != nil {
			s.revoke(lease)
		}
	}
	if err != nil {
		done()
		s.wg.Done()
		return s.fail(ctx, err)
	}
	go func() {
		defer s.wg.Done()
		defer done()
		s.keepRegistered(rctx, b.NodeID, key, data, lease)
	}()
	return nil
}

// grantAndPut writes key under a new lease and returns the lease and the
// revision of the write.
func (s *Etcd) grantAndPut(ctx context.Context, key string, data []byte) (clientv3.LeaseID, int64, error) {
	l, err := s.cli.Grant(ctx, brokerLeaseTTL)
	if err != nil {
		return 0, 0, err
	}
	resp, err := s.cli.Put(ctx, key, string(data), clientv3.WithLease(l.ID))
	if err != nil {
		s.revoke(l.ID)
		return 0, 0, err
	}
	return l.ID, resp.Header.Revision, nil
}

// keepRegistered keeps lease alive while ctx lives, registers again if the
// lease is lost, and revokes the lease at the end.
func (s *Etcd) keepRegistered(ctx context.Context, node int32, key string, data []byte, lease clientv3.LeaseID) {
	bo := backoff{min: 100 * time.Millisecond, max: 5 * time.Second}
	for {
		started := time.Now()
		if ch, err := s.cli.KeepAlive(ctx, lease); err == nil {
			for range ch {
			}
		}
		if ctx.Err() != nil {
			s.revoke(lease)
			return
		}
		if time.Since(started) > 2*brokerLeaseTTL*time.Second {
			bo.reset()
		}
		s.lg.Warn("metadata: broker registration lease lost; registering again", "node", node)
		lease = 0
		for lease == 0 {
			if !sleepCtx(ctx, bo.next()) {
				return
			}
			l, _, err := s.grantAndPut(ctx, key, data)
			if err != nil {
				if ctx.Err() == nil {
					s.lg.Warn("metadata: registering broker failed", "node", node, "err", err)
				}
				continue
			}
			lease = l
		}
	}
}

// revoke ends a lease now, deleting the keys it still owns. If etcd cannot
// be reached, the lease expires on its own.
func (s *Etcd) revoke(lease clientv3.LeaseID) {
	ctx, cancel := context.WithTimeout(context.Background(), revokeTimeout)
	defer cancel()
	if _, err := s.cli.Revoke(ctx, lease); err != nil {
		s.lg.Debug("metadata: revoking lease failed; it will expire", "lease", int64(lease), "err", err)
	}
}

// Close ends the registrations (revoking their leases), stops the watcher,
// waits for every goroutine of the store, closes the client and, for an
// embedded store, stops the etcd server. Later writes fail with ErrClosed;
// reads answer from the last snapshot. Close may be called more than once.
func (s *Etcd) Close() error {
	s.closeOnce.Do(func() {
		s.quiet.Store(true)
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel()
		s.wg.Wait()
		err := s.cli.Close()
		if s.server != nil {
			err = errors.Join(err, s.server.close())
		}
		s.closeErr = err
	})
	return s.closeErr
}

// ---- retry pacing ----

// backoff yields exponentially growing, jittered delays between min and max.
type backoff struct {
	min, max time.Duration
	cur      time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	return b.cur/2 + rand.N(b.cur/2+1)
}

func (b *backoff) reset() { b.cur = 0 }

// sleepCtx waits d or until ctx ends; it reports whether ctx is still live.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
