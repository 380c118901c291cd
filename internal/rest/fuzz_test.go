package rest_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// FuzzRESTRequestBodies sends arbitrary bodies to every route that decodes
// one: the answer is a success or a JSON error below 500, never a crash or
// a server error.
func FuzzRESTRequestBodies(f *testing.F) {
	seeds := []string{
		`{}`, `{"configs":[{"name":"a","value":"b"}]}`, `{"source_cluster_id":1}`, `{"data":[{"name":"a","operation":"DELETE"}]}`,
		`{"mirror_topic_names":["t1"]}`, `{"mirror_topic_name_pattern":"(["}`, `{"source_topic_name":"s","replication_factor":70000}`,
		`{"value":null}`, `[`, `null`, `{"a":1}{}`, "\xff",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	routes := []struct{ method, path string }{
		{"POST", base + "/links?link_name=n"},
		{"PUT", base + "/links/link-1/configs/x"},
		{"PUT", base + "/links/link-1/configs:alter"},
		{"POST", base + "/links/link-1/mirrors"},
		{"POST", base + "/links/link-1/mirrors:pause"},
		{"POST", base + "/links/link-1/mirrors:resume"},
	}
	f.Fuzz(func(t *testing.T, body string) {
		_, s := fixture(t)
		for _, r := range routes {
			rec := serve(t, s, r.method, r.path, body)
			if rec.Code >= 500 {
				t.Fatalf("%s %s %q: %d %s", r.method, r.path, body, rec.Code, rec.Body)
			}
			if rec.Code >= 400 {
				var e struct {
					ErrorCode int    `json:"error_code"`
					Message   string `json:"message"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.ErrorCode == 0 || e.Message == "" {
					t.Fatalf("%s %s %q: error body %s", r.method, r.path, body, rec.Body)
				}
			} else if rec.Code != http.StatusOK && rec.Code != http.StatusNoContent {
				t.Fatalf("%s %s %q: status %d", r.method, r.path, body, rec.Code)
			}
		}
	})
}
