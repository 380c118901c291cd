package broker

// JoinGroup (key 11), versions 0-9.
//
// The request waits in the coordinator until the rebalance answers it (or
// the server shuts down, which closes the connection). v4+ asks new dynamic
// members to rejoin with an assigned ID (MEMBER_ID_REQUIRED), v5+ carries
// group.instance.id (static membership), v9 may tell a rejoining static
// leader to skip the assignment. v0 has no rebalance timeout: the session
// timeout is used.

import (
	"context"
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(11, 0, 9, handleJoinGroup) }

func handleJoinGroup(ctx context.Context, b *Broker, s *Session, kreq kmsg.Request) (Reply, error) {
	req := kreq.(*kmsg.JoinGroupRequest)
	resp, err := b.groups.HandleJoinGroup(ctx, req, s.ClientID, clientHost(s.Remote))
	if err != nil {
		return Reply{}, err
	}
	return Reply{Msg: resp}, nil
}

// clientHost is a member's host as Kafka reports it: "/" and the address.
func clientHost(remote string) string {
	if h, _, err := net.SplitHostPort(remote); err == nil {
		return "/" + h
	}
	return "/" + remote
}
