package linkconf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrInvalidFilter is wrapped by every filter JSON error.
var ErrInvalidFilter = errors.New("linkconf: invalid filter JSON")

// Filter pattern and filter types, as Filter holds them.
const (
	PatternLiteral  = "LITERAL"
	PatternPrefixed = "PREFIXED"
	FilterInclude   = "INCLUDE"
	FilterExclude   = "EXCLUDE"
)

// Filter is one entry of consumer.offset.group.filters (a consumer group
// filter) or auto.create.mirror.topics.filters (a topic filter).
type Filter struct {
	Name        string // a name, a prefix, or "*" (with LITERAL: every name)
	PatternType string // PatternLiteral or PatternPrefixed
	FilterType  string // FilterInclude or FilterExclude
}

// Matches reports whether filters select name: at least one filter matches
// it and none of the matching filters is an EXCLUDE. A LITERAL filter
// matches its own name, or every name when its name is "*"; a PREFIXED
// filter matches the names that start with its name ("*" included, taken
// literally). With no filters nothing is selected.
func Matches(filters []Filter, name string) bool {
	matched := false
	for _, f := range filters {
		if !f.matches(name) {
			continue
		}
		if f.FilterType == FilterExclude {
			return false
		}
		matched = true
	}
	return matched
}

func (f Filter) matches(name string) bool {
	switch f.PatternType {
	case PatternLiteral:
		return f.Name == "*" || f.Name == name
	case PatternPrefixed:
		return strings.HasPrefix(name, f.Name)
	}
	return false
}

// ParseGroupFilters parses consumer.offset.group.filters:
//
//	{"groupFilters":[{"name":"orders-","patternType":"PREFIXED","filterType":"INCLUDE"}]}
//
// An empty (or blank) string is no filters. patternType is required and is
// LITERAL or PREFIXED; filterType defaults to INCLUDE and may be INCLUDE,
// EXCLUDE or the older WHITELIST and BLACKLIST; both are case-insensitive.
// Unknown fields are refused.
func ParseGroupFilters(js string) ([]Filter, error) {
	return parseFilters(js, "groupFilters", "group filter")
}

// ParseTopicFilters parses auto.create.mirror.topics.filters, which has the
// shape of ParseGroupFilters' JSON under the field topicFilters.
func ParseTopicFilters(js string) ([]Filter, error) {
	return parseFilters(js, "topicFilters", "topic filter")
}

func filterErrorf(format string, args ...any) error {
	return &messageError{msg: fmt.Sprintf(format, args...), err: ErrInvalidFilter}
}

func parseFilters(js, listField, what string) ([]Filter, error) {
	if strings.TrimSpace(js) == "" {
		return nil, nil
	}
	top, err := decodeObject([]byte(js), what+" JSON", true)
	if err != nil {
		return nil, err
	}
	if err := onlyFields(top, what+" JSON", listField); err != nil {
		return nil, err
	}
	items, err := decodeArray(top[listField], listField)
	if err != nil {
		return nil, err
	}
	out := make([]Filter, 0, len(items))
	for i, raw := range items {
		where := fmt.Sprintf("%s %d", what, i+1)
		obj, err := decodeObject(raw, where, false)
		if err != nil {
			return nil, err
		}
		if err := onlyFields(obj, where, "name", "patternType", "filterType"); err != nil {
			return nil, err
		}
		var f Filter
		name, err := stringField(obj, "name", where)
		if err != nil {
			return nil, err
		}
		if name == nil || *name == "" {
			return nil, filterErrorf("%s: name field may not be null or empty.", where)
		}
		f.Name = *name
		pt, err := stringField(obj, "patternType", where)
		if err != nil {
			return nil, err
		}
		if pt == nil {
			return nil, filterErrorf("%s: patternType field may not be null.", where)
		}
		switch {
		case strings.EqualFold(*pt, PatternLiteral):
			f.PatternType = PatternLiteral
		case strings.EqualFold(*pt, PatternPrefixed):
			f.PatternType = PatternPrefixed
		case strings.EqualFold(*pt, "ANY"), strings.EqualFold(*pt, "MATCH"):
			return nil, filterErrorf("%s: patternType %s is not allowed here (LITERAL or PREFIXED)", where, *pt)
		default:
			return nil, filterErrorf("%s: Unknown patternType: %s", where, *pt)
		}
		ft, err := stringField(obj, "filterType", where)
		if err != nil {
			return nil, err
		}
		switch {
		case ft == nil, strings.EqualFold(*ft, FilterInclude), strings.EqualFold(*ft, "WHITELIST"):
			f.FilterType = FilterInclude
		case strings.EqualFold(*ft, FilterExclude), strings.EqualFold(*ft, "BLACKLIST"):
			f.FilterType = FilterExclude
		default:
			return nil, filterErrorf("%s: Unknown filterType: %s", where, *ft)
		}
		out = append(out, f)
	}
	return out, nil
}

// ACLFilter is one entry of acl.filters, an ACL binding filter: the ACLs of
// the source that the AclSync task copies. Empty strings match anything.
type ACLFilter struct {
	ResourceType   kmsg.ACLResourceType
	ResourceName   string
	PatternType    kmsg.ACLResourcePatternType
	Principal      string // TYPE:NAME, e.g. User:alice
	Host           string
	Operation      kmsg.ACLOperation
	PermissionType kmsg.ACLPermissionType
}

// ParseACLFilters parses acl.filters:
//
//	{"aclFilters":[{"resourceFilter":{"resourceType":"topic","name":"orders","patternType":"literal"},
//	                "accessFilter":{"principal":"User:alice","host":"*","operation":"read","permissionType":"allow"}}]}
//
// resourceType, patternType, operation and permissionType are required and
// take Kafka's names, case-insensitively (any is allowed, unknown is not);
// name, principal and host are optional. aclFilters may not be empty. An
// empty (or blank) string is no filters. Unknown fields are refused.
func ParseACLFilters(js string) ([]ACLFilter, error) {
	if strings.TrimSpace(js) == "" {
		return nil, nil
	}
	top, err := decodeObject([]byte(js), "ACL filter JSON", true)
	if err != nil {
		return nil, err
	}
	if err := onlyFields(top, "ACL filter JSON", "aclFilters"); err != nil {
		return nil, err
	}
	items, err := decodeArray(top["aclFilters"], "aclFilters")
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, filterErrorf("aclFilters field cannot be empty")
	}
	out := make([]ACLFilter, 0, len(items))
	for i, raw := range items {
		where := fmt.Sprintf("ACL filter %d", i+1)
		obj, err := decodeObject(raw, where, false)
		if err != nil {
			return nil, err
		}
		if err := onlyFields(obj, where, "resourceFilter", "accessFilter"); err != nil {
			return nil, err
		}
		var f ACLFilter
		res, err := subObject(obj, "resourceFilter", where)
		if err != nil {
			return nil, err
		}
		rwhere := where + " resourceFilter"
		if err := onlyFields(res, rwhere, "resourceType", "name", "patternType"); err != nil {
			return nil, err
		}
		if err := enumField(res, "resourceType", rwhere, kmsg.ParseACLResourceType, &f.ResourceType); err != nil {
			return nil, err
		}
		if err := enumField(res, "patternType", rwhere, kmsg.ParseACLResourcePatternType, &f.PatternType); err != nil {
			return nil, err
		}
		if f.ResourceName, err = optionalString(res, "name", rwhere); err != nil {
			return nil, err
		}
		acc, err := subObject(obj, "accessFilter", where)
		if err != nil {
			return nil, err
		}
		awhere := where + " accessFilter"
		if err := onlyFields(acc, awhere, "principal", "host", "operation", "permissionType"); err != nil {
			return nil, err
		}
		if err := enumField(acc, "operation", awhere, kmsg.ParseACLOperation, &f.Operation); err != nil {
			return nil, err
		}
		if err := enumField(acc, "permissionType", awhere, kmsg.ParseACLPermissionType, &f.PermissionType); err != nil {
			return nil, err
		}
		if f.Principal, err = optionalString(acc, "principal", awhere); err != nil {
			return nil, err
		}
		if f.Principal != "" {
			if i := strings.IndexByte(f.Principal, ':'); i <= 0 {
				return nil, filterErrorf("%s: principal %q is not TYPE:NAME (User:alice)", awhere, f.Principal)
			}
		}
		if f.Host, err = optionalString(acc, "host", awhere); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// decodeObject decodes one JSON object. whole requires raw to hold nothing
// after it.
func decodeObject(raw []byte, where string, whole bool) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, filterErrorf("%s must be a JSON object", where)
		}
		return nil, filterErrorf("%s does not parse: %v", where, err)
	}
	if obj == nil {
		return nil, filterErrorf("%s cannot be the JSON null", where)
	}
	if whole {
		if _, err := dec.Token(); err != io.EOF {
			return nil, filterErrorf("%s has data after its end", where)
		}
	}
	return obj, nil
}

func decodeArray(raw json.RawMessage, field string) ([]json.RawMessage, error) {
	if raw == nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, filterErrorf("%s cannot be the JSON null", field)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, filterErrorf("%s must be a JSON array", field)
	}
	return items, nil
}

// onlyFields refuses any field of obj not in allowed (the first in sorted
// order, so that the message is stable).
func onlyFields(obj map[string]json.RawMessage, where string, allowed ...string) error {
	var unknown []string
	for k := range obj {
		known := false
		for _, a := range allowed {
			if k == a {
				known = true
				break
			}
		}
		if !known {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return filterErrorf("unknown field %q in %s (known: %s)", unknown[0], where, strings.Join(allowed, ", "))
}

// stringField returns obj[name] as a string, nil when absent or null.
func stringField(obj map[string]json.RawMessage, name, where string) (*string, error) {
	raw, ok := obj[name]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, filterErrorf("%s: %s must be a JSON string", where, name)
	}
	return &s, nil
}

func optionalString(obj map[string]json.RawMessage, name, where string) (string, error) {
	s, err := stringField(obj, name, where)
	if err != nil || s == nil {
		return "", err
	}
	return *s, nil
}

func subObject(obj map[string]json.RawMessage, name, where string) (map[string]json.RawMessage, error) {
	raw, ok := obj[name]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, filterErrorf("%s: %s field may not be null.", where, name)
	}
	return decodeObject(raw, where+" "+name, false)
}

// enumField parses a required Kafka enum field with parse; unknown values
// (UNKNOWN included) are refused in Kafka's words (Unknown operation: x).
func enumField[T ~int8](obj map[string]json.RawMessage, name, where string, parse func(string) (T, error), dst *T) error {
	s, err := stringField(obj, name, where)
	if err != nil {
		return err
	}
	if s == nil {
		return filterErrorf("%s: %s field may not be null.", where, name)
	}
	v, err := parse(*s)
	if err != nil || v == 0 {
		return filterErrorf("%s: Unknown %s: %s", where, name, *s)
	}
	*dst = v
	return nil
}
