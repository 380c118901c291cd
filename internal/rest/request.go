package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
)

// configData is Confluent's ConfigData: one name and a nullable value.
type configData struct {
	Name  string  `json:"name"`
	Value *string `json:"value"`
}

// decodeBody reads r's JSON body into v strictly: unknown fields, trailing
// data and wrong types are 400s that name the field. An empty body leaves v
// untouched when optional, and is a 400 otherwise. ServeHTTP has already
// read the body into memory within Limits, so this read cannot block or
// grow past MaxBodyBytes.
func decodeBody(r *http.Request, v any, optional bool) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return badRequest("reading request body: %v", err)
	}
	return decodeJSON(b, v, optional)
}

func decodeJSON(b []byte, v any, optional bool) error {
	if len(bytes.TrimSpace(b)) == 0 {
		if optional {
			return nil
		}
		return badRequest("invalid JSON body: the request needs a body")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("invalid JSON body: %s", describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("invalid JSON body: unexpected data after the JSON value")
	}
	return nil
}

// describeJSONError rewords encoding/json's errors so that they name the
// field as it is spelt on the wire and not the Go type.
func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field != "" && outOfRange(te) != "":
		return fmt.Sprintf("field %s: %s", te.Field, outOfRange(te))
	case errors.As(err, &te) && te.Field != "":
		return fmt.Sprintf("field %s: cannot use a JSON %s as %s", te.Field, te.Value, wireType(te.Type.Kind().String()))
	case errors.As(err, &te):
		return fmt.Sprintf("cannot use a JSON %s here", te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "unexpected end of JSON input"
	}
	// encoding/json reports unknown fields as `json: unknown field "x"`.
	return strings.TrimPrefix(err.Error(), "json: ")
}

// outOfRange describes a whole number too large or too small for its
// field's integer type ("70000 is out of range (at most 32767)"), or is ""
// when te is some other mismatch.
func outOfRange(te *json.UnmarshalTypeError) string {
	num, ok := strings.CutPrefix(te.Value, "number ")
	if !ok || te.Type == nil {
		return ""
	}
	n, ok := new(big.Int).SetString(num, 10)
	if !ok {
		return "" // a fraction or an exponent: not an integer at all
	}
	var lo, hi *big.Int
	switch k := te.Type.Kind(); k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := uint(te.Type.Bits())
		hi = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), bits-1), big.NewInt(1))
		lo = new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), bits-1))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		hi = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(te.Type.Bits())), big.NewInt(1))
		lo = big.NewInt(0)
	default:
		return ""
	}
	switch {
	case n.Cmp(hi) > 0:
		return fmt.Sprintf("%s is out of range (at most %s)", num, hi)
	case n.Cmp(lo) < 0:
		return fmt.Sprintf("%s is out of range (at least %s)", num, lo)
	}
	return ""
}

func wireType(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "an integer"
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "a boolean"
	case kind == "slice":
		return "an array"
	case kind == "struct", kind == "map":
		return "an object"
	}
	return kind
}

// queryBool reads a boolean query parameter; absent or empty is def.
func queryBool(q url.Values, name string, def bool) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("invalid value %q for query parameter %s", v, name)
	}
	return b, nil
}

// configMap turns ConfigData entries into a map; names must be present and
// unique and values non-null. field is the JSON field name for messages.
func configMap(field string, cs []configData) (map[string]string, error) {
	m := make(map[string]string, len(cs))
	for i, c := range cs {
		if c.Name == "" {
			return nil, badRequest("%s[%d].name is required", field, i)
		}
		if c.Value == nil {
			return nil, badRequest("%s[%d].value is required (config %q)", field, i, c.Name)
		}
		if _, dup := m[c.Name]; dup {
			return nil, badRequest("%s: config %q is given twice", field, c.Name)
		}
		m[c.Name] = *c.Value
	}
	return m, nil
}

// selfURL is the absolute URL of path on the server r was sent to.
func selfURL(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

// pathOf joins BasePath and escaped path segments.
func pathOf(segments ...string) string {
	var b strings.Builder
	b.WriteString(BasePath)
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// resourceMeta is a single resource's metadata.
type resourceMeta struct {
	Self         string  `json:"self"`
	ResourceName *string `json:"resource_name,omitempty"`
}

// listMeta is a list's metadata; Strait never pages, so next is null.
type listMeta struct {
	Self string  `json:"self"`
	Next *string `json:"next"`
}

// list is every collection's envelope.
type list[T any] struct {
	Kind     string   `json:"kind"`
	Metadata listMeta `json:"metadata"`
	Data     []T      `json:"data"`
}

func newList[T any](kind, self string, data []T) list[T] {
	if data == nil {
		data = []T{}
	}
	return list[T]{Kind: kind, Metadata: listMeta{Self: self}, Data: data}
}

// related is a link to another resource.
type related struct {
	Related string `json:"related"`
}

func crn(parts ...string) *string {
	s := "crn:///" + strings.Join(parts, "/")
	return &s
}
