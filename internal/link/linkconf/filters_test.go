package linkconf

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestLinkConfFilterParse(t *testing.T) {
	tests := []struct {
		name    string
		js      string
		want    []Filter
		wantErr string
	}{
		{name: "empty", js: "", want: nil},
		{name: "blank", js: "  \n", want: nil},
		{name: "empty list", js: `{"groupFilters":[]}`, want: []Filter{}},
		{name: "confluent example", js: `{"groupFilters": [{"name": "*","patternType": "LITERAL","filterType": "INCLUDE"}]}`,
			want: []Filter{{"*", PatternLiteral, FilterInclude}}},
		{name: "default include, case-insensitive", js: `{"groupFilters":[{"name":"a","patternType":"literal"},{"name":"b","patternType":"Prefixed","filterType":"exclude"}]}`,
			want: []Filter{{"a", PatternLiteral, FilterInclude}, {"b", PatternPrefixed, FilterExclude}}},
		{name: "legacy names", js: `{"groupFilters":[{"name":"a","patternType":"LITERAL","filterType":"WHITELIST"},{"name":"b","patternType":"LITERAL","filterType":"blacklist"}]}`,
			want: []Filter{{"a", PatternLiteral, FilterInclude}, {"b", PatternLiteral, FilterExclude}}},
		{name: "null filterType", js: `{"groupFilters":[{"name":"a","patternType":"LITERAL","filterType":null}]}`,
			want: []Filter{{"a", PatternLiteral, FilterInclude}}},

		{name: "not JSON", js: `groupFilters`, wantErr: "group filter JSON does not parse"},
		{name: "truncated", js: `{"groupFilters":[{"name":"a"`, wantErr: "does not parse"},
		{name: "array at top", js: `[{"name":"a","patternType":"LITERAL"}]`, wantErr: "group filter JSON must be a JSON object"},
		{name: "null at top", js: `null`, wantErr: "group filter JSON cannot be the JSON null"},
		{name: "trailing data", js: `{"groupFilters":[]} {}`, wantErr: "data after its end"},
		{name: "missing list", js: `{}`, wantErr: "groupFilters cannot be the JSON null"},
		{name: "null list", js: `{"groupFilters":null}`, wantErr: "groupFilters cannot be the JSON null"},
		{name: "list not array", js: `{"groupFilters":{"name":"a"}}`, wantErr: "groupFilters must be a JSON array"},
		{name: "topic field in group JSON", js: `{"topicFilters":[]}`, wantErr: `unknown field "topicFilters" in group filter JSON`},
		{name: "unknown top field", js: `{"groupFilters":[],"extra":1}`, wantErr: `unknown field "extra"`},
		{name: "unknown entry field", js: `{"groupFilters":[{"name":"a","patternType":"LITERAL","pattern":"x"}]}`,
			wantErr: `unknown field "pattern" in group filter 1`},
		{name: "field names are case-sensitive", js: `{"groupFilters":[{"Name":"a","patternType":"LITERAL"}]}`, wantErr: `unknown field "Name"`},
		{name: "entry null", js: `{"groupFilters":[null]}`, wantErr: "group filter 1 cannot be the JSON null"},
		{name: "entry not object", js: `{"groupFilters":["a"]}`, wantErr: "group filter 1 must be a JSON object"},
		{name: "no name", js: `{"groupFilters":[{"patternType":"LITERAL"}]}`, wantErr: "name field may not be null or empty"},
		{name: "empty name", js: `{"groupFilters":[{"name":"","patternType":"LITERAL"}]}`, wantErr: "name field may not be null or empty"},
		{name: "name not string", js: `{"groupFilters":[{"name":5,"patternType":"LITERAL"}]}`, wantErr: "name must be a JSON string"},
		{name: "no pattern type", js: `{"groupFilters":[{"name":"a"}]}`, wantErr: "patternType field may not be null."},
		{name: "bad pattern type", js: `{"groupFilters":[{"name":"a","patternType":"REGEX"}]}`, wantErr: "Unknown patternType: REGEX"},
		{name: "match pattern type", js: `{"groupFilters":[{"name":"a","patternType":"MATCH"}]}`, wantErr: "patternType MATCH is not allowed"},
		{name: "bad filter type", js: `{"groupFilters":[{"name":"a","patternType":"LITERAL","filterType":"DENY"}]}`, wantErr: "Unknown filterType: DENY"},
		{name: "second entry", js: `{"groupFilters":[{"name":"a","patternType":"LITERAL"},{"name":"b"}]}`, wantErr: "group filter 2: patternType"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseGroupFilters(tc.js)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, %v; want error containing %q", got, err, tc.wantErr)
				}
				if !errors.Is(err, ErrInvalidFilter) {
					t.Errorf("error %v does not wrap ErrInvalidFilter", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}

	// Topic filters: same shape, another field name.
	got, err := ParseTopicFilters(`{"topicFilters":[{"name":"_","patternType":"PREFIXED","filterType":"EXCLUDE"}]}`)
	if err != nil || !reflect.DeepEqual(got, []Filter{{"_", PatternPrefixed, FilterExclude}}) {
		t.Errorf("ParseTopicFilters = %v, %v", got, err)
	}
	if _, err := ParseTopicFilters(`{"groupFilters":[]}`); err == nil || !strings.Contains(err.Error(), `unknown field "groupFilters" in topic filter JSON`) {
		t.Errorf("topic filters with groupFilters: %v", err)
	}
}

func TestLinkConfFilterMatches(t *testing.T) {
	inc := func(name, pt string) Filter { return Filter{name, pt, FilterInclude} }
	exc := func(name, pt string) Filter { return Filter{name, pt, FilterExclude} }
	tests := []struct {
		name    string
		filters []Filter
		group   string
		want    bool
	}{
		{"no filters", nil, "g", false},
		{"literal match", []Filter{inc("g", PatternLiteral)}, "g", true},
		{"literal is exact", []Filter{inc("g", PatternLiteral)}, "g2", false},
		{"literal star matches all", []Filter{inc("*", PatternLiteral)}, "anything", true},
		{"literal star matches empty", []Filter{inc("*", PatternLiteral)}, "", true},
		{"prefixed", []Filter{inc("app-", PatternPrefixed)}, "app-1", true},
		{"prefixed equal name", []Filter{inc("app-", PatternPrefixed)}, "app-", true},
		{"prefixed no match", []Filter{inc("app-", PatternPrefixed)}, "ap", false},
		{"prefixed star is literal", []Filter{inc("*", PatternPrefixed)}, "app", false},
		{"prefixed star matches star names", []Filter{inc("*", PatternPrefixed)}, "*x", true},
		{"unmatched exclude alone", []Filter{exc("tmp-", PatternPrefixed)}, "app", false},
		{"exclude wins over star", []Filter{inc("*", PatternLiteral), exc("tmp-", PatternPrefixed)}, "tmp-1", false},
		{"exclude order does not matter", []Filter{exc("tmp-1", PatternLiteral), inc("*", PatternLiteral)}, "tmp-1", false},
		{"include beside unrelated exclude", []Filter{inc("*", PatternLiteral), exc("tmp-", PatternPrefixed)}, "app", true},
		{"exclude star excludes all", []Filter{inc("app", PatternLiteral), exc("*", PatternLiteral)}, "app", false},
		{"two includes", []Filter{inc("a", PatternLiteral), inc("a", PatternPrefixed)}, "a", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Matches(tc.filters, tc.group); got != tc.want {
				t.Errorf("Matches(%v, %q) = %v, want %v", tc.filters, tc.group, got, tc.want)
			}
		})
	}
}

func TestLinkConfACLFilters(t *testing.T) {
	ok := func(res, acc string) string {
		return `{"aclFilters":[{"resourceFilter":{` + res + `},"accessFilter":{` + acc + `}}]}`
	}
	tests := []struct {
		name    string
		js      string
		want    []ACLFilter
		wantErr string
	}{
		{name: "empty", js: ""},
		{name: "confluent cloud value", js: `{"aclFilters":[{"resourceFilter":{"resourceType":"any","patternType":"any"},"accessFilter":{"operation":"any","permissionType":"any"}}]}`,
			want: []ACLFilter{{ResourceType: kmsg.ACLResourceTypeAny, PatternType: kmsg.ACLResourcePatternTypeAny,
				Operation: kmsg.ACLOperationAny, PermissionType: kmsg.ACLPermissionTypeAny}}},
		{name: "full", js: ok(`"resourceType":"TRANSACTIONAL_ID","name":"tx","patternType":"PREFIXED"`,
			`"principal":"User:bob","host":"10.0.0.1","operation":"WRITE","permissionType":"deny"`),
			want: []ACLFilter{{ResourceType: kmsg.ACLResourceTypeTransactionalId, ResourceName: "tx", PatternType: kmsg.ACLResourcePatternTypePrefixed,
				Principal: "User:bob", Host: "10.0.0.1", Operation: kmsg.ACLOperationWrite, PermissionType: kmsg.ACLPermissionTypeDeny}}},
		{name: "empty list", js: `{"aclFilters":[]}`, wantErr: "aclFilters field cannot be empty"},
		{name: "missing list", js: `{}`, wantErr: "aclFilters cannot be the JSON null"},
		{name: "unknown top", js: `{"aclFilters":[],"x":1}`, wantErr: `unknown field "x" in ACL filter JSON`},
		{name: "unknown entry", js: `{"aclFilters":[{"resourceFilter":{},"accessFilter":{},"y":1}]}`, wantErr: `unknown field "y" in ACL filter 1`},
		{name: "unknown resource field", js: ok(`"resourceType":"any","patternType":"any","resourceName":"x"`, `"operation":"any","permissionType":"any"`),
			wantErr: `unknown field "resourceName" in ACL filter 1 resourceFilter`},
		{name: "unknown access field", js: ok(`"resourceType":"any","patternType":"any"`, `"operation":"any","permissionType":"any","permission":"x"`),
			wantErr: `unknown field "permission" in ACL filter 1 accessFilter`},
		{name: "no resource filter", js: `{"aclFilters":[{"accessFilter":{"operation":"any","permissionType":"any"}}]}`, wantErr: "resourceFilter field may not be null."},
		{name: "no access filter", js: `{"aclFilters":[{"resourceFilter":{"resourceType":"any","patternType":"any"}}]}`, wantErr: "accessFilter field may not be null."},
		{name: "no resource type", js: ok(`"patternType":"any"`, `"operation":"any","permissionType":"any"`), wantErr: "resourceType field may not be null."},
		{name: "unknown resource type", js: ok(`"resourceType":"queue","patternType":"any"`, `"operation":"any","permissionType":"any"`), wantErr: "Unknown resourceType: queue"},
		{name: "UNKNOWN resource type", js: ok(`"resourceType":"unknown","patternType":"any"`, `"operation":"any","permissionType":"any"`), wantErr: "Unknown resourceType: unknown"},
		{name: "no pattern type", js: ok(`"resourceType":"any"`, `"operation":"any","permissionType":"any"`), wantErr: "patternType field may not be null."},
		{name: "bad operation", js: ok(`"resourceType":"any","patternType":"any"`, `"operation":"fly","permissionType":"any"`), wantErr: "Unknown operation: fly"},
		{name: "no permission", js: ok(`"resourceType":"any","patternType":"any"`, `"operation":"read"`), wantErr: "permissionType field may not be null."},
		{name: "bad permission", js: ok(`"resourceType":"any","patternType":"any"`, `"operation":"read","permissionType":"maybe"`), wantErr: "Unknown permissionType: maybe"},
		{name: "bad principal", js: ok(`"resourceType":"any","patternType":"any"`, `"principal":"alice","operation":"read","permissionType":"allow"`), wantErr: `principal "alice" is not TYPE:NAME`},
		{name: "name not string", js: ok(`"resourceType":"any","patternType":"any","name":1`, `"operation":"read","permissionType":"allow"`), wantErr: "name must be a JSON string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseACLFilters(tc.js)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, %v; want error containing %q", got, err, tc.wantErr)
				}
				if !errors.Is(err, ErrInvalidFilter) {
					t.Errorf("error %v does not wrap ErrInvalidFilter", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
}
