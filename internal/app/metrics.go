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
	offline, offlineCount      *prometheus.Desc
	openFiles, mapped, pending *prometheus.Desc
	strays                     *prometheus.Desc
}

func newPartitionCollector(mgr *partition.Manager) *partitionCollector {
	labels := []string{"topic", "partition"}
	return &partitionCollector{
		mgr:      mgr,
		start:    prometheus.NewDesc("strait_log_start_offset", "Log start offset of a partition.", labels, nil),
		end:      prometheus.NewDesc("strait_log_end_offset", "Log end offset of a partition.", labels, nil),
		size:     prometheus.NewDesc("strait_log_size_bytes", "Bytes on disk of a partition's log.", labels, nil),
		segments: prometheus.NewDesc("strait_log_segments", "Segments of a partition's log.", labels, nil),
		offline: prometheus.NewDesc("strait_partition_offline",
			"1 for a partition assigned to this broker whose files cannot be served (see the log for why).", labels, nil),
		offlineCount: prometheus.NewDesc("strait_partitions_offline", "Partitions assigned to this broker that are offline.", nil, nil),
		openFiles:    prometheus.NewDesc("strait_log_open_files", "Segment files held open by the logs.", nil, nil),
		mapped:       prometheus.NewDesc("strait_log_mapped_indexes", "Index files of sealed segments held in memory.", nil, nil),
		pending:      prometheus.NewDesc("strait_log_pending_deletes", "Deleted segments and partition directories waiting for file.delete.delay.ms.", nil, nil),
		strays: prometheus.NewDesc("strait_log_stray_directories",
			"Partition directories of topic incarnations the metadata did not know at start, kept aside (*-stray).", nil, nil),
	}
}

func (c *partitionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.start
	ch <- c.end
	ch <- c.size
	ch <- c.segments
	ch <- c.offline
	ch <- c.offlineCount
	ch <- c.openFiles
	ch <- c.mapped
	ch <- c.pending
	ch <- c.strays
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
	off := c.mgr.OfflinePartitions()
	for _, o := range off {
		ch <- prometheus.MustNewConstMetric(c.offline, prometheus.GaugeValue, 1, o.Topic, itoa(o.Index))
	}
	ch <- prometheus.MustNewConstMetric(c.offlineCount, prometheus.GaugeValue, float64(len(off)))
	st := c.mgr.Files().Stats()
	ch <- prometheus.MustNewConstMetric(c.openFiles, prometheus.GaugeValue, float64(st.OpenFiles))
	ch <- prometheus.MustNewConstMetric(c.mapped, prometheus.GaugeValue, float64(st.MappedIndexes))
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(st.PendingDeletes+c.mgr.PendingDirDeletes()))
	ch <- prometheus.MustNewConstMetric(c.strays, prometheus.GaugeValue, float64(len(c.mgr.Strays())))
}
