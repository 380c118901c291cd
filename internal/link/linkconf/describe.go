package linkconf

import "slices"

// Config sources, as Describe reports them.
const (
	SourceDynamic = "DYNAMIC_CLUSTER_LINK_CONFIG"
	SourceDefault = "DEFAULT_CONFIG"
)

// Entry is one config of a link as described (REST KafkaLinkConfigData).
type Entry struct {
	Name      string
	Value     *string // nil for a sensitive config, set or not
	IsDefault bool    // not set: the value is the default
	ReadOnly  bool
	Sensitive bool
	Source    string   // SourceDynamic when set, else SourceDefault
	Synonyms  []string // never nil
	Type      Type
	Doc       string
}

// Describe returns every catalogued config with its value in cfg (stored or
// open: sensitive values are never read), sorted by name. Keys of cfg
// outside the catalogue are left out. link.prefix shows
// cluster.link.prefix.
func Describe(cfg map[string]string) []Entry {
	out := make([]Entry, 0, len(catalogueNames))
	for _, n := range catalogueNames {
		d := catalogue[n]
		src := n
		if n == "link.prefix" {
			src = "cluster.link.prefix"
		}
		v, set := cfg[src]
		if !set {
			v = catalogue[src].Default
		}
		e := Entry{
			Name:      n,
			IsDefault: !set,
			ReadOnly:  d.ReadOnly,
			Sensitive: d.Sensitive,
			Source:    SourceDefault,
			Synonyms:  slices.Clone(d.Synonyms),
			Type:      d.Type,
			Doc:       d.Doc,
		}
		if e.Synonyms == nil {
			e.Synonyms = []string{}
		}
		if set {
			e.Source = SourceDynamic
		}
		if !d.Sensitive {
			e.Value = &v
		}
		out = append(out, e)
	}
	return out
}
