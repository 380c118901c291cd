package metadata

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"
)

// Memory is a Store held in process memory, for unit tests of other
// packages. It has the same semantics as the etcd store (validation, errors,
// revisions, copies on read, Changes, registrations that end with their
// context) but keeps nothing across restarts.
type Memory struct {
	clusterID string
	snap      *snapshot
	done      chan struct{} // closed by Close; ends the registrations
	wg        sync.WaitGroup

	// mu serialises writes and guards the fields below.
	mu      sync.Mutex
	closed  bool
	rev     int64
	nextReg uint64
	owner   map[int32]uint64 // the registration that owns each broker entry
	nextPID int64
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store with the given cluster ID, or
// a fresh one in Kafka's format if clusterID is "".
func NewMemory(clusterID string) *Memory {
	if clusterID == "" {
		clusterID = newClusterID()
	}
	return &Memory{
		clusterID: clusterID,
		snap:      newSnapshot(),
		done:      make(chan struct{}),
		owner:     make(map[int32]uint64),
	}
}

// AllocateProducerIDs reserves count producer IDs.
func (m *Memory) AllocateProducerIDs(ctx context.Context, count int64) (int64, error) {
	if count <= 0 {
		return 0, fmt.Errorf("%w: producer id block of %d", ErrInvalid, count)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	first := m.nextPID
	m.nextPID += count
	return first, nil
}

func (m *Memory) ClusterID() string                           { return m.clusterID }
func (m *Memory) Topics() []Topic                             { return m.snap.topicList() }
func (m *Memory) Topic(name string) (Topic, bool)             { return m.snap.topic(name) }
func (m *Memory) TopicByID(id uuid.UUID) (Topic, bool)        { return m.snap.topicByID(id) }
func (m *Memory) Brokers() []Broker                           { return m.snap.brokerList() }
func (m *Memory) Changes() <-chan struct{}                    { return m.snap.subscribe() }
func (m *Memory) BrokerConfigs(node string) map[string]string { return m.snap.brokerConfigs(node) }

// write runs fn with m.mu and the snapshot's lock held; fn returns whether it
// changed anything. A change gets the next revision and is published.
func (m *Memory) write(ctx context.Context, fn func(rev int64) (bool, error)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return m.writeLocked(fn)
}

func (m *Memory) writeLocked(fn func(rev int64) (bool, error)) error {
	m.snap.mu.Lock()
	changed, err := fn(m.rev + 1)
	m.snap.mu.Unlock()
	if err != nil || !changed {
		return err
	}
	m.rev++
	m.snap.publish(m.rev)
	return nil
}

func (m *Memory) CreateTopic(ctx context.Context, spec TopicSpec) (Topic, error) {
	if err := validateSpec(spec); err != nil {
		return Topic{}, err
	}
	var out Topic
	err := m.write(ctx, func(rev int64) (bool, error) {
		if _, ok := m.snap.topics[spec.Name]; ok {
			return false, fmt.Errorf("%w: %q", ErrTopicExists, spec.Name)
		}
		if _, taken := m.snap.ids[spec.ID]; spec.ID != uuid.Nil && taken {
			return false, fmt.Errorf("%w: topic ID %s is taken", ErrInvalid, spec.ID)
		}
		t := Topic{
			Name:       spec.Name,
			ID:         specID(spec),
			Partitions: clonePartitions(spec.Partitions),
			Configs:    cloneConfigs(spec.Configs),
			Mirror:     cloneMirror(spec.Mirror),
			Revision:   rev,
		}
		m.snap.putTopicLocked(t)
		out = cloneTopic(t)
		return true, nil
	})
	return out, err
}

func (m *Memory) DeleteTopic(ctx context.Context, name string) error {
	return m.write(ctx, func(int64) (bool, error) {
		if _, ok := m.snap.topics[name]; !ok {
			return false, fmt.Errorf("%w: %q", ErrTopicNotFound, name)
		}
		m.snap.deleteTopicLocked(name)
		return true, nil
	})
}

func (m *Memory) AddPartitions(ctx context.Context, name string, parts []Partition) error {
	if len(parts) == 0 {
		return fmt.Errorf("%w: adding no partitions to %q", ErrInvalid, name)
	}
	return m.write(ctx, func(rev int64) (bool, error) {
		t, ok := m.snap.topics[name]
		if !ok {
			return false, fmt.Errorf("%w: %q", ErrTopicNotFound, name)
		}
		t = cloneTopic(t)
		t.Partitions = append(t.Partitions, clonePartitions(parts)...)
		t.Revision = rev
		m.snap.putTopicLocked(t)
		return true, nil
	})
}

func (m *Memory) SetTopicConfigs(ctx context.Context, name string, configs map[string]string) error {
	return m.write(ctx, func(rev int64) (bool, error) {
		t, ok := m.snap.topics[name]
		if !ok {
			return false, fmt.Errorf("%w: %q", ErrTopicNotFound, name)
		}
		t = cloneTopic(t)
		t.Configs = cloneConfigs(configs)
		t.Revision = rev
		m.snap.putTopicLocked(t)
		return true, nil
	})
}

// UpdateTopic rewrites a topic through fn.
func (m *Memory) UpdateTopic(ctx context.Context, name string, fn func(*Topic) error) error {
	return m.write(ctx, func(rev int64) (bool, error) {
		t, ok := m.snap.topics[name]
		if !ok {
			return false, fmt.Errorf("%w: %q", ErrTopicNotFound, name)
		}
		r := topicRecord{Name: t.Name, ID: t.ID, Partitions: partitionRecords(t.Partitions), Configs: t.Configs,
			Mirror: mirrorToRecord(t.Mirror), extra: t.Extra}
		if err := applyTopicUpdate(&r, fn); err != nil {
			return false, err
		}
		nt := r.topic(rev)
		for i := range nt.Partitions { // keep replicas and leaders as stored
			nt.Partitions[i].Replicas, nt.Partitions[i].Leader = cloneReplicas(t.Partitions[i].Replicas), t.Partitions[i].Leader
		}
		m.snap.putTopicLocked(nt)
		return true, nil
	})
}

func (m *Memory) Links() []Link                 { return m.snap.linkList() }
func (m *Memory) Link(name string) (Link, bool) { return m.snap.link(name) }

// CreateLink stores a new link.
func (m *Memory) CreateLink(ctx context.Context, l Link) error {
	if err := validateLinkName(l.Name); err != nil {
		return err
	}
	return m.write(ctx, func(rev int64) (bool, error) {
		if _, ok := m.snap.links[l.Name]; ok {
			return false, fmt.Errorf("%w: %q", ErrLinkExists, l.Name)
		}
		nl := cloneLink(l)
		nl.Revision = rev
		m.snap.putLinkLocked(nl)
		return true, nil
	})
}

// UpdateLink rewrites a link through fn.
func (m *Memory) UpdateLink(ctx context.Context, name string, fn func(*Link) error) error {
	return m.write(ctx, func(rev int64) (bool, error) {
		l, ok := m.snap.links[name]
		if !ok {
			return false, fmt.Errorf("%w: %q", ErrLinkNotFound, name)
		}
		l = cloneLink(l)
		if err := fn(&l); err != nil {
			return false, err
		}
		l.Name, l.Revision = name, rev
		m.snap.putLinkLocked(l)
		return true, nil
	})
}

// DeleteLink removes a link.
func (m *Memory) DeleteLink(ctx context.Context, name string) error {
	return m.write(ctx, func(int64) (bool, error) {
		if _, ok := m.snap.links[name]; !ok {
			return false, fmt.Errorf("%w: %q", ErrLinkNotFound, name)
		}
		m.snap.deleteLinkLocked(name)
		return true, nil
	})
}

func (m *Memory) SetBrokerConfigs(ctx context.Context, node string, configs map[string]string) error {
	if _, err := configsNode(node); err != nil {
		return err
	}
	return m.write(ctx, func(int64) (bool, error) {
		m.snap.putConfigsLocked(node, cloneConfigs(configs))
		return true, nil
	})
}

// RegisterBroker adds b to Brokers until ctx ends or the store closes. A
// later registration of the same node ID replaces it, and the earlier one's
// end then no longer removes the entry (as with the etcd store's leases).
func (m *Memory) RegisterBroker(ctx context.Context, b Broker) error {
	if err := validateBroker(b); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.nextReg++
	reg := m.nextReg
	m.owner[b.NodeID] = reg
	if err := m.writeLocked(func(int64) (bool, error) {
		m.snap.putBrokerLocked(b)
		return true, nil
	}); err != nil {
		return err
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		select {
		case <-ctx.Done():
		case <-m.done:
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.owner[b.NodeID] != reg {
			return
		}
		delete(m.owner, b.NodeID)
		_ = m.writeLocked(func(int64) (bool, error) {
			m.snap.deleteBrokerLocked(b.NodeID)
			return true, nil
		})
	}()
	return nil
}

// Close ends every registration and waits for their goroutines. Later
// writes fail with ErrClosed; reads keep answering from the last state.
func (m *Memory) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		m.wg.Wait()
		return nil
	}
	m.closed = true
	close(m.done)
	m.mu.Unlock()
	m.wg.Wait()
	return nil
}
