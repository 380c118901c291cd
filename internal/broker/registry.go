package broker

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// handlerFunc serves one decoded request. A returned error means "close the
// connection"; per-partition or per-resource failures are error codes inside
// the reply.
type handlerFunc func(ctx context.Context, b *Broker, s *Session, req kmsg.Request) (Reply, error)

// api is one registered Kafka API: the versions Strait serves and its handler.
type api struct {
	key      int16
	min, max int16
	handle   handlerFunc
}

// registry holds every API Strait serves. Files named NN_name.go register
// themselves in init; ApiVersions is built from this table, so an API that is
// not registered is never advertised.
var registry = map[int16]api{}

func register(key, minVersion, maxVersion int16, h handlerFunc) {
	if _, dup := registry[key]; dup {
		panic("broker: api registered twice: " + kmsg.NameForKey(key))
	}
	if maxVersion > kmsg.RequestForKey(key).MaxVersion() {
		panic("broker: api version above what kmsg can decode: " + kmsg.NameForKey(key))
	}
	registry[key] = api{key: key, min: minVersion, max: maxVersion, handle: h}
}

// SupportedVersions reports the version range served for key.
func SupportedVersions(key int16) (minVersion, maxVersion int16, ok bool) {
	a, ok := registry[key]
	return a.min, a.max, ok
}

// apiKeys returns the registry sorted by key (for ApiVersions).
func apiKeys() []api {
	out := make([]api, 0, len(registry))
	for _, a := range registry {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}
