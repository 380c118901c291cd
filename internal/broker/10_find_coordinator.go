package broker

// FindCoordinator (key 10), versions 0-5.
//
// Key type 0 (group): the coordinator of a group is the leader of the
// group's partition of __consumer_offsets (Kafka's hash of the group ID).
// Key type 1 (transaction) is answered COORDINATOR_NOT_AVAILABLE with a
// message: Strait serves no transactions. Other types are INVALID_REQUEST.
// v4+ batches keys (KIP-699); earlier versions carry one key and the answer
// in top-level fields. Version 6 (share groups) is not served.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/group"
)

func init() { register(10, 0, 5, handleFindCoordinator) }

const (
	coordinatorGroup       = 0
	coordinatorTransaction = 1
)

func handleFindCoordinator(_ context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	req := kreq.(*kmsg.FindCoordinatorRequest)
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	keys := req.CoordinatorKeys
	if req.Version < 4 {
		keys = []string{req.CoordinatorKey}
	}
	for _, key := range keys {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key, c.NodeID, c.Port = key, -1, -1
		if err := b.findCoordinator(req.CoordinatorType, key, &c); err != nil {
			c.NodeID, c.Host, c.Port = -1, "", -1
			c.ErrorCode = errorCode(err)
			c.ErrorMessage = errorMessage(stripCode(err))
		}
		resp.Coordinators = append(resp.Coordinators, c)
	}
	if req.Version < 4 {
		c := resp.Coordinators[0]
		resp.NodeID, resp.Host, resp.Port = c.NodeID, c.Host, c.Port
		resp.ErrorCode, resp.ErrorMessage = c.ErrorCode, c.ErrorMessage
		resp.Coordinators = nil
	}
	return Reply{Msg: resp}, nil
}

func (b *Broker) findCoordinator(keyType int8, key string, c *kmsg.FindCoordinatorResponseCoordinator) error {
	switch keyType {
	case coordinatorGroup:
	case coordinatorTransaction:
		return fmt.Errorf("%w: transactions are not supported, so there is no transaction coordinator", kerr.CoordinatorNotAvailable)
	default:
		return fmt.Errorf("%w: unknown coordinator key type %d", kerr.InvalidRequest, keyType)
	}
	p := b.groups.PartitionFor(key)
	t, ok := b.meta.Topic(group.Topic)
	if p < 0 || !ok || int(p) >= len(t.Partitions) {
		return fmt.Errorf("%w: the group coordinator is not running yet", kerr.CoordinatorNotAvailable)
	}
	leader := t.Partitions[p].Leader
	for _, br := range b.brokerList() {
		if br.NodeID == leader {
			c.NodeID, c.Host, c.Port = br.NodeID, br.Host, br.Port
			return nil
		}
	}
	return fmt.Errorf("%w: broker %d, the leader of %s-%d, is not available", kerr.CoordinatorNotAvailable, leader, group.Topic, p)
}
