package broker

// ListOffsets (key 2), versions 1-8.
//
// Timestamps: -1 latest (the high watermark, or the last stable offset for
// read_committed), -2 earliest (log start offset), -3 max timestamp (v7+:
// the record with the largest timestamp), -4 earliest local (v8+; all data
// is local, so the log start offset); any other value finds the first record
// whose timestamp is at or after it through the time index. v0's
// OldStyleOffsets are not served. v4+ fences on the current leader epoch.

import (
	"context"
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/partition"
	"github.com/strait-kafka/strait/internal/record"
	"github.com/strait-kafka/strait/internal/storage"
)

func init() { register(2, 1, 8, handleListOffsets) }

const (
	tsLatest        = -1
	tsEarliest      = -2
	tsMax           = -3
	tsEarliestLocal = -4
)

func handleListOffsets(_ context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	req := kreq.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.Timestamp, sp.Offset, sp.LeaderEpoch = -1, -1, -1
			p, code := b.localPartition(rt.Topic, rp.Partition)
			sp.ErrorCode = code
			if p != nil {
				if code := checkLeaderEpoch(rp.CurrentLeaderEpoch, p.LeaderEpoch()); code != 0 {
					sp.ErrorCode = code
				} else if err := b.listOffset(p, req.IsolationLevel, rp.Timestamp, &sp); err != nil {
					sp.ErrorCode = errorCode(err)
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return Reply{Msg: resp}, nil
}

func (b *Broker) listOffset(p *partition.Partition, isolation int8, ts int64, sp *kmsg.ListOffsetsResponseTopicPartition) error {
	l := p.Log()
	switch ts {
	case tsLatest:
		sp.Offset = p.HighWatermark()
		if isolation == 1 {
			sp.Offset = p.LastStableOffset()
		}
		sp.LeaderEpoch = max(l.LatestEpoch(), p.LeaderEpoch())
		return nil
	case tsEarliest, tsEarliestLocal:
		sp.Offset = l.StartOffset()
		sp.LeaderEpoch = epochAt(l, sp.Offset)
		return nil
	case tsMax:
		batch, ok, err := l.MaxTimestampBatch()
		if err != nil || !ok {
			return err
		}
		_, err = recordAtTimestamp(batch, -1, -1, sp)
		return err
	default:
		if ts < 0 {
			return kerr.InvalidRequest
		}
		// Only records at or after the log start offset count (Kafka's
		// searchForTimestamp): DeleteRecords may have put the start inside
		// a batch, and when none of that batch's remaining records
		// qualifies the search goes on with the next batches.
		start := l.StartOffset()
		for from := start; ; {
			batch, ok, err := l.FindTimestampFrom(ts, from)
			if err != nil || !ok {
				return err
			}
			h, err := record.ParseHeader(batch)
			if err != nil {
				return err
			}
			if h.BaseOffset >= p.HighWatermark() {
				return nil
			}
			if found, err := recordAtTimestamp(batch, ts, start, sp); err != nil || found {
				return err
			}
			from = h.LastOffset() + 1
		}
	}
}

// recordAtTimestamp fills sp with the first record of batch at or after
// minOffset whose timestamp is >= ts, or, for ts < 0, the record holding the
// batch's max timestamp. It reports whether there was one.
func recordAtTimestamp(batch []byte, ts, minOffset int64, sp *kmsg.ListOffsetsResponseTopicPartition) (bool, error) {
	h, err := record.ParseHeader(batch)
	if err != nil {
		return false, err
	}
	if h.Attributes&record.AttrLogAppendTime != 0 && h.BaseOffset >= minOffset {
		// Every record carries the batch's append time.
		sp.Timestamp, sp.Offset, sp.LeaderEpoch = h.MaxTimestamp, h.BaseOffset, h.PartitionLeaderEpoch
		return true, nil
	}
	recs, err := record.Records(batch)
	if err != nil {
		return false, err
	}
	for _, r := range recs {
		if r.Offset < minOffset {
			continue
		}
		if (ts >= 0 && r.Timestamp >= ts) || (ts < 0 && r.Timestamp == h.MaxTimestamp) {
			sp.Timestamp, sp.Offset, sp.LeaderEpoch = r.Timestamp, r.Offset, h.PartitionLeaderEpoch
			return true, nil
		}
	}
	return false, nil
}

// epochAt is the leader epoch stamped on the batch holding off, or -1.
func epochAt(l *storage.Log, off int64) int32 {
	c, err := l.Read(off, 1, math.MaxInt64)
	defer c.Release()
	if err != nil || c.Len < record.HeaderSize {
		return -1
	}
	var hdr [record.HeaderSize]byte
	if _, err := c.File.ReadAt(hdr[:], c.Pos); err != nil {
		return -1
	}
	h, err := record.ParseHeader(hdr[:])
	if err != nil {
		return -1
	}
	return h.PartitionLeaderEpoch
}
