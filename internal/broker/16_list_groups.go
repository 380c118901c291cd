package broker

// ListGroups (key 16), versions 0-4.
//
// Lists the groups this broker coordinates, with their protocol type; v4
// adds each group's state and filters by state names (KIP-518), compared
// without regard to case. v5 (group types) is not served.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(16, 0, 4, handleListGroups) }

func handleListGroups(_ context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	return Reply{Msg: b.groups.HandleListGroups(kreq.(*kmsg.ListGroupsRequest))}, nil
}
