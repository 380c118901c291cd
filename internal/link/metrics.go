package link

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the link metrics: counters and a histogram updated on the
// data path, and gauges computed at scrape time from the live state.
type metrics struct {
	m       *Manager
	bytes   *prometheus.CounterVec
	records *prometheus.CounterVec
	latency *prometheus.HistogramVec
	// offsetSyncRounds counts consumer offset sync rounds (all links).
	offsetSyncRounds prometheus.Counter
	// refreshFailures counts failed source metadata refreshes, by link.
	refreshFailures *prometheus.CounterVec
	// connectAttempts and connectFailures count the runners' connection
	// attempts to the source and those that failed, by link.
	connectAttempts *prometheus.CounterVec
	connectFailures *prometheus.CounterVec
	lagDesc         *prometheus.Desc
	linkDesc        *prometheus.Desc
	topDesc         *prometheus.Desc
}

func newMetrics(m *Manager, reg prometheus.Registerer) *metrics {
	mt := &metrics{
		m: m,
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strait_link_mirrored_bytes_total", Help: "Record batch bytes appended to mirror topics, by link and topic.",
		}, []string{"link", "topic"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strait_link_mirrored_records_total", Help: "Records appended to mirror topics, by link and topic.",
		}, []string{"link", "topic"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "strait_link_source_fetch_latency_seconds", Help: "Time a Fetch to the source cluster took (including its long-poll wait), by link.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"link"}),
		offsetSyncRounds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strait_link_consumer_offset_sync_rounds_total", Help: "Consumer offset sync rounds run by cluster links.",
		}),
		refreshFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strait_link_source_metadata_refresh_failures_total", Help: "Source metadata refreshes that failed, by link (each is retried after replica.fetch.backoff.ms).",
		}, []string{"link"}),
		connectAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strait_link_source_connection_attempts_total",
			Help: "Connections the link opened (or tried to open) to source brokers, by link.",
		}, []string{"link"}),
		connectFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strait_link_source_connection_failures_total",
			Help: "Connection attempts to source brokers that failed (refused, timed out, or closed before answering a request), by link; " +
				"each is followed by a pause of reconnect.backoff.ms, doubling up to reconnect.backoff.max.ms.",
		}, []string{"link"}),
		lagDesc: prometheus.NewDesc("strait_link_mirror_partition_lag",
			"Source high watermark last seen minus the mirror's log end offset, in records.", []string{"link", "topic", "partition"}, nil),
		linkDesc: prometheus.NewDesc("strait_link_state",
			"1 for the link's current state (ACTIVE, PAUSED, UNAVAILABLE).", []string{"link", "state"}, nil),
		topDesc: prometheus.NewDesc("strait_link_mirror_topics",
			"Mirror topics by link and state.", []string{"link", "state"}, nil),
	}
	if reg != nil {
		reg.MustRegister(mt.bytes, mt.records, mt.latency, mt.offsetSyncRounds, mt.refreshFailures, mt.connectAttempts, mt.connectFailures, mt)
	}
	return mt
}

func (mt *metrics) mirrored(link, topic string, bytes, records int) {
	mt.bytes.WithLabelValues(link, topic).Add(float64(bytes))
	mt.records.WithLabelValues(link, topic).Add(float64(records))
}

func (mt *metrics) fetchLatency(link string, d time.Duration) {
	mt.latency.WithLabelValues(link).Observe(d.Seconds())
}

func (mt *metrics) forgetLink(link string) {
	mt.bytes.DeletePartialMatch(prometheus.Labels{"link": link})
	mt.records.DeletePartialMatch(prometheus.Labels{"link": link})
	mt.latency.DeletePartialMatch(prometheus.Labels{"link": link})
	mt.refreshFailures.DeletePartialMatch(prometheus.Labels{"link": link})
	mt.connectAttempts.DeletePartialMatch(prometheus.Labels{"link": link})
	mt.connectFailures.DeletePartialMatch(prometheus.Labels{"link": link})
}

// dialHooks count a runner's connection attempts and failures.
func (mt *metrics) dialHooks(link string) dialHooks {
	// Looked up at each use: forgetLink may drop the series while a
	// restarted runner already counts.
	return dialHooks{
		attempt: func() { mt.connectAttempts.WithLabelValues(link).Inc() },
		failure: func() { mt.connectFailures.WithLabelValues(link).Inc() },
	}
}

func (mt *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- mt.lagDesc
	ch <- mt.linkDesc
	ch <- mt.topDesc
}

func (mt *metrics) Collect(ch chan<- prometheus.Metric) {
	for _, l := range mt.m.meta.Links() {
		info := mt.m.linkInfo(l, false)
		ch <- prometheus.MustNewConstMetric(mt.linkDesc, prometheus.GaugeValue, 1, l.Name, info.State)
		counts := map[string]int{}
		for _, mi := range mt.m.mirrors(l.Name, "") {
			counts[mi.State]++
			for _, pl := range mi.Lags {
				if pl.SourceHighWatermark >= 0 {
					ch <- prometheus.MustNewConstMetric(mt.lagDesc, prometheus.GaugeValue, float64(pl.Lag),
						l.Name, mi.MirrorTopic, strconv.Itoa(int(pl.Partition)))
				}
			}
		}
		for state, n := range counts {
			ch <- prometheus.MustNewConstMetric(mt.topDesc, prometheus.GaugeValue, float64(n), l.Name, state)
		}
	}
}
