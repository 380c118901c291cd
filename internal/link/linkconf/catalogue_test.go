package linkconf

import (
	"slices"
	"sort"
	"testing"
)

func TestLinkConfCatalogueDefaults(t *testing.T) {
	// Confluent's defaults (reference §2.1, §2.3), and Strait's where it
	// must differ (sasl.mechanism, the store types).
	want := map[string]string{
		"link.mode":                     "DESTINATION",
		"connection.mode":               "OUTBOUND",
		"cluster.link.paused":           "false",
		"cluster.link.retry.timeout.ms": "300000",
		"availability.check.ms":         "60000",
		"availability.check.consecutive.failure.threshold": "5",
		"topic.config.sync.ms":                             "5000",
		"metadata.max.age.ms":                              "300000",
		"mirror.start.offset.spec":                         "earliest",
		"consumer.offset.sync.enable":                      "false",
		"consumer.offset.sync.ms":                          "30000",
		"consumer.offset.group.filters":                    "",
		"consumer.group.prefix.enable":                     "false",
		"acl.sync.enable":                                  "false",
		"acl.sync.ms":                                      "5000",
		"acl.filters":                                      "",
		"auto.create.mirror.topics.enable":                 "false",
		"auto.create.mirror.topics.filters":                "",
		"cluster.link.prefix":                              "",
		"topic.config.sync.include":                        "",
		"replica.fetch.max.bytes":                          "5242880",
		"replica.fetch.response.max.bytes":                 "10485760",
		"replica.fetch.wait.max.ms":                        "500",
		"replica.fetch.min.bytes":                          "1",
		"replica.fetch.backoff.ms":                         "1000",
		"replica.socket.timeout.ms":                        "30000",
		"replica.socket.receive.buffer.bytes":              "-1",
		"request.timeout.ms":                               "30000",
		"connections.max.idle.ms":                          "600000",
		"retry.backoff.ms":                                 "100",
		"reconnect.backoff.ms":                             "50",
		"reconnect.backoff.max.ms":                         "1000",
		"socket.connection.setup.timeout.ms":               "10000",
		"socket.connection.setup.timeout.max.ms":           "30000",
		"num.cluster.link.fetchers":                        "1",
		"client.dns.lookup":                                "use_all_dns_ips",
		"default.api.timeout.ms":                           "60000",
		"security.protocol":                                "PLAINTEXT",
		"sasl.mechanism":                                   "PLAIN",
		"ssl.endpoint.identification.algorithm":            "https",
		"ssl.truststore.type":                              "PEM",
		"ssl.keystore.type":                                "PEM",
		"ssl.enabled.protocols":                            "TLSv1.2,TLSv1.3",
		"local.security.protocol":                          "PLAINTEXT",
		"local.sasl.mechanism":                             "PLAIN",
		"bootstrap.servers":                                "",
		"sasl.jaas.config":                                 "",
	}
	for name, def := range want {
		k, ok := Lookup(name)
		if !ok {
			t.Errorf("%s: not in the catalogue", name)
			continue
		}
		if k.Default != def {
			t.Errorf("%s: default %q, want %q", name, k.Default, def)
		}
	}
}

func TestLinkConfCatalogueShape(t *testing.T) {
	keys := Keys()
	if !sort.SliceIsSorted(keys, func(i, j int) bool { return keys[i].Name < keys[j].Name }) {
		t.Error("Keys is not sorted by name")
	}
	for _, k := range keys {
		if k.Doc == "" {
			t.Errorf("%s: no Doc", k.Name)
		}
		if (k.Type == TypePassword) != k.Sensitive {
			t.Errorf("%s: type %v but Sensitive=%v", k.Name, k.Type, k.Sensitive)
		}
		if k.Immutable && !k.ReadOnly {
			t.Errorf("%s: immutable but not read-only", k.Name)
		}
		if k.Synonyms == nil || len(k.Synonyms) != 0 {
			t.Errorf("%s: synonyms %#v, want empty and non-nil", k.Name, k.Synonyms)
		}
		// A default is a valid value of its config.
		d := catalogue[k.Name]
		if d.check != nil && k.Default != "" {
			if err := d.check(k.Default); err != nil {
				t.Errorf("%s: default %q fails its own check: %v", k.Name, k.Default, err)
			}
		}
	}
	var immutable, readOnly, sensitive []string
	for _, k := range keys {
		if k.Immutable {
			immutable = append(immutable, k.Name)
		}
		if k.ReadOnly {
			readOnly = append(readOnly, k.Name)
		}
		if k.Sensitive && k.Name[:6] != "local." {
			sensitive = append(sensitive, k.Name)
		}
	}
	wantImmutable := []string{"cluster.link.prefix", "connection.mode", "link.mode", "remote.link.connection.mode"}
	if !slices.Equal(immutable, wantImmutable) {
		t.Errorf("immutable %v, want %v", immutable, wantImmutable)
	}
	// Confluent Cloud's read-only fetch tuning (the "CC RO" column).
	for _, n := range []string{"cluster.link.retry.timeout.ms", "num.cluster.link.fetchers", "replica.fetch.max.bytes",
		"replica.fetch.response.max.bytes", "replica.fetch.wait.max.ms", "replica.fetch.min.bytes",
		"replica.fetch.backoff.ms", "replica.socket.timeout.ms", "request.timeout.ms", "connections.max.idle.ms",
		"metadata.max.age.ms", "retry.backoff.ms", "socket.connection.setup.timeout.ms",
		"socket.connection.setup.timeout.max.ms", "link.prefix"} {
		if !slices.Contains(readOnly, n) {
			t.Errorf("%s is not read-only", n)
		}
	}
	for _, n := range []string{"consumer.offset.sync.ms", "acl.filters", "bootstrap.servers", "client.dns.lookup"} {
		if slices.Contains(readOnly, n) {
			t.Errorf("%s is read-only", n)
		}
	}
	wantSensitive := []string{"sasl.jaas.config", "ssl.key.password", "ssl.keystore.certificate.chain",
		"ssl.keystore.key", "ssl.keystore.password", "ssl.truststore.certificates", "ssl.truststore.password"}
	if !slices.Equal(sensitive, wantSensitive) {
		t.Errorf("sensitive %v, want %v", sensitive, wantSensitive)
	}
	// Every remote security config has its local twin.
	for _, k := range keys {
		if k.Name == "security.protocol" || (len(k.Name) > 4 && (k.Name[:4] == "sasl" || k.Name[:4] == "ssl.")) {
			if _, ok := Lookup("local." + k.Name); !ok {
				t.Errorf("%s has no local.%s", k.Name, k.Name)
			}
		}
	}
}

func TestLinkConfCatalogueLookup(t *testing.T) {
	if _, ok := Lookup("no.such.config"); ok {
		t.Error("Lookup found an unknown config")
	}
	k, ok := Lookup("consumer.offset.sync.ms")
	if !ok || k.Type != TypeInt || k.Type.String() != "int" {
		t.Fatalf("consumer.offset.sync.ms: %+v", k)
	}
	// Changing what Lookup returned does not change the catalogue.
	k.Synonyms = append(k.Synonyms, "cosm")
	k2, _ := Lookup("consumer.offset.sync.ms")
	if len(k2.Synonyms) != 0 {
		t.Errorf("catalogue changed through a returned Key: %v", k2.Synonyms)
	}
	for typ, s := range map[Type]string{TypeBool: "bool", TypeString: "string", TypeInt: "int", TypeLong: "long",
		TypeList: "list", TypeClass: "class", TypePassword: "password", Type(42): "Type(42)"} {
		if typ.String() != s {
			t.Errorf("%d.String() = %q, want %q", typ, typ.String(), s)
		}
	}
}
