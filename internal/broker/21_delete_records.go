package broker

// DeleteRecords (key 21), versions 0-2.
//
// Advances a partition's log start offset to the requested offset (-1 means
// the high watermark). The new start offset is persisted before the answer;
// whole segments below it are deleted. An offset above the high watermark is
// OFFSET_OUT_OF_RANGE. The response's low watermark is the new start offset.
// As in Kafka, internal topics are refused with INVALID_TOPIC_EXCEPTION and
// topics whose cleanup.policy lacks "delete" with POLICY_VIOLATION.

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/config"
	"github.com/strait-kafka/strait/internal/metadata"
)

func init() { register(21, 0, 2, handleDeleteRecords) }

func handleDeleteRecords(_ context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	req := kreq.(*kmsg.DeleteRecordsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewDeleteRecordsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewDeleteRecordsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.LowWatermark = -1
			switch p, code := b.localPartition(rt.Topic, rp.Partition); {
			case isInternalTopic(rt.Topic):
				// Kafka's rule: __consumer_offsets holds the committed
				// offsets; deleting its records would lose them.
				sp.ErrorCode = kerr.InvalidTopicException.Code
			case code != 0:
				sp.ErrorCode = code
			case isReadOnlyMirror(topicOrZero(b, rt.Topic)):
				// The mirror's log start offset follows its source's.
				b.lg.Info("refused delete records on a mirror topic", "topic", rt.Topic)
				sp.ErrorCode = kerr.InvalidRequest.Code
			case !b.deletePolicy(topicOrZero(b, rt.Topic)):
				sp.ErrorCode = kerr.PolicyViolation.Code
			default:
				off := rp.Offset
				hw := p.HighWatermark()
				if off == -1 {
					off = hw
				}
				if off < 0 || off > hw {
					sp.ErrorCode = kerr.OffsetOutOfRange.Code
					break
				}
				if off > p.Log().StartOffset() {
					if err := p.SetStartOffset(off); err != nil {
						b.lg.Warn("delete records failed", "topic", rt.Topic, "partition", rp.Partition, "err", err)
						sp.ErrorCode = errorCode(err)
						break
					}
					b.lg.Info("deleted records", "topic", rt.Topic, "partition", rp.Partition, "log_start_offset", off)
				}
				sp.LowWatermark = p.Log().StartOffset()
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return Reply{Msg: resp}, nil
}

// deletePolicy reports whether the topic's effective cleanup.policy includes
// "delete", without which Kafka refuses DeleteRecords.
func (b *Broker) deletePolicy(t metadata.Topic) bool {
	eff := config.EffectiveTopicConfigs(b.static, b.dynamicDefaults(), t.Configs)
	return slices.Contains(splitList(eff["cleanup.policy"].Value), "delete")
}
