package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Metrics are the connection and request metrics of all listeners.
type Metrics struct {
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	bytesIn     prometheus.Counter
	bytesOut    prometheus.Counter
	connections *prometheus.GaugeVec
}

// NewMetrics registers the server metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strait_kafka_requests_total", Help: "Kafka requests handled, by API.",
		}, []string{"api"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "strait_kafka_request_duration_seconds", Help: "Time from a request's arrival to its response being written, by API.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"api"}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strait_kafka_request_bytes_total", Help: "Bytes of Kafka requests received.",
		}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strait_kafka_response_bytes_total", Help: "Bytes of Kafka responses sent.",
		}),
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "strait_kafka_connections", Help: "Open Kafka connections, by listener.",
		}, []string{"listener"}),
	}
	reg.MustRegister(m.requests, m.latency, m.bytesIn, m.bytesOut, m.connections)
	return m
}

func apiName(key int16) string {
	if n := kmsg.NameForKey(key); n != "" {
		return n
	}
	return "Unknown"
}
