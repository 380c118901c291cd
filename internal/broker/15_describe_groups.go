package broker

// DescribeGroups (key 15), versions 0-5.
//
// A group that does not exist is reported in state Dead without an error,
// as Kafka does before v6. Member metadata and assignments are filled in
// only for a Stable group. v3+ may ask for the authorized operations (all
// of a group's: there is no authorizer yet); v4+ shows group.instance.id.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(15, 0, 5, handleDescribeGroups) }

func handleDescribeGroups(_ context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	return Reply{Msg: b.groups.HandleDescribeGroups(kreq.(*kmsg.DescribeGroupsRequest))}, nil
}
