package config

import (
	"slices"
	"strconv"
	"strings"
)

// ConnectionsPerIPOverrides returns max.connections.per.ip.overrides as a
// map from host name or IP address to its connection limit.
func (b *Broker) ConnectionsPerIPOverrides() map[string]int32 {
	return parseOverrides(b.MaxConnectionsPerIPOverrides)
}

// parseOverrides reads HOST:COUNT pairs. The count follows the last colon,
// so IPv6 addresses need no brackets (::1:200). v must have passed
// checkOverrides; entries that do not parse are skipped.
func parseOverrides(v string) map[string]int32 {
	m := map[string]int32{}
	for _, e := range splitList(v) {
		host, count, ok := cutLast(e, ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(count), 10, 32)
		if err != nil {
			continue
		}
		m[strings.TrimSpace(host)] = int32(n)
	}
	return m
}

// formatOverrides is the canonical form: entries sorted by host.
func formatOverrides(m map[string]int32) string {
	hosts := make([]string, 0, len(m))
	for h := range m {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	for i, h := range hosts {
		hosts[i] = h + ":" + strconv.Itoa(int(m[h]))
	}
	return strings.Join(hosts, ",")
}

// checkOverrides accepts what Kafka accepts: HOST:COUNT pairs whose host is
// made of letters, digits and "-%._:" and whose count is a non-negative int.
func checkOverrides(v string) *problem {
	seen := map[string]bool{}
	for _, e := range splitList(v) {
		host, count, ok := cutLast(e, ":")
		host, count = strings.TrimSpace(host), strings.TrimSpace(count)
		if !ok || host == "" {
			return &problem{reason: "entry " + strconv.Quote(e) + " is not HOST:COUNT",
				kafkaReason: "Entry " + e + " is not HOST:COUNT", value: e}
		}
		if !validHostPattern(host) {
			return &problem{reason: "invalid address " + strconv.Quote(host),
				kafkaReason: "max.connections.per.ip.overrides contains invalid addresses : " + host, value: e}
		}
		n, err := strconv.ParseInt(count, 10, 32)
		if err != nil || n < 0 {
			return &problem{reason: "count " + strconv.Quote(count) + " of " + host + " is not a non-negative integer",
				kafkaReason: "Invalid connection count " + count + " for " + host, value: e}
		}
		if seen[host] {
			return &problem{reason: "host " + host + " appears twice", kafkaReason: "Duplicate host " + host, value: e}
		}
		seen[host] = true
	}
	return nil
}

func validHostPattern(h string) bool {
	for _, r := range h {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-%._:", r)
		if !ok {
			return false
		}
	}
	return true
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
