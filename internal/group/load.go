package group

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/partition"
	"github.com/strait-kafka/strait/internal/record"
	"github.com/strait-kafka/strait/internal/storage"
)

// loadReadBytes is how much of a partition is read per step while loading.
const loadReadBytes = 4 << 20

// loadState accumulates the replayed records of __consumer_offsets: the
// last value of each key wins and a tombstone deletes it.
type loadState struct {
	offsets map[string]map[TopicPartition]Offset
	meta    map[string]*kmsg.GroupMetadataValue
}

func newLoadState() *loadState {
	return &loadState{offsets: map[string]map[TopicPartition]Offset{}, meta: map[string]*kmsg.GroupMetadataValue{}}
}

func (st *loadState) apply(r logRecord) {
	if r.isOffset {
		if r.offset == nil {
			delete(st.offsets[r.group], r.tp)
			return
		}
		m := st.offsets[r.group]
		if m == nil {
			m = map[TopicPartition]Offset{}
			st.offsets[r.group] = m
		}
		m[r.tp] = *r.offset
		return
	}
	if r.meta == nil {
		delete(st.meta, r.group)
		return
	}
	st.meta[r.group] = r.meta
}

// replay reads partition index of Topic from its start to its end, whole
// batches at a time, and applies its records to st.
func (c *Coordinator) replay(p *partition.Partition, index int32, st *loadState) error {
	l := p.Log()
	off, end := l.StartOffset(), l.NextOffset()
	for off < end {
		chunk, err := l.Read(off, loadReadBytes, end)
		if err != nil {
			return err
		}
		if chunk.Len == 0 {
			return nil // a gap at the end of the log
		}
		buf, err := storage.ReadChunk(chunk)
		chunk.Release()
		if err != nil {
			return err
		}
		for rest := buf; len(rest) > 0; {
			batch, r, h, err := record.Next(rest)
			if err != nil {
				return fmt.Errorf("batch at offset %d: %w", off, err)
			}
			rest = r
			off = h.LastOffset() + 1
			if h.IsControl() {
				continue
			}
			recs, err := record.Records(batch)
			if err != nil {
				return fmt.Errorf("batch at offset %d: %w", h.BaseOffset, err)
			}
			for _, rec := range recs {
				lr, err := decodeRecord(rec.Key, rec.Value)
				if err != nil {
					// A record this version cannot read is reported and
					// skipped: refusing to start would lose every group.
					if !errors.Is(err, errUnknownKey) {
						c.lg.Error("skipping unreadable record", "partition", index, "offset", rec.Offset, "err", err)
					}
					continue
				}
				st.apply(lr)
			}
		}
	}
	return nil
}

// build makes the groups: a group with stored members comes back Stable
// with its generation, protocol, leader, members and assignments (members
// that do not heartbeat again expire after their session timeout), a group
// without members comes back Empty, and a group with offsets but no
// metadata is a simple group (no protocol type).
func (st *loadState) build(partitions int32, now time.Time) map[string]*group {
	groups := map[string]*group{}
	get := func(id string) *group {
		g := groups[id]
		if g == nil {
			g = newGroup(id, PartitionFor(id, partitions), now)
			groups[id] = g
		}
		return g
	}
	for id, v := range st.meta {
		g := get(id)
		g.protocolType = v.ProtocolType
		g.generation = v.Generation
		if v.CurrentStateTimestamp > 0 {
			g.stateTime = time.UnixMilli(v.CurrentStateTimestamp)
		}
		if len(v.Members) == 0 || v.Protocol == nil || *v.Protocol == "" {
			continue
		}
		g.protocol = *v.Protocol
		for _, vm := range v.Members {
			m := &member{
				id: vm.MemberID, instanceID: vm.InstanceID, clientID: vm.ClientID, clientHost: vm.ClientHost,
				rebalanceTimeout: time.Duration(vm.RebalanceTimeoutMillis) * time.Millisecond,
				sessionTimeout:   time.Duration(vm.SessionTimeoutMillis) * time.Millisecond,
				protocolType:     v.ProtocolType,
				protocols:        []protocol{{name: g.protocol, metadata: vm.Subscription}},
				assignment:       vm.Assignment,
			}
			if m.rebalanceTimeout <= 0 {
				m.rebalanceTimeout = m.sessionTimeout
			}
			g.add(m, nil)
		}
		if v.Leader != nil && g.has(*v.Leader) {
			g.leader = *v.Leader
		}
		g.state = StateStable
		g.subscribed = g.computeSubscribed()
	}
	for id, offs := range st.offsets {
		if len(offs) == 0 {
			continue
		}
		g := get(id)
		for tp, o := range offs {
			g.offsets[tp] = o
		}
	}
	for id, g := range groups {
		if g.state == StateEmpty && g.protocolType == consumerProtocolType && g.subscribed == nil {
			g.subscribed = map[string]bool{}
		}
		if g.state == StateEmpty && len(g.offsets) == 0 && g.protocolType == "" {
			delete(groups, id)
		}
	}
	return groups
}
