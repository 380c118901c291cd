package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// TestE2ELinkSCRAMSource mirrors from a Kafka implementation Strait did not
// write (franz-go's kfake) that requires SASL/SCRAM-SHA-512. The link is
// created with the CLI, the JAAS line pasted into a --config-file as users
// do; the destination runs with --cluster.link.secret. The mirror equals
// the source byte for byte; the password never shows in the CLI's output
// and is nowhere in clear in the destination's data directory.
func TestE2ELinkSCRAMSource(t *testing.T) {
	t.Parallel()
	const (
		link       = "scram-link"
		topic      = "secure"
		partitions = 3
		user       = "linker"
		// Distinctive, so that finding it anywhere means it leaked.
		password = "pw-Zq7xK2-never-in-clear"
	)
	src, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", user, password))
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(src.Close)
	srcAddr := src.ListenAddrs()[0]
	srcCl := linkClient(t, srcAddr, kgo.SASL(scram.Auth{User: user, Pass: password}.AsSha512Mechanism()))
	ctx, cancel := context.WithTimeout(context.Background(), linkWait)
	defer cancel()
	if resp, err := kadm.NewClient(srcCl).CreateTopic(ctx, partitions, 1, nil, topic); err != nil || resp.Err != nil {
		t.Fatalf("creating %s on kfake: %v %v", topic, err, resp.Err)
	}
	// Batches of several records and codecs, so that there is something to
	// compare byte for byte.
	for i, codec := range []kgo.CompressionCodec{kgo.NoCompression(), kgo.GzipCompression(), kgo.SnappyCompression(), kgo.Lz4Compression(), kgo.ZstdCompression()} {
		cl := linkClient(t, srcAddr, kgo.SASL(scram.Auth{User: user, Pass: password}.AsSha512Mechanism()),
			kgo.ProducerBatchCompression(codec), kgo.ProducerLinger(0))
		linkProduce(t, cl, topic, fmt.Sprintf("codec-%d", i), 40)
	}

	dataDir := t.TempDir()
	dst := startLinkBroker(t, dataDir, "127.0.0.1:0", "--cluster.link.secret", "s3cr3t")
	confFile := filepath.Join(t.TempDir(), "source-client.properties")
	conf := "# The source cluster's client credentials, as handed out.\n" +
		`sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="` + user + `" password="` + password + `";` + "\n"
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	out := linkCLI(t, dst, "link", "create", link, "--source-bootstrap-server", srcAddr,
		"--config", linkFastConfig,
		"--config", "security.protocol=SASL_PLAINTEXT,sasl.mechanism=SCRAM-SHA-512",
		"--config-file", confFile)
	if !strings.Contains(out, fmt.Sprintf("Created cluster link %q", link)) || strings.Contains(out, password) {
		t.Fatalf("strait link create printed %q: want the confirmation and no password", out)
	}
	createMirrorCLI(t, dst, link, topic)
	checkMirror(t, srcCl, linkClient(t, dst.Addr()), topic, partitions)
	waitMirrorStatus(t, dst, link, topic, "ACTIVE")

	// The configuration as the CLI lists it: the JAAS config is there,
	// sensitive and without a value, in every output format.
	for _, format := range []string{"table", "json", "yaml"} {
		out := linkCLI(t, dst, "link", "configuration", "list", link, "-o", format)
		if strings.Contains(out, password) || strings.Contains(out, "ScramLoginModule") {
			t.Errorf("strait link configuration list -o %s shows the credentials:\n%s", format, out)
		}
		if !strings.Contains(out, "sasl.jaas.config") || !strings.Contains(out, "SCRAM-SHA-512") {
			t.Errorf("strait link configuration list -o %s lacks sasl.jaas.config or the mechanism:\n%s", format, out)
		}
	}
	var rows []map[string]string
	if err := json.Unmarshal([]byte(linkCLI(t, dst, "link", "configuration", "list", link, "-o", "json")), &rows); err != nil {
		t.Fatalf("strait link configuration list -o json: %v", err)
	}
	found := false
	for _, r := range rows {
		if r["config_name"] == "sasl.jaas.config" {
			found = true
			if r["sensitive"] != "true" || r["config_value"] != "" {
				t.Errorf("sasl.jaas.config listed as %v, want sensitive with no value", r)
			}
		}
	}
	if !found {
		t.Errorf("strait link configuration list -o json has no sasl.jaas.config row: %v", rows)
	}
	var cfg struct {
		Data []struct {
			Name        string  `json:"name"`
			Value       *string `json:"value"`
			IsSensitive bool    `json:"is_sensitive"`
		} `json:"data"`
	}
	if err := linkREST(dst, "/links/"+link+"/configs", &cfg); err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Data {
		if c.Value != nil && strings.Contains(*c.Value, password) {
			t.Errorf("REST shows config %s with the password", c.Name)
		}
		if c.Name == "sasl.jaas.config" && (c.Value != nil || !c.IsSensitive) {
			t.Errorf("REST describes sasl.jaas.config as value %v sensitive %v", c.Value, c.IsSensitive)
		}
	}

	// The data directory holds the link (sealed credentials included) but
	// not the password. Stop the broker first so that everything is on disk.
	dst.Stop()
	files, sealed := 0, false
	err = filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if bytes.Contains(b, []byte(password)) {
			t.Errorf("%s holds the link's password in clear", path)
		}
		sealed = sealed || bytes.Contains(b, []byte("enc:v1:"))
		return nil
	})
	if err != nil {
		t.Fatalf("reading the data directory: %v", err)
	}
	if !sealed {
		t.Errorf("no file of the %d in the data directory holds a sealed secret (enc:v1:): the link's store was not searched", files)
	}
	t.Logf("searched %d files of the destination's data directory", files)
}
