package rest_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/strait-kafka/strait/internal/app"
	"github.com/strait-kafka/strait/internal/config"
	"github.com/strait-kafka/strait/internal/metadata"
	"github.com/strait-kafka/strait/internal/rest"
)

// startStrait runs an in-process broker with in-memory metadata and
// returns its Kafka address and cluster ID; it stops at the test's end.
func startStrait(t *testing.T) (addr, id string) {
	t.Helper()
	cfg, _, err := config.Load(config.LoadOptions{Flags: map[string]string{
		"listeners":                    "PLAINTEXT://127.0.0.1:0",
		"http.listeners":               "http://127.0.0.1:0",
		"log.dirs":                     t.TempDir(),
		"offsets.topic.num.partitions": "1",
	}})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Start(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Options{Meta: metadata.NewMemory("")})
	if err != nil {
		cancel()
		t.Fatalf("start: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("broker stopped with error: %v", err)
		}
	})
	return a.KafkaAddrs[0], a.ClusterID()
}

func TestRESTTopics(t *testing.T) {
	addr, id := startStrait(t)
	s := rest.New(rest.Options{ClusterID: id, KafkaAddr: addr})
	t.Cleanup(s.Close)
	b := "/kafka/v3/clusters/" + id
	self := host + b

	topicJSON := func(partitions int) string {
		return `{"kind":"KafkaTopic","metadata":{"self":"` + self + `/topics/orders","resource_name":"crn:///kafka=` + id + `/topic=orders"},
			"cluster_id":"` + id + `","topic_name":"orders","is_internal":false,"replication_factor":1,"partitions_count":` + strconv.Itoa(partitions) + `,
			"partitions":{"related":"` + self + `/topics/orders/partitions"},"configs":{"related":"` + self + `/topics/orders/configs"}}`
	}

	steps := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"validate only", "POST", "/topics", `{"topic_name":"orders","partitions_count":2,"validate_only":true}`, 201, topicJSON(2)},
		{"not created by validate only", "GET", "/topics/orders", "", 404, `{"error_code":40403,"message":"Topic 'orders' not found."}`},
		{"create", "POST", "/topics", `{"topic_name":"orders","partitions_count":2,"replication_factor":1,"configs":[{"name":"retention.ms","value":"3600000"}]}`, 201, topicJSON(2)},
		{"create again", "POST", "/topics", `{"topic_name":"orders"}`, 400, `{"error_code":40002,"message":"Topic 'orders' already exists."}`},
		{"get", "GET", "/topics/orders", "", 200, topicJSON(2)},
		{"partitions", "GET", "/topics/orders/partitions", "", 200, `{"kind":"KafkaPartitionList","metadata":{"self":"` + self + `/topics/orders/partitions","next":null},"data":[
			{"kind":"KafkaPartition","metadata":{"self":"` + self + `/topics/orders/partitions/0","resource_name":"crn:///kafka=` + id + `/topic=orders/partition=0"},
			 "cluster_id":"` + id + `","topic_name":"orders","partition_id":0,
			 "leader":{"related":"` + self + `/topics/orders/partitions/0/replicas/1"},"replicas":{"related":"` + self + `/topics/orders/partitions/0/replicas"}},
			{"kind":"KafkaPartition","metadata":{"self":"` + self + `/topics/orders/partitions/1","resource_name":"crn:///kafka=` + id + `/topic=orders/partition=1"},
			 "cluster_id":"` + id + `","topic_name":"orders","partition_id":1,
			 "leader":{"related":"` + self + `/topics/orders/partitions/1/replicas/1"},"replicas":{"related":"` + self + `/topics/orders/partitions/1/replicas"}}]}`},
		{"missing name", "POST", "/topics", `{"partitions_count":1}`, 400, `{"error_code":400,"message":"topic_name is required"}`},
		{"zero partitions", "POST", "/topics", `{"topic_name":"x","partitions_count":0}`, 400, `{"error_code":400,"message":"partitions_count must be positive, not 0"}`},
		{"assignments", "POST", "/topics", `{"topic_name":"x","replicas_assignments":[]}`, 400, `{"error_code":400,"message":"invalid JSON body: unknown field \"replicas_assignments\""}`},
		{"bad config", "POST", "/topics", `{"topic_name":"x","configs":[{"name":"cleanup.policy","value":"shred"}]}`, 400, ""},
		{"unknown topic configs", "GET", "/topics/nope/configs", "", 404, `{"error_code":40403,"message":"Topic 'nope' not found."}`},
		{"unknown topic partitions", "GET", "/topics/nope/partitions", "", 404, `{"error_code":40403,"message":"Topic 'nope' not found."}`},
		{"delete unknown", "DELETE", "/topics/nope", "", 404, `{"error_code":40403,"message":"Topic 'nope' not found."}`},
		{"wrong cluster", "GET", "/kafka/v3/clusters/other/topics", "", 404, `{"error_code":404,"message":"Cluster other not found."}`},

		// Bad input found in a pass as a new user; none of it changes orders.
		{"invalid name in the path", "GET", "/topics/a%2Fb", "", 400,
			`{"error_code":40002,"message":"Topic name 'a/b' is not valid: a topic name is 1 to 249 ASCII letters, digits, '.', '_' and '-', and not '.' or '..'."}`},
		{"validate_only as a query parameter", "POST", "/topics?validate_only=true", `{"topic_name":"x"}`, 400,
			`{"error_code":400,"message":"unknown query parameter \"validate_only\": this request takes none"}`},
		{"not created by the refused request", "GET", "/topics/x", "", 404, `{"error_code":40403,"message":"Topic 'x' not found."}`},
		{"dry-run delete", "DELETE", "/topics/orders?validate_only=true", "", 400,
			`{"error_code":400,"message":"unknown query parameter \"validate_only\": this request takes none"}`},
		{"partitions out of range", "POST", "/topics", `{"topic_name":"x","partitions_count":4294967296}`, 400,
			`{"error_code":400,"message":"invalid JSON body: field partitions_count: 4294967296 is out of range (at most 2147483647)"}`},
		{"replication factor out of range", "POST", "/topics", `{"topic_name":"x","replication_factor":32768}`, 400,
			`{"error_code":400,"message":"invalid JSON body: field replication_factor: 32768 is out of range (at most 32767)"}`},
		{"still there", "GET", "/topics/orders", "", 200, topicJSON(2)},
	}
	for _, st := range steps {
		path := b + st.path
		if strings.HasPrefix(st.path, "/kafka/") {
			path = st.path
		}
		rec := serve(t, s, st.method, path, st.body)
		if rec.Code != st.status {
			t.Fatalf("%s: status %d, want %d: %s", st.name, rec.Code, st.status, rec.Body)
		}
		if st.want != "" {
			t.Run(st.name, func(t *testing.T) { jsonEqual(t, rec.Body.Bytes(), st.want) })
		}
	}

	// The list holds the new topic and the internal offsets topic.
	rec := serve(t, s, "GET", b+"/topics", "")
	var l struct {
		Kind string `json:"kind"`
		Data []struct {
			TopicName       string `json:"topic_name"`
			IsInternal      bool   `json:"is_internal"`
			PartitionsCount int    `json:"partitions_count"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &l); err != nil || rec.Code != 200 || l.Kind != "KafkaTopicList" {
		t.Fatalf("list: %d %s (%v)", rec.Code, rec.Body, err)
	}
	found := map[string]bool{}
	for _, d := range l.Data {
		found[d.TopicName] = d.IsInternal
	}
	if internal, ok := found["orders"]; !ok || internal {
		t.Errorf("list lacks orders or calls it internal: %s", rec.Body)
	}
	if internal, ok := found["__consumer_offsets"]; ok && !internal {
		t.Errorf("__consumer_offsets is not internal: %s", rec.Body)
	}

	// Configs: the explicit one is dynamic, the rest defaults.
	rec = serve(t, s, "GET", b+"/topics/orders/configs", "")
	var cl struct {
		Kind string `json:"kind"`
		Data []map[string]any
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &cl); err != nil || rec.Code != 200 || cl.Kind != "KafkaTopicConfigList" {
		t.Fatalf("configs: %d %s (%v)", rec.Code, rec.Body, err)
	}
	var retention map[string]any
	for _, c := range cl.Data {
		if c["name"] == "retention.ms" {
			retention = c
		}
		for _, k := range []string{"kind", "metadata", "cluster_id", "topic_name", "name", "value", "is_default", "is_read_only", "is_sensitive", "source", "synonyms"} {
			if _, ok := c[k]; !ok {
				t.Fatalf("config %v lacks %s", c["name"], k)
			}
		}
	}
	if retention == nil || retention["value"] != "3600000" || retention["source"] != "DYNAMIC_TOPIC_CONFIG" || retention["is_default"] != false || retention["kind"] != "KafkaTopicConfig" {
		t.Fatalf("retention.ms: %v", retention)
	}

	if rec := serve(t, s, "DELETE", b+"/topics/orders", ""); rec.Code != 204 || rec.Body.Len() != 0 {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(t, s, "GET", b+"/topics/orders", ""); rec.Code != 404 {
		t.Fatalf("get after delete: %d %s", rec.Code, rec.Body)
	}

	// After Close the topics endpoints answer 503 instead of reconnecting.
	s.Close()
	if rec := serve(t, s, "GET", b+"/topics", ""); rec.Code != 503 {
		t.Fatalf("after close: %d %s", rec.Code, rec.Body)
	}
}
