package broker

// IncrementalAlterConfigs (key 44), versions 0-1.
//
// Per config: SET (0), DELETE (1, back to the inherited value), APPEND (2)
// and SUBTRACT (3) for list-typed configs. The result is validated as a whole
// before it is written; validate_only stops there. A resource may not name
// the same config twice.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(44, 0, 1, handleIncrementalAlterConfigs) }

func handleIncrementalAlterConfigs(ctx context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	req := kreq.(*kmsg.IncrementalAlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	changed := false
	for _, rr := range req.Resources {
		sr := kmsg.NewIncrementalAlterConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = rr.ResourceType, rr.ResourceName
		err := func() error {
			cur, err := b.currentOverrides(rr.ResourceType, rr.ResourceName)
			if err != nil {
				return err
			}
			seen := map[string]bool{}
			for _, c := range rr.Configs {
				if seen[c.Name] {
					return fmt.Errorf("%w: configuration %s appears more than once", kerr.InvalidRequest, c.Name)
				}
				seen[c.Name] = true
				val := ""
				if c.Value != nil {
					val = *c.Value
				}
				switch c.Op {
				case kmsg.IncrementalAlterConfigOpSet:
					if c.Value == nil {
						return fmt.Errorf("%w: null value for configuration %s", kerr.InvalidConfig, c.Name)
					}
					cur[c.Name] = val
				case kmsg.IncrementalAlterConfigOpDelete:
					delete(cur, c.Name)
				case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
					if !b.isListConfig(rr.ResourceType, c.Name) {
						return fmt.Errorf("%w: configuration %s is not a list, so it cannot be appended to or subtracted from", kerr.InvalidConfig, c.Name)
					}
					list := b.effectiveList(rr.ResourceType, rr.ResourceName, cur, c.Name)
					for _, item := range splitList(val) {
						has := slices.Contains(list, item)
						if c.Op == kmsg.IncrementalAlterConfigOpAppend && !has {
							list = append(list, item)
						}
						if c.Op == kmsg.IncrementalAlterConfigOpSubtract && has {
							list = slices.DeleteFunc(list, func(s string) bool { return s == item })
						}
					}
					cur[c.Name] = strings.Join(list, ",")
				default:
					return fmt.Errorf("%w: unknown operation %d for configuration %s", kerr.InvalidRequest, c.Op, c.Name)
				}
			}
			ok, err := b.replaceConfigs(ctx, rr.ResourceType, rr.ResourceName, cur, req.ValidateOnly)
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

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
