package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Metrics are the connection and request metrics of all listeners.
type Metrics struct {
	reg         prometheus.Registerer
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	bytesIn     prometheus.Counter
	bytesOut    prometheus.Counter
	connections *prometheus.GaugeVec
	// Resource limits.
	acceptErrors   *prometheus.CounterVec // by listener
	acceptBlocked  *prometheus.GaugeVec   // 1 while a listener waits for a slot under max.connections
	refused        *prometheus.CounterVec // by listener and limit
	budgetWaits    prometheus.Counter
	budgetRefused  prometheus.Counter
	stringsCut     prometheus.Counter
	responseFailed prometheus.Counter
}

// NewMetrics registers the server metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		reg: reg,
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
		acceptErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strait_kafka_accept_errors_total",
			Help: "Failed accepts (out of descriptors, memory or buffers, or an aborted handshake), each followed by a backoff, by listener.",
		}, []string{"listener"}),
		acceptBlocked: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "strait_kafka_accept_blocked",
			Help: "1 while a listener does not accept because max.connections is reached, by listener.",
		}, []string{"listener"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strait_kafka_connections_refused_total",
			Help: "Connections closed as soon as accepted because a limit was reached, by listener and limit.",
		}, []string{"listener", "limit"}),
		budgetWaits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strait_kafka_request_budget_waits_total",
			Help: "Requests that waited for queued.max.request.bytes to have room before being read.",
		}),
		budgetRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strait_kafka_request_budget_refused_total",
			Help: "Requests larger than the whole of queued.max.request.bytes; their connections were closed.",
		}),
		stringsCut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strait_kafka_response_strings_truncated_total",
			Help: "Response strings cut to the 32767 bytes a Kafka string can carry.",
		}),
		responseFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strait_kafka_responses_unsendable_total",
			Help: "Responses whose arrays or size exceed what their length fields can express; their connections were closed.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.bytesIn, m.bytesOut, m.connections,
		m.acceptErrors, m.acceptBlocked, m.refused, m.budgetWaits, m.budgetRefused, m.stringsCut, m.responseFailed)
	return m
}

// TrackBudget exports the bytes b holds as strait_kafka_request_budget_bytes
// and its size as strait_kafka_request_budget_capacity_bytes.
func (m *Metrics) TrackBudget(b *Budget) {
	if b == nil {
		return
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "strait_kafka_request_budget_bytes",
			Help: "Request bytes held now, across connections, against queued.max.request.bytes.",
		}, func() float64 { return float64(b.InUse()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "strait_kafka_request_budget_capacity_bytes",
			Help: "queued.max.request.bytes.",
		}, func() float64 { return float64(b.Capacity()) }),
	)
}

func apiName(key int16) string {
	if n := kmsg.NameForKey(key); n != "" {
		return n
	}
	return "Unknown"
}
