package app

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// response decodes a raw frame (after its size) as resp: correlation id,
// then header tags for flexible versions.
func response(t *testing.T, b []byte, resp kmsg.Response) {
	t.Helper()
	b = b[4:]
	if resp.IsFlexible() {
		n, used := binary.Uvarint(b)
		if used <= 0 || n != 0 {
			t.Fatal("unexpected response header tags")
		}
		b = b[used:]
	}
	if err := resp.ReadFrom(b); err != nil {
		t.Fatalf("decoding %T: %v", resp, err)
	}
}

func apiVersionsRoundTrip(t *testing.T, c *rawConn) {
	t.Helper()
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 0
	resp := kmsg.NewPtrApiVersionsResponse()
	response(t, c.request(req, 1), resp)
	if resp.ErrorCode != 0 {
		t.Fatalf("ApiVersions: error %d", resp.ErrorCode)
	}
}

// TestBrokerMaxConnectionsDynamic: max.connections and
// max.connections.per.ip are cluster-wide dynamic configs, as in Kafka. A
// connection waiting at the limit is served once IncrementalAlterConfigs or
// AlterConfigs raises it; lowering the per-IP limit refuses the next one.
func TestBrokerMaxConnectionsDynamic(t *testing.T) {
	tb := startBroker(t, true, map[string]string{"max.connections": "2"})
	admin := dialRaw(t, tb.addr)
	apiVersionsRoundTrip(t, admin)
	apiVersionsRoundTrip(t, dialRaw(t, tb.addr))

	waiting := dialRaw(t, tb.addr)
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 0
	waiting.send((&kmsg.RequestFormatter{}).AppendRequest(nil, req, 1))

	inc := kmsg.NewPtrIncrementalAlterConfigsRequest()
	inc.Version = 1
	rr := kmsg.NewIncrementalAlterConfigsRequestResource()
	rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeBroker, ""
	c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	c.Name, c.Value = "max.connections", kmsg.StringPtr("3")
	rr.Configs = append(rr.Configs, c)
	inc.Resources = append(inc.Resources, rr)
	incResp := kmsg.NewPtrIncrementalAlterConfigsResponse()
	incResp.Version = 1
	response(t, admin.request(inc, 2), incResp)
	if code := incResp.Resources[0].ErrorCode; code != 0 {
		t.Fatalf("IncrementalAlterConfigs max.connections=3: error %d", code)
	}
	// The waiting connection is now accepted and answered (readFrame
	// waits up to the connection's 30 s deadline).
	got := kmsg.NewPtrApiVersionsResponse()
	got.Version = 0
	response(t, waiting.readFrame(), got)

	// AlterConfigs replaces the cluster-wide set: max.connections 4, and at
	// most 3 connections from one address, which this one already has.
	alter := kmsg.NewPtrAlterConfigsRequest()
	alter.Version = 1
	ar := kmsg.NewAlterConfigsRequestResource()
	ar.ResourceType, ar.ResourceName = kmsg.ConfigResourceTypeBroker, ""
	for k, v := range map[string]string{"max.connections": "4", "max.connections.per.ip": "3"} {
		cfg := kmsg.NewAlterConfigsRequestResourceConfig()
		cfg.Name, cfg.Value = k, kmsg.StringPtr(v)
		ar.Configs = append(ar.Configs, cfg)
	}
	alter.Resources = append(alter.Resources, ar)
	alterResp := kmsg.NewPtrAlterConfigsResponse()
	alterResp.Version = 1
	response(t, admin.request(alter, 3), alterResp)
	if code := alterResp.Resources[0].ErrorCode; code != 0 {
		t.Fatalf("AlterConfigs: error %d", code)
	}
	refused := dialRaw(t, tb.addr)
	_ = refused.c.SetDeadline(time.Now().Add(30 * time.Second))
	refused.send((&kmsg.RequestFormatter{}).AppendRequest(nil, req, 1))
	refused.expectClosed()

	// A per-IP override for this address lets it have one more.
	inc.Resources[0].Configs[0].Name = "max.connections.per.ip.overrides"
	inc.Resources[0].Configs[0].Value = kmsg.StringPtr("127.0.0.1:4")
	response(t, admin.request(inc, 4), incResp)
	if code := incResp.Resources[0].ErrorCode; code != 0 {
		t.Fatalf("IncrementalAlterConfigs overrides: error %d", code)
	}
	apiVersionsRoundTrip(t, dialRaw(t, tb.addr))
}
