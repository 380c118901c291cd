package broker

// DescribeConfigs (key 32), versions 0-4.
//
// TOPIC resources report every topic config with its effective value and
// source (topic override, dynamic broker default, static broker config, or
// Kafka's default); v1+ can include the synonyms in precedence order; v3+
// the type and documentation. BROKER resources report this broker's
// configuration (by node ID) or, for the empty name, the cluster-wide dynamic
// defaults. Sensitive values are never returned.

import (
	"context"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/config"
)

func init() { register(32, 0, 4, handleDescribeConfigs) }

func handleDescribeConfigs(_ context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	req := kreq.(*kmsg.DescribeConfigsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, rr := range req.Resources {
		sr := kmsg.NewDescribeConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = rr.ResourceType, rr.ResourceName
		entries, err := b.describeResource(rr.ResourceType, rr.ResourceName, rr.ConfigNames, req.IncludeSynonyms && req.Version >= 1)
		if err != nil {
			sr.ErrorCode = errorCode(err)
			sr.ErrorMessage = errorMessage(stripCode(err))
			resp.Resources = append(resp.Resources, sr)
			continue
		}
		for _, e := range entries {
			c := kmsg.NewDescribeConfigsResponseResourceConfig()
			c.Name, c.Value, c.ReadOnly, c.IsSensitive = e.Name, e.Value, e.ReadOnly, e.IsSensitive
			c.Source = kmsg.ConfigSource(e.Source)
			c.IsDefault = e.Source == sourceDefault
			c.ConfigType = kmsg.ConfigType(e.Type)
			if req.IncludeDocumentation && e.Doc != "" {
				doc := e.Doc
				c.Documentation = &doc
			}
			for _, s := range e.Synonyms {
				cs := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
				cs.Name, cs.Value, cs.Source = s.Name, s.Value, kmsg.ConfigSource(s.Source)
				c.ConfigSynonyms = append(c.ConfigSynonyms, cs)
			}
			sr.Configs = append(sr.Configs, c)
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return Reply{Msg: resp}, nil
}

func (b *Broker) describeResource(typ kmsg.ConfigResourceType, name string, names []string, synonyms bool) ([]configEntry, error) {
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		t, ok := b.meta.Topic(name)
		if !ok {
			return nil, fmt.Errorf("%w: topic '%s' does not exist", kerr.UnknownTopicOrPartition, name)
		}
		entries := b.describeTopicConfigs(t.Configs, names, synonyms)
		if isReadOnlyMirror(t) && wanted(names)(MirrorMarkerConfig) {
			v := t.Mirror.Link
			entries = append(entries, configEntry{Name: MirrorMarkerConfig, Value: &v, ReadOnly: true,
				Source: int8(config.DynamicTopicConfig), Type: int8(config.TypeString),
				Doc: "The cluster link that writes this mirror topic (read only; absent on ordinary topics)."})
		}
		return entries, nil
	case kmsg.ConfigResourceTypeBroker:
		if name != "" && name != strconv.Itoa(int(b.nodeID)) {
			return nil, fmt.Errorf("%w: broker %s is not this broker (%d)", kerr.InvalidRequest, name, b.nodeID)
		}
		return b.describeBrokerConfigs(name, names, synonyms), nil
	default:
		return nil, fmt.Errorf("%w: resource type %d is not supported", kerr.InvalidRequest, typ)
	}
}
