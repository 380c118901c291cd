package linkconf

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"regexp"
	"strings"
)

// pemBlock matches a PEM block. Kafka accepts PEM squeezed onto one line
// (a properties file value with the newlines turned into spaces), so the
// base64 body may hold any white space.
var pemBlock = regexp.MustCompile(`(?s)-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END ([A-Z0-9 ]+)-----`)

// pemBlocks returns the PEM blocks of s, ignoring text between them (such as
// the "Bag Attributes" lines openssl writes).
func pemBlocks(s string) ([]*pem.Block, error) {
	var out []*pem.Block
	for _, m := range pemBlock.FindAllStringSubmatch(s, -1) {
		typ := strings.TrimSpace(m[1])
		if end := strings.TrimSpace(m[3]); end != typ {
			return nil, fmt.Errorf("PEM block BEGIN %s ends with END %s", typ, end)
		}
		if strings.Contains(m[2], ":") {
			return nil, fmt.Errorf("PEM block %s has headers; legacy encrypted keys are not supported (use PKCS#8: ENCRYPTED PRIVATE KEY)", typ)
		}
		body := strings.Join(strings.Fields(m[2]), "")
		der, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return nil, fmt.Errorf("PEM block %s is not valid base64", typ)
		}
		out = append(out, &pem.Block{Type: typ, Bytes: der})
	}
	return out, nil
}

// parseCertificates parses PEM certificates; there must be at least one and
// nothing else.
func parseCertificates(s string) ([]*x509.Certificate, error) {
	blocks, err := pemBlocks(s)
	if err != nil {
		return nil, err
	}
	if len(blocks) == 0 {
		return nil, errors.New("no PEM certificate (-----BEGIN CERTIFICATE-----)")
	}
	certs := make([]*x509.Certificate, 0, len(blocks))
	for i, b := range blocks {
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is a %s, not a CERTIFICATE", i+1, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %v", i+1, err)
		}
		certs = append(certs, c)
	}
	return certs, nil
}

func checkCertificates(v string) error {
	_, err := parseCertificates(v)
	return err
}

// keyBlock returns the one private key block of s.
func keyBlock(s string) (*pem.Block, error) {
	blocks, err := pemBlocks(s)
	if err != nil {
		return nil, err
	}
	var key *pem.Block
	for _, b := range blocks {
		switch b.Type {
		case "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if key != nil {
				return nil, errors.New("more than one PEM private key")
			}
			key = b
		default:
			return nil, fmt.Errorf("unexpected PEM block %s (a private key only)", b.Type)
		}
	}
	if key == nil {
		return nil, errors.New("no PEM private key (-----BEGIN PRIVATE KEY-----)")
	}
	return key, nil
}

// checkKeyPEM checks what can be checked without the password.
func checkKeyPEM(v string) error {
	b, err := keyBlock(v)
	if err != nil {
		return err
	}
	if b.Type == "ENCRYPTED PRIVATE KEY" {
		return nil
	}
	_, err = parseKeyDER(b)
	return err
}

func parseKeyDER(b *pem.Block) (crypto.Signer, error) {
	var key any
	var err error
	switch b.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("private key does not parse: %v", err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("unsupported private key type")
	}
	return s, nil
}

// errWrongKeyPassword is the reason an encrypted key does not decrypt.
var errWrongKeyPassword = errors.New("does not decrypt with ssl.key.password (wrong password or corrupt key)")

// parsePrivateKey parses a PEM private key, decrypting a PKCS#8 ENCRYPTED
// PRIVATE KEY with password.
func parsePrivateKey(s, password string) (crypto.Signer, error) {
	b, err := keyBlock(s)
	if err != nil {
		return nil, err
	}
	if b.Type != "ENCRYPTED PRIVATE KEY" {
		return parseKeyDER(b)
	}
	if password == "" {
		return nil, errors.New("the key is encrypted: set ssl.key.password")
	}
	der, err := decryptPKCS8(b.Bytes, password)
	if err != nil {
		return nil, err
	}
	key, err := parseKeyDER(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err != nil {
		return nil, errWrongKeyPassword
	}
	return key, nil
}

// keyPair builds a client certificate from a PEM chain (leaf first) and its
// PEM private key.
func keyPair(chain, key, password string) (*tls.Certificate, error) {
	certs, err := parseCertificates(chain)
	if err != nil {
		return nil, err
	}
	priv, err := parsePrivateKey(key, password)
	if err != nil {
		return nil, err
	}
	pub, ok := priv.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(certs[0].PublicKey) {
		return nil, errors.New("the private key does not belong to the first certificate of the chain")
	}
	c := &tls.Certificate{PrivateKey: priv, Leaf: certs[0]}
	for _, x := range certs {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c, nil
}

// PKCS#8 encryption (RFC 8018 PBES2), the only scheme Kafka's PEM key
// stores use.
var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

// maxKeyIterations bounds the PBKDF2 work a key can ask for.
const maxKeyIterations = 10_000_000

type encryptedPrivateKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Data      []byte
}

type pbes2Params struct {
	KeyDerivation pkix.AlgorithmIdentifier
	Encryption    pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

func decryptPKCS8(der []byte, password string) ([]byte, error) {
	bad := errors.New("the encrypted key is not PKCS#8 PBES2 (PBKDF2 with AES-CBC or DES-EDE3-CBC)")
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 {
		return nil, bad
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, bad
	}
	var params pbes2Params
	if rest, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil || len(rest) != 0 {
		return nil, bad
	}
	if !params.KeyDerivation.Algorithm.Equal(oidPBKDF2) {
		return nil, bad
	}
	var kdf pbkdf2Params
	if rest, err := asn1.Unmarshal(params.KeyDerivation.Parameters.FullBytes, &kdf); err != nil || len(rest) != 0 {
		return nil, bad
	}
	if kdf.Iterations < 1 || kdf.Iterations > maxKeyIterations {
		return nil, fmt.Errorf("the encrypted key asks for %d PBKDF2 iterations (1 to %d allowed)", kdf.Iterations, maxKeyIterations)
	}
	var prf func() hash.Hash
	switch a := kdf.PRF.Algorithm; {
	case len(a) == 0, a.Equal(oidHMACSHA1):
		prf = sha1.New
	case a.Equal(oidHMACSHA224):
		prf = sha256.New224
	case a.Equal(oidHMACSHA256):
		prf = sha256.New
	case a.Equal(oidHMACSHA384):
		prf = sha512.New384
	case a.Equal(oidHMACSHA512):
		prf = sha512.New
	default:
		return nil, bad
	}
	var keyLen int
	var newCipher func([]byte) (cipher.Block, error)
	switch a := params.Encryption.Algorithm; {
	case a.Equal(oidAES128CBC):
		keyLen, newCipher = 16, aes.NewCipher
	case a.Equal(oidAES192CBC):
		keyLen, newCipher = 24, aes.NewCipher
	case a.Equal(oidAES256CBC):
		keyLen, newCipher = 32, aes.NewCipher
	case a.Equal(oidDESEDE3CBC):
		keyLen, newCipher = 24, des.NewTripleDESCipher
	default:
		return nil, bad
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != keyLen {
		return nil, bad
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(params.Encryption.Parameters.FullBytes, &iv); err != nil || len(rest) != 0 {
		return nil, bad
	}
	key, err := pbkdf2.Key(prf, password, kdf.Salt, kdf.Iterations, keyLen)
	if err != nil {
		return nil, fmt.Errorf("deriving the key decryption key: %v", err)
	}
	block, err := newCipher(key)
	if err != nil {
		return nil, bad
	}
	bs := block.BlockSize()
	if len(iv) != bs || len(info.Data) == 0 || len(info.Data)%bs != 0 {
		return nil, bad
	}
	plain := make([]byte, len(info.Data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, info.Data)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > bs {
		return nil, errWrongKeyPassword
	}
	for _, c := range plain[len(plain)-pad:] {
		if int(c) != pad {
			return nil, errWrongKeyPassword
		}
	}
	return plain[:len(plain)-pad], nil
}
