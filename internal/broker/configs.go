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

// wanted filters described configs by the requested names; as in Kafka, a
// null or empty list asks for all of them.
func wanted(names []string) func(string) bool {
	if len(names) == 0 {
		return func(string) bool { return true }
	}
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	return func(n string) bool { return set[n] }
}

// describeTopicConfigs describes a topic's effective configs: those its
// partitions on this broker use, so inherited values include this broker's
// own dynamic configs.
func (b *Broker) describeTopicConfigs(overrides map[string]string, names []string, synonyms bool) []configEntry {
	want := wanted(names)
	cluster := b.meta.BrokerConfigs("")
	node := b.meta.BrokerConfigs(strconv.Itoa(int(b.nodeID)))
	eff := config.EffectiveTopicConfigs(b.static, mergeDynamic(cluster, node), overrides)
	var clusterEff map[string]config.TopicValue
	if len(node) > 0 {
		clusterEff = config.EffectiveTopicConfigs(b.static, cluster, overrides)
	}
	var out []configEntry
	for name, v := range eff {
		if !want(name) {
			continue
		}
		if syn, ok := perBrokerSynonyms(v.Synonyms, clusterEff[name].Synonyms, node); ok {
			v.Synonyms = syn
			if v.Source == config.DynamicDefaultBrokerConfig {
				v.Source = config.DynamicBrokerConfig
			}
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

// describeBrokerConfigs describes this broker (node != "", its own dynamic
// configs included, as DYNAMIC_BROKER_CONFIG) or the cluster-wide dynamic
// defaults (node == "", only those that are set).
func (b *Broker) describeBrokerConfigs(node string, names []string, synonyms bool) []configEntry {
	want := wanted(names)
	dyn := b.meta.BrokerConfigs("")
	var own map[string]string
	clusterSyn := map[string][]config.Synonym{}
	if node != "" {
		if own = b.meta.BrokerConfigs(node); len(own) > 0 {
			for _, v := range config.DescribeBroker(b.static, dyn) {
				clusterSyn[v.Name] = v.Synonyms
			}
		}
	}
	var out []configEntry
	for _, v := range config.DescribeBroker(b.static, mergeDynamic(dyn, own)) {
		if !want(v.Name) {
			continue
		}
		if node == "" && v.Source != config.DynamicDefaultBrokerConfig {
			continue
		}
		if syn, ok := perBrokerSynonyms(v.Synonyms, clusterSyn[v.Name], own); ok {
			v.Synonyms, v.Source = syn, config.DynamicBrokerConfig
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

// perBrokerSynonyms corrects synonyms computed with this broker's own
// dynamic configs merged into the cluster-wide ones (merged): the dynamic
// value, when it is this broker's own (a key of node), is
// DYNAMIC_BROKER_CONFIG and is followed by the synonyms computed from the
// cluster-wide configs alone (cluster, whose entries before the broker's
// are the same as merged's). ok is false when nothing changes.
func perBrokerSynonyms(merged, cluster []config.Synonym, node map[string]string) ([]config.Synonym, bool) {
	for i, s := range merged {
		if s.Source != config.DynamicDefaultBrokerConfig {
			continue
		}
		if _, own := node[s.Name]; !own || i > len(cluster) {
			return nil, false
		}
		out := append([]config.Synonym(nil), merged[:i]...)
		s.Source = config.DynamicBrokerConfig
		out = append(out, s)
		return append(out, cluster[i:]...), true
	}
	return nil, false
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
		eff := config.EffectiveTopicConfigs(b.static, b.dynamicDefaults(), nil)
		return splitList(eff[key].Value)
	}
	for _, v := range config.DescribeBroker(b.static, b.meta.BrokerConfigs("")) {
		if v.Name == key && v.Value != nil {
			return splitList(*v.Value)
		}
	}
	return nil
}
