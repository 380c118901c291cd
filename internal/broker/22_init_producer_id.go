package broker

// InitProducerId (key 22), versions 0-4.
//
// Idempotent producers get a fresh producer ID with epoch 0. IDs come from
// blocks reserved in the cluster metadata, so they never repeat across
// restarts or brokers. Transactional IDs are refused until the transaction
// coordinator exists (INVALID_REQUEST). v3+ lets a producer bump its own epoch by sending its
// current ID and epoch (KIP-360); that is answered with the same ID and the
// next epoch.

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/metadata"
)

func init() { register(22, 0, 4, handleInitProducerID) }

func handleInitProducerID(ctx context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	req := kreq.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return Reply{Msg: resp}, nil
	}
	// An exhausted or unknown epoch starts over with a new ID.
	if req.Version >= 3 && req.ProducerID >= 0 && req.ProducerEpoch >= 0 && req.ProducerEpoch < math.MaxInt16 {
		resp.ProducerID, resp.ProducerEpoch = req.ProducerID, req.ProducerEpoch+1
		return Reply{Msg: resp}, nil
	}
	id, err := b.pids.next(ctx)
	if err != nil {
		b.lg.Warn("allocating producer id", "err", err)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return Reply{Msg: resp}, nil
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return Reply{Msg: resp}, nil
}

// pidBlockSize is how many producer IDs one metadata write reserves.
const pidBlockSize = 1000

// pidAllocator hands out producer IDs from blocks reserved in the metadata.
type pidAllocator struct {
	meta metadata.Store

	mu       sync.Mutex
	nextID   int64
	blockEnd int64
}

func (a *pidAllocator) next(ctx context.Context) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.nextID >= a.blockEnd {
		first, err := a.meta.AllocateProducerIDs(ctx, pidBlockSize)
		if err != nil {
			return 0, fmt.Errorf("broker: reserving producer ids: %w", err)
		}
		a.nextID, a.blockEnd = first, first+pidBlockSize
	}
	id := a.nextID
	a.nextID++
	return id, nil
}
