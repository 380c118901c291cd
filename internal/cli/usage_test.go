package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/link"
	"github.com/strait-kafka/strait/internal/rest/resttest"
)

// closedPort is a local address nothing listens on: connecting to it is
// refused at once.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// hangupServer accepts connections and closes them without a word, as a
// Kafka listener does with an HTTP request.
func hangupServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// TestCLIBadInput runs commands with bad input that fails before any
// cluster is asked, or against a cluster that is not there, and checks the
// exact one-line error of each.
func TestCLIBadInput(t *testing.T) {
	refused := closedPort(t)
	hangup := hangupServer(t)
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(silent.Close)
	// slowChanges names its cluster but answers nothing else.
	slowChanges := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/kafka/v3/clusters" {
			fmt.Fprint(w, `{"data":[{"cluster_id":"c1"}]}`)
			return
		}
		<-r.Context().Done()
	}))
	t.Cleanup(slowChanges.Close)
	plain404 := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain404.Close)
	fakeREST := newRESTServer(t, linkFixture())

	cases := []struct {
		name string
		args []string
		want string // the whole message
	}{
		// Arguments.
		{"missing argument", []string{"topic", "create"},
			"topic create: missing TOPIC (usage: strait topic create TOPIC [flags])"},
		{"extra argument", []string{"topic", "create", "a", "b"},
			`topic create: unexpected argument "b" (usage: strait topic create TOPIC [flags])`},
		{"argument to a command without any", []string{"topic", "list", "orders"},
			`topic list: unexpected argument "orders" (usage: strait topic list [flags])`},
		{"missing one-or-more arguments", []string{"mirror", "pause", "--link", "l"},
			"mirror pause: missing TOPIC (give one or more) (usage: strait mirror pause TOPIC... --link NAME [flags])"},
		{"missing group", []string{"group", "describe"},
			"group describe: missing GROUP (usage: strait group describe GROUP [flags])"},
		{"missing link name", []string{"link", "configuration", "update"},
			"link configuration update: missing NAME (usage: strait link configuration update NAME --config k=v[,k=v...] [flags])"},

		// Commands that only group others.
		{"no subcommand", []string{"topic"},
			"topic: missing command: use one of consume, create, delete, describe, list, produce (see strait topic --help)"},
		{"nested group without subcommand", []string{"link", "configuration"},
			"link configuration: missing command: use one of list, update (see strait link configuration --help)"},
		{"misspelt subcommand", []string{"topic", "craete", "orders"},
			`topic: unknown command "craete": did you mean create?`},
		{"unknown subcommand", []string{"group", "frobnicate"},
			`group: unknown command "frobnicate": use one of delete, describe, list, reset-offsets`},

		// Flags.
		{"integer flag", []string{"topic", "create", "t", "--partitions", "x"},
			`topic create: invalid value "x" for --partitions: not an integer`},
		{"integer flag out of range", []string{"topic", "create", "t", "--replication-factor", "70000"},
			`topic create: invalid value "70000" for --replication-factor: out of range for int16`},
		{"duration flag", []string{"topic", "list", "--timeout", "abc"},
			`topic list: invalid value "abc" for --timeout: not a duration (use a number with a unit: 500ms, 30s, 2m)`},
		{"offset flag", []string{"group", "reset-offsets", "g", "--topic", "t", "--to-offset", "soon"},
			`group reset-offsets: invalid value "soon" for --to-offset: not an integer`},
		{"unknown flag", []string{"topic", "create", "t", "--partition", "3"},
			"topic create: unknown flag: --partition (see strait topic create --help)"},
		{"zero timeout", []string{"topic", "list", "--timeout", "0s"},
			"invalid --timeout 0s: give a positive duration such as 30s"},

		// Configs.
		{"config neither pairs nor file", []string{"topic", "create", "t", "--config", "/no/such/file.properties"},
			`invalid --config "/no/such/file.properties": give key=value pairs or the path of a file of key=value lines (no such file)`},
		{"config file missing", []string{"link", "create", "l", "--source-bootstrap-server", "a:1", "--config-file", "/no/such/link.properties"},
			"reading config file /no/such/link.properties: no such file or directory"},

		// Kafka address.
		{"unreachable cluster", []string{"topic", "list", "--bootstrap-server", refused},
			fmt.Sprintf("cannot reach the Kafka cluster at %s (--bootstrap-server): connection refused", refused)},
		{"empty bootstrap server", []string{"topic", "list", "--bootstrap-server", " , "},
			"--bootstrap-server is empty: give the HOST:PORT of the Kafka cluster"},
		{"unreachable cluster for groups", []string{"group", "list", "--bootstrap-server", refused},
			fmt.Sprintf("cannot reach the Kafka cluster at %s (--bootstrap-server): connection refused", refused)},
		{"unreachable source", []string{"mirror", "wait", "t", "--link", "l", "--caught-up", "--source-bootstrap-server", refused, "--url", fakeREST.url},
			fmt.Sprintf("cannot reach the source cluster at %s (--source-bootstrap-server): connection refused", refused)},

		// REST address.
		{"url with another scheme", []string{"link", "list", "--url", "ftp://h:1"},
			`invalid --url "ftp://h:1": the scheme must be http or https, not ftp`},
		{"url without host", []string{"link", "list", "--url", "http://"},
			`invalid --url "http://": give the cluster's HTTP address, such as http://127.0.0.1:8090`},
		{"empty url", []string{"link", "list", "--url", ""},
			"--url is empty: give the cluster's HTTP address, such as http://127.0.0.1:8090"},
		{"unreachable REST API", []string{"link", "list", "--url", "http://" + refused},
			fmt.Sprintf("cannot reach the REST API at http://%s/kafka/v3 (--url): connection refused", refused)},
		{"url of a Kafka listener", []string{"link", "list", "--url", "http://" + hangup},
			fmt.Sprintf("the server at http://%s/kafka/v3 closed the connection without an HTTP answer (is --url the HTTP address of a Strait broker, not its Kafka address?)", hangup)},
		{"REST API that does not answer", []string{"link", "list", "--url", silent.URL, "--timeout", "300ms"},
			fmt.Sprintf("no answer from the REST API at %s/kafka/v3 within --timeout 300ms", silent.URL)},
		{"REST API that does not answer a change", []string{"link", "delete", "l", "--url", slowChanges.URL, "--timeout", "300ms"},
			fmt.Sprintf(`deleting cluster link "l": no answer from the REST API at %s/kafka/v3 within --timeout 300ms; the change may still be applied, so check before retrying`, slowChanges.URL)},
		{"url of another HTTP server", []string{"link", "list", "--url", plain404.URL},
			fmt.Sprintf("the server at %s/kafka/v3 answered 404 Not Found to GET /clusters, not a REST API error (is --url the HTTP address of a Strait broker?): 404 page not found", plain404.URL)},

		// Values checked by the commands.
		{"unknown group state", []string{"group", "list", "--state", "Sleeping"},
			`invalid --state "Sleeping": use Empty, Stable, PreparingRebalance, CompletingRebalance, Dead, Assigning, Reconciling`},
		{"both topic and all topics", []string{"group", "reset-offsets", "g", "--topic", "t", "--all-topics", "--to-earliest"},
			"give either --topic or --all-topics, not both"},
		{"unknown mirror state to wait for", []string{"mirror", "wait", "t", "--link", "l", "--state", "asleep"},
			`invalid --state "asleep": use one of PENDING_MIRROR, ACTIVE, PAUSED, LINK_PAUSED, SOURCE_UNAVAILABLE, FAILED, LINK_FAILED, PENDING_STOPPED, STOPPED`},
		{"zero wait interval", []string{"mirror", "wait", "t", "--link", "l", "--state", "ACTIVE", "--interval", "0s"},
			"invalid --interval 0s: give a positive duration such as 200ms"},
		{"source without caught-up", []string{"mirror", "wait", "t", "--link", "l", "--state", "STOPPED", "--source-bootstrap-server", "a:1"},
			"--source-bootstrap-server is only used with --caught-up"},
		{"unknown mirror status filter", []string{"mirror", "list", "--mirror-status", "sleepy", "--url", fakeREST.url},
			`invalid --mirror-status "sleepy" (use one of ACTIVE, FAILED, LINK_FAILED, LINK_PAUSED, PAUSED, PENDING_STOPPED, SOURCE_UNAVAILABLE, STOPPED, PENDING_MIRROR, PENDING_SYNCHRONIZE, PENDING_SETUP_FOR_RESTORE, PENDING_RESTORE, UNKNOWN)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, stderr, err := runCLI(t, nil, "", c.args...)
			if err == nil {
				t.Fatalf("strait %s succeeded: %q", strings.Join(c.args, " "), out)
			}
			if err.Error() != c.want {
				t.Fatalf("strait %s:\n got %q\nwant %q", strings.Join(c.args, " "), err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			if out != "" || stderr != "" {
				t.Fatalf("printed stdout %q, stderr %q besides the error", out, stderr)
			}
		})
	}
}

// A REST --url without a scheme, as `strait serve` prints its HTTP
// address, means http.
func TestCLIURLWithoutScheme(t *testing.T) {
	srv := newRESTServer(t, linkFixture())
	hostPort := strings.TrimPrefix(srv.url, "http://")
	out, _, err := runCLI(t, nil, "", "link", "list", "--url", hostPort)
	if err != nil || !strings.Contains(out, "link-1") {
		t.Fatalf("link list --url %s: %v\n%s", hostPort, err, out)
	}
}

// present keeps the error chain and rewords kadm's shard errors, context
// deadlines and multi-line messages.
func TestCLIPresentErrors(t *testing.T) {
	g := &Globals{Timeout: 3 * time.Second}
	shard := &kadm.ShardErrors{Name: "ListGroups", Errs: []kadm.ShardError{{Err: kerr.CoordinatorNotAvailable}}}
	cases := []struct {
		name string
		err  error
		want string
		is   error
	}{
		{"one shard", fmt.Errorf("listing groups: %w", shard),
			"listing groups: COORDINATOR_NOT_AVAILABLE: The coordinator is not available.", kerr.CoordinatorNotAvailable},
		{"deadline", fmt.Errorf("listing end offsets: %w", context.DeadlineExceeded),
			"listing end offsets: no answer within --timeout 3s", context.DeadlineExceeded},
		{"lines", errors.Join(errors.New("first"), errors.New("second")), "first; second", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := g.present(c.err)
			if got.Error() != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
			if c.is != nil && !errors.Is(got, c.is) {
				t.Fatalf("%v does not wrap %v", got, c.is)
			}
		})
	}
	plain := errors.New("nothing to change")
	if g.present(plain) != plain {
		t.Fatal("an unchanged error was wrapped")
	}
}

// The CLI's copy of the mirror states matches the link package's.
func TestCLIMirrorStatesMatchLink(t *testing.T) {
	want := []string{link.StatePendingMirror, link.StateActive, link.StatePaused, link.StateLinkPaused, link.StateSourceUnavailable,
		link.StateFailed, link.StateLinkFailed, link.StatePendingStopped, link.StateStopped}
	if !slices.Equal(mirrorStates, want) {
		t.Fatalf("mirrorStates %v, link's %v", mirrorStates, want)
	}
}

// refuseProduce makes the fake cluster answer every produce with
// INVALID_REQUEST, as Strait answers a produce into a read-only mirror
// topic (whose message franz-go drops).
func refuseProduce(c *kfake.Cluster) {
	c.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kreq.(*kmsg.ProduceRequest)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition, sp.ErrorCode, sp.BaseOffset = rp.Partition, kerr.InvalidRequest.Code, -1
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
}

// TestCLIProduceIntoMirror: a produce refused with INVALID_REQUEST into a
// topic the REST API lists as a mirror that is not stopped is one clear
// error; otherwise each record keeps franz-go's message.
func TestCLIProduceIntoMirror(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	refuseProduce(cluster)
	addr := cluster.ListenAddrs()[0]

	withMirror := func(state string) string {
		f := resttest.New("cid-1")
		f.AddLink(link.LinkInfo{Name: "east", State: link.LinkStateActive})
		f.AddMirror(link.MirrorInfo{Link: "east", MirrorTopic: "orders", SourceTopic: "orders", Partitions: 1, State: state})
		return newRESTServer(t, f).url
	}
	invalid := kerr.InvalidRequest.Error()
	cases := []struct {
		name, url, wantErr, wantStderr string
	}{
		{"active mirror", withMirror(link.StateActive), "INVALID_REQUEST: Cannot append records to read-only mirror topic 'orders'", ""},
		{"paused mirror", withMirror(link.StatePaused), "INVALID_REQUEST: Cannot append records to read-only mirror topic 'orders'", ""},
		{"stopped mirror", withMirror(link.StateStopped), "2 of 2 records failed", lines("line 1: "+invalid, "line 2: "+invalid)},
		{"no REST API", "http://" + closedPort(t), "2 of 2 records failed", lines("line 1: "+invalid, "line 2: "+invalid)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, stderr, err := runCLI(t, nil, "a\nb\n", "topic", "produce", "orders", "--bootstrap-server", addr, "--url", c.url)
			if err == nil || err.Error() != c.wantErr {
				t.Fatalf("error %v, want %q", err, c.wantErr)
			}
			if c.wantStderr != "" {
				// The two records fail in either order.
				got := strings.Split(strings.TrimSpace(stderr), "\n")
				slices.Sort(got)
				stderr = lines(got...)
			}
			if out != "" || stderr != c.wantStderr {
				t.Fatalf("stdout %q, stderr %q; want stderr %q", out, stderr, c.wantStderr)
			}
			if c.wantStderr == "" && !errors.Is(err, kerr.InvalidRequest) {
				t.Fatalf("%v does not wrap INVALID_REQUEST", err)
			}
		})
	}
}

// TestCLIKafkaRefusals: what the broker refuses prints the error code with
// the broker's own message, prints nothing else, and changes nothing stored.
func TestCLIKafkaRefusals(t *testing.T) {
	addr := startStrait(t)
	run := func(stdin string, args ...string) (string, string, error) {
		t.Helper()
		return runCLI(t, nil, stdin, append(args, "--bootstrap-server", addr)...)
	}
	if _, _, err := run("", "topic", "create", "orders", "--partitions", "2"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run("a\nb\n", "topic", "produce", "orders"); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name       string
		args       []string
		wantPrefix string
		notWant    string // the code's generic description, replaced by the broker's message
	}{
		{"zero partitions", []string{"topic", "create", "bad", "--partitions", "0"},
			`creating topic "bad": INVALID_PARTITIONS: `, kerr.InvalidPartitions.Description},
		{"existing topic", []string{"topic", "create", "orders", "--partitions", "5"},
			`creating topic "orders": TOPIC_ALREADY_EXISTS: `, kerr.TopicAlreadyExists.Description},
		{"bad config value", []string{"topic", "create", "bad", "--config", "retention.ms=soon"},
			`creating topic "bad": INVALID_CONFIG: `, kerr.InvalidConfig.Description},
		{"bad topic name", []string{"topic", "create", "bad name"},
			`creating topic "bad name": INVALID_TOPIC_EXCEPTION: `, kerr.InvalidTopicException.Description},
		{"unknown group", []string{"group", "delete", "nope"},
			"deleting group nope: GROUP_ID_NOT_FOUND", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, stderr, err := run("", c.args...)
			if err == nil || !strings.HasPrefix(err.Error(), c.wantPrefix) || (c.notWant != "" && strings.Contains(err.Error(), c.notWant)) {
				t.Fatalf("error %v, want one starting %q with the broker's message", err, c.wantPrefix)
			}
			if strings.Contains(err.Error(), "\n") || out != "" || stderr != "" {
				t.Fatalf("error %q, stdout %q, stderr %q", err, out, stderr)
			}
		})
	}

	// Nothing stored changed: orders keeps two partitions and its records,
	// and no refused topic exists.
	out, _, err := run("", "topic", "list")
	if err != nil || out != lines("Name    Internal  Replication Factor  Partition Count", "orders  false     1                   2") {
		t.Fatalf("topic list after refusals: %v\n%s", err, out)
	}
	out, _, err = run("", "topic", "consume", "orders", "--from-beginning", "--max-messages", "2")
	if got := strings.Fields(out); err != nil || !slices.Equal(sortedCopy(got), []string{"a", "b"}) {
		t.Fatalf("records after refusals: %v %q", err, out)
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
