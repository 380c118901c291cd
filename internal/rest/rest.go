package rest

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-kafka/strait/internal/link"
)

// BasePath is the prefix of the REST API v3.
const BasePath = "/kafka/v3"

// Options configure the handler.
type Options struct {
	// Registry is served at /metrics; nil serves no /metrics.
	Registry *prometheus.Registry
	// ClusterID is this cluster's ID; when empty, Links.ClusterID() is used.
	ClusterID string
	NodeID    int32
	// Links serves the /links endpoints; nil answers them with 503.
	Links link.Service
	// KafkaAddr is the broker's own Kafka address (HOST:PORT), used by the
	// topics endpoints; empty answers them with 503.
	KafkaAddr string
	// Logger receives one line per request that fails with a 5xx status;
	// nil discards.
	Logger *slog.Logger
	// Limits bound requests; zero fields take the Default constants.
	Limits Limits
}

// Server is the HTTP handler. Close it to release its Kafka client.
type Server struct {
	o   Options
	lg  *slog.Logger
	lim Limits // o.Limits with defaults
	mux *http.ServeMux

	mu     sync.Mutex
	kcl    *kgo.Client // nil until the first topics request
	closed bool
}

// New builds the handler. It does not connect anywhere until a topics
// request arrives.
func New(o Options) *Server {
	s := &Server{o: o, lg: o.Logger, lim: o.Limits.withDefaults(), mux: http.NewServeMux()}
	if s.lg == nil {
		s.lg = slog.New(slog.DiscardHandler)
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "ok", "cluster_id": s.clusterID(), "node_id": o.NodeID})
	})
	if o.Registry != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{Registry: o.Registry}))
	}
	s.routes()
	return s
}

// Handler returns New(o) as a plain http.Handler, for callers that never set
// KafkaAddr (with KafkaAddr set, use New and Close).
func Handler(o Options) http.Handler { return New(o) }

// ServeHTTP implements http.Handler. Before routing it reads any request
// body whole (readBody) and refuses one that is too large or too slow
// (refuseBody), whatever the route; it arms the write deadline when the
// response starts (deadlineWriter).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	w = &deadlineWriter{ResponseWriter: w, rc: rc, d: s.lim.WriteTimeout}
	if r.ContentLength != 0 { // a declared length, or -1 for chunked
		r2, err := s.readBody(rc, r)
		if err != nil {
			s.refuseBody(w, rc, r, err)
			return
		}
		r = r2
	}
	s.mux.ServeHTTP(w, r)
}

// Close closes the Kafka client, if one was made; later topics requests
// fail with 503. It is safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.kcl != nil {
		s.kcl.Close()
		s.kcl = nil
	}
}

// admin returns the Kafka admin client, creating it on first use.
func (s *Server) admin() (*kadm.Client, *kgo.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, link.Errorf(http.StatusServiceUnavailable, http.StatusServiceUnavailable, "the REST server is shutting down")
	}
	if s.o.KafkaAddr == "" {
		return nil, nil, link.Errorf(http.StatusServiceUnavailable, http.StatusServiceUnavailable, "topics are not served: no Kafka address configured")
	}
	if s.kcl == nil {
		cl, err := kgo.NewClient(kgo.SeedBrokers(s.o.KafkaAddr), kgo.ClientID("strait-rest"))
		if err != nil {
			return nil, nil, err
		}
		s.kcl = cl
	}
	return kadm.NewClient(s.kcl), s.kcl, nil
}

func (s *Server) clusterID() string {
	if s.o.ClusterID != "" || s.o.Links == nil {
		return s.o.ClusterID
	}
	return s.o.Links.ClusterID()
}

// links returns the link service or a 503 when cluster linking is off.
func (s *Server) links() (link.Service, error) {
	if s.o.Links == nil {
		return nil, link.Errorf(http.StatusServiceUnavailable, http.StatusServiceUnavailable, "cluster linking is not enabled on this broker")
	}
	return s.o.Links, nil
}

// apiHandler serves one route; a returned error becomes the error body.
type apiHandler func(w http.ResponseWriter, r *http.Request) error

// route is one endpoint: method and path below BasePath.
type route struct {
	method, path string
	h            apiHandler
}

// routes registers the v3 API. Every path also gets a method-less pattern
// answering 405 in JSON (a pattern with a method is more specific, so it
// wins for its own method), and everything else under BasePath is a JSON 404.
func (s *Server) routes() {
	rs := s.routeTable()
	allowed := map[string][]string{}
	var paths []string
	for _, rt := range rs {
		h := rt.h
		if rt.method != http.MethodGet {
			h = checkQuery(queryOf(rt), h)
		}
		s.mux.Handle(rt.method+" "+BasePath+rt.path, s.wrap(h))
		if _, ok := allowed[rt.path]; !ok {
			paths = append(paths, rt.path)
		}
		allowed[rt.path] = append(allowed[rt.path], rt.method)
	}
	for _, p := range paths {
		methods := allowed[p]
		slices.Sort(methods)
		allow := strings.Join(methods, ", ")
		s.mux.Handle(BasePath+p, s.wrap(func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Allow", allow)
			return link.Errorf(http.StatusMethodNotAllowed, http.StatusMethodNotAllowed, "HTTP 405 Method Not Allowed")
		}))
	}
	// Every other path is a JSON 404 too: below BasePath, BasePath itself
	// (which ServeMux would otherwise redirect to BasePath/) and the rest.
	notFound := s.wrap(func(w http.ResponseWriter, r *http.Request) error {
		return link.Errorf(http.StatusNotFound, http.StatusNotFound, "HTTP 404 Not Found")
	})
	s.mux.Handle(BasePath+"/", notFound)
	s.mux.Handle(BasePath, notFound)
	s.mux.Handle("/", notFound)
}

// mutationQuery lists the query parameters of each request that changes
// something (by "METHOD path"); a request that changes something and has
// any other parameter is refused, so that a misspelt validate_only never
// turns a dry run into a real change. GET requests ignore parameters they
// do not know, as Confluent's REST API does.
var mutationQuery = map[string][]string{
	"POST /clusters/{cluster_id}/links":                                     {"link_name", "validate_only", "validate_link"},
	"DELETE /clusters/{cluster_id}/links/{link_name}":                       {"force", "validate_only"},
	"PUT /clusters/{cluster_id}/links/{link_name}/configs:alter":            {"validate_only"},
	"POST /clusters/{cluster_id}/links/{link_name}/mirrors":                 {"validate_only"},
	"POST /clusters/{cluster_id}/topics":                                    nil, // validate_only is a body field
	"DELETE /clusters/{cluster_id}/topics/{topic_name}":                     nil,
	"PUT /clusters/{cluster_id}/links/{link_name}/configs/{config_name}":    nil,
	"DELETE /clusters/{cluster_id}/links/{link_name}/configs/{config_name}": nil,
}

// mirrorVerbQuery are the mirror verbs' parameters. Strait never
// truncates, so include_partition_level_truncation_data (Confluent's) is
// accepted and changes nothing.
var mirrorVerbQuery = []string{"validate_only", "include_partition_level_truncation_data"}

// queryOf is the query parameters route rt, which changes something,
// takes.
func queryOf(rt route) []string {
	if strings.Contains(rt.path, "/mirrors:") {
		return mirrorVerbQuery
	}
	return mutationQuery[rt.method+" "+rt.path]
}

// checkQuery refuses a request with a query parameter not in known.
func checkQuery(known []string, h apiHandler) apiHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		names := make([]string, 0, len(q))
		for name := range q {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			if slices.Contains(known, name) {
				continue
			}
			if len(known) == 0 {
				return badRequest("unknown query parameter %q: this request takes none", name)
			}
			return badRequest("unknown query parameter %q: this request takes %s", name, strings.Join(known, ", "))
		}
		return h(w, r)
	}
}

// routeTable is every endpoint of the v3 API.
func (s *Server) routeTable() []route {
	const c = "/clusters/{cluster_id}"
	const l = c + "/links/{link_name}"
	rs := []route{
		{"GET", "/clusters", s.listClusters},
		{"GET", c, s.getCluster},

		{"GET", c + "/topics", s.listTopics},
		{"POST", c + "/topics", s.createTopic},
		{"GET", c + "/topics/{topic_name}", s.getTopic},
		{"DELETE", c + "/topics/{topic_name}", s.deleteTopic},
		{"GET", c + "/topics/{topic_name}/partitions", s.listPartitions},
		{"GET", c + "/topics/{topic_name}/configs", s.listTopicConfigs},

		{"GET", c + "/links", s.listLinks},
		{"POST", c + "/links", s.createLink},
		{"GET", l, s.getLink},
		{"DELETE", l, s.deleteLink},
		{"GET", l + "/configs", s.listLinkConfigs},
		{"GET", l + "/configs/{config_name}", s.getLinkConfig},
		{"PUT", l + "/configs/{config_name}", s.updateLinkConfig},
		{"DELETE", l + "/configs/{config_name}", s.resetLinkConfig},
		{"PUT", l + "/configs:alter", s.alterLinkConfigs},
		{"GET", l + "/mirrors", s.listMirrors},
		{"POST", l + "/mirrors", s.createMirror},
		{"GET", l + "/mirrors/{mirror_topic_name}", s.getMirror},
	}
	for _, verb := range sortedVerbs() {
		rs = append(rs, route{"POST", l + "/mirrors:" + verb, s.alterMirrors(verb)})
	}
	return rs
}

// wrap checks the cluster ID of routes below /clusters/{cluster_id} and
// turns a handler's error into the error body.
func (s *Server) wrap(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := s.checkCluster(r)
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) checkCluster(r *http.Request) error {
	id := r.PathValue("cluster_id")
	if id == "" && !strings.Contains(r.Pattern, "{cluster_id}") {
		return nil
	}
	if id != s.clusterID() {
		return link.Errorf(http.StatusNotFound, http.StatusNotFound, "Cluster %s not found.", id)
	}
	return nil
}
