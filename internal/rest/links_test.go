package rest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/strait-kafka/strait/internal/link"
	"github.com/strait-kafka/strait/internal/rest"
	"github.com/strait-kafka/strait/internal/rest/resttest"
)

const (
	clusterID = "cid-1"
	base      = "/kafka/v3/clusters/" + clusterID
	host      = "http://example.com"
)

func strp(s string) *string { return &s }

// fixture is a fake with one link (two mirror topics) and its handler.
func fixture(t *testing.T) (*resttest.Fake, *rest.Server) {
	t.Helper()
	f := resttest.New(clusterID)
	f.AddLink(link.LinkInfo{
		Name: "link-1", ID: "qz0HDEV-Qz2B5aPFpcWQJQ", SourceClusterID: "src-1", DestinationClusterID: clusterID,
		State: link.LinkStateActive, Topics: []string{"t2", "t1"},
		MirrorStateCounts: map[string]int{"IN_ERROR": 2, "ACTIVE": 10},
		Tasks: []link.TaskStatus{
			{Name: link.TaskAclSync, State: link.TaskStateInError, Errors: []link.TaskError{{Code: "AUTHENTICATION_ERROR", Message: "Auth issue."}}},
			{Name: link.TaskTopicConfigsSync, State: link.TaskStateActive},
		},
	},
		link.ConfigEntry{Name: "bootstrap.servers", Value: strp("src:9092"), Source: "DYNAMIC_CLUSTER_LINK_CONFIG"},
		link.ConfigEntry{Name: "consumer.offset.sync.ms", Value: strp("30000"), IsDefault: true, Source: "DEFAULT_CONFIG", Synonyms: []string{"cosm"}},
		link.ConfigEntry{Name: "sasl.jaas.config", Value: strp("secret!"), Sensitive: true, Source: "DYNAMIC_CLUSTER_LINK_CONFIG"},
	)
	f.AddLink(link.LinkInfo{Name: "link-0", ID: "not-base64!", SourceClusterID: "src-0", State: link.LinkStateUnavailable,
		Error: "TIMEOUT_ERROR", ErrorMessage: "source unreachable"})
	f.AddMirror(link.MirrorInfo{
		Link: "link-1", MirrorTopic: "t1", SourceTopic: "t1", SourceTopicID: uuid.MustParse("ab3d070c-457e-433d-81e5-a3c5a5c59025"),
		Partitions: 2, State: link.StateActive, StateTime: time.UnixMilli(1612550939300),
		Lags: []link.PartitionLag{
			{Partition: 1, Lag: 10, LastSourceFetchOffset: 1000, SourceHighWatermark: 1010, MirrorLogEndOffset: 1000},
			{Partition: 0, Lag: 0, LastSourceFetchOffset: 5, SourceHighWatermark: 5, MirrorLogEndOffset: 5},
		},
		TransitionErrors: []link.TaskError{{Code: "SOURCE_UNAVAILABLE", Message: "gone for a while"}},
	})
	f.AddMirror(link.MirrorInfo{Link: "link-1", MirrorTopic: "t2", SourceTopic: "t2", Partitions: 1, State: link.StatePaused,
		Error: "SOURCE_TOPIC_MAY_BE_DELETED", ErrorMessage: "source topic t2 is missing"})
	s := rest.New(rest.Options{Links: f, ClusterID: clusterID})
	t.Cleanup(s.Close)
	return f, s
}

func serve(t *testing.T, h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// jsonEqual compares JSON documents by value, so that field order and
// spacing do not matter but every field name and value does.
func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		gb, _ := json.MarshalIndent(g, "", "  ")
		wb, _ := json.MarshalIndent(w, "", "  ")
		t.Fatalf("body mismatch\n got: %s\nwant: %s", gb, wb)
	}
}

const (
	link1JSON = `{"kind":"KafkaLinkData","metadata":{"self":"` + host + base + `/links/link-1"},
		"source_cluster_id":"src-1","destination_cluster_id":"cid-1","link_name":"link-1",
		"link_id":"ab3d070c-457e-433d-81e5-a3c5a5c59025","cluster_link_id":"qz0HDEV-Qz2B5aPFpcWQJQ",
		"topic_names":["t1","t2"],"link_state":"ACTIVE","link_error":"NO_ERROR","link_error_message":null,
		"category_counts":[{"state_category":"ACTIVE","count":10},{"state_category":"IN_ERROR","count":2}]}`
	link1TasksJSON = `{"kind":"KafkaLinkData","metadata":{"self":"` + host + base + `/links/link-1"},
		"source_cluster_id":"src-1","destination_cluster_id":"cid-1","link_name":"link-1",
		"link_id":"ab3d070c-457e-433d-81e5-a3c5a5c59025","cluster_link_id":"qz0HDEV-Qz2B5aPFpcWQJQ",
		"topic_names":["t1","t2"],"link_state":"ACTIVE","link_error":"NO_ERROR","link_error_message":null,
		"tasks":[{"task_name":"AclSync","state":"IN_ERROR","errors":[{"error_code":"AUTHENTICATION_ERROR","error_message":"Auth issue."}]},
		         {"task_name":"TopicConfigsSync","state":"ACTIVE","errors":[]}],
		"category_counts":[{"state_category":"ACTIVE","count":10},{"state_category":"IN_ERROR","count":2}]}`
	link0JSON = `{"kind":"KafkaLinkData","metadata":{"self":"` + host + base + `/links/link-0"},
		"source_cluster_id":"src-0","destination_cluster_id":null,"link_name":"link-0",
		"cluster_link_id":"not-base64!","topic_names":[],"link_state":"UNAVAILABLE",
		"link_error":"TIMEOUT_ERROR","link_error_message":"source unreachable","category_counts":[]}`
	mirrorT1JSON = `{"kind":"KafkaMirrorData","metadata":{"self":"` + host + base + `/links/link-1/mirrors/t1"},
		"link_name":"link-1","mirror_topic_name":"t1","source_topic_name":"t1","source_topic_id":"qz0HDEV-Qz2B5aPFpcWQJQ",
		"num_partitions":2,"mirror_lags":[{"partition":0,"lag":0,"last_source_fetch_offset":5,"source_high_watermark":5,"mirror_log_end_offset":5,"time_since_last_fetch_ms":-1},{"partition":1,"lag":10,"last_source_fetch_offset":1000,"source_high_watermark":1010,"mirror_log_end_offset":1000,"time_since_last_fetch_ms":-1}],
		"mirror_status":"ACTIVE","mirror_topic_error":"NO_ERROR","state_time_ms":1612550939300}`
	mirrorT2JSON = `{"kind":"KafkaMirrorData","metadata":{"self":"` + host + base + `/links/link-1/mirrors/t2"},
		"link_name":"link-1","mirror_topic_name":"t2","source_topic_name":"t2","source_topic_id":"AAAAAAAAAAAAAAAAAAAAAA",
		"num_partitions":1,"mirror_lags":[],"mirror_status":"PAUSED","mirror_topic_error":"SOURCE_TOPIC_MAY_BE_DELETED",
		"mirror_topic_error_message":"source topic t2 is missing","state_time_ms":0}`
)

func TestRESTRoutes(t *testing.T) {
	cases := []struct {
		name        string
		method      string
		path        string // below base unless it starts with /
		body        string
		status      int
		want        string // exact JSON body; "" = no body
		wantPrefix  string // for error bodies: the message starts with this
		wantCall    *resttest.Call
		fail        map[string]error
		wantNoCalls bool
	}{
		// Clusters.
		{name: "list clusters", method: "GET", path: "/kafka/v3/clusters", status: 200,
			want: `{"kind":"KafkaClusterList","metadata":{"self":"` + host + `/kafka/v3/clusters","next":null},"data":[
				{"kind":"KafkaCluster","metadata":{"self":"` + host + base + `","resource_name":"crn:///kafka=cid-1"},"cluster_id":"cid-1",
				 "topics":{"related":"` + host + base + `/topics"},"links":{"related":"` + host + base + `/links"}}]}`},
		{name: "get cluster", method: "GET", path: base, status: 200,
			want: `{"kind":"KafkaCluster","metadata":{"self":"` + host + base + `","resource_name":"crn:///kafka=cid-1"},"cluster_id":"cid-1",
				 "topics":{"related":"` + host + base + `/topics"},"links":{"related":"` + host + base + `/links"}}`},
		{name: "wrong cluster", method: "GET", path: "/kafka/v3/clusters/nope", status: 404,
			want: `{"error_code":404,"message":"Cluster nope not found."}`},
		{name: "wrong cluster below", method: "GET", path: "/kafka/v3/clusters/nope/links", status: 404,
			want: `{"error_code":404,"message":"Cluster nope not found."}`, wantNoCalls: true},
		{name: "unknown path", method: "GET", path: "/kafka/v3/brokers", status: 404,
			want: `{"error_code":404,"message":"HTTP 404 Not Found"}`},
		{name: "wrong method", method: "PATCH", path: "/links/link-1", status: 405,
			want: `{"error_code":405,"message":"HTTP 405 Method Not Allowed"}`},

		// Links.
		{name: "list links", method: "GET", path: "/links", status: 200,
			want:     `{"kind":"KafkaLinkDataList","metadata":{"self":"` + host + base + `/links","next":null},"data":[` + link0JSON + `,` + link1JSON + `]}`,
			wantCall: &resttest.Call{Method: "ListLinks"}},
		{name: "create link", method: "POST", path: "/links?link_name=new&validate_only=true&validate_link=false",
			body:   `{"source_cluster_id":"src-9","configs":[{"name":"bootstrap.servers","value":"h:1"},{"name":"acl.sync.enable","value":"false"}]}`,
			status: 204,
			wantCall: &resttest.Call{Method: "CreateLink", Args: []any{link.CreateLinkRequest{Name: "new", SourceClusterID: "src-9",
				Configs: map[string]string{"bootstrap.servers": "h:1", "acl.sync.enable": "false"}, ValidateOnly: true, SkipValidation: true}}}},
		{name: "create link defaults", method: "POST", path: "/links?link_name=new", body: `{"configs":[{"name":"bootstrap.servers","value":"h:1"}]}`,
			status: 204,
			wantCall: &resttest.Call{Method: "CreateLink", Args: []any{link.CreateLinkRequest{Name: "new",
				Configs: map[string]string{"bootstrap.servers": "h:1"}}}}},
		{name: "create link without name", method: "POST", path: "/links", body: `{}`, status: 400,
			want: `{"error_code":400,"message":"link_name is required"}`, wantNoCalls: true},
		{name: "create link bad bool", method: "POST", path: "/links?link_name=a&validate_only=x", body: `{}`, status: 400,
			want: `{"error_code":400,"message":"invalid value \"x\" for query parameter validate_only"}`, wantNoCalls: true},
		{name: "create link bad validate_link", method: "POST", path: "/links?link_name=a&validate_link=maybe", body: `{}`, status: 400,
			want: `{"error_code":400,"message":"invalid value \"maybe\" for query parameter validate_link"}`, wantNoCalls: true},
		{name: "create link malformed", method: "POST", path: "/links?link_name=a", body: `{"configs":[`, status: 400,
			wantPrefix: "invalid JSON body: ", wantNoCalls: true},
		{name: "create link unknown field", method: "POST", path: "/links?link_name=a", body: `{"link_mode":"SOURCE"}`, status: 400,
			want: `{"error_code":400,"message":"invalid JSON body: unknown field \"link_mode\""}`, wantNoCalls: true},
		{name: "create link wrong type", method: "POST", path: "/links?link_name=a", body: `{"configs":[{"name":"x","value":5}]}`, status: 400,
			want: `{"error_code":400,"message":"invalid JSON body: field configs.value: cannot use a JSON number as a string"}`, wantNoCalls: true},
		{name: "create link trailing data", method: "POST", path: "/links?link_name=a", body: `{} {}`, status: 400,
			want: `{"error_code":400,"message":"invalid JSON body: unexpected data after the JSON value"}`, wantNoCalls: true},
		{name: "create link destination id", method: "POST", path: "/links?link_name=a", body: `{"destination_cluster_id":"d"}`, status: 400,
			wantPrefix: "destination_cluster_id is for source-initiated links, which Strait does not serve: only DESTINATION links are served", wantNoCalls: true},
		{name: "create link remote id", method: "POST", path: "/links?link_name=a", body: `{"remote_cluster_id":"r"}`, status: 400,
			wantPrefix: "remote_cluster_id is for bidirectional links", wantNoCalls: true},
		{name: "create link null value", method: "POST", path: "/links?link_name=a", body: `{"configs":[{"name":"k","value":null}]}`, status: 400,
			want: `{"error_code":400,"message":"configs[0].value is required (config \"k\")"}`, wantNoCalls: true},
		{name: "create link duplicate config", method: "POST", path: "/links?link_name=a", body: `{"configs":[{"name":"k","value":"1"},{"name":"k","value":"2"}]}`, status: 400,
			want: `{"error_code":400,"message":"configs: config \"k\" is given twice"}`, wantNoCalls: true},
		{name: "create link service error", method: "POST", path: "/links?link_name=a", body: `{}`, status: 400,
			fail: map[string]error{"CreateLink": link.Errorf(400, 40002, "bootstrap.servers is required")},
			want: `{"error_code":40002,"message":"bootstrap.servers is required"}`},
		{name: "create link wrapped service error", method: "POST", path: "/links?link_name=a", body: `{}`, status: 409,
			fail: map[string]error{"CreateLink": errors.Join(errors.New("ctx"), link.Errorf(409, 40901, "busy"))},
			want: `{"error_code":40901,"message":"busy"}`},
		{name: "create link plain error", method: "POST", path: "/links?link_name=a", body: `{}`, status: 500,
			fail: map[string]error{"CreateLink": errors.New("disk on fire")},
			want: `{"error_code":500,"message":"disk on fire"}`},
		{name: "get link", method: "GET", path: "/links/link-1", status: 200, want: link1JSON,
			wantCall: &resttest.Call{Method: "DescribeLink", Args: []any{"link-1", false}}},
		{name: "get link with tasks", method: "GET", path: "/links/link-1?include_tasks=true", status: 200, want: link1TasksJSON,
			wantCall: &resttest.Call{Method: "DescribeLink", Args: []any{"link-1", true}}},
		{name: "get link bad include_tasks", method: "GET", path: "/links/link-1?include_tasks=yes", status: 400,
			want: `{"error_code":400,"message":"invalid value \"yes\" for query parameter include_tasks"}`},
		{name: "get unknown link", method: "GET", path: "/links/nope", status: 404,
			want: `{"error_code":404,"message":"Cluster link 'nope' does not exist."}`},
		{name: "delete link", method: "DELETE", path: "/links/link-1?force=true&validate_only=true", status: 204,
			wantCall: &resttest.Call{Method: "DeleteLink", Args: []any{"link-1", true, true}}},
		{name: "delete link defaults", method: "DELETE", path: "/links/link-1", status: 204,
			wantCall: &resttest.Call{Method: "DeleteLink", Args: []any{"link-1", false, false}}},
		{name: "delete link bad force", method: "DELETE", path: "/links/link-1?force=2", status: 400,
			want: `{"error_code":400,"message":"invalid value \"2\" for query parameter force"}`, wantNoCalls: true},

		// Link configs.
		{name: "list configs", method: "GET", path: "/links/link-1/configs", status: 200,
			want: `{"kind":"KafkaLinkConfigDataList","metadata":{"self":"` + host + base + `/links/link-1/configs","next":null},"data":[
				{"kind":"KafkaLinkConfigData","metadata":{"self":"` + host + base + `/links/link-1/configs/bootstrap.servers"},"cluster_id":"cid-1",
				 "name":"bootstrap.servers","value":"src:9092","is_default":false,"is_read_only":false,"is_sensitive":false,
				 "source":"DYNAMIC_CLUSTER_LINK_CONFIG","synonyms":[],"link_name":"link-1"},
				{"kind":"KafkaLinkConfigData","metadata":{"self":"` + host + base + `/links/link-1/configs/consumer.offset.sync.ms"},"cluster_id":"cid-1",
				 "name":"consumer.offset.sync.ms","value":"30000","is_default":true,"is_read_only":false,"is_sensitive":false,
				 "source":"DEFAULT_CONFIG","synonyms":["cosm"],"link_name":"link-1"},
				{"kind":"KafkaLinkConfigData","metadata":{"self":"` + host + base + `/links/link-1/configs/sasl.jaas.config"},"cluster_id":"cid-1",
				 "name":"sasl.jaas.config","value":null,"is_default":false,"is_read_only":false,"is_sensitive":true,
				 "source":"DYNAMIC_CLUSTER_LINK_CONFIG","synonyms":[],"link_name":"link-1"}]}`,
			wantCall: &resttest.Call{Method: "LinkConfigs", Args: []any{"link-1"}}},
		{name: "get config", method: "GET", path: "/links/link-1/configs/consumer.offset.sync.ms", status: 200,
			want: `{"kind":"KafkaLinkConfigData","metadata":{"self":"` + host + base + `/links/link-1/configs/consumer.offset.sync.ms"},"cluster_id":"cid-1",
				 "name":"consumer.offset.sync.ms","value":"30000","is_default":true,"is_read_only":false,"is_sensitive":false,
				 "source":"DEFAULT_CONFIG","synonyms":["cosm"],"link_name":"link-1"}`},
		{name: "get unknown config", method: "GET", path: "/links/link-1/configs/nope", status: 404,
			want: `{"error_code":404,"message":"Config 'nope' not found for cluster link 'link-1'."}`},
		{name: "set config", method: "PUT", path: "/links/link-1/configs/consumer.offset.sync.ms", body: `{"value":"5000"}`, status: 204,
			wantCall: &resttest.Call{Method: "AlterLinkConfigs", Args: []any{"link-1", map[string]string{"consumer.offset.sync.ms": "5000"}, []string(nil), false}}},
		{name: "set config without value", method: "PUT", path: "/links/link-1/configs/x", body: `{}`, status: 400,
			want: `{"error_code":400,"message":"value is required"}`, wantNoCalls: true},
		{name: "set config without body", method: "PUT", path: "/links/link-1/configs/x", status: 400,
			want: `{"error_code":400,"message":"invalid JSON body: the request needs a body"}`, wantNoCalls: true},
		{name: "reset config", method: "DELETE", path: "/links/link-1/configs/consumer.offset.sync.ms", status: 204,
			wantCall: &resttest.Call{Method: "AlterLinkConfigs", Args: []any{"link-1", map[string]string(nil), []string{"consumer.offset.sync.ms"}, false}}},
		{name: "alter configs", method: "PUT", path: "/links/link-1/configs:alter",
			body:   `{"data":[{"name":"acl.sync.ms","value":"1000"},{"name":"consumer.offset.sync.ms","operation":"DELETE"},{"name":"x","value":"y","operation":"set"}],"validate_only":true}`,
			status: 204,
			wantCall: &resttest.Call{Method: "AlterLinkConfigs", Args: []any{"link-1", map[string]string{"acl.sync.ms": "1000", "x": "y"},
				[]string{"consumer.offset.sync.ms"}, true}}},
		{name: "alter configs validate_only query", method: "PUT", path: "/links/link-1/configs:alter?validate_only=true",
			body: `{"data":[{"name":"acl.sync.ms","value":"1000"}]}`, status: 204,
			wantCall: &resttest.Call{Method: "AlterLinkConfigs", Args: []any{"link-1", map[string]string{"acl.sync.ms": "1000"}, []string(nil), true}}},
		{name: "alter configs bad operation", method: "PUT", path: "/links/link-1/configs:alter", body: `{"data":[{"name":"a","value":"1","operation":"APPEND"}]}`,
			status: 400, want: `{"error_code":400,"message":"data[0].operation: invalid value \"APPEND\" (use SET or DELETE)"}`, wantNoCalls: true},
		{name: "alter configs set without value", method: "PUT", path: "/links/link-1/configs:alter", body: `{"data":[{"name":"a"}]}`,
			status: 400, want: `{"error_code":400,"message":"data[0].value is required to SET config \"a\""}`, wantNoCalls: true},
		{name: "alter configs empty", method: "PUT", path: "/links/link-1/configs:alter", body: `{"data":[]}`,
			status: 400, wantPrefix: "data is required", wantNoCalls: true},
		{name: "alter configs with POST", method: "POST", path: "/links/link-1/configs:alter", body: `{"data":[]}`,
			status: 405, want: `{"error_code":405,"message":"HTTP 405 Method Not Allowed"}`, wantNoCalls: true},

		// Mirrors.
		{name: "list mirrors of link", method: "GET", path: "/links/link-1/mirrors?mirror_status=active", status: 200,
			want:     `{"kind":"KafkaMirrorDataList","metadata":{"self":"` + host + base + `/links/link-1/mirrors","next":null},"data":[` + mirrorT1JSON + `]}`,
			wantCall: &resttest.Call{Method: "ListMirrors", Args: []any{"link-1", "ACTIVE"}}},
		{name: "list mirrors of every link", method: "GET", path: "/links/-/mirrors", status: 200,
			want:     `{"kind":"KafkaMirrorDataList","metadata":{"self":"` + host + base + `/links/-/mirrors","next":null},"data":[` + mirrorT1JSON + `,` + mirrorT2JSON + `]}`,
			wantCall: &resttest.Call{Method: "ListMirrors", Args: []any{"", ""}}},
		{name: "list mirrors bad status", method: "GET", path: "/links/-/mirrors?mirror_status=sleepy", status: 400,
			wantPrefix: `invalid value "sleepy" for query parameter mirror_status`, wantNoCalls: true},
		{name: "get mirror", method: "GET", path: "/links/link-1/mirrors/t1", status: 200, want: mirrorT1JSON,
			wantCall: &resttest.Call{Method: "DescribeMirror", Args: []any{"link-1", "t1"}}},
		{name: "get mirror with transition errors", method: "GET", path: "/links/link-1/mirrors/t1?include_state_transition_errors=true", status: 200,
			want: strings.TrimSuffix(mirrorT1JSON, "}") + `,"mirror_state_transition_errors":[{"error_code":"SOURCE_UNAVAILABLE","error_message":"gone for a while"}]}`},
		{name: "get unknown mirror", method: "GET", path: "/links/link-1/mirrors/zz", status: 404,
			want: `{"error_code":40403,"message":"Mirror topic 'zz' not found on cluster link 'link-1'."}`},
		{name: "create mirror", method: "POST", path: "/links/link-1/mirrors",
			body:   `{"source_topic_name":"s","mirror_topic_name":"p.s","replication_factor":3,"configs":[{"name":"unclean.leader.election.enable","value":"true"}]}`,
			status: 204,
			wantCall: &resttest.Call{Method: "CreateMirror", Args: []any{link.CreateMirrorRequest{Link: "link-1", SourceTopic: "s", MirrorTopic: "p.s",
				ReplicationFactor: 3, Configs: map[string]string{"unclean.leader.election.enable": "true"}}}}},
		{name: "create mirror minimal", method: "POST", path: "/links/link-1/mirrors?validate_only=true", body: `{"source_topic_name":"s"}`, status: 204,
			wantCall: &resttest.Call{Method: "CreateMirror", Args: []any{link.CreateMirrorRequest{Link: "link-1", SourceTopic: "s", Configs: map[string]string{}, ValidateOnly: true}}}},
		{name: "create mirror without source", method: "POST", path: "/links/link-1/mirrors", body: `{"mirror_topic_name":"x"}`, status: 400,
			want: `{"error_code":400,"message":"source_topic_name is required"}`, wantNoCalls: true},
		{name: "create mirror bad rf", method: "POST", path: "/links/link-1/mirrors", body: `{"source_topic_name":"s","replication_factor":0}`, status: 400,
			want: `{"error_code":400,"message":"replication_factor must be between 1 and 32767, not 0"}`, wantNoCalls: true},
		{name: "create mirror partitions", method: "POST", path: "/links/link-1/mirrors", body: `{"source_topic_name":"s","partitions_count":3}`, status: 400,
			want: `{"error_code":400,"message":"invalid JSON body: unknown field \"partitions_count\""}`, wantNoCalls: true},
		{name: "pause", method: "POST", path: "/links/link-1/mirrors:pause?validate_only=true", body: `{"mirror_topic_names":["t1","nope","t1"]}`, status: 200,
			want: `{"kind":"AlterMirrorsDataList","metadata":{"self":"` + host + base + `/links/link-1/mirrors","next":null},"data":[
				{"kind":"AlterMirrorsData","metadata":{"self":"` + host + base + `/links/link-1/mirrors/t1"},"mirror_topic_name":"t1",
				 "error_code":null,"error_message":null,
				 "mirror_lags":[{"partition":0,"lag":0,"last_source_fetch_offset":5,"source_high_watermark":5,"mirror_log_end_offset":5,"time_since_last_fetch_ms":-1},{"partition":1,"lag":10,"last_source_fetch_offset":1000,"source_high_watermark":1010,"mirror_log_end_offset":1000,"time_since_last_fetch_ms":-1}],
				 "messages_truncated":null,"partition_level_truncation_data":null},
				{"kind":"AlterMirrorsData","metadata":{"self":"` + host + base + `/links/link-1/mirrors/nope"},"mirror_topic_name":"nope",
				 "error_code":40403,"error_message":"Topic 'nope' is not a mirror topic of cluster link 'link-1'.",
				 "mirror_lags":[],"messages_truncated":null,"partition_level_truncation_data":null}]}`,
			wantCall: &resttest.Call{Method: "PauseMirrors", Args: []any{"link-1", []string{"t1", "nope"}, true}}},
		{name: "resume by pattern", method: "POST", path: "/links/link-1/mirrors:resume", body: `{"mirror_topic_name_pattern":"t.*"}`, status: 200,
			wantCall: &resttest.Call{Method: "ResumeMirrors", Args: []any{"link-1", []string{"t1", "t2"}, false}}},
		{name: "resume by pattern is anchored", method: "POST", path: "/links/link-1/mirrors:resume", body: `{"mirror_topic_name_pattern":"2"}`, status: 200,
			want: `{"kind":"AlterMirrorsDataList","metadata":{"self":"` + host + base + `/links/link-1/mirrors","next":null},"data":[]}`},
		{name: "pause both names and pattern", method: "POST", path: "/links/link-1/mirrors:pause", body: `{"mirror_topic_names":["a"],"mirror_topic_name_pattern":".*"}`,
			status: 400, want: `{"error_code":400,"message":"give either mirror_topic_names or mirror_topic_name_pattern, not both"}`, wantNoCalls: true},
		{name: "pause bad pattern", method: "POST", path: "/links/link-1/mirrors:pause", body: `{"mirror_topic_name_pattern":"("}`,
			status: 400, wantPrefix: "mirror_topic_name_pattern: ", wantNoCalls: true},
		{name: "pause no topics", method: "POST", path: "/links/link-1/mirrors:pause", body: `{"mirror_topic_names":[]}`,
			status: 400, want: `{"error_code":400,"message":"mirror_topic_names is required (or mirror_topic_name_pattern)"}`, wantNoCalls: true},
		{name: "pause bad validate_only", method: "POST", path: "/links/link-1/mirrors:pause?validate_only=sure", body: `{"mirror_topic_names":["t1"]}`,
			status: 400, want: `{"error_code":400,"message":"invalid value \"sure\" for query parameter validate_only"}`, wantNoCalls: true},
		{name: "pause unknown link", method: "POST", path: "/links/zz/mirrors:pause", body: `{"mirror_topic_names":["t1"]}`,
			status: 404, want: `{"error_code":404,"message":"Cluster link 'zz' does not exist."}`},
		{name: "unknown verb", method: "POST", path: "/links/link-1/mirrors:explode", body: `{"mirror_topic_names":["t1"]}`,
			status: 404, want: `{"error_code":404,"message":"HTTP 404 Not Found"}`, wantNoCalls: true},
		{name: "pause with GET", method: "GET", path: "/links/link-1/mirrors:pause", status: 405,
			want: `{"error_code":405,"message":"HTTP 405 Method Not Allowed"}`, wantNoCalls: true},

		// Bad input found in a pass as a new user.
		{name: "create link misspelt validate_only", method: "POST", path: "/links?link_name=a&validate_onyl=true",
			body: `{"configs":[{"name":"bootstrap.servers","value":"h:1"}]}`, status: 400,
			want:        `{"error_code":400,"message":"unknown query parameter \"validate_onyl\": this request takes link_name, validate_only, validate_link"}`,
			wantNoCalls: true},
		{name: "delete link unknown parameter", method: "DELETE", path: "/links/link-1?forced=true", status: 400,
			want:        `{"error_code":400,"message":"unknown query parameter \"forced\": this request takes force, validate_only"}`,
			wantNoCalls: true},
		{name: "reset config with a parameter", method: "DELETE", path: "/links/link-1/configs/acl.sync.ms?validate_only=true", status: 400,
			want:        `{"error_code":400,"message":"unknown query parameter \"validate_only\": this request takes none"}`,
			wantNoCalls: true},
		{name: "read with an unknown parameter", method: "GET", path: "/links?page_size=10", status: 200,
			wantCall: &resttest.Call{Method: "ListLinks"}},
		{name: "pause with Confluent's truncation parameter", method: "POST", path: "/links/link-1/mirrors:pause?include_partition_level_truncation_data=true",
			body: `{"mirror_topic_names":["t1"]}`, status: 200,
			wantCall: &resttest.Call{Method: "PauseMirrors", Args: []any{"link-1", []string{"t1"}, false}}},
		{name: "promote misspelt validate_only", method: "POST", path: "/links/link-1/mirrors:promote?validateonly=true",
			body: `{"mirror_topic_names":["t1"]}`, status: 400,
			want:        `{"error_code":400,"message":"unknown query parameter \"validateonly\": this request takes validate_only, include_partition_level_truncation_data"}`,
			wantNoCalls: true},
		{name: "pattern that does not compile", method: "POST", path: "/links/link-1/mirrors:pause", body: `{"mirror_topic_name_pattern":"("}`,
			status: 400, want: `{"error_code":400,"message":"mirror_topic_name_pattern: invalid regular expression \"(\": missing closing )"}`, wantNoCalls: true},
		{name: "pattern with a bad part", method: "POST", path: "/links/link-1/mirrors:pause", body: `{"mirror_topic_name_pattern":"t[1-"}`,
			status: 400, want: `{"error_code":400,"message":"mirror_topic_name_pattern: invalid regular expression \"t[1-\": missing closing ] in ` + "`[1-`" + `"}`, wantNoCalls: true},
		{name: "integer too large", method: "POST", path: "/links/link-1/mirrors", body: `{"source_topic_name":"s","replication_factor":99999999999}`,
			status: 400, want: `{"error_code":400,"message":"invalid JSON body: field replication_factor: 99999999999 is out of range (at most 2147483647)"}`, wantNoCalls: true},
		{name: "integer too small", method: "POST", path: "/links/link-1/mirrors", body: `{"source_topic_name":"s","replication_factor":-99999999999}`,
			status: 400, want: `{"error_code":400,"message":"invalid JSON body: field replication_factor: -99999999999 is out of range (at least -2147483648)"}`, wantNoCalls: true},
		{name: "fraction for an integer", method: "POST", path: "/links/link-1/mirrors", body: `{"source_topic_name":"s","replication_factor":1.5}`,
			status: 400, want: `{"error_code":400,"message":"invalid JSON body: field replication_factor: cannot use a JSON number 1.5 as an integer"}`, wantNoCalls: true},
		{name: "API root", method: "GET", path: "/kafka/v3", status: 404,
			want: `{"error_code":404,"message":"HTTP 404 Not Found"}`},
		{name: "outside the API", method: "GET", path: "/kafka", status: 404,
			want: `{"error_code":404,"message":"HTTP 404 Not Found"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, s := fixture(t)
			for m, err := range c.fail {
				f.Fail(m, err)
			}
			path := c.path
			if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "/links") {
				path = base + path
			}
			rec := serve(t, s, c.method, path, c.body)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, c.status, rec.Body)
			}
			switch {
			case c.want != "":
				jsonEqual(t, rec.Body.Bytes(), c.want)
			case c.wantPrefix != "":
				var e struct {
					ErrorCode int    `json:"error_code"`
					Message   string `json:"message"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.ErrorCode != c.status || !strings.HasPrefix(e.Message, c.wantPrefix) {
					t.Fatalf("error body %s (%v), want code %d and a message starting %q", rec.Body, err, c.status, c.wantPrefix)
				}
			case rec.Code == http.StatusNoContent:
				if rec.Body.Len() != 0 {
					t.Fatalf("204 with a body: %s", rec.Body)
				}
			}
			if rec.Code != http.StatusNoContent {
				if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
			}
			if rec.Code == http.StatusMethodNotAllowed && rec.Header().Get("Allow") == "" {
				t.Error("405 without Allow")
			}
			calls := f.Calls()
			if c.wantNoCalls && len(calls) != 0 {
				t.Fatalf("the service was called: %+v", calls)
			}
			if c.wantCall != nil {
				if len(calls) == 0 {
					t.Fatalf("no service call, want %+v", *c.wantCall)
				}
				last := calls[len(calls)-1]
				if c.wantCall.Args == nil {
					last.Args = nil
				}
				if !reflect.DeepEqual(last, *c.wantCall) {
					t.Fatalf("call %#v\nwant %#v", last, *c.wantCall)
				}
			}
		})
	}
}

func TestRESTMutationsApply(t *testing.T) {
	f, s := fixture(t)
	if rec := serve(t, s, "POST", base+"/links/link-1/mirrors:pause", `{"mirror_topic_names":["t1"]}`); rec.Code != 200 {
		t.Fatalf("pause: %d %s", rec.Code, rec.Body)
	}
	if m, _ := f.Mirror("link-1", "t1"); m.State != link.StatePaused {
		t.Fatalf("t1 is %s after pause", m.State)
	}
	if rec := serve(t, s, "POST", base+"/links/link-1/mirrors:pause?validate_only=true", `{"mirror_topic_names":["t2"]}`); rec.Code != 200 {
		t.Fatalf("pause: %d %s", rec.Code, rec.Body)
	}
	rec := serve(t, s, "GET", base+"/links/link-1/mirrors?mirror_status=PAUSED", "")
	var l struct {
		Data []struct {
			MirrorTopicName string `json:"mirror_topic_name"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &l); err != nil || len(l.Data) != 2 {
		t.Fatalf("paused mirrors: %s (%v)", rec.Body, err)
	}
	if rec := serve(t, s, "DELETE", base+"/links/link-0", ""); rec.Code != 204 {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(t, s, "GET", base+"/links/link-0", ""); rec.Code != 404 {
		t.Fatalf("get after delete: %d %s", rec.Code, rec.Body)
	}
}

func TestRESTWithoutLinks(t *testing.T) {
	s := rest.New(rest.Options{ClusterID: clusterID})
	defer s.Close()
	for _, p := range []string{"/links", "/links/a/mirrors", "/topics"} {
		rec := serve(t, s, "GET", base+p, "")
		if rec.Code != 503 {
			t.Fatalf("%s: %d %s", p, rec.Code, rec.Body)
		}
		var e map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e["error_code"] != float64(503) || e["message"] == "" {
			t.Fatalf("%s: body %s", p, rec.Body)
		}
	}
}

func TestRESTClusterIDFromService(t *testing.T) {
	f := resttest.New("from-links")
	s := rest.New(rest.Options{Links: f})
	defer s.Close()
	if rec := serve(t, s, "GET", "/kafka/v3/clusters/from-links/links", ""); rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestRESTHealthAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "strait_test_total", Help: "test"}))
	s := rest.New(rest.Options{Registry: reg, ClusterID: clusterID, NodeID: 7})
	defer s.Close()
	rec := serve(t, s, "GET", "/healthz", "")
	if rec.Code != 200 {
		t.Fatalf("healthz %d", rec.Code)
	}
	jsonEqual(t, rec.Body.Bytes(), `{"status":"ok","cluster_id":"cid-1","node_id":7}`)
	rec = serve(t, s, "GET", "/metrics", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "strait_test_total 0") {
		t.Fatalf("metrics %d:\n%s", rec.Code, rec.Body)
	}
}
