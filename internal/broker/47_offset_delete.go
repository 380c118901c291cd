package broker

// OffsetDelete (key 47), version 0.
//
// Deletes committed offsets of an Empty group, or of topics a consumer
// group's members do not subscribe to; subscribed topics get
// GROUP_SUBSCRIBED_TO_TOPIC, and a non-consumer group with members
// NON_EMPTY_GROUP. Deleting the last offsets of an Empty group deletes it.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(47, 0, 0, handleOffsetDelete) }

func handleOffsetDelete(_ context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	return Reply{Msg: b.groups.HandleOffsetDelete(kreq.(*kmsg.OffsetDeleteRequest))}, nil
}
