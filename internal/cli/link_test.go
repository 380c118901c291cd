package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/strait-kafka/strait/internal/link"
	"github.com/strait-kafka/strait/internal/rest/resttest"
)

func strp(s string) *string { return &s }

// linkFixture is a fake with one healthy link with two mirrors and one
// link in error.
func linkFixture() *resttest.Fake {
	f := resttest.New("cid-1")
	f.AddLink(link.LinkInfo{
		Name: "link-1", ID: "qz0HDEV-Qz2B5aPFpcWQJQ", SourceClusterID: "src-1", DestinationClusterID: "cid-1",
		State: link.LinkStateActive, Topics: []string{"t1", "t2"},
		MirrorStateCounts: map[string]int{"ACTIVE": 10, "IN_ERROR": 2},
		Tasks: []link.TaskStatus{
			{Name: link.TaskAclSync, State: link.TaskStateInError, Errors: []link.TaskError{
				{Code: "AUTHENTICATION_ERROR", Message: "Auth issue."}, {Code: "MISCONFIGURATION_ERROR", Message: "Wrong config."}}},
			{Name: link.TaskAutoCreateMirror, State: link.TaskStateNotConfigured},
		},
	},
		link.ConfigEntry{Name: "bootstrap.servers", Value: strp("src:9092"), Source: "DYNAMIC_CLUSTER_LINK_CONFIG"},
		link.ConfigEntry{Name: "consumer.offset.sync.ms", Value: strp("30000"), IsDefault: true, Source: "DEFAULT_CONFIG", Synonyms: []string{"cosm", "x"}},
		link.ConfigEntry{Name: "replica.fetch.max.bytes", Value: strp("5242880"), ReadOnly: true, Source: "DEFAULT_CONFIG"},
		link.ConfigEntry{Name: "sasl.jaas.config", Value: strp("secret!"), Sensitive: true, Source: "DYNAMIC_CLUSTER_LINK_CONFIG"},
	)
	f.AddLink(link.LinkInfo{Name: "link-3", ID: "LINKID3", SourceClusterID: "cluster-1", DestinationClusterID: "cid-1",
		State: link.LinkStateUnavailable, Error: "AUTHENTICATION_ERROR", ErrorMessage: "Please check your API key and secret."})
	f.AddMirror(link.MirrorInfo{
		Link: "link-1", MirrorTopic: "t1", SourceTopic: "t1", SourceTopicID: uuid.New(), Partitions: 2,
		State: link.StateActive, StateTime: time.UnixMilli(111111111),
		Lags: []link.PartitionLag{{Partition: 0, Lag: 142857, LastSourceFetchOffset: 1293009}, {Partition: 1, Lag: 571428, LastSourceFetchOffset: 7}},
	})
	f.AddMirror(link.MirrorInfo{Link: "link-3", MirrorTopic: "p.t3", SourceTopic: "t3", Partitions: 1,
		State: link.StateSourceUnavailable, Error: "SOURCE_TOPIC_MAY_BE_DELETED", StateTime: time.UnixMilli(222222222),
		Lags: []link.PartitionLag{{Partition: 0, Lag: 0, LastSourceFetchOffset: -1}}})
	return f
}

func TestCLILinkAndMirrorCommands(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "link.properties")
	if err := os.WriteFile(cfgFile, []byte("# sync settings\n\nacl.sync.ms = 1000\nsasl.jaas.config=secret required;\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const (
		clusters = "/kafka/v3/clusters"
		links    = "/kafka/v3/clusters/cid-1/links"
	)
	discover := request{"GET", clusters, "", ""}

	cases := []struct {
		name    string
		args    []string
		stdout  string
		errText string    // the error's text contains this; "" = success
		reqs    []request // exactly these requests, in order
	}{
		{
			name: "link create",
			args: []string{"link", "create", "east", "--source-bootstrap-server", "src:9092,src2:9092", "--source-cluster", "src-1",
				"--config", "consumer.offset.sync.enable=true,consumer.offset.group.filters={\"groupFilters\":[{\"name\":\"*\",\"patternType\":\"LITERAL\"}]}",
				"--config-file", cfgFile},
			stdout: lines(`Created cluster link "east" with configs:`,
				`"acl.sync.ms"="1000"`,
				`"bootstrap.servers"="src:9092,src2:9092"`,
				`"consumer.offset.group.filters"="{\"groupFilters\":[{\"name\":\"*\",\"patternType\":\"LITERAL\"}]}"`,
				`"consumer.offset.sync.enable"="true"`),
			reqs: []request{discover, {"POST", links, "link_name=east",
				`{"source_cluster_id":"src-1","configs":[{"name":"acl.sync.ms","value":"1000"},{"name":"bootstrap.servers","value":"src:9092,src2:9092"},` +
					`{"name":"consumer.offset.group.filters","value":"{\"groupFilters\":[{\"name\":\"*\",\"patternType\":\"LITERAL\"}]}"},` +
					`{"name":"consumer.offset.sync.enable","value":"true"},{"name":"sasl.jaas.config","value":"secret required;"}]}`}},
		},
		{
			name:   "link create dry run",
			args:   []string{"link", "create", "east", "--source-bootstrap-server", "src:9092", "--dry-run", "--no-validate"},
			stdout: lines(`[DRY RUN] Created cluster link "east" with configs:`, `"bootstrap.servers"="src:9092"`),
			reqs: []request{discover, {"POST", links, "link_name=east&validate_link=false&validate_only=true",
				`{"configs":[{"name":"bootstrap.servers","value":"src:9092"}]}`}},
		},
		{
			name:    "link create without source",
			args:    []string{"link", "create", "east"},
			errText: "--source-bootstrap-server is required",
		},
		{
			name:    "link create with two sources",
			args:    []string{"link", "create", "east", "--source-bootstrap-server", "a:1", "--config", "bootstrap.servers=b:1"},
			errText: `bootstrap.servers is "b:1" in --config but --source-bootstrap-server is "a:1"`,
		},
		{
			name:    "link create twice",
			args:    []string{"link", "create", "link-1", "--source-bootstrap-server", "a:1"},
			errText: "Cluster link 'link-1' already exists.",
			reqs:    []request{discover, {"POST", links, "link_name=link-1", `{"configs":[{"name":"bootstrap.servers","value":"a:1"}]}`}},
		},
		{
			name: "link list",
			args: []string{"link", "list"},
			stdout: lines(
				"Name    ID                      Source Cluster  Destination Cluster  State        Error                 Error Message",
				"link-1  qz0HDEV-Qz2B5aPFpcWQJQ  src-1           cid-1                ACTIVE                             ",
				"link-3  LINKID3                 cluster-1       cid-1                UNAVAILABLE  AUTHENTICATION_ERROR  Please check your API key and secret."),
			reqs: []request{discover, {"GET", links, "", ""}},
		},
		{
			name: "link describe",
			args: []string{"link", "describe", "link-1"},
			stdout: lines(
				"Name                           link-1",
				"ID                             qz0HDEV-Qz2B5aPFpcWQJQ",
				"Source Cluster                 src-1",
				"Destination Cluster            cid-1",
				"State                          ACTIVE",
				"Error                          ",
				"Error Message                  ",
				"Mirror Partition States Count  ACTIVE: 10, IN_ERROR: 2",
				`Tasks                          AclSync: IN_ERROR (AUTHENTICATION_ERROR: Auth issue.; MISCONFIGURATION_ERROR: Wrong config.), AutoCreateMirror: NOT_CONFIGURED`),
			reqs: []request{discover, {"GET", links + "/link-1", "include_tasks=true", ""}},
		},
		{
			name:    "link describe unknown",
			args:    []string{"link", "describe", "nope"},
			errText: "Cluster link 'nope' does not exist.",
		},
		{
			name:   "link delete",
			args:   []string{"link", "delete", "link-3", "--force"},
			stdout: lines(`Deleted cluster link "link-3".`),
			reqs:   []request{discover, {"DELETE", links + "/link-3", "force=true", ""}},
		},
		{
			name:    "link delete unknown",
			args:    []string{"link", "delete", "nope"},
			errText: `deleting cluster link "nope": Cluster link 'nope' does not exist.`,
		},
		{
			name: "link configuration list",
			args: []string{"link", "configuration", "list", "link-1"},
			stdout: lines(
				"Config Name              Config Value  Read-Only  Sensitive  Source                       Synonyms",
				"bootstrap.servers        src:9092      false      false      DYNAMIC_CLUSTER_LINK_CONFIG  ",
				"consumer.offset.sync.ms  30000         false      false      DEFAULT_CONFIG               cosm, x",
				"replica.fetch.max.bytes  5242880       true       false      DEFAULT_CONFIG               ",
				"sasl.jaas.config                       false      true       DYNAMIC_CLUSTER_LINK_CONFIG  "),
			reqs: []request{discover, {"GET", links + "/link-1/configs", "", ""}},
		},
		{
			name:   "link configuration update",
			args:   []string{"link", "configuration", "update", "link-1", "--config", "consumer.offset.sync.ms=1000,acl.sync.enable=false"},
			stdout: lines(`Updated cluster link "link-1".`),
			reqs: []request{discover, {"PUT", links + "/link-1/configs:alter", "",
				`{"data":[{"name":"acl.sync.enable","value":"false","operation":"SET"},{"name":"consumer.offset.sync.ms","value":"1000","operation":"SET"}]}`}},
		},
		{
			name:    "link configuration update without config",
			args:    []string{"link", "configuration", "update", "link-1"},
			errText: "--config is required",
		},
		{
			name: "link task list",
			args: []string{"link", "task", "list", "link-1"},
			stdout: lines(
				`Task Name         State           Errors`,
				`AclSync           IN_ERROR        AUTHENTICATION_ERROR: "Auth issue.", MISCONFIGURATION_ERROR: "Wrong config."`,
				`AutoCreateMirror  NOT_CONFIGURED  `),
			reqs: []request{discover, {"GET", links + "/link-1", "include_tasks=true", ""}},
		},
		{
			name:   "mirror create",
			args:   []string{"mirror", "create", "orders", "--link", "link-1"},
			stdout: lines(`Created mirror topic "orders".`),
			reqs:   []request{discover, {"POST", links + "/link-1/mirrors", "", `{"source_topic_name":"orders"}`}},
		},
		{
			name:   "mirror create with prefix",
			args:   []string{"mirror", "create", "p.orders", "--source-topic", "orders", "--link", "link-1", "--replication-factor", "1", "--config", "unclean.leader.election.enable=true"},
			stdout: lines(`Created mirror topic "p.orders".`),
			reqs: []request{discover, {"POST", links + "/link-1/mirrors", "",
				`{"source_topic_name":"orders","mirror_topic_name":"p.orders","replication_factor":1,"configs":[{"name":"unclean.leader.election.enable","value":"true"}]}`}},
		},
		{
			name:    "mirror create without link",
			args:    []string{"mirror", "create", "orders"},
			errText: `required flag(s) "link" not set`,
		},
		{
			name: "mirror list",
			args: []string{"mirror", "list"},
			stdout: lines(
				"Link Name  Mirror Topic Name  Num Partition  Max Per Partition Mirror Lag  Source Topic Name  Mirror Status       Status Time (ms)",
				"link-1     t1                 2              571428                        t1                 ACTIVE              111111111",
				"link-3     p.t3               1              0                             t3                 SOURCE_UNAVAILABLE  222222222"),
			reqs: []request{discover, {"GET", links + "/-/mirrors", "", ""}},
		},
		{
			name: "mirror list of a link by state",
			args: []string{"mirror", "list", "--link", "link-1", "--mirror-status", "active"},
			stdout: lines(
				"Link Name  Mirror Topic Name  Num Partition  Max Per Partition Mirror Lag  Source Topic Name  Mirror Status  Status Time (ms)",
				"link-1     t1                 2              571428                        t1                 ACTIVE         111111111"),
			reqs: []request{discover, {"GET", links + "/link-1/mirrors", "mirror_status=ACTIVE", ""}},
		},
		{
			name: "mirror describe",
			args: []string{"mirror", "describe", "t1", "--link", "link-1"},
			stdout: lines(
				"Link Name  Mirror Topic Name  Partition  Partition Mirror Lag  Source Topic Name  Mirror Status  Mirror Topic Error  Status Time (ms)  Last Source Fetch Offset  Time Since Last Fetch (ms)",
				"link-1     t1                 0          142857                t1                 ACTIVE                             111111111         1293009                   -",
				"link-1     t1                 1          571428                t1                 ACTIVE                             111111111         7                         -"),
			reqs: []request{discover, {"GET", links + "/link-1/mirrors/t1", "", ""}},
		},
		{
			name: "mirror describe with error",
			args: []string{"mirror", "describe", "p.t3", "--link", "link-3"},
			stdout: lines(
				"Link Name  Mirror Topic Name  Partition  Partition Mirror Lag  Source Topic Name  Mirror Status       Mirror Topic Error           Status Time (ms)  Last Source Fetch Offset  Time Since Last Fetch (ms)",
				"link-3     p.t3               0          0                     t3                 SOURCE_UNAVAILABLE  SOURCE_TOPIC_MAY_BE_DELETED  222222222         -1                        -"),
			reqs: []request{discover, {"GET", links + "/link-3/mirrors/p.t3", "", ""}},
		},
		{
			name: "mirror pause",
			args: []string{"mirror", "pause", "t1", "nope", "--link", "link-1", "--dry-run"},
			stdout: lines(
				"Mirror Topic Name  Partition  Partition Mirror Lag  Error Message                                                 Error Code  Last Source Fetch Offset",
				"t1                 0          142857                                                                                          1293009",
				"t1                 1          571428                                                                                          7",
				"nope               -1         -1                    Topic 'nope' is not a mirror topic of cluster link 'link-1'.  40403       -1"),
			errText: "pause failed for 1 of 2 mirror topics",
			reqs:    []request{discover, {"POST", links + "/link-1/mirrors:pause", "validate_only=true", `{"mirror_topic_names":["t1","nope"]}`}},
		},
		{
			name: "mirror resume",
			args: []string{"mirror", "resume", "p.t3", "--link", "link-3"},
			stdout: lines(
				"Mirror Topic Name  Partition  Partition Mirror Lag  Error Message  Error Code  Last Source Fetch Offset",
				"p.t3               0          0                                                -1"),
			reqs: []request{discover, {"POST", links + "/link-3/mirrors:resume", "", `{"mirror_topic_names":["p.t3"]}`}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newRESTServer(t, linkFixture())
			out, _, err := runCLI(t, nil, "", append(c.args, "--url", srv.url)...)
			switch {
			case c.errText == "" && err != nil:
				t.Fatalf("error: %v", err)
			case c.errText != "" && (err == nil || !strings.Contains(err.Error(), c.errText)):
				t.Fatalf("error %v, want one containing %q", err, c.errText)
			case c.errText != "" && strings.Contains(err.Error(), "\n"):
				t.Fatalf("error spans lines: %q", err)
			}
			if out != c.stdout {
				t.Fatalf("stdout:\n%s\nwant:\n%s", out, c.stdout)
			}
			if c.reqs != nil || c.errText == "" {
				if got := srv.requests(); !reflect.DeepEqual(got, c.reqs) {
					t.Fatalf("requests:\n%#v\nwant:\n%#v", got, c.reqs)
				}
			}
		})
	}
}

func TestCLILinkOutputFormats(t *testing.T) {
	srv := newRESTServer(t, linkFixture())
	out, _, err := runCLI(t, nil, "", "link", "list", "-o", "json", "--url", srv.url)
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	want := map[string]string{"name": "link-3", "id": "LINKID3", "source_cluster": "cluster-1", "destination_cluster": "cid-1",
		"state": "UNAVAILABLE", "error": "AUTHENTICATION_ERROR", "error_message": "Please check your API key and secret."}
	if len(rows) != 2 || !reflect.DeepEqual(rows[1], want) {
		t.Fatalf("rows %v", rows)
	}

	out, _, err = runCLI(t, nil, "", "link", "describe", "link-1", "-o", "yaml", "--url", srv.url+"/kafka/v3/")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"name: link-1\n", "mirror_partition_states_count: 'ACTIVE: 10, IN_ERROR: 2'\n", "state: ACTIVE\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("yaml lacks %q:\n%s", w, out)
		}
	}

	if _, _, err := runCLI(t, nil, "", "link", "list", "-o", "xml", "--url", srv.url); err == nil || !strings.Contains(err.Error(), "invalid output format") {
		t.Fatalf("-o xml: %v", err)
	}
}

func TestCLIRESTErrors(t *testing.T) {
	// A server that is not there.
	srv := newRESTServer(t, linkFixture())
	url := srv.url
	_, _, err := runCLI(t, nil, "", "link", "list", "--url", "http://127.0.0.1:1")
	if err == nil || !strings.Contains(err.Error(), "REST API at http://127.0.0.1:1/kafka/v3") {
		t.Fatalf("unreachable: %v", err)
	}
	// A server that answers without the JSON error body.
	_, _, err = runCLI(t, nil, "", "link", "list", "--url", url+"/elsewhere")
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("wrong path: %v", err)
	}
	// A server-side failure keeps the server's message.
	srv.fake.Fail("ListLinks", link.Errorf(503, 50301, "metadata store unavailable"))
	_, _, err = runCLI(t, nil, "", "link", "list", "--url", url)
	var ae *APIError
	if err == nil || err.Error() != "metadata store unavailable" {
		t.Fatalf("service error: %v", err)
	}
	if !errors.As(err, &ae) || ae.Status != 503 || ae.Code != 50301 {
		t.Fatalf("error %#v", err)
	}
}
