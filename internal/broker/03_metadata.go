package broker

// Metadata (key 3), versions 0-12.
//
// v0 treats an empty topic list as "all topics"; v1+ uses a null list for
// that. v4+ carries AllowAutoTopicCreation (earlier versions always allow
// it); v10+ names topics by ID as well as by name and returns topic IDs.
// Topics are auto-created with num.partitions and default.replication.factor
// when auto.create.topics.enable is true and the request allows it.

import (
	"context"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/metadata"
)

func init() { register(3, 0, 12, handleMetadata) }

func handleMetadata(ctx context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	req := kreq.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)

	for _, br := range b.brokerList() {
		rb := kmsg.NewMetadataResponseBroker()
		rb.NodeID, rb.Host, rb.Port = br.NodeID, br.Host, br.Port
		if br.Rack != "" {
			rack := br.Rack
			rb.Rack = &rack
		}
		resp.Brokers = append(resp.Brokers, rb)
	}
	cid := b.ClusterID()
	resp.ClusterID = &cid
	resp.ControllerID = b.nodeID

	all := req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0)
	if all {
		for _, t := range b.meta.Topics() {
			resp.Topics = append(resp.Topics, b.metadataTopic(t))
		}
		return Reply{Msg: resp}, nil
	}
	autoCreate := b.Config().AutoCreateTopics && (req.Version < 4 || req.AllowAutoTopicCreation)
	for _, rt := range req.Topics {
		if rt.Topic == nil {
			id := uuid.UUID(rt.TopicID)
			t, ok := b.meta.TopicByID(id)
			if !ok {
				mt := kmsg.NewMetadataResponseTopic()
				mt.TopicID = rt.TopicID
				mt.ErrorCode = kerr.UnknownTopicID.Code
				resp.Topics = append(resp.Topics, mt)
				continue
			}
			resp.Topics = append(resp.Topics, b.metadataTopic(t))
			continue
		}
		name := *rt.Topic
		t, ok := b.meta.Topic(name)
		if !ok {
			mt := kmsg.NewMetadataResponseTopic()
			mt.Topic = &name
			if err := validateTopicName(name); err != nil {
				mt.ErrorCode = kerr.InvalidTopicException.Code
				resp.Topics = append(resp.Topics, mt)
				continue
			}
			if !autoCreate || isInternalTopic(name) {
				mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
				resp.Topics = append(resp.Topics, mt)
				continue
			}
			created, err := b.createTopic(ctx, topicRequest{Name: name, Partitions: -1, Replication: -1})
			if err != nil && errorCode(err) != kerr.TopicAlreadyExists.Code {
				b.lg.Warn("auto-creating topic failed", "topic", name, "err", err)
				mt.ErrorCode = errorCode(err)
				resp.Topics = append(resp.Topics, mt)
				continue
			}
			if err != nil { // created concurrently
				created, _ = b.meta.Topic(name)
			}
			t = created
		}
		resp.Topics = append(resp.Topics, b.metadataTopic(t))
	}
	return Reply{Msg: resp}, nil
}

func (b *Broker) metadataTopic(t metadata.Topic) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	name := t.Name
	mt.Topic = &name
	mt.TopicID = t.ID
	mt.IsInternal = isInternalTopic(t.Name)
	for i, p := range t.Partitions {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition = int32(i)
		mp.Leader = p.Leader
		mp.LeaderEpoch = p.LeaderEpoch
		mp.Replicas = append([]int32(nil), p.Replicas...)
		mp.ISR = append([]int32(nil), p.Replicas...)
		mp.OfflineReplicas = []int32{}
		if _, offline := b.parts.Offline(t.Name, int32(i)); offline && p.Leader == b.nodeID {
			// The only replica cannot be served: no leader, as Kafka
			// reports a partition whose replicas are all offline.
			mp.ErrorCode = kerr.LeaderNotAvailable.Code
			mp.Leader = -1
			mp.ISR = []int32{}
			mp.OfflineReplicas = []int32{b.nodeID}
		}
		mt.Partitions = append(mt.Partitions, mp)
	}
	return mt
}
