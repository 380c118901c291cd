package server

import (
	"context"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Limits are the connection limits in force: max.connections,
// max.connections.per.ip and max.connections.per.ip.overrides (host name or
// IP address to limit). Quotas read them at every accept, so a dynamic change
// applies to the next connection; connections already open stay open.
type Limits struct {
	MaxConnections int32
	MaxPerIP       int32
	PerIPOverrides map[string]int32
}

// Refusal reasons, as the strait_kafka_connections_refused_total metric
// labels them.
const (
	refusedPerIP = "max.connections.per.ip"
	refusedTotal = "max.connections"
)

// slotRecheck is how often an accept loop waiting for a free slot reads the
// limits again, so that raising max.connections lets it go on without a
// connection having to close first.
const slotRecheck = time.Second

// Quotas count the connections of every listener of a broker against the
// Limits, as Kafka's ConnectionQuotas do. Safe for concurrent use.
//
// Over max.connections.per.ip a new connection is accepted and closed at
// once, as Kafka closes it. At max.connections the accept loops stop
// accepting until a connection closes (Kafka blocks its acceptor the same
// way): new connections wait in the kernel's listen backlog, holding no
// descriptor of ours, and are served in turn.
type Quotas struct {
	limits  func() Limits
	resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	lg      *slog.Logger

	// mu guards the counts and freed.
	mu    sync.Mutex
	total int
	perIP map[netip.Addr]int
	freed chan struct{} // closed, and replaced, whenever a connection ends

	// ovMu guards the resolved overrides cache.
	ovMu   sync.Mutex
	ovFrom map[string]int32
	ovAddr map[netip.Addr]int32
}

// NewQuotas returns connection quotas that read their limits from limits
// (called at every accept; it must be cheap). Host names in the overrides
// are resolved with the system resolver when the overrides change.
func NewQuotas(limits func() Limits, lg *slog.Logger) *Quotas {
	if lg == nil {
		lg = slog.Default()
	}
	return &Quotas{
		limits: limits, lg: lg,
		resolve: func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		},
		perIP: map[netip.Addr]int{},
		freed: make(chan struct{}),
	}
}

// Open is the number of connections counted now.
func (q *Quotas) Open() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.total
}

// waitSlot returns once the broker is below max.connections, or false when
// ctx ends first. blocked reports whether it had to wait.
func (q *Quotas) waitSlot(ctx context.Context, onBlock func()) bool {
	blocked := false
	for {
		q.mu.Lock()
		lim := q.limits()
		if q.total < int(lim.MaxConnections) {
			q.mu.Unlock()
			return true
		}
		freed := q.freed
		q.mu.Unlock()
		if !blocked && onBlock != nil {
			onBlock()
		}
		blocked = true
		t := time.NewTimer(slotRecheck)
		select {
		case <-freed:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false
		}
		t.Stop()
	}
}

// admit counts a new connection from addr, or says which limit refuses it.
// An addr that is not an IP address (an in-memory pipe) is counted only
// against max.connections.
func (q *Quotas) admit(addr netip.Addr) (ok bool, reason string, limit int32) {
	lim := q.limits()
	perIP := lim.MaxPerIP
	if addr.IsValid() {
		if n, found := q.overrides(lim.PerIPOverrides)[addr]; found {
			perIP = n
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.total >= int(lim.MaxConnections) {
		// Another listener took the last slot between waitSlot and Accept.
		return false, refusedTotal, lim.MaxConnections
	}
	if addr.IsValid() && q.perIP[addr] >= int(perIP) {
		return false, refusedPerIP, perIP
	}
	q.total++
	if addr.IsValid() {
		q.perIP[addr]++
	}
	return true, "", 0
}

// release uncounts a connection that admit counted.
func (q *Quotas) release(addr netip.Addr) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.total--
	if addr.IsValid() {
		if q.perIP[addr]--; q.perIP[addr] <= 0 {
			delete(q.perIP, addr)
		}
	}
	close(q.freed)
	q.freed = make(chan struct{})
}

// overrides returns the per-IP overrides by address, resolving host names
// when the configured overrides changed since the last call. A host name
// that does not resolve is logged and left out until the overrides change.
func (q *Quotas) overrides(cfg map[string]int32) map[netip.Addr]int32 {
	q.ovMu.Lock()
	defer q.ovMu.Unlock()
	if q.ovAddr != nil && maps.Equal(cfg, q.ovFrom) {
		return q.ovAddr
	}
	out := make(map[netip.Addr]int32, len(cfg))
	for host, n := range cfg {
		if a, err := netip.ParseAddr(host); err == nil {
			out[a.Unmap()] = n
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		addrs, err := q.resolve(ctx, host)
		cancel()
		if err != nil {
			q.lg.Warn("max.connections.per.ip.overrides: host does not resolve; its override is not applied", "host", host, "err", err)
			continue
		}
		for _, a := range addrs {
			out[a.Unmap()] = n
		}
	}
	q.ovFrom, q.ovAddr = maps.Clone(cfg), out
	if q.ovFrom == nil {
		q.ovFrom = map[string]int32{}
	}
	return out
}

// remoteIP is the IP address of a connection's peer, or the zero Addr.
func remoteIP(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}
