package broker

// Produce (key 0), versions 3-12.
//
// v3 is the first version that carries RecordBatch v2 (magic 2); older
// versions carry legacy message sets, which Strait does not store, so they
// are not advertised. Each partition's record set must be exactly one batch.
// acks=0 sends no response at all; acks=1 and acks=-1 are answered once the
// batch is in the log (a single replica is the whole in-sync set, so the
// high watermark moves with the append). Per-partition failures are error
// codes with an error message (v8+); only with acks=0, where no response
// could carry them, does a failure close the connection (as in Kafka, so
// that the producer refreshes its metadata).

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(0, 3, 12, handleProduce) }

func handleProduce(_ context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	req := kreq.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	badAcks := req.Acks != 0 && req.Acks != 1 && req.Acks != -1
	var firstErr error

	for _, rt := range req.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.BaseOffset, sp.LogAppendTime, sp.LogStartOffset = -1, -1, -1
			var err error
			switch {
			case badAcks:
				err = kerr.InvalidRequiredAcks
			default:
				err = b.produceOne(rt.Topic, rp.Partition, rp.Records, req.Acks, &sp)
			}
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("%s-%d: %w", rt.Topic, rp.Partition, err)
				}
				sp.ErrorCode = errorCode(err)
				if req.Version >= 8 {
					sp.ErrorMessage = errorMessage(stripCode(err))
				}
				var ke *kerr.Error
				if !errors.As(err, &ke) || ke.Code == kerr.UnknownServerError.Code || ke.Code == kerr.KafkaStorageError.Code {
					b.lg.Warn("produce failed", "topic", rt.Topic, "partition", rp.Partition, "err", err)
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if req.Acks == 0 {
		if firstErr != nil {
			// No response tells the producer about the failure, so the
			// connection is closed instead, as Kafka does: the client then
			// refreshes its metadata.
			return Reply{}, fmt.Errorf("broker: acks=0 produce failed: %w", firstErr)
		}
		return Reply{}, nil
	}
	return Reply{Msg: resp}, nil
}

func (b *Broker) produceOne(topic string, index int32, records []byte, acks int16, sp *kmsg.ProduceResponseTopicPartition) error {
	p, code := b.localPartition(topic, index)
	if code != 0 {
		return kerr.ErrorForCode(code)
	}
	if isInternalTopic(topic) {
		return kerr.InvalidTopicException
	}
	if t, _ := b.meta.Topic(topic); isReadOnlyMirror(t) {
		return readOnlyMirrorError(topic)
	}
	if len(records) == 0 {
		return kerr.CorruptMessage
	}
	res, err := p.AppendAsLeader(records, acks)
	if err != nil {
		return err
	}
	sp.BaseOffset = res.BaseOffset
	sp.LogAppendTime = res.LogAppendTime
	sp.LogStartOffset = res.LogStartOffset
	return nil
}
