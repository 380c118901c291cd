package config

import (
	"errors"
	"fmt"
)

var (
	// ErrUnknownConfig: a key that is neither a Strait setting nor an accepted
	// Kafka key (broker settings), or not a topic config (topic configs).
	ErrUnknownConfig = errors.New("config: unknown config")
	// ErrInvalidConfig: a value that does not parse or is out of range.
	ErrInvalidConfig = errors.New("config: invalid config value")
	// ErrReadOnlyConfig: a broker key that cannot be changed while running
	// (AlterConfigs on the BROKER resource).
	ErrReadOnlyConfig = errors.New("config: config cannot be updated dynamically")
)

// Error is one configuration error. It names the key and, for bad values,
// the value, and says where the setting came from when that is known.
// errors.Is matches it against ErrUnknownConfig, ErrInvalidConfig or
// ErrReadOnlyConfig.
//
// Errors about broker settings read at startup are worded for an operator:
//
//	unknown setting "log.dirz" in server.properties line 12
//	invalid value "abc" for log.segment.bytes: not an integer (server.properties line 3)
//
// Errors about topic configs and dynamic broker configs, which are sent back
// to Kafka clients, use Kafka's wording:
//
//	Invalid value abc for configuration retention.ms: Not a number of type LONG
//	Unknown topic config name: retention.msx
type Error struct {
	Key    string
	Value  string
	Where  string // "server.properties line 12", "environment variable STRAIT_X", "flag x", or ""
	Reason string
	Err    error // the sentinel
	msg    string
}

func (e *Error) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return fmt.Sprintf("%v: %s=%q: %s", e.Err, e.Key, e.Value, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// problem is why a value is invalid, in both wordings.
type problem struct {
	reason      string // operator wording: "not an integer"
	kafkaReason string // Kafka's wording: "Not a number of type INT"
	value       string // the offending part when it is not the whole value (a list element)
}

func (p *problem) bad(v string) string {
	if p.value != "" {
		return p.value
	}
	return v
}

func invalidSetting(key, value, where string, p *problem) *Error {
	msg := fmt.Sprintf("invalid value %q for %s: %s", value, key, p.reason)
	if where != "" {
		msg += " (" + where + ")"
	}
	return &Error{Key: key, Value: value, Where: where, Reason: p.reason, Err: ErrInvalidConfig, msg: msg}
}

func unknownSetting(key, where string) *Error {
	msg := fmt.Sprintf("unknown setting %q", key)
	if where != "" {
		msg += " in " + where
	}
	return &Error{Key: key, Where: where, Reason: "unknown setting", Err: ErrUnknownConfig, msg: msg}
}

func invalidKafka(key, value string, p *problem) *Error {
	v := p.bad(value)
	return &Error{Key: key, Value: v, Reason: p.kafkaReason, Err: ErrInvalidConfig,
		msg: fmt.Sprintf("Invalid value %s for configuration %s: %s", v, key, p.kafkaReason)}
}

func unknownTopicConfig(key string) *Error {
	return &Error{Key: key, Reason: "unknown topic config", Err: ErrUnknownConfig,
		msg: "Unknown topic config name: " + key}
}

func unknownBrokerConfig(key string) *Error {
	return &Error{Key: key, Reason: "unknown broker config", Err: ErrUnknownConfig,
		msg: "Unknown broker config name: " + key}
}

func readOnlyBrokerConfig(key, value string) *Error {
	return &Error{Key: key, Value: value, Reason: "not dynamic", Err: ErrReadOnlyConfig,
		msg: "Cannot update these configs dynamically: " + key}
}
