package group

import (
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/record"
)

// appendRecords writes records as one batch to the group's partition of
// Topic through the leader append path, and returns once the append
// returned. Errors are Kafka errors as the produce path reports them.
func (c *Coordinator) appendRecords(g *group, recs []record.Record) error {
	if len(recs) == 0 {
		return nil
	}
	p := c.parts.Get(Topic, g.partition)
	if p == nil {
		return kerr.NotLeaderForPartition
	}
	now := c.clock.Now().UnixMilli()
	for i := range recs {
		recs[i].Offset = int64(i)
		recs[i].Timestamp = now
	}
	batch, err := record.Build(record.Batch{
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
		BaseTimestamp: now, Records: recs,
	})
	if err != nil {
		return err
	}
	_, err = p.AppendAsLeader(batch, -1)
	return err
}

// storeError maps an append failure to the error a group write reports
// (Kafka's GroupMetadataManager.storeGroup).
func storeError(err error) *kerr.Error {
	if err == nil {
		return nil
	}
	var ke *kerr.Error
	if !errors.As(err, &ke) {
		return kerr.UnknownServerError
	}
	switch ke {
	case kerr.UnknownTopicOrPartition, kerr.NotEnoughReplicas, kerr.NotEnoughReplicasAfterAppend:
		return kerr.CoordinatorNotAvailable
	case kerr.NotLeaderForPartition, kerr.KafkaStorageError:
		return kerr.NotCoordinator
	}
	return kerr.UnknownServerError
}

// commitError maps an append failure to the error an offset commit reports
// (Kafka's GroupMetadataManager.storeOffsets).
func commitError(err error) *kerr.Error {
	if err == nil {
		return nil
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		switch ke {
		case kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidFetchSize:
			return kerr.InvalidCommitOffsetSize
		}
	}
	return storeError(err)
}

// groupRecordLocked is the group's metadata record (GroupMetadataValue v3)
// with the given assignments. Requires g.mu.
func (c *Coordinator) groupRecordLocked(g *group, assignment map[string][]byte) record.Record {
	v := kmsg.NewGroupMetadataValue()
	v.Version = groupValueVersion
	v.ProtocolType = g.protocolType
	v.Generation = g.generation
	v.Protocol = g.protocolPtr()
	if g.leader != "" {
		l := g.leader
		v.Leader = &l
	}
	v.CurrentStateTimestamp = g.stateTime.UnixMilli()
	for _, m := range g.membersInOrder() {
		vm := kmsg.NewGroupMetadataValueMember()
		vm.MemberID = m.id
		vm.InstanceID = m.instanceID
		vm.ClientID = m.clientID
		vm.ClientHost = m.clientHost
		vm.RebalanceTimeoutMillis = int32(m.rebalanceTimeout / time.Millisecond)
		vm.SessionTimeoutMillis = int32(m.sessionTimeout / time.Millisecond)
		vm.Subscription = m.metadata(g.protocol)
		if vm.Subscription == nil {
			vm.Subscription = []byte{}
		}
		vm.Assignment = assignment[m.id]
		if vm.Assignment == nil {
			vm.Assignment = []byte{}
		}
		v.Members = append(v.Members, vm)
	}
	return record.Record{Key: groupKey(g.id), Value: v.AppendTo(nil)}
}

// storeGroupLocked persists the group's metadata. Requires g.mu.
func (c *Coordinator) storeGroupLocked(g *group, assignment map[string][]byte) *kerr.Error {
	err := c.appendRecords(g, []record.Record{c.groupRecordLocked(g, assignment)})
	if err != nil {
		c.lg.Warn("writing group metadata failed", "group", g.id, "err", err)
	}
	return storeError(err)
}

// storeOffsetsLocked persists offsets and, once written, makes them the
// group's committed offsets. Requires g.mu.
func (c *Coordinator) storeOffsetsLocked(g *group, offsets map[TopicPartition]Offset) *kerr.Error {
	recs := make([]record.Record, 0, len(offsets))
	for _, tp := range sortedTPs(offsets) {
		recs = append(recs, record.Record{Key: offsetKey(g.id, tp), Value: offsetValue(offsets[tp])})
	}
	if err := c.appendRecords(g, recs); err != nil {
		c.lg.Warn("writing offsets failed", "group", g.id, "err", err)
		return commitError(err)
	}
	for tp, o := range offsets {
		g.offsets[tp] = o
	}
	return nil
}

// cleanupLocked removes the offsets select picks; a group left Empty
// without offsets becomes Dead and is forgotten. Tombstones for what was
// removed are written afterwards (a failed write is logged: the offsets are
// gone from memory either way, as in Kafka). Requires g.mu.
func (c *Coordinator) cleanupLocked(g *group, now time.Time, selected []TopicPartition) int {
	var recs []record.Record
	for _, tp := range selected {
		if _, ok := g.offsets[tp]; !ok {
			continue
		}
		delete(g.offsets, tp)
		recs = append(recs, record.Record{Key: offsetKey(g.id, tp)})
	}
	removed := len(recs)
	if g.state == StateEmpty && len(g.offsets) == 0 {
		g.transition(StateDead, now)
	}
	if g.state == StateDead {
		c.removeGroup(g)
		recs = append(recs, record.Record{Key: groupKey(g.id)})
	}
	if err := c.appendRecords(g, recs); err != nil {
		c.lg.Warn("writing tombstones failed", "group", g.id, "err", err)
	}
	return removed
}

func sortedTPs[V any](m map[TopicPartition]V) []TopicPartition {
	out := make([]TopicPartition, 0, len(m))
	for tp := range m {
		out = append(out, tp)
	}
	sortTPs(out)
	return out
}
