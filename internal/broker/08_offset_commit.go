package broker

// OffsetCommit (key 8), versions 0-9.
//
// Offsets are answered only once they are in __consumer_offsets. v1 may
// carry a commit timestamp per partition, v2-v4 a retention time (the
// offset then expires at commit time + retention), v6+ the leader epoch,
// v7+ group.instance.id. Generation -1 without a member ID is an admin
// commit, accepted only for an Empty (or new) group. Partitions of unknown
// topics get UNKNOWN_TOPIC_OR_PARTITION. v10 (topic IDs) is not served.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(8, 0, 9, handleOffsetCommit) }

func handleOffsetCommit(_ context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	return Reply{Msg: b.groups.HandleOffsetCommit(kreq.(*kmsg.OffsetCommitRequest))}, nil
}
