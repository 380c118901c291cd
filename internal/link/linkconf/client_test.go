package linkconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// startKfake starts a one-broker kfake cluster, closed at the end of the test.
func startKfake(t *testing.T, opts ...kfake.Opt) string {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return strings.Join(c.ListenAddrs(), ",")
}

// ping builds a client from cfg with ClientOpts and pings the cluster.
func ping(t *testing.T, cfg map[string]string) error {
	t.Helper()
	s := mustParse(t, cfg)
	opts, err := ClientOpts(s)
	if err != nil {
		t.Fatalf("ClientOpts: %v", err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	defer cl.Close()
	// The bound only keeps a broken test from hanging; nothing waits on it.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

func jaas(class, user, pass string) string {
	return class + ` required username="` + user + `" password="` + pass + `";`
}

// authFailed reports whether err is a failed SASL authentication: Kafka
// answers SASL_AUTHENTICATION_FAILED, kfake closes the connection.
func authFailed(err error) bool {
	return errors.Is(err, kerr.SaslAuthenticationFailed) || errors.Is(err, io.EOF)
}

func TestLinkConfClientSASL(t *testing.T) {
	addrs := startKfake(t, kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "plainuser", "plainpass"),
		kfake.Superuser("SCRAM-SHA-256", "user256", "pass256"),
		kfake.Superuser("SCRAM-SHA-512", "user512", "pass512"))
	tests := []struct {
		name      string
		mechanism string // "" = the default, PLAIN
		jaas      string
		ok        bool
	}{
		{"plain", "", jaas(plainLoginModule, "plainuser", "plainpass"), true},
		{"plain wrong password", "PLAIN", jaas(plainLoginModule, "plainuser", "nope"), false},
		{"scram-sha-256", "SCRAM-SHA-256", jaas(scramLoginModule, "user256", "pass256"), true},
		{"scram-sha-256 wrong password", "SCRAM-SHA-256", jaas(scramLoginModule, "user256", "nope"), false},
		{"scram-sha-512", "scram-sha-512", jaas(scramLoginModule, "user512", "pass512"), true},
		{"scram-sha-512 wrong password", "SCRAM-SHA-512", jaas(scramLoginModule, "user512", "pass256"), false},
		{"scram-sha-512 with a 256 user", "SCRAM-SHA-512", jaas(scramLoginModule, "user256", "pass256"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := with("bootstrap.servers", addrs, "security.protocol", "SASL_PLAINTEXT", "sasl.jaas.config", tc.jaas)
			if tc.mechanism != "" {
				cfg["sasl.mechanism"] = tc.mechanism
			}
			err := ping(t, cfg)
			if tc.ok {
				if err != nil {
					t.Fatalf("Ping: %v", err)
				}
				return
			}
			if !authFailed(err) {
				t.Fatalf("Ping = %v, want an authentication failure", err)
			}
			t.Logf("refused as expected: %v", err)
		})
	}
	// Without SASL the cluster does not let us in.
	if err := ping(t, with("bootstrap.servers", addrs)); err == nil {
		t.Error("Ping without SASL succeeded against a SASL cluster")
	}
}

func TestLinkConfClientTLS(t *testing.T) {
	ca := newTestCA(t, "link test CA")
	otherCA := newTestCA(t, "untrusted CA")
	byIP := ca.issue(t, x509.ExtKeyUsageServerAuth, nil, []net.IP{net.IPv4(127, 0, 0, 1)})
	byName := ca.issue(t, x509.ExtKeyUsageServerAuth, []string{"broker.strait.invalid"}, nil)
	untrusted := otherCA.issue(t, x509.ExtKeyUsageServerAuth, nil, []net.IP{net.IPv4(127, 0, 0, 1)})
	client := ca.issue(t, x509.ExtKeyUsageClientAuth, []string{"link"}, nil)
	clientPool := x509.NewCertPool()
	clientPool.AddCert(ca.cert)

	serverTLS := func(cert issued, mutual bool) *tls.Config {
		c := &tls.Config{Certificates: []tls.Certificate{cert.tls}, MinVersion: tls.VersionTLS12}
		if mutual {
			c.ClientAuth = tls.RequireAndVerifyClientCert
			c.ClientCAs = clientPool
		}
		return c
	}
	tests := []struct {
		name    string
		server  *tls.Config
		cfg     []string // more configs
		wantErr string   // "" = connects
	}{
		{name: "verified by IP", server: serverTLS(byIP, false),
			cfg: []string{"ssl.truststore.certificates", ca.pem}},
		{name: "name mismatch", server: serverTLS(byName, false),
			cfg: []string{"ssl.truststore.certificates", ca.pem}, wantErr: "doesn't contain any IP SANs"},
		{name: "name check off, chain still verified", server: serverTLS(byName, false),
			cfg: []string{"ssl.truststore.certificates", ca.pem, "ssl.endpoint.identification.algorithm", ""}},
		{name: "name check off, untrusted chain", server: serverTLS(untrusted, false),
			cfg: []string{"ssl.truststore.certificates", ca.pem, "ssl.endpoint.identification.algorithm", ""}, wantErr: "unknown authority"},
		{name: "name check off, system roots", server: serverTLS(byName, false),
			cfg: []string{"ssl.endpoint.identification.algorithm", ""}, wantErr: "unknown authority"},
		{name: "untrusted", server: serverTLS(untrusted, false),
			cfg: []string{"ssl.truststore.certificates", ca.pem}, wantErr: "unknown authority"},
		{name: "mutual TLS", server: serverTLS(byIP, true),
			cfg: []string{"ssl.truststore.certificates", ca.pem, "ssl.keystore.certificate.chain", client.certPEM, "ssl.keystore.key", client.keyPEM}},
		{name: "mutual TLS without a client certificate", server: serverTLS(byIP, true),
			cfg: []string{"ssl.truststore.certificates", ca.pem}, wantErr: "certificate required"},
		{name: "TLS 1.3 only against a TLS 1.2 server", server: &tls.Config{Certificates: []tls.Certificate{byIP.tls}, MaxVersion: tls.VersionTLS12},
			cfg: []string{"ssl.truststore.certificates", ca.pem, "ssl.enabled.protocols", "TLSv1.3"}, wantErr: "protocol version"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addrs := startKfake(t, kfake.TLS(tc.server))
			cfg := with(append([]string{"bootstrap.servers", addrs, "security.protocol", "SSL"}, tc.cfg...)...)
			err := ping(t, cfg)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Ping: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Ping = %v, want an error containing %q", err, tc.wantErr)
			}
			t.Logf("refused as expected: %v", err)
		})
	}

	t.Run("SASL_SSL", func(t *testing.T) {
		addrs := startKfake(t, kfake.TLS(serverTLS(byIP, false)), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "u", "p"))
		base := []string{"bootstrap.servers", addrs, "security.protocol", "SASL_SSL", "sasl.mechanism", "SCRAM-SHA-256",
			"ssl.truststore.certificates", ca.pem}
		if err := ping(t, with(append(base, "sasl.jaas.config", jaas(scramLoginModule, "u", "p"))...)); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		if err := ping(t, with(append(base, "sasl.jaas.config", jaas(scramLoginModule, "u", "bad"))...)); !authFailed(err) {
			t.Fatalf("Ping with a wrong password = %v", err)
		}
	})
}

func TestLinkConfClientOpts(t *testing.T) {
	type optWant struct {
		name string
		opt  any // a kgo option function, for Client.OptValue
		want any
	}
	tests := []struct {
		name string
		cfg  map[string]string
		want []optWant
	}{
		{name: "defaults", cfg: base(), want: []optWant{
			{"client id", kgo.ClientID, "strait-link"},
			{"seeds", kgo.SeedBrokers, "source-1:9092"},
			{"request timeout", kgo.RequestTimeoutOverhead, 30 * time.Second},
			{"retry timeout", kgo.RetryTimeout, time.Minute},
			{"idle", kgo.ConnIdleTimeout, 10 * time.Minute},
			{"metadata max", kgo.MetadataMaxAge, 5 * time.Minute},
			{"metadata min", kgo.MetadataMinAge, 5 * time.Second},
			{"read bytes", kgo.BrokerMaxReadBytes, int32(100 << 20)},
		}},
		{name: "clamped", cfg: with("request.timeout.ms", "10", "connections.max.idle.ms", "3600000",
			"metadata.max.age.ms", "7200000", "socket.connection.setup.timeout.ms", "2500",
			"replica.fetch.response.max.bytes", "1073741824", "default.api.timeout.ms", "5000",
			"bootstrap.servers", "a:1,b:2"), want: []optWant{
			{"request timeout", kgo.RequestTimeoutOverhead, 100 * time.Millisecond},
			{"idle", kgo.ConnIdleTimeout, 15 * time.Minute},
			{"metadata max", kgo.MetadataMaxAge, time.Hour},
			{"read bytes", kgo.BrokerMaxReadBytes, int32(1 << 30)},
			{"retry timeout", kgo.RetryTimeout, 5 * time.Second},
			{"seeds", kgo.SeedBrokers, "a:1,b:2"},
		}},
		{name: "short metadata age", cfg: with("metadata.max.age.ms", "1000"), want: []optWant{
			{"metadata max", kgo.MetadataMaxAge, time.Second},
			{"metadata min", kgo.MetadataMinAge, time.Second},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := ClientOpts(mustParse(t, tc.cfg))
			if err != nil {
				t.Fatal(err)
			}
			cl, err := kgo.NewClient(opts...)
			if err != nil {
				t.Fatalf("franz-go refuses the options: %v", err)
			}
			defer cl.Close()
			if cl.OptValue(kgo.Dialer) == nil {
				t.Error("no dialer: the client would not use Dial")
			}
			for _, w := range tc.want {
				got := cl.OptValue(w.opt)
				if seeds, ok := got.([]string); ok {
					got = strings.Join(seeds, ",")
				}
				if got != w.want {
					t.Errorf("%s: got %v (%T), want %v (%T)", w.name, got, got, w.want, w.want)
				}
			}
		})
	}

	// The TLS config handed to franz-go.
	s := mustParse(t, with("security.protocol", "SSL", "ssl.endpoint.identification.algorithm", ""))
	tc := s.Remote.TLSConfig()
	if !tc.InsecureSkipVerify || tc.VerifyConnection == nil {
		t.Error("without host name verification the chain must be verified by VerifyConnection")
	}
	if err := tc.VerifyConnection(tls.ConnectionState{}); err == nil {
		t.Error("VerifyConnection accepted a server without certificates")
	}
	s = mustParse(t, with("security.protocol", "SSL"))
	if tc := s.Remote.TLSConfig(); tc.InsecureSkipVerify || tc.VerifyConnection != nil || tc.MinVersion != tls.VersionTLS12 {
		t.Errorf("default TLS config: skip=%v verifyConnection=%v min=%x", tc.InsecureSkipVerify, tc.VerifyConnection != nil, tc.MinVersion)
	}

	if _, err := ClientOpts(Settings{}); err == nil {
		t.Error("ClientOpts without bootstrap servers succeeded")
	}
	if _, err := ClientOpts(Settings{BootstrapServers: []string{"a:1"}, Remote: Security{Protocol: ProtocolSASLSSL, SASLMechanism: MechanismPlain}}); err == nil {
		t.Error("ClientOpts for SASL without JAAS succeeded")
	}
}

// TestLinkConfClientDialSetupTimeout: socket.connection.setup.timeout.ms
// bounds the TLS handshake as well as the TCP connect (a source that
// accepts and then says nothing).
func TestLinkConfClientDialSetupTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	s := mustParse(t, with("bootstrap.servers", ln.Addr().String(), "security.protocol", "SSL",
		"socket.connection.setup.timeout.ms", "200"))
	// Only a bound for a broken test: the dial must end by its own timeout.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	_, err = Dial(s)(ctx, "tcp", ln.Addr().String())
	took := time.Since(start)
	held = append(held, <-accepted)
	var ne net.Error
	if err == nil || ctx.Err() != nil || !errors.As(err, &ne) || !ne.Timeout() || took < 200*time.Millisecond {
		t.Fatalf("dial of a silent TLS server: %v after %v (outer context: %v)", err, took, ctx.Err())
	}
	if _, err := Dial(s)(ctx, "tcp", "no-port"); err == nil {
		t.Error("dial of an address without a port succeeded")
	}
}

func TestLinkConfClientBackoff(t *testing.T) {
	b := backoff(100 * time.Millisecond)
	for tries, base := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond,
		3: 400 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 50: time.Second} {
		lo, hi := time.Duration(float64(base)*0.8), time.Duration(float64(base)*1.2)
		for range 20 {
			if d := b(tries); d < lo || d > hi {
				t.Fatalf("try %d: %v outside [%v, %v]", tries, d, lo, hi)
			}
		}
	}
	if d := backoff(0)(3); d != 0 {
		t.Errorf("zero backoff gave %v", d)
	}
	// A first backoff above a second is kept, not cut to a second.
	if d := backoff(5 * time.Second)(3); d < 4*time.Second || d > 6*time.Second {
		t.Errorf("5s backoff gave %v", d)
	}
}
