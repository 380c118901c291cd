package config

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ConfigType is a config's type, numbered as in Kafka's DescribeConfigs
// response (kmsg.ConfigType).
type ConfigType int8

const (
	TypeUnknown  ConfigType = 0
	TypeBoolean  ConfigType = 1
	TypeString   ConfigType = 2
	TypeInt      ConfigType = 3
	TypeShort    ConfigType = 4
	TypeLong     ConfigType = 5
	TypeDouble   ConfigType = 6
	TypeList     ConfigType = 7
	TypePassword ConfigType = 9
)

func (t ConfigType) String() string {
	switch t {
	case TypeBoolean:
		return "BOOLEAN"
	case TypeString:
		return "STRING"
	case TypeInt:
		return "INT"
	case TypeShort:
		return "SHORT"
	case TypeLong:
		return "LONG"
	case TypeDouble:
		return "DOUBLE"
	case TypeList:
		return "LIST"
	case TypePassword:
		return "PASSWORD"
	}
	return "UNKNOWN"
}

// valueSpec says what values a key accepts. Values are trimmed before they
// are checked, as Kafka does.
type valueSpec struct {
	typ            ConfigType
	min, max       int64 // integer bounds, used when hasMin/hasMax
	hasMin, hasMax bool
	fmin, fmax     float64 // double bounds, always used for TypeDouble
	oneOf          []string
	nonEmpty       bool                    // lists: at least one element
	rawList        bool                    // lists: leave all element checks to custom
	elem           func(s string) *problem // lists: check of each element
	custom         func(s string) *problem // after the type check
}

func specBool() valueSpec     { return valueSpec{typ: TypeBoolean} }
func specString() valueSpec   { return valueSpec{typ: TypeString} }
func specPassword() valueSpec { return valueSpec{typ: TypePassword} }
func specInt(min int64) valueSpec {
	return valueSpec{typ: TypeInt, min: min, hasMin: true}
}
func specIntAny() valueSpec { return valueSpec{typ: TypeInt} }
func specShort(min int64) valueSpec {
	return valueSpec{typ: TypeShort, min: min, hasMin: true}
}
func specLong(min int64) valueSpec {
	return valueSpec{typ: TypeLong, min: min, hasMin: true}
}
func specLongAny() valueSpec { return valueSpec{typ: TypeLong} }
func specRatio() valueSpec   { return valueSpec{typ: TypeDouble, fmin: 0, fmax: 1} }
func specOneOf(vals ...string) valueSpec {
	return valueSpec{typ: TypeString, oneOf: vals}
}
func specList(nonEmpty bool, elem func(string) *problem) valueSpec {
	return valueSpec{typ: TypeList, nonEmpty: nonEmpty, elem: elem}
}

func (s valueSpec) bits() int {
	switch s.typ {
	case TypeShort:
		return 16
	case TypeInt:
		return 32
	}
	return 64
}

// check reports why v is not acceptable, or nil.
func (s valueSpec) check(v string) *problem {
	v = strings.TrimSpace(v)
	switch s.typ {
	case TypeBoolean:
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return &problem{reason: "not a boolean (true or false)", kafkaReason: "Expected value to be either true or false"}
		}
	case TypeShort, TypeInt, TypeLong:
		n, err := strconv.ParseInt(v, 10, s.bits())
		if err != nil {
			reason := "not an integer"
			if errors.Is(err, strconv.ErrRange) {
				reason = "out of range for a " + strconv.Itoa(s.bits()) + "-bit integer"
			}
			return &problem{reason: reason, kafkaReason: "Not a number of type " + s.typ.String()}
		}
		if s.hasMin && n < s.min {
			m := strconv.FormatInt(s.min, 10)
			return &problem{reason: "must be at least " + m, kafkaReason: "Value must be at least " + m}
		}
		if s.hasMax && n > s.max {
			m := strconv.FormatInt(s.max, 10)
			return &problem{reason: "must be at most " + m, kafkaReason: "Value must be no more than " + m}
		}
	case TypeDouble:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return &problem{reason: "not a number", kafkaReason: "Not a number of type DOUBLE"}
		}
		if f < s.fmin {
			m := strconv.FormatFloat(s.fmin, 'g', -1, 64)
			return &problem{reason: "must be at least " + m, kafkaReason: "Value must be at least " + m}
		}
		if f > s.fmax {
			m := strconv.FormatFloat(s.fmax, 'g', -1, 64)
			return &problem{reason: "must be at most " + m, kafkaReason: "Value must be no more than " + m}
		}
	case TypeString:
		if s.oneOf != nil && !slices.Contains(s.oneOf, v) {
			return oneOfProblem(s.oneOf, "")
		}
	case TypeList:
		elems := splitList(v)
		if s.nonEmpty && len(elems) == 0 {
			return &problem{reason: "must not be empty", kafkaReason: "Empty list is not allowed"}
		}
		for _, e := range elems {
			if s.rawList {
				break
			}
			if e == "" {
				return &problem{reason: "empty element in list", kafkaReason: "Empty element in list"}
			}
			if s.oneOf != nil && !slices.Contains(s.oneOf, e) {
				return oneOfProblem(s.oneOf, e)
			}
			if s.elem != nil {
				if p := s.elem(e); p != nil {
					return p
				}
			}
		}
	}
	if s.custom != nil {
		return s.custom(v)
	}
	return nil
}

func oneOfProblem(vals []string, bad string) *problem {
	j := strings.Join(vals, ", ")
	return &problem{reason: "must be one of " + j, kafkaReason: "String must be one of: " + j, value: bad}
}

// normalize returns v in the canonical form Strait stores and reports:
// trimmed, booleans in lower case, numbers without signs or spaces, lists
// joined by "," without spaces. v must already have passed check.
func (s valueSpec) normalize(v string) string {
	v = strings.TrimSpace(v)
	switch s.typ {
	case TypeBoolean:
		return strings.ToLower(v)
	case TypeShort, TypeInt, TypeLong:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return v
		}
		return strconv.FormatInt(n, 10)
	case TypeDouble:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return v
		}
		return formatDouble(f)
	case TypeList:
		return strings.Join(splitList(v), ",")
	}
	return v
}

// formatDouble formats like Java's Double.toString for ordinary values
// ("0.5", "1.0"), which is what Kafka reports.
func formatDouble(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// splitList splits a comma-separated list, trimming each element. An empty
// or blank string is the empty list.
func splitList(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}
