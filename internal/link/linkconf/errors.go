package linkconf

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidConfig is wrapped by every validation error: an unknown key,
	// a value that does not parse or is out of range, a missing required
	// config, a change to an immutable config.
	ErrInvalidConfig = errors.New("linkconf: invalid cluster link config")
	// ErrNoSecret: a sensitive value has to be sealed or opened but the
	// broker has no cluster.link.secret.
	ErrNoSecret = errors.New("linkconf: no cluster link secret")
	// ErrEmptySecret: NewSealer was given an empty secret.
	ErrEmptySecret = errors.New("linkconf: empty cluster link secret")
	// ErrWrongSecret: a sealed value does not open with this secret. AES-GCM
	// cannot tell a wrong secret from an altered ciphertext, so both end here.
	ErrWrongSecret = errors.New("linkconf: sealed value does not open with this cluster link secret (wrong secret or altered value)")
	// ErrMalformedSealed: a stored sensitive value is not in the enc:v1
	// format (not sealed, bad base64, too short).
	ErrMalformedSealed = errors.New("linkconf: malformed sealed value")
)

// hidden stands in for a sensitive value wherever configs are shown.
const hidden = "[hidden]"

// ConfigError is one validation failure. Its message names the config and,
// unless the config is sensitive, the value; errors.Is(err, ErrInvalidConfig)
// holds for every ConfigError.
//
//	unknown cluster link config "x"
//	invalid value "abc" for cluster link config consumer.offset.sync.ms: not an integer
//	invalid value [hidden] for cluster link config sasl.jaas.config: no username option
//	cluster link config cluster.link.prefix cannot be changed after the link is created
type ConfigError struct {
	Key   string
	Value string // as given, or "[hidden]" for a sensitive config
	Msg   string // the whole message
}

func (e *ConfigError) Error() string { return e.Msg }

// Unwrap makes errors.Is(err, ErrInvalidConfig) true.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// maxShownValue bounds how much of a value an error message repeats (filter
// JSON can be long).
const maxShownValue = 120

// invalid reports a bad value of key; the value is hidden when the key is
// sensitive and shortened when long.
func invalid(key, value string, reason error) *ConfigError {
	shown := value
	quoted := ""
	if k, ok := Lookup(key); ok && k.Sensitive {
		shown = hidden
		quoted = hidden
	} else {
		r := []rune(value)
		if len(r) > maxShownValue {
			value = string(r[:maxShownValue]) + "…"
		}
		shown = value
		quoted = fmt.Sprintf("%q", value)
	}
	return &ConfigError{Key: key, Value: shown,
		Msg: fmt.Sprintf("invalid value %s for cluster link config %s: %v", quoted, key, reason)}
}

// configErrorf reports a problem that is not about one value.
func configErrorf(key, format string, args ...any) *ConfigError {
	return &ConfigError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// messageError is an error with a fixed message that wraps a sentinel.
type messageError struct {
	msg string
	err error
}

func (e *messageError) Error() string { return e.msg }
func (e *messageError) Unwrap() error { return e.err }
