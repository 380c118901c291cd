package metadata

// This file is the local snapshot both stores read from, with the revision
// waiters and the Changes subscribers.

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"
)

// snapshot is an in-memory copy of the cluster metadata at revision rev.
// Readers get deep copies, never the snapshot's own maps or slices.
type snapshot struct {
	mu      sync.RWMutex
	topics  map[string]Topic
	ids     map[uuid.UUID]string
	brokers map[int32]Broker
	configs map[string]map[string]string // by node; "" is the cluster default
	links   map[string]Link

	revMu sync.Mutex
	rev   int64         // every change up to rev is visible to readers
	revCh chan struct{} // closed, and replaced, when rev advances

	subsMu sync.Mutex
	subs   []chan struct{}
}

func newSnapshot() *snapshot {
	s := &snapshot{revCh: make(chan struct{})}
	s.resetLocked()
	return s
}

// resetLocked empties the snapshot; s.mu must be held for writing (or s not
// yet shared).
func (s *snapshot) resetLocked() {
	s.topics = make(map[string]Topic)
	s.ids = make(map[uuid.UUID]string)
	s.brokers = make(map[int32]Broker)
	s.configs = make(map[string]map[string]string)
	s.links = make(map[string]Link)
}

func (s *snapshot) linkList() []Link {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Link, 0, len(s.links))
	for _, l := range s.links {
		out = append(out, cloneLink(l))
	}
	slices.SortFunc(out, func(a, b Link) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (s *snapshot) link(name string) (Link, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, ok := s.links[name]
	if !ok {
		return Link{}, false
	}
	return cloneLink(l), true
}

func (s *snapshot) putLinkLocked(l Link)         { s.links[l.Name] = l }
func (s *snapshot) deleteLinkLocked(name string) { delete(s.links, name) }

func (s *snapshot) topicList() []Topic {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Topic, 0, len(s.topics))
	for _, t := range s.topics {
		out = append(out, cloneTopic(t))
	}
	slices.SortFunc(out, func(a, b Topic) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (s *snapshot) topic(name string) (Topic, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.topics[name]
	if !ok {
		return Topic{}, false
	}
	return cloneTopic(t), true
}

func (s *snapshot) topicByID(id uuid.UUID) (Topic, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	name, ok := s.ids[id]
	if !ok {
		return Topic{}, false
	}
	return cloneTopic(s.topics[name]), true
}

func (s *snapshot) brokerList() []Broker {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Broker, 0, len(s.brokers))
	for _, b := range s.brokers {
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b Broker) int { return cmp.Compare(a.NodeID, b.NodeID) })
	return out
}

func (s *snapshot) brokerConfigs(node string) map[string]string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return cloneConfigs(s.configs[node])
}

// putTopicLocked stores t (which the snapshot then owns).
func (s *snapshot) putTopicLocked(t Topic) {
	if old, ok := s.topics[t.Name]; ok && old.ID != t.ID {
		delete(s.ids, old.ID)
	}
	s.topics[t.Name] = t
	s.ids[t.ID] = t.Name
}

func (s *snapshot) deleteTopicLocked(name string) {
	if old, ok := s.topics[name]; ok {
		delete(s.ids, old.ID)
		delete(s.topics, name)
	}
}

func (s *snapshot) putBrokerLocked(b Broker)        { s.brokers[b.NodeID] = b }
func (s *snapshot) deleteBrokerLocked(nodeID int32) { delete(s.brokers, nodeID) }

func (s *snapshot) putConfigsLocked(node string, c map[string]string) { s.configs[node] = c }
func (s *snapshot) deleteConfigsLocked(node string)                   { delete(s.configs, node) }

// publish is called after every change to the snapshot, outside s.mu. It
// signals the subscribers first and only then advances the revision, so that
// a writer woken by waitRev finds every Changes channel already signalled.
func (s *snapshot) publish(rev int64) {
	s.notify()
	s.revMu.Lock()
	defer s.revMu.Unlock()
	if rev > s.rev {
		s.rev = rev
		close(s.revCh)
		s.revCh = make(chan struct{})
	}
}

// waitRev returns once the snapshot has reached rev, or with ctx's error.
func (s *snapshot) waitRev(ctx context.Context, rev int64) error {
	for {
		s.revMu.Lock()
		cur, ch := s.rev, s.revCh
		s.revMu.Unlock()
		if cur >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// subscribe returns a new coalescing change channel.
func (s *snapshot) subscribe() <-chan struct{} {
	ch := make(chan struct{}, 1)
	s.subsMu.Lock()
	s.subs = append(s.subs, ch)
	s.subsMu.Unlock()
	return ch
}

// notify signals every subscriber without blocking: a subscriber that has
// not yet drained its previous signal has nothing more to learn.
func (s *snapshot) notify() {
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	for _, ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
