package broker

// Heartbeat (key 12), versions 0-4.
//
// Keeps a member's session alive. REBALANCE_IN_PROGRESS tells members to
// rejoin; ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID and (v3+ static members)
// FENCED_INSTANCE_ID fence stale members, as Kafka does.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(12, 0, 4, handleHeartbeat) }

func handleHeartbeat(_ context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	return Reply{Msg: b.groups.HandleHeartbeat(kreq.(*kmsg.HeartbeatRequest))}, nil
}
