package config

import (
	"errors"
	"strconv"
	"strings"
)

// Validate checks every setting of b and the rules between settings. Each
// error names the key and the value; all errors are returned, joined.
func (b *Broker) Validate() error { return b.validate(nil) }

func (b *Broker) validate(whereOf func(key string) string) error {
	where := func(key string) string {
		if whereOf == nil {
			return ""
		}
		return whereOf(key)
	}
	var errs []error
	for _, d := range brokerDefs {
		v := d.get(b)
		if p := d.spec.check(v); p != nil {
			errs = append(errs, invalidSetting(d.Name, p.bad(v), where(d.Name), p))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	bad := func(key, value, reason string) {
		errs = append(errs, invalidSetting(key, value, where(key), &problem{reason: reason}))
	}

	listeners, err := b.KafkaListeners()
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			bad(e.Key, e.Value, e.Reason)
		}
	}
	names := map[string]bool{}
	ports := map[int]string{}
	for i, l := range listeners {
		if names[l.Name] {
			bad("listeners", b.Listeners[i], "listener name "+l.Name+" is used twice")
		}
		names[l.Name] = true
		if l.Port != 0 {
			if other, dup := ports[l.Port]; dup {
				bad("listeners", b.Listeners[i], "port "+strconv.Itoa(l.Port)+" is also used by "+other)
			}
			ports[l.Port] = b.Listeners[i]
		}
	}
	if advertised, err := b.AdvertisedKafkaListeners(); err != nil {
		var e *Error
		if errors.As(err, &e) {
			bad(e.Key, e.Value, e.Reason)
		}
	} else if len(b.AdvertisedListeners) > 0 {
		seen := map[string]bool{}
		for i, l := range advertised {
			if !names[l.Name] {
				bad("advertised.listeners", b.AdvertisedListeners[i], "no listener is named "+l.Name)
			}
			if seen[l.Name] {
				bad("advertised.listeners", b.AdvertisedListeners[i], "listener name "+l.Name+" is advertised twice")
			}
			seen[l.Name] = true
		}
	}
	if https, err := b.HTTPEndpoints(); err == nil {
		for i, l := range https {
			if l.Port == 0 {
				continue
			}
			if other, dup := ports[l.Port]; dup {
				bad("http.listeners", b.HTTPListeners[i], "port "+strconv.Itoa(l.Port)+" is also used by "+other)
			}
			ports[l.Port] = b.HTTPListeners[i]
		}
	}
	dirs := map[string]bool{}
	for _, d := range b.LogDirs {
		if dirs[d] {
			bad("log.dirs", strings.Join(b.LogDirs, ","), "directory "+strconv.Quote(d)+" is listed twice")
		}
		dirs[d] = true
	}
	if b.GroupMinSessionTimeoutMs > b.GroupMaxSessionTimeoutMs {
		bad("group.min.session.timeout.ms", strconv.Itoa(int(b.GroupMinSessionTimeoutMs)),
			"must not exceed group.max.session.timeout.ms ("+strconv.Itoa(int(b.GroupMaxSessionTimeoutMs))+")")
	}
	if b.MinCompactionLagMs > b.MaxCompactionLagMs {
		bad("log.cleaner.min.compaction.lag.ms", strconv.FormatInt(b.MinCompactionLagMs, 10),
			"must not exceed log.cleaner.max.compaction.lag.ms ("+strconv.FormatInt(b.MaxCompactionLagMs, 10)+")")
	}
	if b.QueuedMaxRequestBytes > 0 && b.QueuedMaxRequestBytes < int64(b.SocketRequestMaxBytes) {
		bad("queued.max.request.bytes", strconv.FormatInt(b.QueuedMaxRequestBytes, 10),
			"must be at least socket.request.max.bytes ("+strconv.Itoa(int(b.SocketRequestMaxBytes))+"), or 0 or less for no limit")
	}
	if b.MaxConnectionsPerIP == 0 && b.MaxConnectionsPerIPOverrides == "" {
		bad("max.connections.per.ip", "0", "can be 0 only if max.connections.per.ip.overrides is set")
	}
	return errors.Join(errs...)
}
