package broker

// ApiVersions (key 18), versions 0-3.
//
// The list is built from the registry, so only served APIs are advertised.
// A request at a version above 3 is answered with UNSUPPORTED_VERSION in the
// v0 format together with the supported list (KIP-511); clients then retry at
// a version both sides know. The response header is never flexible, even
// for v3, so that clients can parse it before they know our versions.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(18, 0, 3, handleApiVersions) }

func handleApiVersions(_ context.Context, _ *Broker, s *Session, kreq kmsg.Request) (Reply, error) {
	req := kreq.(*kmsg.ApiVersionsRequest)
	resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
	if req.Version >= 3 {
		s.ClientSoftwareName = req.ClientSoftwareName
		s.ClientSoftwareVersion = req.ClientSoftwareVersion
	}
	resp.ApiKeys = apiVersionList()
	return Reply{Msg: resp}, nil
}

// UnsupportedApiVersions is the reply to an ApiVersions request at a version
// Strait does not serve: v0 layout, UNSUPPORTED_VERSION, and our versions.
func UnsupportedApiVersions() kmsg.Response {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	resp.ApiKeys = apiVersionList()
	return resp
}

func apiVersionList() []kmsg.ApiVersionsResponseApiKey {
	var out []kmsg.ApiVersionsResponseApiKey
	for _, a := range apiKeys() {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = a.key, a.min, a.max
		out = append(out, k)
	}
	return out
}
