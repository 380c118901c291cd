package server

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestServerFitCutsLongStrings(t *testing.T) {
	long := strings.Repeat("é", 50000) // 100,000 bytes of two-byte runes
	resp := kmsg.NewPtrDescribeConfigsResponse()
	resp.Version = 4 // flexible: COMPACT_STRING
	r := kmsg.NewDescribeConfigsResponseResource()
	r.ErrorMessage = kmsg.StringPtr(long)
	r.ResourceName = long
	c := kmsg.NewDescribeConfigsResponseResourceConfig()
	c.Name, c.Value = "short", kmsg.StringPtr("v")
	s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
	s.Name, s.Value = long, kmsg.StringPtr(long)
	c.ConfigSynonyms = append(c.ConfigSynonyms, s)
	r.Configs = append(r.Configs, c)
	resp.Resources = append(resp.Resources, r)

	cut, err := fitResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	if cut != 4 {
		t.Errorf("cut %d strings, want 4", cut)
	}
	for _, v := range []string{resp.Resources[0].ResourceName, resp.Resources[0].Configs[0].ConfigSynonyms[0].Name,
		*resp.Resources[0].Configs[0].ConfigSynonyms[0].Value, *resp.Resources[0].ErrorMessage} {
		if len(v) > MaxStringLen || !utf8.ValidString(v) {
			t.Fatalf("string of %d bytes, valid UTF-8 %v", len(v), utf8.ValidString(v))
		}
		if len(v) < MaxStringLen-utf8.UTFMax {
			t.Fatalf("string cut to %d bytes, more than needed", len(v))
		}
	}
	if c := resp.Resources[0].Configs[0]; c.Name != "short" || *c.Value != "v" {
		t.Error("short strings changed")
	}
	for _, v := range []int16{0, 4} { // STRING and COMPACT_STRING
		resp.Version = v
		back := kmsg.NewPtrDescribeConfigsResponse()
		back.Version = v
		if err := back.ReadFrom(resp.AppendTo(nil)); err != nil {
			t.Fatalf("v%d: fitted response does not parse: %v", v, err)
		}
		if *back.Resources[0].ErrorMessage != *resp.Resources[0].ErrorMessage {
			t.Fatalf("v%d: message changed on the wire", v)
		}
	}
}

// TestServerLongErrorMessageIsCut is the regression test for "error
// messages over 32 KB overflow a 16-bit string": CreateTopics echoes the
// config name it does not know, and a 100 KB name made a message whose
// length wrapped, which librdkafka could not parse.
func TestServerLongErrorMessageIsCut(t *testing.T) {
	ts := startServer(t, Options{})
	c := dial(t, ts.addr)
	for _, v := range []int16{4, 5} { // v4: STRING; v5: COMPACT_STRING
		req := kmsg.NewPtrCreateTopicsRequest()
		req.Version = v
		req.TimeoutMillis = 5000
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "long-message", 1, 1
		cfg := kmsg.NewCreateTopicsRequestTopicConfig()
		cfg.Name = strings.Repeat("n", 100_000)
		if v < 5 {
			cfg.Name = strings.Repeat("n", 30_000) // a request STRING is bounded too
		}
		cfg.Value = kmsg.StringPtr(strings.Repeat("v", len(cfg.Name)))
		rt.Configs = append(rt.Configs, cfg)
		req.Topics = append(req.Topics, rt)
		if err := send(c, req, int32(v)); err != nil {
			t.Fatal(err)
		}
		resp := kmsg.NewPtrCreateTopicsResponse()
		resp.Version = v
		if err := readResponse(c, resp, int32(v), 30*time.Second); err != nil {
			t.Fatalf("v%d: response does not parse: %v", v, err)
		}
		if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode == 0 || resp.Topics[0].ErrorMessage == nil {
			t.Fatalf("v%d: want one topic with an error message, got %+v", v, resp.Topics)
		}
		msg := *resp.Topics[0].ErrorMessage
		if len(msg) > MaxStringLen || !utf8.ValidString(msg) {
			t.Fatalf("v%d: message of %d bytes", v, len(msg))
		}
		if v == 5 && len(msg) != MaxStringLen {
			t.Errorf("v%d: message of %d bytes; the test needs a message longer than the limit", v, len(msg))
		}
	}
	if got := ts.metricValue(t, "strait_kafka_response_strings_truncated_total"); got < 1 {
		t.Errorf("strings cut metric %v", got)
	}
}
