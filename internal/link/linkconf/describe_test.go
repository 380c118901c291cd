package linkconf

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestLinkConfDescribe(t *testing.T) {
	const secret = "Tr0ub4dor"
	cfg := map[string]string{
		"bootstrap.servers":              "a:9092",
		"consumer.offset.sync.ms":        "30000", // set to its default: still a dynamic config
		"cluster.link.prefix":            "src_",
		"security.protocol":              "SASL_SSL",
		"sasl.jaas.config":               `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="` + secret + `";`,
		"ssl.key.password":               secret,
		"local.sasl.jaas.config":         secret,
		"ssl.keystore.certificate.chain": "enc:v1:" + secret, // stored form
		"not.a.config":                   "x",
	}
	entries := Describe(cfg)
	if len(entries) != len(Keys()) {
		t.Fatalf("Describe gave %d entries, want one per catalogued config (%d)", len(entries), len(Keys()))
	}
	blob, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(blob), secret) {
		t.Fatalf("Describe shows a sensitive value: %s", blob)
	}
	byName := map[string]Entry{}
	for i, e := range entries {
		if i > 0 && entries[i-1].Name >= e.Name {
			t.Errorf("entries not sorted: %s before %s", entries[i-1].Name, e.Name)
		}
		byName[e.Name] = e
		if e.Sensitive && e.Value != nil {
			t.Errorf("%s: sensitive with a value", e.Name)
		}
		if !e.Sensitive && e.Value == nil {
			t.Errorf("%s: no value", e.Name)
		}
		if e.Synonyms == nil {
			t.Errorf("%s: nil synonyms", e.Name)
		}
		if e.IsDefault != (e.Source == SourceDefault) {
			t.Errorf("%s: IsDefault %v with source %s", e.Name, e.IsDefault, e.Source)
		}
	}
	if _, ok := byName["not.a.config"]; ok {
		t.Error("Describe shows an unknown key")
	}
	val := func(n string) string {
		e := byName[n]
		if e.Value == nil {
			return "<nil>"
		}
		return *e.Value
	}
	tests := []struct {
		name      string
		value     string
		isDefault bool
		readOnly  bool
		sensitive bool
	}{
		{"bootstrap.servers", "a:9092", false, false, false},
		{"consumer.offset.sync.ms", "30000", false, false, false},
		{"acl.sync.ms", "5000", true, false, false},
		{"cluster.link.prefix", "src_", false, true, false},
		{"link.prefix", "src_", false, true, false},
		{"link.mode", "DESTINATION", true, true, false},
		{"replica.fetch.max.bytes", "5242880", true, true, false},
		{"security.protocol", "SASL_SSL", false, false, false},
		{"sasl.jaas.config", "<nil>", false, false, true},
		{"ssl.keystore.key", "<nil>", true, false, true},
		{"local.sasl.jaas.config", "<nil>", false, false, true},
		{"consumer.offset.group.filters", "", true, false, false},
	}
	for _, tc := range tests {
		e, ok := byName[tc.name]
		if !ok {
			t.Errorf("%s: missing", tc.name)
			continue
		}
		if val(tc.name) != tc.value || e.IsDefault != tc.isDefault || e.ReadOnly != tc.readOnly || e.Sensitive != tc.sensitive {
			t.Errorf("%s: value %q default %v read-only %v sensitive %v; want %q %v %v %v",
				tc.name, val(tc.name), e.IsDefault, e.ReadOnly, e.Sensitive, tc.value, tc.isDefault, tc.readOnly, tc.sensitive)
		}
		wantSource := SourceDynamic
		if tc.isDefault {
			wantSource = SourceDefault
		}
		if e.Source != wantSource {
			t.Errorf("%s: source %s, want %s", tc.name, e.Source, wantSource)
		}
	}

	// Changing a returned entry does not reach the catalogue.
	*byName["acl.sync.ms"].Value = "1"
	if k, _ := Lookup("acl.sync.ms"); k.Default != "5000" {
		t.Errorf("catalogue default changed to %q", k.Default)
	}
}
