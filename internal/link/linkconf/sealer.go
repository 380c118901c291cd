package linkconf

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
)

// Sealed value format (see doc.go).
const (
	sealPrefix     = "enc:v1:"
	sealSaltLen    = 16
	sealNonceLen   = 12 // the GCM standard nonce
	sealKeyLen     = 32 // AES-256
	sealIterations = 100_000
	// sealAAD binds the ciphertext to the format version.
	sealAAD = "strait cluster link config enc:v1"
)

// maxCachedKeys bounds the Sealer's cache of derived keys.
const maxCachedKeys = 1024

// Sealer encrypts sensitive link configs for storage with a key derived
// from the broker's cluster.link.secret. It is safe for concurrent use.
type Sealer struct {
	secret string
	iter   int

	mu sync.Mutex
	// keys caches derived keys by salt, so that opening the same stored
	// value again costs no key derivation. Cleared when full.
	keys map[[sealSaltLen]byte][]byte
}

// NewSealer returns a Sealer for secret, which may not be empty.
func NewSealer(secret string) (*Sealer, error) {
	return newSealer(secret, sealIterations)
}

// newSealer lets tests use fewer iterations; values it seals open only
// with the same count.
func newSealer(secret string, iter int) (*Sealer, error) {
	if secret == "" {
		return nil, ErrEmptySecret
	}
	return &Sealer{secret: secret, iter: iter, keys: map[[sealSaltLen]byte][]byte{}}, nil
}

func (s *Sealer) aead(salt []byte) (cipher.AEAD, error) {
	var k [sealSaltLen]byte
	copy(k[:], salt)
	s.mu.Lock()
	key, ok := s.keys[k]
	s.mu.Unlock()
	if !ok {
		var err error
		key, err = pbkdf2.Key(sha512.New, s.secret, salt, s.iter, sealKeyLen)
		if err != nil {
			return nil, fmt.Errorf("linkconf: deriving the sealing key: %w", err)
		}
		s.mu.Lock()
		if len(s.keys) >= maxCachedKeys {
			clear(s.keys)
		}
		s.keys[k] = key
		s.mu.Unlock()
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("linkconf: %w", err)
	}
	return cipher.NewGCM(block)
}

// Seal encrypts plain: enc:v1:<base64(salt | nonce | ciphertext)>, with a
// fresh random salt and nonce, so sealing the same value twice gives two
// different strings.
func (s *Sealer) Seal(plain string) (string, error) {
	buf := make([]byte, sealSaltLen+sealNonceLen, sealSaltLen+sealNonceLen+len(plain)+16)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("linkconf: %w", err)
	}
	aead, err := s.aead(buf[:sealSaltLen])
	if err != nil {
		return "", err
	}
	out := aead.Seal(buf, buf[sealSaltLen:], []byte(plain), []byte(sealAAD))
	return sealPrefix + base64.StdEncoding.EncodeToString(out), nil
}

// Open decrypts a value made by Seal. A value that is not in the enc:v1
// format gives ErrMalformedSealed; one that does not authenticate (another
// secret, or altered) gives ErrWrongSecret.
func (s *Sealer) Open(sealed string) (string, error) {
	if !strings.HasPrefix(sealed, sealPrefix) {
		return "", fmt.Errorf("%w: no %s prefix", ErrMalformedSealed, sealPrefix)
	}
	raw, err := base64.StdEncoding.DecodeString(sealed[len(sealPrefix):])
	if err != nil {
		return "", fmt.Errorf("%w: bad base64", ErrMalformedSealed)
	}
	if len(raw) < sealSaltLen+sealNonceLen+16 {
		return "", fmt.Errorf("%w: too short", ErrMalformedSealed)
	}
	aead, err := s.aead(raw[:sealSaltLen])
	if err != nil {
		return "", err
	}
	plain, err := aead.Open(nil, raw[sealSaltLen:sealSaltLen+sealNonceLen], raw[sealSaltLen+sealNonceLen:], []byte(sealAAD))
	if err != nil {
		return "", ErrWrongSecret
	}
	return string(plain), nil
}

// IsSealed reports whether v has the sealed value format's prefix.
func IsSealed(v string) bool { return strings.HasPrefix(v, sealPrefix) }

// SealConfigs returns a copy of cfg, as given by a user (nothing sealed),
// with every non-empty sensitive value sealed; other values are copied as
// they are. sealer may be nil as long as there is no sensitive value to
// seal; otherwise the error wraps ErrNoSecret.
func SealConfigs(cfg map[string]string, sealer *Sealer) (map[string]string, error) {
	out := maps.Clone(cfg)
	if out == nil {
		out = map[string]string{}
	}
	for _, n := range sortedKeys(cfg) {
		v := cfg[n]
		if !isSensitive(n) || v == "" {
			continue
		}
		if sealer == nil {
			return nil, &messageError{msg: "cluster link credentials cannot be stored: set cluster.link.secret on the broker", err: ErrNoSecret}
		}
		sv, err := sealer.Seal(v)
		if err != nil {
			return nil, err
		}
		out[n] = sv
	}
	return out, nil
}

// OpenConfigs reverses SealConfigs. A sensitive value that is not sealed
// is an error (ErrMalformedSealed), as is one that does not open
// (ErrWrongSecret); sealer may be nil when there is no sensitive value.
func OpenConfigs(stored map[string]string, sealer *Sealer) (map[string]string, error) {
	out := maps.Clone(stored)
	if out == nil {
		out = map[string]string{}
	}
	for _, n := range sortedKeys(stored) {
		v := stored[n]
		if !isSensitive(n) || v == "" {
			continue
		}
		if sealer == nil {
			return nil, &messageError{msg: "cluster link credentials cannot be read: set cluster.link.secret on the broker", err: ErrNoSecret}
		}
		pv, err := sealer.Open(v)
		if err != nil {
			return nil, fmt.Errorf("cluster link config %s: %w", n, err)
		}
		out[n] = pv
	}
	return out, nil
}

// Mask returns a copy of cfg for display: every non-empty sensitive value
// becomes [hidden], and so does the value of an unknown key whose name
// suggests a secret (a misspelt sasl.jaas.config, say).
func Mask(cfg map[string]string) map[string]string {
	out := make(map[string]string, len(cfg))
	for n, v := range cfg {
		if v != "" && (isSensitive(n) || looksSensitive(n)) {
			v = hidden
		}
		out[n] = v
	}
	return out
}

func isSensitive(name string) bool {
	d, ok := catalogue[name]
	return ok && d.Sensitive
}

func looksSensitive(name string) bool {
	if _, known := catalogue[name]; known {
		return false
	}
	n := strings.ToLower(name)
	for _, w := range []string{"password", "jaas", "secret", "credential", "token", "certificate", "key"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
