package interop

import (
	"strings"
	"testing"
)

type alterError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// TestInteropLongErrorMessage is the regression test for "error messages
// over 32 KB overflow a 16-bit string, and librdkafka cannot parse the
// response": an invalid max.connections.per.ip.overrides entry is echoed
// twice in the error message, so a 20,000-byte entry made a 40 KB message
// whose STRING length wrapped. The broker now cuts it to 32767 bytes and
// librdkafka reads the error.
func TestInteropLongErrorMessage(t *testing.T) {
	forEachTarget(t, []string{"confluent_kafka"}, func(t *testing.T, c *cluster) {
		c.skipOnKfake(t, "kfake has no max.connections.per.ip.overrides")
		bad := strings.Repeat("h", 20000) + "/:5"
		out := runClient(t, nil, pythonPath, confluentScript, c.addr(), "1", "alter-broker-config",
			"--config", "max.connections.per.ip.overrides="+bad)
		errs := decodeEvents[alterError](t, out, "alter_error")
		if len(errs) != 1 {
			t.Fatalf("want one alter_error, got %v", out)
		}
		if errs[0].Code != "INVALID_CONFIG" {
			t.Fatalf("error %s: %.200s, want INVALID_CONFIG", errs[0].Code, errs[0].Message)
		}
		// librdkafka keeps the first 512 bytes of a broker's message.
		if !strings.HasPrefix(errs[0].Message, "Invalid value hhhh") {
			t.Errorf("message %.100q..., want the broker's (cut) message", errs[0].Message)
		}
	})
}
