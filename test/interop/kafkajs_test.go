package interop

import (
	"fmt"
	"testing"
)

// KafkaJS has no consumer without a consumer group: what KafkaJS produces
// here is read back with franz-go; KafkaJS group consumption is covered in
// groups_test.go.

const kafkaJSScript = "js/kafkajs_client.js"

func TestInteropKafkaJS(t *testing.T) {
	forEachTarget(t, []string{"node", "kafkajs"}, func(t *testing.T, c *cluster) {
		kjs := func(t *testing.T, stdin []byte, topic string, args ...string) clientOutput {
			t.Helper()
			return runClient(t, stdin, "node", append([]string{kafkaJSScript, c.addr(), topic}, args...)...)
		}

		for _, compression := range []string{"none", "gzip"} {
			t.Run("produce acks=-1 compression "+compression, func(t *testing.T) {
				topic := "kafkajs-" + compression
				c.createTopic(t, topic, 3, nil)
				sent := genRecords(90, 4, genOptions{partitions: 3, uniqueHeaderKeys: true})
				out := kjs(t, encodeRecords(t, sent), topic, "produce", "--compression", compression, "--chunk", "25")
				acked := checkAcks(t, sent, decodeEvents[ack](t, out, "ack"))
				checkReadBack(t, acked, c.readAll(t, topic))
			})
		}

		t.Run("admin createTopics, fetchTopicOffsets and describeConfigs", func(t *testing.T) {
			const topic = "kafkajs-admin"
			out := kjs(t, nil, topic, "create", "--partitions", "3", "--config", "retention.ms=55555555")
			if tp := decodeEvents[topicEvent](t, out, "topic"); len(tp) != 1 || tp[0].Partitions != 3 {
				t.Fatalf("created %+v, want %s with 3 partitions", tp, topic)
			}
			c.waitForLeaders(t, topic, 3)

			// Partition p gets p*5 records, so each partition's end offset
			// is known.
			var sent []Record
			for p := range int32(3) {
				for i := range p * 5 {
					sent = append(sent, Record{Partition: p, Key: []byte(fmt.Sprint(i)), Value: []byte("v")})
				}
			}
			checkAcks(t, sent, decodeEvents[ack](t, kjs(t, encodeRecords(t, sent), topic, "produce"), "ack"))

			type offsets struct {
				Partition int32 `json:"partition"`
				Low       int64 `json:"low"`
				High      int64 `json:"high"`
			}
			got := decodeEvents[offsets](t, kjs(t, nil, topic, "offsets"), "offsets")
			if len(got) != 3 {
				t.Fatalf("fetchTopicOffsets gave %d partitions, want 3: %+v", len(got), got)
			}
			for _, o := range got {
				if o.Low != 0 || o.High != int64(o.Partition)*5 {
					t.Errorf("partition %d: low %d high %d, want 0 and %d", o.Partition, o.Low, o.High, o.Partition*5)
				}
			}

			configs := decodeEvents[configEvent](t, kjs(t, nil, topic, "describe-configs"), "config")
			ret := findConfig(t, configs, "retention.ms")
			if ret.Value == nil || *ret.Value != "55555555" {
				t.Errorf("retention.ms = %v, want 55555555", deref(ret.Value))
			}
			// KafkaJS reports the source as Kafka's number: 1 is DYNAMIC_TOPIC_CONFIG.
			if ret.Source != float64(1) || ret.IsDefault {
				t.Errorf("retention.ms source %v default %v, want 1 (DYNAMIC_TOPIC_CONFIG), not default", ret.Source, ret.IsDefault)
			}
		})
	})
}
