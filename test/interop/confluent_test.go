package interop

import (
	"testing"
)

const confluentScript = "python/confluent_client.py"

// configEvent is one topic config as a script's describe-configs reports it.
type configEvent struct {
	Name      string  `json:"name"`
	Value     *string `json:"config_value"`
	Source    any     `json:"source"` // a name (Python) or a number (KafkaJS)
	IsDefault bool    `json:"is_default"`
	ReadOnly  bool    `json:"read_only"`
}

type topicEvent struct {
	Name       string `json:"name"`
	Partitions int    `json:"partitions"`
}

func TestInteropConfluentKafkaPython(t *testing.T) {
	forEachTarget(t, []string{"confluent_kafka"}, func(t *testing.T, c *cluster) {
		confluent := func(t *testing.T, stdin []byte, topic string, args ...string) clientOutput {
			t.Helper()
			return runClient(t, stdin, pythonPath, append([]string{confluentScript, c.addr(), topic}, args...)...)
		}

		for _, tc := range []struct {
			name string
			args []string
		}{
			{name: "acks=all", args: []string{"--acks", "all"}},
			{name: "idempotent zstd", args: []string{"--acks", "all", "--idempotent", "--compression", "zstd"}},
			{name: "acks=1 lz4", args: []string{"--acks", "1", "--compression", "lz4"}},
		} {
			t.Run("produce "+tc.name+" and consume", func(t *testing.T) {
				topic := "confluent-" + sanitize(tc.name)
				c.createTopic(t, topic, 3, nil)
				sent := genRecords(120, 1, genOptions{partitions: 3})
				out := confluent(t, encodeRecords(t, sent), topic, append([]string{"produce"}, tc.args...)...)
				acked := checkAcks(t, sent, decodeEvents[ack](t, out, "ack"))

				read := decodeEvents[Record](t, confluent(t, nil, topic, "consume"), "record")
				checkReadBack(t, acked, read)
			})
		}

		t.Run("consume from an explicit offset", func(t *testing.T) {
			const topic = "confluent-from-offset"
			c.createTopic(t, topic, 1, nil)
			sent := genRecords(30, 2, genOptions{partitions: 1})
			acked := checkAcks(t, sent, decodeEvents[ack](t, confluent(t, encodeRecords(t, sent), topic, "produce"), "ack"))

			read := decodeEvents[Record](t, confluent(t, nil, topic, "consume", "--start", "12"), "record")
			var want []Record
			for _, r := range acked {
				if r.Offset >= 12 {
					want = append(want, r)
				}
			}
			checkReadBack(t, want, read)
		})

		t.Run("admin create_topics and describe_configs", func(t *testing.T) {
			const topic = "confluent-admin"
			out := confluent(t, nil, topic, "create", "--partitions", "2", "--config", "retention.ms=123456789")
			if tp := decodeEvents[topicEvent](t, out, "topic"); len(tp) != 1 || tp[0].Partitions != 2 {
				t.Fatalf("created %+v, want %s with 2 partitions", tp, topic)
			}
			c.waitForLeaders(t, topic, 2)

			configs := decodeEvents[configEvent](t, confluent(t, nil, topic, "describe-configs"), "config")
			ret := findConfig(t, configs, "retention.ms")
			if ret.Value == nil || *ret.Value != "123456789" {
				t.Errorf("retention.ms = %v, want 123456789", deref(ret.Value))
			}
			if ret.Source != "DYNAMIC_TOPIC_CONFIG" || ret.IsDefault {
				t.Errorf("retention.ms source %v default %v, want DYNAMIC_TOPIC_CONFIG, not default", ret.Source, ret.IsDefault)
			}
			// A config left alone is reported, and as not set on the topic.
			if cp := findConfig(t, configs, "cleanup.policy"); cp.Source == "DYNAMIC_TOPIC_CONFIG" {
				t.Errorf("cleanup.policy reported as a dynamic topic config though it was never set")
			}
		})
	})
}

func findConfig(t *testing.T, configs []configEvent, name string) configEvent {
	t.Helper()
	for _, c := range configs {
		if c.Name == name {
			return c
		}
	}
	var names []string
	for _, c := range configs {
		names = append(names, c.Name)
	}
	t.Fatalf("config %s not described; got %v", name, names)
	return configEvent{}
}

func deref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

// sanitize makes a case name usable in a topic name.
func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			b[i] = '-'
		}
	}
	return string(b)
}
