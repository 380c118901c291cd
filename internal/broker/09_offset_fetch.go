package broker

// OffsetFetch (key 9), versions 0-9.
//
// v0-v7 fetch one group; v8+ a batch of groups (KIP-709), each with its own
// error code. A null topic list (v2+) asks for every committed partition.
// Partitions without a commit report offset -1. v0-v1 carry group errors on
// every partition, v2-v7 in the top-level error code. require_stable (v7+)
// never waits: commits become visible only once written. v10 (topic IDs) is
// not served.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(9, 0, 9, handleOffsetFetch) }

func handleOffsetFetch(_ context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	return Reply{Msg: b.groups.HandleOffsetFetch(kreq.(*kmsg.OffsetFetchRequest))}, nil
}
