package broker

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestBrokerApiVersionsEqualsRegistry: ApiVersions advertises exactly the
// registered handlers and their version ranges.
func TestBrokerApiVersionsEqualsRegistry(t *testing.T) {
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	reply, err := handleApiVersions(context.Background(), nil, &Session{}, req)
	if err != nil {
		t.Fatal(err)
	}
	keys := reply.Msg.(*kmsg.ApiVersionsResponse).ApiKeys
	if len(keys) != len(registry) {
		t.Fatalf("advertised %d apis, registry has %d", len(keys), len(registry))
	}
	for _, k := range keys {
		a, ok := registry[k.ApiKey]
		if !ok || a.min != k.MinVersion || a.max != k.MaxVersion {
			t.Fatalf("api %s advertised %d-%d, registry %+v", kmsg.NameForKey(k.ApiKey), k.MinVersion, k.MaxVersion, a)
		}
	}
	for _, key := range []int16{0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23, 32, 33, 37, 42, 44, 47, 60} {
		if _, ok := registry[key]; !ok {
			t.Errorf("%s is not registered", kmsg.NameForKey(key))
		}
	}
}

func TestBrokerTopicNameRules(t *testing.T) {
	long := make([]byte, 250)
	for i := range long {
		long[i] = 'a'
	}
	cases := []struct {
		name string
		ok   bool
	}{
		{"orders", true}, {"a.b_c-D9", true}, {"", false}, {".", false}, {"..", false},
		{"has space", false}, {"slash/no", false}, {string(long[:249]), true}, {string(long), false}, {"ünïcode", false},
	}
	for _, c := range cases {
		if err := validateTopicName(c.name); (err == nil) != c.ok {
			t.Errorf("validateTopicName(%q) = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}
