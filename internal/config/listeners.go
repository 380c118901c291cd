package config

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Listener is one parsed listener: NAME://HOST:PORT. Name is upper-cased.
// An empty Host means all interfaces; Port 0 means a free port chosen when
// the listener opens (tests use it). For advertised listeners, the broker
// replaces an empty host or port 0 with the address it actually bound.
type Listener struct {
	Name     string // PLAINTEXT, or a name from listener.security.protocol.map; HTTP for http.listeners
	Protocol string // PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL; HTTP for http.listeners
	Host     string
	Port     int
}

// Addr is HOST:PORT, for net.Listen.
func (l Listener) Addr() string { return net.JoinHostPort(l.Host, strconv.Itoa(l.Port)) }

func (l Listener) String() string { return strings.ToLower(l.Name) + "://" + l.Addr() }

func validListenerName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// splitListener parses NAME://HOST:PORT; reason is "" when it parses.
func splitListener(s string) (name, host string, port int, reason string) {
	s = strings.TrimSpace(s)
	name, rest, ok := strings.Cut(s, "://")
	if !ok || !validListenerName(name) {
		return "", "", 0, "listener " + strconv.Quote(s) + " is not NAME://HOST:PORT"
	}
	host, p, err := net.SplitHostPort(rest)
	if err != nil {
		return "", "", 0, "listener " + strconv.Quote(s) + " is not NAME://HOST:PORT"
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return "", "", 0, "listener " + strconv.Quote(s) + " has an invalid port " + strconv.Quote(p)
	}
	return strings.ToUpper(name), host, n, ""
}

func listenerProblem(reason string, elem string) *problem {
	return &problem{reason: reason, kafkaReason: strings.ToUpper(reason[:1]) + reason[1:], value: elem}
}

func checkKafkaListener(s string) *problem {
	if _, _, _, reason := splitListener(s); reason != "" {
		return listenerProblem(reason, s)
	}
	return nil
}

func checkAdvertisedListener(s string) *problem {
	_, host, _, reason := splitListener(s)
	if reason != "" {
		return listenerProblem(reason, s)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return listenerProblem("advertised listener "+strconv.Quote(s)+" uses the non-routable address "+host, s)
	}
	return nil
}

func checkHTTPListener(s string) *problem {
	_, reason := parseHTTPListener(s)
	if reason != "" {
		return listenerProblem(reason, s)
	}
	return nil
}

// ParseListener parses a Kafka listener, NAME://HOST:PORT. Protocol is set
// when the name is itself a security protocol (PLAINTEXT://...); otherwise
// Broker.KafkaListeners resolves it through listener.security.protocol.map.
func ParseListener(s string) (Listener, error) {
	l, reason := parseListener(s)
	if reason != "" {
		return Listener{}, fmt.Errorf("%w: %s", ErrInvalidConfig, reason)
	}
	return l, nil
}

func parseListener(s string) (Listener, string) {
	name, host, port, reason := splitListener(s)
	if reason != "" {
		return Listener{}, reason
	}
	l := Listener{Name: name, Host: host, Port: port}
	if slices.Contains(securityProtocols, name) {
		l.Protocol = name
	}
	return l, ""
}

// ParseHTTPListener parses an HTTP listener, http://HOST:PORT.
func ParseHTTPListener(s string) (Listener, error) {
	l, reason := parseHTTPListener(s)
	if reason != "" {
		return Listener{}, fmt.Errorf("%w: %s", ErrInvalidConfig, reason)
	}
	return l, nil
}

// parseHTTPListener is ParseHTTPListener with the reason as a string.
func parseHTTPListener(s string) (Listener, string) {
	name, host, port, reason := splitListener(s)
	if reason != "" {
		return Listener{}, strings.Replace(reason, "NAME://HOST:PORT", "http://HOST:PORT", 1)
	}
	if name != "HTTP" {
		return Listener{}, "listener " + strconv.Quote(strings.TrimSpace(s)) + " is not http://HOST:PORT"
	}
	return Listener{Name: "HTTP", Protocol: "HTTP", Host: host, Port: port}, ""
}

func (b *Broker) protocolOf(name string) string {
	if b.ListenerSecurityProtocolMap == nil {
		if slices.Contains(securityProtocols, name) {
			return name
		}
		return ""
	}
	return b.ListenerSecurityProtocolMap[name]
}

func (b *Broker) parseListeners(key string, raw []string) ([]Listener, error) {
	out := make([]Listener, 0, len(raw))
	for _, s := range raw {
		l, reason := parseListener(s)
		if reason != "" {
			return nil, invalidSetting(key, s, "", &problem{reason: reason})
		}
		l.Protocol = b.protocolOf(l.Name)
		if l.Protocol == "" {
			return nil, invalidSetting(key, s, "", &problem{reason: "listener name " + l.Name + " has no security protocol in listener.security.protocol.map"})
		}
		out = append(out, l)
	}
	return out, nil
}

// KafkaListeners returns the parsed listeners with their protocols.
func (b *Broker) KafkaListeners() ([]Listener, error) {
	return b.parseListeners("listeners", b.Listeners)
}

// AdvertisedKafkaListeners returns the parsed advertised listeners; with
// none set, the listeners.
func (b *Broker) AdvertisedKafkaListeners() ([]Listener, error) {
	if len(b.AdvertisedListeners) == 0 {
		return b.KafkaListeners()
	}
	return b.parseListeners("advertised.listeners", b.AdvertisedListeners)
}

// HTTPEndpoints returns the parsed http.listeners.
func (b *Broker) HTTPEndpoints() ([]Listener, error) {
	out := make([]Listener, 0, len(b.HTTPListeners))
	for _, s := range b.HTTPListeners {
		l, reason := parseHTTPListener(s)
		if reason != "" {
			return nil, invalidSetting("http.listeners", s, "", &problem{reason: reason})
		}
		out = append(out, l)
	}
	return out, nil
}
