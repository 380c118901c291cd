package broker

// DeleteTopics (key 20), versions 0-6.
//
// v6 names topics by name or by ID. The topic leaves the metadata first;
// its partition directories are then removed on every broker holding them.
// delete.topic.enable=false refuses with TOPIC_DELETION_DISABLED.

import (
	"context"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(20, 0, 6, handleDeleteTopics) }

func handleDeleteTopics(ctx context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	req := kreq.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	type target struct {
		name *string
		id   [16]byte
	}
	var targets []target
	if req.Version >= 6 {
		for _, t := range req.Topics {
			targets = append(targets, target{t.Topic, t.TopicID})
		}
	} else {
		for _, n := range req.TopicNames {
			n := n
			targets = append(targets, target{name: &n})
		}
	}
	deleted := false
	for _, tg := range targets {
		st := kmsg.NewDeleteTopicsResponseTopic()
		st.Topic, st.TopicID = tg.name, tg.id
		err := func() error {
			var name string
			if tg.name != nil {
				name = *tg.name
			} else {
				t, ok := b.meta.TopicByID(uuid.UUID(tg.id))
				if !ok {
					return kerr.UnknownTopicID
				}
				name = t.Name
				st.Topic = &name
			}
			t, ok := b.meta.Topic(name)
			if !ok {
				return kerr.UnknownTopicOrPartition
			}
			st.TopicID = t.ID
			if !b.Config().DeleteTopicEnable {
				return kerr.TopicDeletionDisabled
			}
			if isInternalTopic(name) {
				return kerr.InvalidTopicException
			}
			if err := b.meta.DeleteTopic(ctx, name); err != nil {
				return err
			}
			b.lg.Info("deleted topic", "topic", name, "topic_id", t.ID)
			deleted = true
			return nil
		}()
		if err != nil {
			st.ErrorCode = errorCode(err)
			if req.Version >= 5 {
				st.ErrorMessage = errorMessage(stripCode(err))
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	b.reconcileAfter(deleted, "topic deletion")
	return Reply{Msg: resp}, nil
}
