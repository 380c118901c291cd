package linkconf

import (
	"errors"
	"fmt"
	"math"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Values of the enumerated configs, as Settings holds them.
const (
	LinkModeDestination    = "DESTINATION"
	ConnectionModeOutbound = "OUTBOUND"

	ProtocolPlaintext     = "PLAINTEXT"
	ProtocolSSL           = "SSL"
	ProtocolSASLPlaintext = "SASL_PLAINTEXT"
	ProtocolSASLSSL       = "SASL_SSL"

	MechanismPlain       = "PLAIN"
	MechanismScramSHA256 = "SCRAM-SHA-256"
	MechanismScramSHA512 = "SCRAM-SHA-512"

	StartEarliest  = "earliest"
	StartLatest    = "latest"
	StartTimestamp = "timestamp"
)

const (
	maxInt32      = math.MaxInt32
	maxFetchBytes = 1 << 30
	// maxTimestampMs is 9999-12-31T23:59:59.999Z, the last instant ISO-8601
	// writes with four year digits.
	maxTimestampMs = 253402300799999
	// maxMs keeps a millisecond value within time.Duration.
	maxMs = math.MaxInt64 / int64(time.Millisecond)
)

func checkBool(v string) error {
	if strings.EqualFold(v, "true") || strings.EqualFold(v, "false") {
		return nil
	}
	return errors.New("not a boolean (true or false)")
}

func parseBool(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }

func intCheck(lo, hi int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			var ne *strconv.NumError
			if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
				return fmt.Errorf("must be at most %d", hi)
			}
			return errors.New("not an integer")
		}
		if n < lo {
			return fmt.Errorf("must be at least %d", lo)
		}
		if n > hi {
			return fmt.Errorf("must be at most %d", hi)
		}
		return nil
	}
}

// msCheck checks a long number of milliseconds.
func msCheck(lo int64) func(string) error { return intCheck(lo, maxMs) }

// enumCheck accepts values case-insensitively. unsupported maps a value (as
// spelled in values) to the reason it is refused.
func enumCheck(values []string, unsupported map[string]string) func(string) error {
	return func(v string) error {
		c, ok := canonical(values, v)
		if !ok {
			quoted := make([]string, 0, len(values))
			for _, a := range values {
				if a == "" {
					quoted = append(quoted, `"" (empty)`)
				} else {
					quoted = append(quoted, a)
				}
			}
			return fmt.Errorf("must be one of %s", strings.Join(quoted, ", "))
		}
		if why, bad := unsupported[c]; bad {
			return errors.New(why)
		}
		return nil
	}
}

// canonical returns the spelling in values of v, matched case-insensitively.
func canonical(values []string, v string) (string, bool) {
	for _, a := range values {
		if strings.EqualFold(a, v) {
			return a, true
		}
	}
	return "", false
}

// splitList splits a comma-separated list, trimming entries and dropping
// empty ones, as Kafka's clients do with bootstrap.servers.
func splitList(v string) []string {
	var out []string
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

func checkBootstrap(v string) error {
	addrs := splitList(v)
	if len(addrs) == 0 {
		return errors.New("no HOST:PORT address")
	}
	for _, a := range addrs {
		host, port, err := net.SplitHostPort(a)
		if err != nil || host == "" || strings.ContainsAny(host, " \t/") {
			return fmt.Errorf("%q is not HOST:PORT", a)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("%q has no valid port (1-65535)", a)
		}
	}
	return nil
}

var legalTopicChars = regexp.MustCompile(`^[a-zA-Z0-9._-]*$`)

// maxPrefixLen leaves room for at least one character of the source topic
// name within Kafka's 249-character limit.
const maxPrefixLen = 248

func checkPrefix(v string) error {
	if !legalTopicChars.MatchString(v) {
		return errors.New("may only contain the topic name characters [a-zA-Z0-9._-]")
	}
	if len(v) > maxPrefixLen {
		return fmt.Errorf("longer than %d characters", maxPrefixLen)
	}
	return nil
}

var configName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// independentTopicConfigs are topic configs that each mirror topic keeps for
// itself; topic.config.sync.include cannot name them.
var independentTopicConfigs = []string{
	"confluent.placement.constraints",
	"unclean.leader.election.enable",
	"message.downconversion.enable",
	"confluent.append.record.interceptor.classes",
	"confluent.key.schema.validation",
	"confluent.value.schema.validation",
	"confluent.key.subject.name.strategy",
	"confluent.value.subject.name.strategy",
	"confluent.prefer.tier.fetch.ms",
	"leader.replication.throttled.replicas",
	"follower.replication.throttled.replicas",
}

func checkSyncInclude(v string) error {
	for _, n := range strings.Split(v, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !configName.MatchString(n) {
			return fmt.Errorf("%q is not a topic config name", n)
		}
		for _, ind := range independentTopicConfigs {
			if n == ind {
				return fmt.Errorf("%s cannot be synced: each mirror topic keeps its own value", n)
			}
		}
		if strings.HasPrefix(n, "confluent.tier.") {
			return fmt.Errorf("%s cannot be synced: each mirror topic keeps its own value", n)
		}
	}
	return nil
}

var javaClassName = regexp.MustCompile(`^[\p{L}_$][\p{L}\p{N}_$]*(\.[\p{L}_$][\p{L}\p{N}_$]*)*$`)

func checkClass(v string) error {
	if v == "" || javaClassName.MatchString(v) {
		return nil
	}
	return errors.New("not a Java class name")
}

// tlsVersionNames are the TLS versions Strait negotiates, by Kafka's names.
var tlsVersionNames = []string{"TLSv1.2", "TLSv1.3"}

func checkTLSVersions(v string) error {
	vs := splitList(v)
	if len(vs) == 0 {
		return errors.New("no TLS version (TLSv1.2, TLSv1.3)")
	}
	for _, e := range vs {
		if _, ok := canonical(tlsVersionNames, e); !ok {
			return fmt.Errorf("%q is not supported (TLSv1.2, TLSv1.3)", e)
		}
	}
	return nil
}

// StartOffsetSpec is mirror.start.offset.spec: where a new mirror topic
// starts reading its source.
type StartOffsetSpec struct {
	Kind        string // StartEarliest, StartLatest or StartTimestamp
	TimestampMs int64  // with StartTimestamp: the first offset at or after this time (epoch ms)
}

func (s StartOffsetSpec) String() string {
	if s.Kind == StartTimestamp {
		return time.UnixMilli(s.TimestampMs).UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	return s.Kind
}

// ParseStartOffsetSpec parses earliest, latest (any case), an ISO-8601
// timestamp with a zone (2024-01-02T03:04:05Z,
// 2024-01-02T03:04:05.000+01:00), or epoch milliseconds.
func ParseStartOffsetSpec(v string) (StartOffsetSpec, error) {
	v = strings.TrimSpace(v)
	switch {
	case strings.EqualFold(v, StartEarliest):
		return StartOffsetSpec{Kind: StartEarliest}, nil
	case strings.EqualFold(v, StartLatest):
		return StartOffsetSpec{Kind: StartLatest}, nil
	}
	bad := errors.New("not earliest, latest, an ISO-8601 timestamp with a zone (2024-01-02T03:04:05Z) or epoch milliseconds")
	if v != "" && strings.Trim(v, "0123456789") == "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms > maxTimestampMs {
			return StartOffsetSpec{}, errors.New("timestamp is after the year 9999")
		}
		return StartOffsetSpec{Kind: StartTimestamp, TimestampMs: ms}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		if _, errLocal := time.Parse("2006-01-02T15:04:05.999999999", v); errLocal == nil {
			return StartOffsetSpec{}, errors.New("timestamp has no zone; add Z or an offset such as +01:00")
		}
		return StartOffsetSpec{}, bad
	}
	ms := t.UnixMilli()
	if ms < 0 {
		return StartOffsetSpec{}, errors.New("timestamp is before 1970")
	}
	if ms > maxTimestampMs {
		return StartOffsetSpec{}, errors.New("timestamp is after the year 9999")
	}
	return StartOffsetSpec{Kind: StartTimestamp, TimestampMs: ms}, nil
}
