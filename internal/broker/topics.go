package broker

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/strait-kafka/strait/internal/config"
	"github.com/strait-kafka/strait/internal/metadata"
	"github.com/strait-kafka/strait/internal/partition"
)

// maxPartitionsPerTopic bounds one topic, so that a single request cannot
// ask the broker to create millions of directories.
const maxPartitionsPerTopic = 10000

// maxTopicNameLength is Kafka's limit (249, leaving room for partition suffixes).
const maxTopicNameLength = 249

// validateTopicName applies Kafka's topic name rules.
func validateTopicName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: topic name is empty", kerr.InvalidTopicException)
	case name == "." || name == "..":
		return fmt.Errorf("%w: topic name cannot be %q", kerr.InvalidTopicException, name)
	case len(name) > maxTopicNameLength:
		return fmt.Errorf("%w: topic name is %d characters, the limit is %d", kerr.InvalidTopicException, len(name), maxTopicNameLength)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: topic name %q contains %q; legal characters are ASCII letters, digits, '.', '_' and '-'",
				kerr.InvalidTopicException, name, c)
		}
	}
	return nil
}

// isInternalTopic reports Kafka's internal topics.
func isInternalTopic(name string) bool {
	return name == "__consumer_offsets" || name == "__transaction_state"
}

// topicRequest is a topic to create.
type topicRequest struct {
	Name         string
	Partitions   int32 // -1 = num.partitions
	Replication  int16 // -1 = default.replication.factor
	Assignment   [][]int32
	Configs      map[string]string
	ValidateOnly bool
	Mirror       *metadata.Mirror // set for mirror topics
}

// createTopic validates and creates a topic, then opens its partitions
// here before returning so that the next request can use them.
func (b *Broker) createTopic(ctx context.Context, r topicRequest) (metadata.Topic, error) {
	if err := validateTopicName(r.Name); err != nil {
		return metadata.Topic{}, err
	}
	if _, ok := b.meta.Topic(r.Name); ok {
		return metadata.Topic{}, fmt.Errorf("%w: topic '%s' already exists", kerr.TopicAlreadyExists, r.Name)
	}
	if err := b.checkTopicCollision(r.Name); err != nil {
		return metadata.Topic{}, err
	}
	cfg := b.Config()
	brokers := b.liveBrokerIDs()
	var parts []metadata.Partition
	if len(r.Assignment) > 0 {
		if r.Partitions != -1 || r.Replication != -1 {
			return metadata.Topic{}, fmt.Errorf("%w: both a replica assignment and a partition count or replication factor were given", kerr.InvalidRequest)
		}
		if len(r.Assignment) > maxPartitionsPerTopic {
			return metadata.Topic{}, fmt.Errorf("%w: %d partitions is more than the %d a topic may have", kerr.InvalidPartitions, len(r.Assignment), maxPartitionsPerTopic)
		}
		for i, reps := range r.Assignment {
			if err := checkAssignment(i, reps, brokers, len(r.Assignment[0])); err != nil {
				return metadata.Topic{}, err
			}
			parts = append(parts, metadata.Partition{Replicas: append([]int32(nil), reps...), Leader: reps[0]})
		}
	} else {
		n := r.Partitions
		if n == -1 {
			n = cfg.NumPartitions
		}
		if n <= 0 {
			return metadata.Topic{}, fmt.Errorf("%w: number of partitions must be larger than 0", kerr.InvalidPartitions)
		}
		if n > maxPartitionsPerTopic {
			return metadata.Topic{}, fmt.Errorf("%w: %d partitions is more than the %d a topic may have", kerr.InvalidPartitions, n, maxPartitionsPerTopic)
		}
		rf := r.Replication
		if rf == -1 {
			rf = cfg.DefaultReplication
		}
		if rf <= 0 {
			return metadata.Topic{}, fmt.Errorf("%w: replication factor must be larger than 0", kerr.InvalidReplicationFactor)
		}
		if int(rf) > len(brokers) {
			return metadata.Topic{}, fmt.Errorf("%w: replication factor: %d larger than available brokers: %d", kerr.InvalidReplicationFactor, rf, len(brokers))
		}
		for i := int32(0); i < n; i++ {
			parts = append(parts, b.placePartition(brokers, int(i), int(rf)))
		}
	}
	if err := config.ValidateTopicConfigs(r.Configs); err != nil {
		return metadata.Topic{}, err
	}
	if r.ValidateOnly {
		return metadata.Topic{Name: r.Name, Partitions: parts, Configs: r.Configs}, nil
	}
	// The partitions' files come first: a disk that cannot hold them fails
	// the request while the metadata has no trace of the topic.
	id := uuid.New()
	local := b.localAssignments(r.Name, id, parts, 0, r.Configs)
	if err := b.parts.Prepare(local); err != nil {
		return metadata.Topic{}, fmt.Errorf("%w: creating the partitions' files: %v", kerr.KafkaStorageError, err)
	}
	t, err := b.meta.CreateTopic(ctx, metadata.TopicSpec{ID: id, Name: r.Name, Partitions: parts, Configs: r.Configs, Mirror: r.Mirror})
	if err != nil {
		b.parts.Discard(local)
		return metadata.Topic{}, err
	}
	b.lg.Info("created topic", "topic", t.Name, "topic_id", t.ID, "partitions", len(t.Partitions))
	if err := b.Reconcile(); err != nil {
		// The topic exists; a partition that could not be opened is
		// offline, reported, and retried.
		b.lg.Warn("opening the partitions of a new topic", "topic", t.Name, "err", err)
	}
	return t, nil
}

// addPartitions adds partitions to t: their files first, then the
// metadata, so that a failure leaves no trace in the metadata.
func (b *Broker) addPartitions(ctx context.Context, t metadata.Topic, add []metadata.Partition) error {
	local := b.localAssignments(t.Name, t.ID, add, len(t.Partitions), t.Configs)
	if err := b.parts.Prepare(local); err != nil {
		return fmt.Errorf("%w: creating the partitions' files: %v", kerr.KafkaStorageError, err)
	}
	if err := b.meta.AddPartitions(ctx, t.Name, add); err != nil {
		b.parts.Discard(local)
		return err
	}
	return nil
}

// localAssignments are the partitions of a topic (from index first on) that
// this broker stores, with the configs they will have.
func (b *Broker) localAssignments(topic string, id uuid.UUID, parts []metadata.Partition, first int, configs map[string]string) []partition.Assignment {
	pc := b.partitionConfig(b.dynamicDefaults(), configs)
	var out []partition.Assignment
	for i, p := range parts {
		if containsNode(p.Replicas, b.nodeID) {
			out = append(out, partition.Assignment{Topic: topic, TopicID: id, Index: int32(first + i), LeaderEpoch: p.LeaderEpoch, Config: pc})
		}
	}
	return out
}

// checkAssignment applies Kafka's rules to the manual replica assignment of
// partition i: some replicas, each a live broker named once, as many as the
// topic's other partitions have (rf).
func checkAssignment(i int, reps, brokers []int32, rf int) error {
	if len(reps) == 0 {
		return fmt.Errorf("%w: partition %d has no replicas", kerr.InvalidReplicaAssignment, i)
	}
	for j, n := range reps {
		if !containsNode(brokers, n) {
			return fmt.Errorf("%w: broker %d of partition %d is not a live broker", kerr.InvalidReplicaAssignment, n, i)
		}
		if containsNode(reps[:j], n) {
			return fmt.Errorf("%w: the assignment of partition %d names broker %d more than once", kerr.InvalidReplicaAssignment, i, n)
		}
	}
	if len(reps) != rf {
		return fmt.Errorf("%w: partition %d has %d replicas, but the topic's other partitions have %d", kerr.InvalidReplicaAssignment, i, len(reps), rf)
	}
	return nil
}

// checkTopicCollision refuses names that differ from an existing topic only
// in '.' versus '_', which collide in metric names (Kafka's rule).
func (b *Broker) checkTopicCollision(name string) error {
	if !strings.ContainsAny(name, "._") {
		return nil
	}
	norm := strings.ReplaceAll(name, ".", "_")
	for _, t := range b.meta.Topics() {
		if t.Name != name && strings.ReplaceAll(t.Name, ".", "_") == norm {
			return fmt.Errorf("%w: topic '%s' collides with existing topic: %s", kerr.InvalidTopicException, name, t.Name)
		}
	}
	return nil
}

// placePartition assigns replicas round-robin over the live brokers.
func (b *Broker) placePartition(brokers []int32, i, rf int) metadata.Partition {
	reps := make([]int32, rf)
	for r := 0; r < rf; r++ {
		reps[r] = brokers[(i+r)%len(brokers)]
	}
	return metadata.Partition{Replicas: reps, Leader: reps[0]}
}

// liveBrokerIDs returns the registered brokers (always including this one).
func (b *Broker) liveBrokerIDs() []int32 {
	ids := []int32{b.nodeID}
	for _, br := range b.meta.Brokers() {
		if br.NodeID != b.nodeID {
			ids = append(ids, br.NodeID)
		}
	}
	return ids
}

// brokerList is what Metadata and DescribeCluster report.
func (b *Broker) brokerList() []metadata.Broker {
	self := b.advertised.Load()
	out := []metadata.Broker{}
	if self != nil {
		out = append(out, *self)
	}
	for _, br := range b.meta.Brokers() {
		if self == nil || br.NodeID != self.NodeID {
			out = append(out, br)
		}
	}
	return out
}

// localPartition finds a partition this broker leads. code is
// UNKNOWN_TOPIC_OR_PARTITION for a partition that does not exist and
// NOT_LEADER_OR_FOLLOWER for one stored elsewhere.
func (b *Broker) localPartition(topic string, index int32) (*partition.Partition, int16) {
	t, ok := b.meta.Topic(topic)
	if !ok || index < 0 || int(index) >= len(t.Partitions) {
		return nil, kerr.UnknownTopicOrPartition.Code
	}
	if t.Partitions[index].Leader != b.nodeID {
		return nil, kerr.NotLeaderForPartition.Code
	}
	p := b.parts.Get(topic, index)
	if p == nil {
		if _, offline := b.parts.Offline(topic, index); offline {
			return nil, kerr.KafkaStorageError.Code
		}
		return nil, kerr.NotLeaderForPartition.Code
	}
	return p, 0
}

// reconcileAfter applies a metadata change made by an admin request to the
// local partitions before the request is answered.
func (b *Broker) reconcileAfter(changed bool, what string) {
	if !changed {
		return
	}
	if err := b.Reconcile(); err != nil {
		b.lg.Warn("applying "+what, "err", err)
	}
}

// topicOrZero returns the topic, or the zero Topic when it does not exist.
func topicOrZero(b *Broker, name string) metadata.Topic {
	t, _ := b.meta.Topic(name)
	return t
}
