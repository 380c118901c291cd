package linkconf

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// The seed corpus lives in testdata/fuzz/<FuzzName>; go test runs it as
// ordinary tests, go test -fuzz=<FuzzName> explores from it.

func FuzzLinkConfJAAS(f *testing.F) {
	f.Add(plainJAAS)
	f.Add(scramJAAS)
	f.Add(`org.apache.kafka.common.security.scram.ScramLoginModule required username='a\'b' password="c\\d";`)
	f.Add("org.apache.kafka.common.security.plain.PlainLoginModule\n required\n username=u\n password=\"\"")
	f.Fuzz(func(t *testing.T, in string) {
		j, err := ParseJAAS(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidJAAS) {
				t.Fatalf("error %v does not wrap ErrInvalidJAAS", err)
			}
			return
		}
		if j.Module != ModulePlain && j.Module != ModuleSCRAM {
			t.Fatalf("module %q", j.Module)
		}
		if j.Username == "" {
			t.Fatal("empty username accepted")
		}
		back, err := ParseJAAS(j.ConfigValue())
		if err != nil || back != j {
			t.Fatalf("round trip: %q -> %+v -> %q -> %+v, %v", in, j, j.ConfigValue(), back, err)
		}
		if !strings.HasSuffix(j.String(), " Password:[hidden]}") {
			t.Fatalf("String does not hide the password: %s", j.String())
		}
	})
}

// jsonFilter is how the fuzzer writes parsed filters back to JSON.
type jsonFilter struct {
	Name        string `json:"name"`
	PatternType string `json:"patternType"`
	FilterType  string `json:"filterType"`
}

func FuzzLinkConfFilters(f *testing.F) {
	f.Add(false, `{"groupFilters":[{"name":"*","patternType":"LITERAL","filterType":"INCLUDE"}]}`, "g")
	f.Add(true, `{"topicFilters":[{"name":"_","patternType":"prefixed","filterType":"exclude"},{"name":"*","patternType":"literal"}]}`, "_t")
	f.Add(false, `{"groupFilters":[{"name":"a","patternType":"PREFIXED","filterType":"BLACKLIST"}],"x":null}`, "ab")
	f.Add(true, `{"topicFilters":null}`, "")
	f.Fuzz(func(t *testing.T, topics bool, js, name string) {
		parse, field := ParseGroupFilters, "groupFilters"
		if topics {
			parse, field = ParseTopicFilters, "topicFilters"
		}
		filters, err := parse(js)
		if err != nil {
			if !errors.Is(err, ErrInvalidFilter) {
				t.Fatalf("error %v does not wrap ErrInvalidFilter", err)
			}
			return
		}
		for _, fl := range filters {
			if fl.Name == "" || (fl.PatternType != PatternLiteral && fl.PatternType != PatternPrefixed) ||
				(fl.FilterType != FilterInclude && fl.FilterType != FilterExclude) {
				t.Fatalf("accepted a bad filter %+v", fl)
			}
		}
		_ = Matches(filters, name)
		if strings.TrimSpace(js) == "" {
			return
		}
		out := make([]jsonFilter, len(filters))
		for i, fl := range filters {
			out[i] = jsonFilter(fl)
		}
		b, err := json.Marshal(map[string]any{field: out})
		if err != nil {
			t.Fatal(err)
		}
		back, err := parse(string(b))
		if err != nil || !reflect.DeepEqual(back, filters) {
			t.Fatalf("round trip %s: %+v, %v; want %+v", b, back, err, filters)
		}
	})
}

func FuzzLinkConfACLFilters(f *testing.F) {
	f.Add(`{"aclFilters":[{"resourceFilter":{"resourceType":"any","patternType":"any"},"accessFilter":{"operation":"any","permissionType":"any"}}]}`)
	f.Add(`{"aclFilters":[{"resourceFilter":{"resourceType":"topic","name":"t","patternType":"literal"},"accessFilter":{"principal":"User:a","host":"*","operation":"read","permissionType":"allow"}}]}`)
	f.Add(`{"aclFilters":[]}`)
	f.Fuzz(func(t *testing.T, js string) {
		filters, err := ParseACLFilters(js)
		if err != nil {
			if !errors.Is(err, ErrInvalidFilter) {
				t.Fatalf("error %v does not wrap ErrInvalidFilter", err)
			}
			return
		}
		for _, fl := range filters {
			if fl.ResourceType == 0 || fl.PatternType == 0 || fl.Operation == 0 || fl.PermissionType == 0 {
				t.Fatalf("accepted an unknown enum: %+v", fl)
			}
		}
	})
}

func FuzzLinkConfPEM(f *testing.F) {
	f.Add("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "")
	f.Add("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIGjMF8GCSqGSIb3DQEFDTBSMDEGCSqGSIb3DQEFDDAkBBA=\n-----END ENCRYPTED PRIVATE KEY-----", "pw")
	f.Add("-----BEGIN PRIVATE KEY----- MIGH -----END PRIVATE KEY-----", "")
	f.Fuzz(func(t *testing.T, in, password string) {
		if certs, err := parseCertificates(in); err == nil && len(certs) == 0 {
			t.Fatal("no error and no certificate")
		}
		if k, err := parsePrivateKey(in, password); err == nil && k == nil {
			t.Fatal("no error and no key")
		}
	})
}

func FuzzLinkConfStartOffsetSpec(f *testing.F) {
	for _, s := range []string{"earliest", "latest", "2024-01-02T03:04:05Z", "2024-01-02T03:04:05.000+01:00", "1704164645000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		spec, err := ParseStartOffsetSpec(in)
		if err != nil {
			return
		}
		switch spec.Kind {
		case StartEarliest, StartLatest:
		case StartTimestamp:
			if spec.TimestampMs < 0 {
				t.Fatalf("negative timestamp from %q", in)
			}
			// The rendered form reads back as the same instant.
			back, err := ParseStartOffsetSpec(spec.String())
			if err != nil || back != spec {
				t.Fatalf("%q -> %v -> %+v, %v", in, spec, back, err)
			}
		default:
			t.Fatalf("kind %q", spec.Kind)
		}
	})
}
