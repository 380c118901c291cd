package broker

// Fetch (key 1), versions 4-17.
//
// v4 adds isolation levels and the last stable offset; v7 fetch sessions;
// v9 the current leader epoch (fencing); v11 preferred read replicas (always
// -1 here); v12 flexible encoding and LastFetchedEpoch (diverging epochs);
// v13 topic IDs instead of names; v15 ReplicaState; v16 node endpoints;
// v17 a replica directory ID (for replicas; ignored here).
//
// Fetch sessions (KIP-227) are refused in the way the protocol allows: a
// request that asks for a new session gets session ID 0, meaning "no session
// was created", so clients keep sending full fetch requests. An incremental
// request (epoch above 0) naming a session gets FETCH_SESSION_ID_NOT_FOUND; a
// full one (epoch 0 or -1) naming a session is served, as Kafka serves it
// after closing that session.
//
// A fetch that has fewer than MinBytes parks its waiter on every partition it
// reads; an append to any of them wakes it (no polling), and MaxWaitMillis
// bounds the wait. Record bytes are not copied: each partition's records are
// a marker in the encoded response that the connection writer replaces with
// the segment range (sendfile on plaintext sockets).

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/partition"
	"github.com/strait-kafka/strait/internal/storage"
)

func init() { register(1, 4, 17, handleFetch) }

// MarkerSize is the length of a splice marker.
const MarkerSize = 16

type fetchPart struct {
	rt   *kmsg.FetchRequestTopic
	rp   *kmsg.FetchRequestTopicPartition
	name string
	id   uuid.UUID
	p    *partition.Partition
	code int16
}

func handleFetch(ctx context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	req := kreq.(*kmsg.FetchRequest)
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	if req.Version >= 7 {
		// Epoch 0 (new session) and -1 (no session) make a full fetch,
		// which closes any session it names (KIP-227): it is served.
		full := req.SessionEpoch == 0 || req.SessionEpoch == -1
		if req.SessionID != 0 && !full {
			resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
			return Reply{Msg: resp}, nil
		}
		if req.SessionEpoch > 0 {
			resp.ErrorCode = kerr.InvalidFetchSessionEpoch.Code
			return Reply{Msg: resp}, nil
		}
	}

	var parts []fetchPart
	for i := range req.Topics {
		rt := &req.Topics[i]
		name, id, code := rt.Topic, uuid.UUID(rt.TopicID), int16(0)
		if req.Version >= 13 {
			if t, ok := b.meta.TopicByID(id); ok {
				name = t.Name
			} else {
				code = kerr.UnknownTopicID.Code
			}
		} else if t, ok := b.meta.Topic(name); ok {
			id = t.ID
		} else {
			code = kerr.UnknownTopicOrPartition.Code
		}
		for j := range rt.Partitions {
			fp := fetchPart{rt: rt, rp: &rt.Partitions[j], name: name, id: id, code: code}
			if code == 0 {
				if fp.p = b.parts.Get(name, fp.rp.Partition); fp.p == nil {
					if t, ok := b.meta.Topic(name); ok && fp.rp.Partition >= 0 && int(fp.rp.Partition) < len(t.Partitions) {
						fp.code = kerr.NotLeaderForPartition.Code
					} else {
						fp.code = kerr.UnknownTopicOrPartition.Code
					}
				}
			}
			parts = append(parts, fp)
		}
	}

	maxBytes := req.MaxBytes
	if maxBytes <= 0 {
		maxBytes = math.MaxInt32
	}
	wait := time.Duration(req.MaxWaitMillis) * time.Millisecond
	var w *partition.Waiter
	if wait > 0 && req.MinBytes > 0 {
		w = partition.NewWaiter()
		for _, fp := range parts {
			if fp.p != nil {
				fp.p.AddWaiter(w)
				defer fp.p.RemoveWaiter(w)
			}
		}
	}
	var timer *time.Timer
	nonce := rand.Uint64()
	for {
		topics, splices, total, hasErr := b.fetchPass(req, parts, maxBytes, nonce)
		resp.Topics = topics
		if w == nil || hasErr || total >= int64(req.MinBytes) {
			return Reply{Msg: resp, Splices: splices}, nil
		}
		// Not enough yet: the next pass reads again, so this pass's files
		// are given back now, except on the way out below.
		last := Reply{Splices: splices}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		}
		select {
		case <-w.C:
		case <-timer.C:
			w = nil // one last pass, then answer whatever there is
		case <-ctx.Done():
			return Reply{Msg: resp, Splices: splices}, nil
		}
		last.Release()
	}
}

// fetchPass reads every partition once and builds the response topics.
func (b *Broker) fetchPass(req *kmsg.FetchRequest, parts []fetchPart, maxBytes int32, nonce uint64) ([]kmsg.FetchResponseTopic, []Splice, int64, bool) {
	var (
		topics  []kmsg.FetchResponseTopic
		splices []Splice
		total   int64
		hasErr  bool
	)
	var cur *kmsg.FetchResponseTopic
	var curReq *kmsg.FetchRequestTopic
	for _, fp := range parts {
		if curReq != fp.rt {
			topics = append(topics, kmsg.NewFetchResponseTopic())
			cur = &topics[len(topics)-1]
			cur.Topic, cur.TopicID = fp.name, fp.id
			if req.Version >= 13 {
				cur.TopicID = fp.rt.TopicID
			}
			curReq = fp.rt
		}
		sp := kmsg.NewFetchResponseTopicPartition()
		sp.Partition = fp.rp.Partition
		sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = -1, -1, -1
		sp.PreferredReadReplica = -1
		sp.RecordBatches = []byte{}
		if req.IsolationLevel == 1 {
			sp.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
		}
		if fp.code != 0 {
			sp.ErrorCode = fp.code
			hasErr = true
			cur.Partitions = append(cur.Partitions, sp)
			continue
		}
		p, rp := fp.p, fp.rp
		l := p.Log()
		hw, lso := p.HighWatermark(), p.LastStableOffset()
		sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = hw, lso, l.StartOffset()
		if code := checkLeaderEpoch(rp.CurrentLeaderEpoch, p.LeaderEpoch()); code != 0 {
			sp.ErrorCode = code
			hasErr = true
			cur.Partitions = append(cur.Partitions, sp)
			continue
		}
		if req.Version >= 12 && rp.LastFetchedEpoch >= 0 {
			// Kafka's Partition.readRecords: an epoch whose end the
			// leader cannot determine (none cached, or newer than all),
			// or an offset below the log start, is OFFSET_OUT_OF_RANGE
			// before any divergence is considered.
			epoch, end := l.EndOffsetForEpoch(rp.LastFetchedEpoch)
			if epoch < 0 || end < 0 || rp.FetchOffset < sp.LogStartOffset {
				sp.ErrorCode = kerr.OffsetOutOfRange.Code
				hasErr = true
				cur.Partitions = append(cur.Partitions, sp)
				continue
			}
			if epoch < rp.LastFetchedEpoch || end < rp.FetchOffset {
				sp.DivergingEpoch.Epoch, sp.DivergingEpoch.EndOffset = epoch, end
				hasErr = true
				cur.Partitions = append(cur.Partitions, sp)
				continue
			}
		}
		limit := rp.PartitionMaxBytes
		if rem := int64(maxBytes) - total; rem < int64(limit) {
			limit = int32(max(rem, 0))
		}
		maxOffset := hw
		if req.IsolationLevel == 1 {
			maxOffset = lso
		}
		if limit <= 0 && total > 0 {
			cur.Partitions = append(cur.Partitions, sp)
			continue
		}
		chunk, err := l.Read(rp.FetchOffset, max(limit, 1), maxOffset)
		if err != nil {
			sp.ErrorCode = errorCode(err)
			// Out of range is the client's business; a closed log is a
			// partition deleted under a waiting fetch. Neither is news.
			if !errors.Is(err, storage.ErrOffsetOutOfRange) && !errors.Is(err, storage.ErrClosed) {
				b.lg.Warn("fetch read failed", "topic", fp.name, "partition", rp.Partition, "err", err)
			}
			hasErr = true
			cur.Partitions = append(cur.Partitions, sp)
			continue
		}
		if chunk.Len > 0 && !(total > 0 && chunk.Len > int64(limit)) {
			marker := make([]byte, MarkerSize)
			binary.BigEndian.PutUint64(marker, nonce)
			binary.BigEndian.PutUint64(marker[8:], uint64(len(splices)))
			sp.RecordBatches = marker
			splices = append(splices, Splice{Marker: marker, Chunk: chunk})
			total += chunk.Len
		}
		cur.Partitions = append(cur.Partitions, sp)
	}
	return topics, splices, total, hasErr
}

// checkLeaderEpoch implements KIP-320 fencing for a client's current leader epoch.
func checkLeaderEpoch(clientEpoch, leaderEpoch int32) int16 {
	switch {
	case clientEpoch < 0 || clientEpoch == leaderEpoch:
		return 0
	case clientEpoch < leaderEpoch:
		return kerr.FencedLeaderEpoch.Code
	default:
		return kerr.UnknownLeaderEpoch.Code
	}
}
