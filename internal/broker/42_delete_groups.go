package broker

// DeleteGroups (key 42), versions 0-2.
//
// An Empty group is deleted with its committed offsets (tombstones are
// written to __consumer_offsets); a group with members is NON_EMPTY_GROUP,
// an unknown one GROUP_ID_NOT_FOUND.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(42, 0, 2, handleDeleteGroups) }

func handleDeleteGroups(_ context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	return Reply{Msg: b.groups.HandleDeleteGroups(kreq.(*kmsg.DeleteGroupsRequest))}, nil
}
