package broker

// CreateTopics (key 19), versions 0-7.
//
// v1 adds validate_only and error messages; v5 returns the created topic's
// partition count, replication factor and effective configs; v7 its topic ID.
// Partition count and replication factor of -1 take num.partitions and
// default.replication.factor (v4+). Configs are validated by name and value
// before anything is written.

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(19, 0, 7, handleCreateTopics) }

func handleCreateTopics(ctx context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	req := kreq.(*kmsg.CreateTopicsRequest)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	seen := make(map[string]int)
	for _, rt := range req.Topics {
		seen[rt.Topic]++
	}
	for _, rt := range req.Topics {
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic = rt.Topic
		st.NumPartitions, st.ReplicationFactor = -1, -1
		err := func() error {
			if seen[rt.Topic] > 1 {
				return fmt.Errorf("%w: topic '%s' appears more than once in the request", kerr.InvalidRequest, rt.Topic)
			}
			r := topicRequest{
				Name: rt.Topic, Partitions: rt.NumPartitions, Replication: rt.ReplicationFactor,
				ValidateOnly: req.ValidateOnly, Configs: map[string]string{},
			}
			// Kafka takes the assignments in any order, as long as they
			// name each partition from 0 on exactly once.
			byIndex := make(map[int32][]int32, len(rt.ReplicaAssignment))
			for _, ra := range rt.ReplicaAssignment {
				if _, dup := byIndex[ra.Partition]; dup {
					return fmt.Errorf("%w: found multiple manual partition assignments for partition %d", kerr.InvalidReplicaAssignment, ra.Partition)
				}
				byIndex[ra.Partition] = ra.Replicas
			}
			for i := int32(0); i < int32(len(byIndex)); i++ {
				reps, ok := byIndex[i]
				if !ok {
					return fmt.Errorf("%w: replica assignment partitions must be consecutive from 0", kerr.InvalidReplicaAssignment)
				}
				r.Assignment = append(r.Assignment, reps)
			}
			for _, c := range rt.Configs {
				if c.Value == nil {
					return fmt.Errorf("%w: null value for configuration %s", kerr.InvalidConfig, c.Name)
				}
				r.Configs[c.Name] = *c.Value
			}
			t, err := b.createTopic(ctx, r)
			if err != nil {
				return err
			}
			st.TopicID = t.ID
			st.NumPartitions = int32(len(t.Partitions))
			if len(t.Partitions) > 0 {
				st.ReplicationFactor = int16(len(t.Partitions[0].Replicas))
			}
			if req.Version >= 5 {
				for _, e := range b.describeTopicConfigs(t.Configs, nil, false) {
					c := kmsg.NewCreateTopicsResponseTopicConfig()
					c.Name, c.Value, c.ReadOnly, c.Source, c.IsSensitive = e.Name, e.Value, e.ReadOnly, e.Source, e.IsSensitive
					st.Configs = append(st.Configs, c)
				}
			}
			return nil
		}()
		if err != nil {
			st.ErrorCode = errorCode(err)
			st.ErrorMessage = errorMessage(stripCode(err))
			if !errors.Is(err, kerr.TopicAlreadyExists) {
				b.lg.Info("create topic refused", "topic", rt.Topic, "err", err)
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return Reply{Msg: resp}, nil
}

// stripCode drops the "KAFKA_ERROR: description: " prefix a wrapped
// *kerr.Error puts in front of a message, so clients see our sentence.
func stripCode(err error) error {
	var ke *kerr.Error
	if !errors.As(err, &ke) {
		return err
	}
	msg := err.Error()
	prefix := ke.Error() + ": "
	if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		return errors.New(msg[len(prefix):])
	}
	return err
}
