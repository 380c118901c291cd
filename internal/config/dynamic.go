package config

import (
	"sort"
)

// BrokerValue is one row of DescribeConfigs on the BROKER resource.
type BrokerValue struct {
	Name      string
	Value     *string // nil when sensitive, or unset without a default
	Source    ConfigSource
	ReadOnly  bool
	Sensitive bool
	Type      ConfigType
	Doc       string
	Synonyms  []Synonym // highest precedence first
}

// DescribeBroker describes every broker setting of b with the cluster-wide
// dynamic configs applied, sorted by name: each setting, each alias (with
// its own value, read-only), and each ignored Kafka key that was set.
func DescribeBroker(b *Broker, dynamic map[string]string) []BrokerValue {
	eff := applyDynamicLenient(b, dynamic)
	var out []BrokerValue
	for i := range brokerDefs {
		d := &brokerDefs[i]
		syn := brokerSynonyms(b, d, dynamic)
		bv := BrokerValue{Name: d.Name, Source: DefaultConfig, ReadOnly: d.ReadOnly, Sensitive: d.Sensitive,
			Type: d.Type, Doc: d.Doc, Synonyms: syn}
		if len(syn) > 0 {
			bv.Source = syn[0].Source
		}
		if !d.Sensitive {
			v := d.get(eff)
			bv.Value = &v
		}
		out = append(out, bv)
	}
	for _, a := range aliasDefs {
		d := defByName[a.target]
		bv := BrokerValue{Name: a.name, Source: DefaultConfig, ReadOnly: true, Type: a.spec.typ, Doc: a.doc,
			Synonyms: brokerSynonyms(b, d, dynamic)}
		if v, ok := b.Values[a.name]; ok {
			bv.Value, bv.Source = ptr(v.Value), StaticBrokerConfig
		} else if a.def != "" {
			bv.Value = ptr(a.def)
		}
		out = append(out, bv)
	}
	for _, k := range ignoredKeys {
		if v, ok := b.Values[k]; ok {
			out = append(out, BrokerValue{Name: k, Value: ptr(v.Value), Source: StaticBrokerConfig, ReadOnly: true,
				Type: TypeString, Doc: "A Kafka setting Strait accepts and does not use.",
				Synonyms: []Synonym{{Name: k, Value: v.Value, Source: StaticBrokerConfig}}})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func ptr(s string) *string { return &s }

// ValidateDynamic checks cluster-wide dynamic broker configs, as
// AlterConfigs on the BROKER resource receives them. Keys are checked in
// sorted order and the first problem is returned, in Kafka's wording: an
// *Error wrapping ErrUnknownConfig (no such setting), ErrReadOnlyConfig
// (the setting exists but is not dynamic, aliases included) or
// ErrInvalidConfig.
func ValidateDynamic(m map[string]string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if aliasByName[k] != nil {
			return readOnlyBrokerConfig(k, m[k])
		}
		d := defByName[k]
		if d == nil {
			return unknownBrokerConfig(k)
		}
		if !d.Dynamic {
			return readOnlyBrokerConfig(k, m[k])
		}
		if p := d.spec.check(m[k]); p != nil {
			return invalidKafka(k, m[k], p)
		}
	}
	return nil
}

// ApplyDynamic returns a copy of b with the cluster-wide dynamic configs
// applied. b is not changed, and neither is the copy's Values (which keeps
// the static settings). Any key ValidateDynamic rejects is an error.
func ApplyDynamic(b *Broker, dynamic map[string]string) (*Broker, error) {
	if err := ValidateDynamic(dynamic); err != nil {
		return nil, err
	}
	return applyDynamicLenient(b, dynamic), nil
}

// applyDynamicLenient applies the dynamic configs that are valid and skips
// the rest: stored configs were validated when written, and a describe or a
// log must not fail because of one bad entry.
func applyDynamicLenient(b *Broker, dynamic map[string]string) *Broker {
	c := b.clone()
	for k, v := range dynamic {
		if d := defByName[k]; d != nil && d.Dynamic && d.spec.check(v) == nil {
			d.set(c, v)
		}
	}
	return c
}
