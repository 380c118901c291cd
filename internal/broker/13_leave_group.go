package broker

// LeaveGroup (key 13), versions 0-5.
//
// v0-v2 name one member; v3+ a batch, each by member ID or by
// group.instance.id alone (an administrator removing a static member), with
// an error code per member. v5 adds a reason, which is logged only.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(13, 0, 5, handleLeaveGroup) }

func handleLeaveGroup(_ context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	return Reply{Msg: b.groups.HandleLeaveGroup(kreq.(*kmsg.LeaveGroupRequest))}, nil
}
