package linkconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

// The encrypted keys in testdata were made with openssl from client-key.pem
// (see testdata/README.md); their password is s3cret.
func TestLinkConfPEMEncryptedKeys(t *testing.T) {
	chain := readTestdata(t, "client-cert.pem")
	plain := readTestdata(t, "client-key.pem")
	for _, f := range []string{"client-key-aes256-sha256.pem", "client-key-aes128-sha1.pem", "client-key-des3-sha512.pem"} {
		t.Run(f, func(t *testing.T) {
			enc := readTestdata(t, f)
			if err := checkKeyPEM(enc); err != nil {
				t.Fatalf("checkKeyPEM: %v", err)
			}
			c, err := keyPair(chain, enc, "s3cret")
			if err != nil {
				t.Fatalf("keyPair: %v", err)
			}
			want, err := parsePrivateKey(plain, "")
			if err != nil {
				t.Fatal(err)
			}
			if !want.(*ecdsa.PrivateKey).Equal(c.PrivateKey) {
				t.Error("decrypted key differs from the plain key")
			}
			if _, err := parsePrivateKey(enc, "wrong"); err == nil || !strings.Contains(err.Error(), "does not decrypt") {
				t.Errorf("wrong password: %v", err)
			}
			if _, err := parsePrivateKey(enc, ""); err == nil || !strings.Contains(err.Error(), "set ssl.key.password") {
				t.Errorf("no password: %v", err)
			}
			// Through Validate, with the configs' names.
			err = Validate(with("ssl.keystore.certificate.chain", chain, "ssl.keystore.key", enc, "ssl.key.password", "nope"))
			wantConfigError(t, err, "ssl.keystore.key", "invalid value [hidden] for cluster link config ssl.keystore.key", "does not decrypt")
			s := mustParse(t, with("ssl.keystore.certificate.chain", chain, "ssl.keystore.key", enc, "ssl.key.password", "s3cret"))
			if s.Remote.TLS.ClientCertificate == nil || s.Remote.TLS.ClientCertificate.Leaf.Subject.CommonName != "strait-link-test" {
				t.Errorf("client certificate: %+v", s.Remote.TLS.ClientCertificate)
			}
		})
	}
}

func TestLinkConfPEMForms(t *testing.T) {
	ca := newTestCA(t, "pem CA")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}))
	sec1 := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}))
	oneLine := strings.Join(strings.Fields(ca.pem), " ") // Kafka accepts PEM on one line
	other := newTestCA(t, "other CA")

	certTests := []struct {
		name, in string
		n        int
		wantErr  string
	}{
		{"one", ca.pem, 1, ""},
		{"two with text around", "Bag Attributes\n" + ca.pem + "\nsubject=x\n" + other.pem, 2, ""},
		{"one line", oneLine, 1, ""},
		{"spaces in body", strings.Replace(ca.pem, "\n", " \r\n ", -1), 1, ""},
		{"none", "MIIB", 0, "no PEM certificate"},
		{"key instead", sec1, 0, "is a EC PRIVATE KEY, not a CERTIFICATE"},
		{"bad base64", "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----", 0, "not valid base64"},
		{"mismatched end", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----", 0, "ends with END PRIVATE KEY"},
		{"not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", 0, "certificate 1 does not parse"},
		{"headers", "-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END CERTIFICATE-----", 0, "has headers"},
	}
	for _, tc := range certTests {
		t.Run("certs/"+tc.name, func(t *testing.T) {
			certs, err := parseCertificates(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %d certs, %v; want error containing %q", len(certs), err, tc.wantErr)
				}
				return
			}
			if err != nil || len(certs) != tc.n {
				t.Fatalf("got %d certs, %v; want %d", len(certs), err, tc.n)
			}
		})
	}

	keyTests := []struct {
		name, in string
		wantErr  string
	}{
		{"pkcs1", pkcs1, ""},
		{"sec1", sec1, ""},
		{"none", ca.pem, "unexpected PEM block CERTIFICATE"},
		{"empty", "", "no PEM private key"},
		{"two keys", pkcs1 + sec1, "more than one PEM private key"},
		{"garbage key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "private key does not parse"},
		{"garbage encrypted", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----", "not PKCS#8 PBES2"},
	}
	for _, tc := range keyTests {
		t.Run("key/"+tc.name, func(t *testing.T) {
			_, err := parsePrivateKey(tc.in, "pw")
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("parsePrivateKey: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("parsePrivateKey = %v; want error containing %q", err, tc.wantErr)
			}
		})
	}
}
