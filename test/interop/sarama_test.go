package interop

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// sarama is driven in process: it is a Go library, used here exactly as an
// application would use it (SyncProducer, Consumer.ConsumePartition,
// ClusterAdmin), with no settings beyond what its documentation asks for.

func saramaConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.ClientID = "strait-interop-sarama"
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Consumer.Return.Errors = true
	cfg.Net.DialTimeout = 10 * time.Second
	return cfg
}

func TestInteropSarama(t *testing.T) {
	forEachTarget(t, nil, func(t *testing.T, c *cluster) {
		cases := []struct {
			name       string
			codec      sarama.CompressionCodec
			idempotent bool
		}{
			{"acks=all none", sarama.CompressionNone, false},
			{"acks=all snappy", sarama.CompressionSnappy, false},
			{"idempotent zstd", sarama.CompressionZSTD, true},
		}
		for i, tc := range cases {
			t.Run("produce "+tc.name+" and consume", func(t *testing.T) {
				topic := fmt.Sprintf("sarama-%d", i)
				c.createTopic(t, topic, 2, nil)
				cfg := saramaConfig()
				cfg.Producer.Compression = tc.codec
				if tc.idempotent {
					cfg.Producer.Idempotent = true
					cfg.Net.MaxOpenRequests = 1
				}
				prod, err := sarama.NewSyncProducer([]string{c.addr()}, cfg)
				if err != nil {
					t.Fatalf("sarama producer: %v", err)
				}
				type acked struct {
					part        int32
					off         int64
					key, val, h []byte
				}
				var sent []acked
				for j := 0; j < 200; j++ {
					msg := &sarama.ProducerMessage{
						Topic:   topic,
						Key:     sarama.ByteEncoder(fmt.Appendf(nil, "k%d", j)),
						Value:   sarama.ByteEncoder(bytes.Repeat([]byte{byte(j)}, 10+j)),
						Headers: []sarama.RecordHeader{{Key: []byte("n"), Value: fmt.Appendf(nil, "%d", j)}},
					}
					p, o, err := prod.SendMessage(msg)
					if err != nil {
						t.Fatalf("send %d: %v", j, err)
					}
					sent = append(sent, acked{p, o, fmt.Appendf(nil, "k%d", j), bytes.Repeat([]byte{byte(j)}, 10+j), fmt.Appendf(nil, "%d", j)})
				}
				if err := prod.Close(); err != nil {
					t.Fatal(err)
				}

				cons, err := sarama.NewConsumer([]string{c.addr()}, saramaConfig())
				if err != nil {
					t.Fatalf("sarama consumer: %v", err)
				}
				defer cons.Close()
				got := map[[2]int64]*sarama.ConsumerMessage{}
				perPart := map[int32]int{}
				for _, s := range sent {
					perPart[s.part]++
				}
				for part, n := range perPart {
					pc, err := cons.ConsumePartition(topic, part, sarama.OffsetOldest)
					if err != nil {
						t.Fatalf("consume partition %d: %v", part, err)
					}
					timeout := time.After(clientTimeout)
					for k := 0; k < n; k++ {
						select {
						case m := <-pc.Messages():
							got[[2]int64{int64(m.Partition), m.Offset}] = m
						case err := <-pc.Errors():
							t.Fatalf("partition %d: %v", part, err)
						case <-timeout:
							t.Fatalf("partition %d: %d of %d records before timeout", part, k, n)
						}
					}
					pc.Close()
				}
				for _, s := range sent {
					m := got[[2]int64{int64(s.part), s.off}]
					if m == nil {
						t.Fatalf("no record at %d/%d", s.part, s.off)
					}
					if !bytes.Equal(m.Key, s.key) || !bytes.Equal(m.Value, s.val) || len(m.Headers) != 1 || !bytes.Equal(m.Headers[0].Value, s.h) {
						t.Fatalf("record at %d/%d differs", s.part, s.off)
					}
				}
			})
		}
		t.Run("admin create topic and describe config", func(t *testing.T) {
			adm, err := sarama.NewClusterAdmin([]string{c.addr()}, saramaConfig())
			if err != nil {
				t.Fatal(err)
			}
			defer adm.Close()
			ret := "86400000"
			if err := adm.CreateTopic("sarama-admin", &sarama.TopicDetail{NumPartitions: 4, ReplicationFactor: 1,
				ConfigEntries: map[string]*string{"retention.ms": &ret}}, false); err != nil {
				t.Fatal(err)
			}
			entries, err := adm.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: "sarama-admin"})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range entries {
				if e.Name == "retention.ms" {
					found = e.Value == ret
				}
			}
			if !found {
				t.Fatalf("retention.ms not described as %s: %+v", ret, entries)
			}
			topics, err := adm.DescribeTopics([]string{"sarama-admin"})
			if err != nil || len(topics) != 1 || len(topics[0].Partitions) != 4 {
				t.Fatalf("describe topics: %v %+v", err, topics)
			}
		})
	})
}
