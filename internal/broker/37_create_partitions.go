package broker

// CreatePartitions (key 37), versions 0-3.
//
// Grows a topic to Count partitions (shrinking is INVALID_PARTITIONS), with
// an optional explicit assignment for the new partitions; validate_only
// checks without changing anything.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/metadata"
)

func init() { register(37, 0, 3, handleCreatePartitions) }

func handleCreatePartitions(ctx context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	req := kreq.(*kmsg.CreatePartitionsRequest)
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	changed := false
	for _, rt := range req.Topics {
		st := kmsg.NewCreatePartitionsResponseTopic()
		st.Topic = rt.Topic
		err := func() error {
			t, ok := b.meta.Topic(rt.Topic)
			if !ok {
				return kerr.UnknownTopicOrPartition
			}
			if isReadOnlyMirror(t) {
				return fmt.Errorf("%w: the partition count of mirror topic '%s' follows its source topic", kerr.InvalidRequest, rt.Topic)
			}
			cur := int32(len(t.Partitions))
			if rt.Count < cur {
				return fmt.Errorf("%w: topic currently has %d partitions, which is higher than the requested %d", kerr.InvalidPartitions, cur, rt.Count)
			}
			if rt.Count > maxPartitionsPerTopic {
				return fmt.Errorf("%w: %d partitions is more than the %d a topic may have", kerr.InvalidPartitions, rt.Count, maxPartitionsPerTopic)
			}
			if rt.Count == cur {
				return fmt.Errorf("%w: topic already has %d partitions", kerr.InvalidPartitions, cur)
			}
			if rt.Assignment != nil && len(rt.Assignment) != int(rt.Count-cur) {
				return fmt.Errorf("%w: increasing the number of partitions by %d but %d assignments provided", kerr.InvalidReplicaAssignment, rt.Count-cur, len(rt.Assignment))
			}
			brokers := b.liveBrokerIDs()
			rf := 1
			if cur > 0 {
				rf = len(t.Partitions[0].Replicas)
			}
			var add []metadata.Partition
			for i := cur; i < rt.Count; i++ {
				if rt.Assignment != nil {
					reps := rt.Assignment[i-cur].Replicas
					if err := checkAssignment(int(i), reps, brokers, rf); err != nil {
						return err
					}
					add = append(add, metadata.Partition{Replicas: append([]int32(nil), reps...), Leader: reps[0]})
					continue
				}
				if rf > len(brokers) {
					return fmt.Errorf("%w: replication factor %d larger than available brokers %d", kerr.InvalidReplicationFactor, rf, len(brokers))
				}
				add = append(add, b.placePartition(brokers, int(i), rf))
			}
			if req.ValidateOnly {
				return nil
			}
			if err := b.addPartitions(ctx, t, add); err != nil {
				return err
			}
			b.lg.Info("added partitions", "topic", rt.Topic, "from", cur, "to", rt.Count)
			changed = true
			return nil
		}()
		if err != nil {
			st.ErrorCode = errorCode(err)
			st.ErrorMessage = errorMessage(stripCode(err))
		}
		resp.Topics = append(resp.Topics, st)
	}
	b.reconcileAfter(changed, "new partitions")
	return Reply{Msg: resp}, nil
}
