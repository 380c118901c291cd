package broker

// SyncGroup (key 14), versions 0-5.
//
// The leader sends the assignment; the coordinator stores it in
// __consumer_offsets before anyone is answered. Followers wait for it in
// the coordinator. v5 checks the protocol type and name against the
// group's (INCONSISTENT_GROUP_PROTOCOL).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(14, 0, 5, handleSyncGroup) }

func handleSyncGroup(ctx context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	resp, err := b.groups.HandleSyncGroup(ctx, kreq.(*kmsg.SyncGroupRequest))
	if err != nil {
		return Reply{}, err
	}
	return Reply{Msg: resp}, nil
}
