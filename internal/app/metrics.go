package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/strait-kafka/strait/internal/partition"
)

// partitionCollector reports each stored partition's offsets and size at
// scrape time, so nothing is updated on the produce path.
type partitionCollector struct {
	mgr *partition.Manager

	start, end, size, segments *prometheus.Desc
}

func newPartitionCollector(mgr *partition.Manager) *partitionCollector {
	labels := []string{"topic", "partition"}
	return &partitionCollector{
		mgr:      mgr,
		start:    prometheus.NewDesc("strait_log_start_offset", "Log start offset of a partition.", labels, nil),
		end:      prometheus.NewDesc("strait_log_end_offset", "Log end offset of a partition.", labels, nil),
		size:     prometheus.NewDesc("strait_log_size_bytes", "Bytes on disk of a partition's log.", labels, nil),
		segments: prometheus.NewDesc("strait_log_segments", "Segments of a partition's log.", labels, nil),
	}
}

func (c *partitionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.start
	ch <- c.end
	ch <- c.size
	ch <- c.segments
}

func (c *partitionCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.mgr.All() {
		l := p.Log()
		lv := []string{p.Topic, itoa(p.Index)}
		ch <- prometheus.MustNewConstMetric(c.start, prometheus.GaugeValue, float64(l.StartOffset()), lv...)
		ch <- prometheus.MustNewConstMetric(c.end, prometheus.GaugeValue, float64(l.NextOffset()), lv...)
		ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(l.Size()), lv...)
		ch <- prometheus.MustNewConstMetric(c.segments, prometheus.GaugeValue, float64(len(l.Segments())), lv...)
	}
}
