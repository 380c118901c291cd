package interop

import (
	"testing"
)

const kafkaPythonScript = "python/kafkapython_client.py"

func TestInteropKafkaPython(t *testing.T) {
	forEachTarget(t, []string{"kafka"}, func(t *testing.T, c *cluster) {
		kp := func(t *testing.T, stdin []byte, topic string, args ...string) clientOutput {
			t.Helper()
			return runClient(t, stdin, pythonPath, append([]string{kafkaPythonScript, c.addr(), topic}, args...)...)
		}

		for _, tc := range []struct {
			name string
			args []string
		}{
			{name: "uncompressed"},
			{name: "gzip", args: []string{"--compression", "gzip"}},
		} {
			t.Run("produce acks=all "+tc.name+" and consume", func(t *testing.T) {
				topic := "kafka-python-" + tc.name
				c.createTopic(t, topic, 3, nil)
				sent := genRecords(100, 3, genOptions{partitions: 3})
				out := kp(t, encodeRecords(t, sent), topic, append([]string{"produce"}, tc.args...)...)
				acked := checkAcks(t, sent, decodeEvents[ack](t, out, "ack"))

				read := decodeEvents[Record](t, kp(t, nil, topic, "consume"), "record")
				checkReadBack(t, acked, read)
			})
		}

		t.Run("admin create_topics and describe_configs", func(t *testing.T) {
			const topic = "kafka-python-admin"
			kp(t, nil, topic, "create", "--partitions", "4", "--config", "retention.ms=987654321")
			c.waitForLeaders(t, topic, 4)

			configs := decodeEvents[configEvent](t, kp(t, nil, topic, "describe-configs"), "config")
			// kafka-python 2.0.2 reads the config source of DescribeConfigs
			// v1+ as a boolean, so only the value is checked here.
			if ret := findConfig(t, configs, "retention.ms"); ret.Value == nil || *ret.Value != "987654321" {
				t.Errorf("retention.ms = %v, want 987654321", deref(ret.Value))
			}
		})
	})
}
