package linkconf

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
)

// newTestSealer makes a Sealer with few iterations, to keep the race
// detector's tests quick; TestLinkConfSealerFormat checks the real count.
func newTestSealer(t *testing.T, secret string) *Sealer {
	t.Helper()
	s, err := newSealer(secret, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The sealed format is exactly what doc.go says: decrypt by hand.
func TestLinkConfSealerFormat(t *testing.T) {
	s, err := NewSealer("broker secret")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal("the plain text")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, "enc:v1:"))
	if err != nil {
		t.Fatal(err)
	}
	salt, nonce, ct := raw[:16], raw[16:28], raw[28:]
	key, err := pbkdf2.Key(sha512.New, "broker secret", salt, 100_000, 32)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := gcm.Open(nil, nonce, ct, []byte("strait cluster link config enc:v1"))
	if err != nil || string(plain) != "the plain text" {
		t.Fatalf("decrypting by hand: %q, %v", plain, err)
	}
	// A fresh Sealer (no cached key) opens it too.
	s2, _ := NewSealer("broker secret")
	if got, err := s2.Open(sealed); err != nil || got != "the plain text" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// Fewer iterations derive another key.
	if _, err := newTestSealer(t, "broker secret").Open(sealed); !errors.Is(err, ErrWrongSecret) {
		t.Errorf("Open with another iteration count = %v", err)
	}
}

// Concurrent use (run with -race).
func TestLinkConfSealerConcurrent(t *testing.T) {
	s := newTestSealer(t, "secret")
	sealed, err := s.Seal("v")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			v, err := s.Seal("w")
			if err == nil {
				_, err = s.Open(v)
			}
			if err == nil {
				_, err = s.Open(sealed)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestLinkConfSealer(t *testing.T) {
	if _, err := NewSealer(""); !errors.Is(err, ErrEmptySecret) {
		t.Errorf("NewSealer(\"\") = %v, want ErrEmptySecret", err)
	}
	s := newTestSealer(t, "broker secret")
	for _, plain := range []string{"", "p", `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`,
		strings.Repeat("x", 10000), "\x00\xff binary"} {
		sealed, err := s.Seal(plain)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		if !IsSealed(sealed) || !strings.HasPrefix(sealed, "enc:v1:") {
			t.Fatalf("sealed value %q lacks the enc:v1: prefix", sealed)
		}
		if len(plain) > 3 && strings.Contains(sealed, plain) {
			t.Fatalf("sealed value contains the plain text")
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, "enc:v1:"))
		if err != nil {
			t.Fatalf("not base64: %v", err)
		}
		if want := 16 + 12 + len(plain) + 16; len(raw) != want {
			t.Errorf("sealed %d bytes into %d, want salt+nonce+ciphertext+tag = %d", len(plain), len(raw), want)
		}
		got, err := s.Open(sealed)
		if err != nil || got != plain {
			t.Fatalf("Open = %q, %v; want %q", got, err, plain)
		}
	}

	// Fresh salt and nonce each time.
	a, _ := s.Seal("same")
	b, _ := s.Seal("same")
	if a == b {
		t.Error("sealing twice gave the same string")
	}
	ra, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "enc:v1:"))
	rb, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(b, "enc:v1:"))
	if string(ra[:16]) == string(rb[:16]) || string(ra[16:28]) == string(rb[16:28]) {
		t.Error("salt or nonce repeated")
	}

	// Another secret cannot open it.
	if _, err := newTestSealer(t, "other secret").Open(a); !errors.Is(err, ErrWrongSecret) {
		t.Errorf("Open with another secret = %v, want ErrWrongSecret", err)
	}

	// Any altered byte (salt, nonce, ciphertext, tag) is caught.
	for _, i := range []int{0, 15, 16, 27, 28, len(ra) - 1} {
		tampered := append([]byte(nil), ra...)
		tampered[i] ^= 0x01
		v := "enc:v1:" + base64.StdEncoding.EncodeToString(tampered)
		if got, err := s.Open(v); !errors.Is(err, ErrWrongSecret) {
			t.Errorf("byte %d altered: Open = %q, %v; want ErrWrongSecret", i, got, err)
		}
	}

	for _, bad := range []string{"plain text", "enc:v2:AAAA", "enc:v1:!!!", "enc:v1:" + base64.StdEncoding.EncodeToString(make([]byte, 43)), ""} {
		if _, err := s.Open(bad); !errors.Is(err, ErrMalformedSealed) {
			t.Errorf("Open(%q) = %v, want ErrMalformedSealed", bad, err)
		}
	}
}

func TestLinkConfSealConfigs(t *testing.T) {
	s := newTestSealer(t, "broker secret")
	cfg := map[string]string{
		"bootstrap.servers":           "a:9092",
		"security.protocol":           "SASL_SSL",
		"sasl.mechanism":              "PLAIN",
		"sasl.jaas.config":            plainJAAS,
		"ssl.key.password":            "kp",
		"local.sasl.jaas.config":      scramJAAS,
		"ssl.truststore.certificates": "", // empty: left alone
		"consumer.offset.sync.ms":     "5000",
	}
	sensitive := map[string]bool{"sasl.jaas.config": true, "ssl.key.password": true, "local.sasl.jaas.config": true}
	orig := maps.Clone(cfg)

	stored, err := SealConfigs(cfg, s)
	if err != nil {
		t.Fatalf("SealConfigs: %v", err)
	}
	if !maps.Equal(cfg, orig) {
		t.Error("SealConfigs changed its input")
	}
	if len(stored) != len(cfg) {
		t.Errorf("stored %d configs, want %d", len(stored), len(cfg))
	}
	for k, v := range cfg {
		if sensitive[k] {
			if !IsSealed(stored[k]) {
				t.Errorf("%s not sealed: %q", k, stored[k])
			}
		} else if stored[k] != v {
			t.Errorf("%s changed: %q -> %q", k, v, stored[k])
		}
	}
	blob, _ := json.Marshal(stored)
	if strings.Contains(string(blob), `password=\"p\"`) || strings.Contains(string(blob), `"kp"`) {
		t.Errorf("stored configs show a secret: %s", blob)
	}

	opened, err := OpenConfigs(stored, s)
	if err != nil {
		t.Fatalf("OpenConfigs: %v", err)
	}
	if !maps.Equal(opened, cfg) {
		t.Errorf("OpenConfigs = %v, want %v", opened, cfg)
	}

	// Another secret.
	if _, err := OpenConfigs(stored, newTestSealer(t, "x")); !errors.Is(err, ErrWrongSecret) || !strings.Contains(err.Error(), "cluster link config local.sasl.jaas.config") {
		t.Errorf("OpenConfigs with another secret: %v", err)
	}
	// A sensitive value stored unsealed is refused.
	if _, err := OpenConfigs(cfg, s); !errors.Is(err, ErrMalformedSealed) {
		t.Errorf("OpenConfigs of unsealed values: %v", err)
	}

	// No secret on the broker.
	noSecrets := map[string]string{"bootstrap.servers": "a:9092", "ssl.key.password": ""}
	for _, f := range []func(map[string]string, *Sealer) (map[string]string, error){SealConfigs, OpenConfigs} {
		got, err := f(noSecrets, nil)
		if err != nil || !maps.Equal(got, noSecrets) {
			t.Errorf("without secrets or sealer: %v, %v", got, err)
		}
	}
	_, err = SealConfigs(cfg, nil)
	if !errors.Is(err, ErrNoSecret) || err.Error() != "cluster link credentials cannot be stored: set cluster.link.secret on the broker" {
		t.Errorf("SealConfigs without a sealer: %v", err)
	}
	if _, err := OpenConfigs(stored, nil); !errors.Is(err, ErrNoSecret) {
		t.Errorf("OpenConfigs without a sealer: %v", err)
	}
	if got, err := SealConfigs(nil, nil); err != nil || got == nil || len(got) != 0 {
		t.Errorf("SealConfigs(nil) = %v, %v", got, err)
	}
}

func TestLinkConfMask(t *testing.T) {
	cfg := map[string]string{
		"sasl.jaas.config":       plainJAAS,
		"local.ssl.keystore.key": "KEY",
		"ssl.key.password":       "",
		"bootstrap.servers":      "a:9092",
		"sasl.jaas.confg":        "typo holding a secret",
		"no.such.thing":          "shown",
	}
	got := Mask(cfg)
	want := map[string]string{
		"sasl.jaas.config":       "[hidden]",
		"local.ssl.keystore.key": "[hidden]",
		"ssl.key.password":       "",
		"bootstrap.servers":      "a:9092",
		"sasl.jaas.confg":        "[hidden]",
		"no.such.thing":          "shown",
	}
	if !maps.Equal(got, want) {
		t.Errorf("Mask = %v, want %v", got, want)
	}
	if cfg["sasl.jaas.config"] != plainJAAS {
		t.Error("Mask changed its input")
	}
}
