package broker

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/strait-kafka/strait/internal/config"
	"github.com/strait-kafka/strait/internal/metadata"
	"github.com/strait-kafka/strait/internal/partition"
)

// Mirror topics are written only by their cluster link until they are
// stopped (promoted or failed over); after that only producers write them.
// This file holds the broker's side of that rule and the operations the link
// manager uses to create and grow mirror topics.

// stoppedState is the mirror state in which a mirror became a normal topic.
const stoppedState = "STOPPED"

// MirrorMarkerConfig is a read-only entry DescribeConfigs reports on mirror
// topics that still mirror (value: the link name), so that a cluster link
// reading this cluster can tell mirrors from ordinary topics.
const MirrorMarkerConfig = "strait.mirror.link"

// isReadOnlyMirror reports a mirror topic that its link still writes.
func isReadOnlyMirror(t metadata.Topic) bool {
	return t.Mirror != nil && t.Mirror.State != stoppedState
}

func readOnlyMirrorError(topic string) error {
	return fmt.Errorf("%w: Cannot append records to read-only mirror topic '%s'", kerr.InvalidRequest, topic)
}

// checkMirrorConfigChange refuses a change to the configs a mirror takes
// from its source.
func checkMirrorConfigChange(t metadata.Topic, updated map[string]string) error {
	if !isReadOnlyMirror(t) {
		return nil
	}
	for _, k := range config.MirrorSyncedTopicKeys {
		old, hadOld := t.Configs[k]
		nv, hasNew := updated[k]
		if hadOld != hasNew || old != nv {
			return fmt.Errorf("%w: Cannot set configuration '%s' for mirror topic '%s'", kerr.InvalidConfig, k, t.Name)
		}
	}
	return nil
}

// MirrorTopicSpec is what the link manager asks for when creating a mirror.
type MirrorTopicSpec struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16 // -1: default.replication.factor
	Configs           map[string]string
	Mirror            *metadata.Mirror
}

// CreateMirrorTopic creates a mirror topic (validated like any topic) and
// opens its partitions here before returning.
func (b *Broker) CreateMirrorTopic(ctx context.Context, s MirrorTopicSpec) (metadata.Topic, error) {
	return b.createTopic(ctx, topicRequest{
		Name: s.Name, Partitions: s.Partitions, Replication: s.ReplicationFactor,
		Configs: s.Configs, Mirror: s.Mirror,
	})
}

// GrowMirrorTopic adds partitions to a mirror so that it has count, as its
// source grew. Fewer or equal partitions are a no-op.
func (b *Broker) GrowMirrorTopic(ctx context.Context, topic string, count int32) error {
	t, ok := b.meta.Topic(topic)
	if !ok {
		return fmt.Errorf("%w: topic '%s' does not exist", kerr.UnknownTopicOrPartition, topic)
	}
	cur := int32(len(t.Partitions))
	if count <= cur {
		return nil
	}
	rf := 1
	if cur > 0 {
		rf = len(t.Partitions[0].Replicas)
	}
	brokers := b.liveBrokerIDs()
	var add []metadata.Partition
	for i := cur; i < count; i++ {
		add = append(add, b.placePartition(brokers, int(i), rf))
	}
	if err := b.addPartitions(ctx, t, add); err != nil {
		return err
	}
	b.lg.Info("mirror topic grew with its source", "topic", topic, "from", cur, "to", count)
	return b.Reconcile()
}

// Partition returns the local partition (nil when not stored here).
func (b *Broker) Partition(topic string, index int32) *partition.Partition {
	return b.parts.Get(topic, index)
}

// Metadata is the cluster metadata store.
func (b *Broker) Metadata() metadata.Store { return b.meta }
