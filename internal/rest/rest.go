// Package rest serves Strait's HTTP surface: /healthz, /metrics (Prometheus)
// and, as they arrive, the Confluent-compatible /kafka/v3 API.
package rest

import (
	"encoding/json"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configure the handler.
type Options struct {
	Registry  *prometheus.Registry
	ClusterID string
	NodeID    int32
}

// Handler returns the HTTP handler.
func Handler(o Options) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "ok", "cluster_id": o.ClusterID, "node_id": o.NodeID})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{Registry: o.Registry}))
	return mux
}
