package broker

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/config"
)

// sourceDefault is DEFAULT_CONFIG on the wire.
const sourceDefault = int8(config.DefaultConfig)

// configEntry is one described config, independent of the response type.
type configEntry struct {
	Name        string
	Value       *string
	ReadOnly    bool
	IsSensitive bool
	Source      int8
	Type        int8
	Doc         string
	Synonyms    []configSynonym
}

type configSynonym struct {
	Name   string
	Value  *string
	Source int8
}

func wanted(names []string) func(string) bool {
	if names == nil {
		return func(string) bool { return true }
	}
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	return func(n string) bool { return set[n] }
}

// describeTopicConfigs describes a topic's effective configs.
func (b *Broker) describeTopicConfigs(overrides map[string]string, names []string, synonyms bool) []configEntry {
	want := wanted(names)
	eff := config.EffectiveTopicConfigs(b.static, b.meta.BrokerConfigs(""), overrides)
	var out []configEntry
	for name, v := range eff {
		if !want(name) {
			continue
		}
		val := v.Value
		e := configEntry{Name: name, Value: &val, Source: int8(v.Source), Type: int8(v.Type), Doc: v.Doc}
		if synonyms {
			for _, s := range v.Synonyms {
				sv := s.Value
				e.Synonyms = append(e.Synonyms, configSynonym{Name: s.Name, Value: &sv, Source: int8(s.Source)})
			}
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// describeBrokerConfigs describes this broker (node != "") or the
// cluster-wide dynamic defaults (node == "", only those that are set).
func (b *Broker) describeBrokerConfigs(node string, names []string, synonyms bool) []configEntry {
	want := wanted(names)
	dyn := b.meta.BrokerConfigs("")
	var out []configEntry
	for _, v := range config.DescribeBroker(b.static, dyn) {
		if !want(v.Name) {
			continue
		}
		if node == "" && v.Source != config.DynamicDefaultBrokerConfig {
			continue
		}
		e := configEntry{Name: v.Name, Value: v.Value, ReadOnly: v.ReadOnly, IsSensitive: v.Sensitive,
			Source: int8(v.Source), Type: int8(v.Type), Doc: v.Doc}
		if synonyms {
			for _, s := range v.Synonyms {
				sv := s.Value
				var p *string
				if !v.Sensitive {
					p = &sv
				}
				e.Synonyms = append(e.Synonyms, configSynonym{Name: s.Name, Value: p, Source: int8(s.Source)})
			}
		}
		out = append(out, e)
	}
	return out
}

// currentOverrides returns a copy of the resource's stored overrides.
func (b *Broker) currentOverrides(typ kmsg.ConfigResourceType, name string) (map[string]string, error) {
	var src map[string]string
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		t, ok := b.meta.Topic(name)
		if !ok {
			return nil, fmt.Errorf("%w: topic '%s' does not exist", kerr.UnknownTopicOrPartition, name)
		}
		src = t.Configs
	case kmsg.ConfigResourceTypeBroker:
		node, err := b.brokerResource(name)
		if err != nil {
			return nil, err
		}
		src = b.meta.BrokerConfigs(node)
	default:
		return nil, fmt.Errorf("%w: resource type %d is not supported", kerr.InvalidRequest, typ)
	}
	out := make(map[string]string, len(src))
	for k, v := range src {
		out[k] = v
	}
	return out, nil
}

// brokerResource maps a BROKER resource name to the metadata key: "" is the
// cluster default, otherwise it must be this broker's ID.
func (b *Broker) brokerResource(name string) (string, error) {
	if name == "" {
		return "", nil
	}
	if name != strconv.Itoa(int(b.nodeID)) {
		return "", fmt.Errorf("%w: broker %s is not this broker (%d)", kerr.InvalidRequest, name, b.nodeID)
	}
	return name, nil
}

// replaceConfigs validates set as the resource's complete overrides and,
// unless validateOnly, stores it. changed reports a stored change.
func (b *Broker) replaceConfigs(ctx context.Context, typ kmsg.ConfigResourceType, name string, set map[string]string, validateOnly bool) (changed bool, err error) {
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		t, ok := b.meta.Topic(name)
		if !ok {
			return false, fmt.Errorf("%w: topic '%s' does not exist", kerr.UnknownTopicOrPartition, name)
		}
		if err := config.ValidateTopicConfigs(set); err != nil {
			return false, err
		}
		if err := checkMirrorConfigChange(t, set); err != nil {
			return false, err
		}
		if validateOnly {
			return false, nil
		}
		if err := b.meta.SetTopicConfigs(ctx, name, set); err != nil {
			return false, err
		}
		b.lg.Info("topic configs changed", "topic", name, "configs", set)
		return true, nil
	case kmsg.ConfigResourceTypeBroker:
		node, err := b.brokerResource(name)
		if err != nil {
			return false, err
		}
		if err := config.ValidateDynamic(set); err != nil {
			return false, err
		}
		if validateOnly {
			return false, nil
		}
		if err := b.meta.SetBrokerConfigs(ctx, node, set); err != nil {
			return false, err
		}
		b.lg.Info("dynamic broker configs changed", "broker", name, "configs", set)
		return true, nil
	default:
		return false, fmt.Errorf("%w: resource type %d is not supported", kerr.InvalidRequest, typ)
	}
}

func (b *Broker) isListConfig(typ kmsg.ConfigResourceType, name string) bool {
	if typ == kmsg.ConfigResourceTypeTopic {
		for _, k := range config.TopicKeys() {
			if k.Name == name {
				return k.Type == config.TypeList
			}
		}
		return false
	}
	k, ok := config.LookupKey(name)
	return ok && k.Type == config.TypeList
}

// effectiveList is the current value of a list config as items: the
// override if set, else the inherited value.
func (b *Broker) effectiveList(typ kmsg.ConfigResourceType, name string, overrides map[string]string, key string) []string {
	if v, ok := overrides[key]; ok {
		return splitList(v)
	}
	if typ == kmsg.ConfigResourceTypeTopic {
		eff := config.EffectiveTopicConfigs(b.static, b.meta.BrokerConfigs(""), nil)
		return splitList(eff[key].Value)
	}
	for _, v := range config.DescribeBroker(b.static, b.meta.BrokerConfigs("")) {
		if v.Name == key && v.Value != nil {
			return splitList(*v.Value)
		}
	}
	return nil
}
