package rest

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/strait-kafka/strait/internal/link"
	"github.com/strait-kafka/strait/internal/rest/resttest"
)

// Every entry of mirrorVerbs gets a route that reaches its Service method.
func TestRESTMirrorVerbsRouted(t *testing.T) {
	f := resttest.New("c")
	f.AddLink(link.LinkInfo{Name: "l"})
	f.AddMirror(link.MirrorInfo{Link: "l", MirrorTopic: "t", State: link.StateActive})
	s := New(Options{Links: f})
	defer s.Close()
	if len(mirrorVerbs) == 0 {
		t.Fatal("no mirror verbs")
	}
	for _, verb := range sortedVerbs() {
		before := len(f.Calls())
		req := httptest.NewRequest("POST", "/kafka/v3/clusters/c/links/l/mirrors:"+verb, strings.NewReader(`{"mirror_topic_names":["t"]}`))
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", verb, rec.Code, rec.Body)
		}
		calls := f.Calls()
		if len(calls) != before+1 || !strings.HasSuffix(calls[len(calls)-1].Method, "Mirrors") {
			t.Fatalf("%s reached %+v", verb, calls[before:])
		}
	}
}

// Every request that changes something has its query parameters listed
// (so that a new one is not refused by accident), and every listed request
// exists.
func TestRESTMutationQueryListed(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	seen := map[string]bool{}
	for _, rt := range s.routeTable() {
		if rt.method == http.MethodGet {
			continue
		}
		key := rt.method + " " + rt.path
		seen[key] = true
		if _, listed := mutationQuery[key]; !listed && !strings.Contains(rt.path, "/mirrors:") {
			t.Errorf("%s changes something but mutationQuery does not list its query parameters", key)
		}
	}
	for key := range mutationQuery {
		if !seen[key] {
			t.Errorf("mutationQuery lists %s, which is not a route that changes something", key)
		}
	}
	for _, verb := range sortedVerbs() {
		rt := route{method: "POST", path: "/clusters/{cluster_id}/links/{link_name}/mirrors:" + verb}
		if !slices.Equal(queryOf(rt), mirrorVerbQuery) {
			t.Errorf("mirrors:%s takes %v", verb, queryOf(rt))
		}
	}
}
