package broker

// AlterConfigs (key 33), versions 0-2.
//
// The legacy, non-incremental form: the given set REPLACES all overrides of
// the resource (a topic's configs, or the dynamic configs of a broker or of
// the cluster default when the broker name is empty). Everything is validated
// before anything is written; validate_only stops there.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(33, 0, 2, handleAlterConfigs) }

func handleAlterConfigs(ctx context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	req := kreq.(*kmsg.AlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	changed := false
	for _, rr := range req.Resources {
		sr := kmsg.NewAlterConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = rr.ResourceType, rr.ResourceName
		err := func() error {
			set := make(map[string]string, len(rr.Configs))
			for _, c := range rr.Configs {
				if c.Value == nil {
					return fmt.Errorf("%w: null value for configuration %s", kerr.InvalidConfig, c.Name)
				}
				set[c.Name] = *c.Value
			}
			ok, err := b.replaceConfigs(ctx, rr.ResourceType, rr.ResourceName, set, req.ValidateOnly)
			changed = changed || ok
			return err
		}()
		if err != nil {
			sr.ErrorCode = errorCode(err)
			sr.ErrorMessage = errorMessage(stripCode(err))
		}
		resp.Resources = append(resp.Resources, sr)
	}
	b.reconcileAfter(changed, "config change")
	return Reply{Msg: resp}, nil
}
