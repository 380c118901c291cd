package linkconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// ClientID is the client.id the link's source client sends.
const ClientID = "strait-link"

// Bounds that franz-go enforces on its options; ClientOpts keeps the
// configured values within them.
const (
	minRequestTimeout = 100 * time.Millisecond
	maxRequestTimeout = 15 * time.Minute
	minIdle           = 100 * time.Millisecond
	maxIdle           = 15 * time.Minute
	maxMetadataAge    = time.Hour
	defaultMinMetaAge = 5 * time.Second
	minFetchWait      = 10 * time.Millisecond
	maxRetryBackoff   = time.Second // Kafka's retry.backoff.max.ms default
	defaultReadBytes  = 100 << 20   // franz-go's default BrokerMaxReadBytes
)

// ClientOpts returns franz-go options for a client of the link's source
// cluster: seed brokers, client ID, timeouts, backoff, fetch sizes, SASL
// (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), and Dial(s) as the dialer (TCP,
// then TLS from s.Remote).
//
// request.timeout.ms becomes the request timeout overhead (franz-go's
// equivalent) and default.api.timeout.ms the retry timeout (how long a
// request is retried). Values outside what franz-go accepts are brought
// within it (the request timeout and connection idle time between 100 ms and
// 15 min, the metadata age at most an hour, the fetch wait at least 10 ms).
// The reconnect backoff is not an option of franz-go, which dials again at
// once after a failed connection; the link package wraps Dial to space
// attempts (reconnect.backoff.ms, reconnect.backoff.max.ms).
func ClientOpts(s Settings) ([]kgo.Opt, error) {
	if len(s.BootstrapServers) == 0 {
		return nil, errors.New("linkconf: no bootstrap.servers")
	}
	metaMax := min(s.MetadataMaxAge, maxMetadataAge)
	readBytes := max(int64(defaultReadBytes), int64(s.Fetch.MaxResponseBytes)+64<<10)
	opts := []kgo.Opt{
		kgo.SeedBrokers(s.BootstrapServers...),
		kgo.ClientID(ClientID),
		kgo.Dialer(Dial(s)),
		kgo.RequestTimeoutOverhead(clamp(s.RequestTimeout, minRequestTimeout, maxRequestTimeout)),
		kgo.RetryTimeout(s.DefaultAPITimeout),
		kgo.ConnIdleTimeout(clamp(s.ConnectionsMaxIdle, minIdle, maxIdle)),
		kgo.RetryBackoffFn(backoff(s.RetryBackoff)),
		kgo.MetadataMaxAge(metaMax),
		kgo.MetadataMinAge(min(defaultMinMetaAge, metaMax)),
		kgo.BrokerMaxReadBytes(int32(min(readBytes, maxFetchBytes))),
		kgo.FetchMaxBytes(s.Fetch.MaxResponseBytes),
		kgo.FetchMaxPartitionBytes(s.Fetch.MaxPartitionBytes),
		kgo.FetchMinBytes(s.Fetch.MinBytes),
		kgo.FetchMaxWait(max(s.Fetch.MaxWait, minFetchWait)),
	}
	sec := s.Remote
	if sec.UsesSASL() {
		m, err := sec.saslMechanism()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// Dial returns how the link's source client opens a connection: TCP within
// socket.connection.setup.timeout.ms and, when security.protocol uses TLS,
// the TLS handshake within the same time, with s.Remote.TLSConfig() and the
// broker's host as the server name. It keeps no state.
func Dial(s Settings) func(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := &net.Dialer{Timeout: s.SocketConnectionSetupTimeout}
	if !s.Remote.UsesTLS() {
		return nd.DialContext
	}
	tc := s.Remote.TLSConfig()
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c := tc.Clone()
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("linkconf: source address %q: %w", addr, err)
		}
		c.ServerName = host
		// tls.Dialer applies the net.Dialer's timeout to the dial and the
		// handshake together.
		return (&tls.Dialer{NetDialer: nd, Config: c}).DialContext(ctx, network, addr)
	}
}

func clamp(d, lo, hi time.Duration) time.Duration { return min(max(d, lo), hi) }

// backoff doubles from first up to a second (or first, when larger), with
// ±20% jitter so that links retrying together spread out.
func backoff(first time.Duration) func(int) time.Duration {
	ceiling := max(first, maxRetryBackoff)
	return func(tries int) time.Duration {
		if first <= 0 {
			return 0
		}
		d := first
		for i := 1; i < tries && d < ceiling; i++ {
			d *= 2
		}
		d = min(d, ceiling)
		return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	}
}

func (s Security) saslMechanism() (sasl.Mechanism, error) {
	if s.JAAS == nil {
		return nil, fmt.Errorf("linkconf: %s needs sasl.jaas.config", s.Protocol)
	}
	user, pass := s.JAAS.Username, s.JAAS.Password
	switch s.SASLMechanism {
	case MechanismPlain:
		return plain.Plain(func(context.Context) (plain.Auth, error) {
			return plain.Auth{User: user, Pass: pass}, nil
		}), nil
	case MechanismScramSHA256:
		return scram.Sha256(func(context.Context) (scram.Auth, error) {
			return scram.Auth{User: user, Pass: pass}, nil
		}), nil
	case MechanismScramSHA512:
		return scram.Sha512(func(context.Context) (scram.Auth, error) {
			return scram.Auth{User: user, Pass: pass}, nil
		}), nil
	}
	return nil, fmt.Errorf("linkconf: SASL mechanism %q is not supported", s.SASLMechanism)
}

// TLSConfig returns the TLS client configuration of s: the trusted CAs
// (the system roots when none are configured), the client certificate if
// any, and the TLS versions. With VerifyHostname false the certificate
// chain is still verified, by VerifyConnection, and only the host name
// check is left out. Dial sets ServerName per broker.
func (s Security) TLSConfig() *tls.Config {
	t := s.TLS
	c := &tls.Config{MinVersion: t.MinVersion, MaxVersion: t.MaxVersion}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	var roots *x509.CertPool
	if len(t.TrustedCertificates) > 0 {
		roots = x509.NewCertPool()
		for _, cert := range t.TrustedCertificates {
			roots.AddCert(cert)
		}
		c.RootCAs = roots
	}
	if t.ClientCertificate != nil {
		c.Certificates = []tls.Certificate{*t.ClientCertificate}
	}
	if !t.VerifyHostname {
		// Go cannot skip only the host name check, so the standard check
		// is turned off and the chain verified here, for every handshake
		// (resumed ones included).
		c.InsecureSkipVerify = true
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("linkconf: the server sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, ic := range cs.PeerCertificates[1:] {
				inter.AddCert(ic)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
				Roots:         roots, // nil: the system roots
				Intermediates: inter,
				KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			})
			return err
		}
	}
	return c
}
