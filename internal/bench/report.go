package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Format selects how a report is written.
type Format string

// Report formats.
const (
	FormatText Format = "text" // a short table for people
	FormatJSON Format = "json" // one JSON object, fields as in ProduceReport and ConsumeReport
)

// ParseFormat accepts "text" and "json".
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatText, FormatJSON:
		return f, nil
	}
	return "", invalid("output", s, "want text or json")
}

// LatencyReport is a latency summary in milliseconds.
type LatencyReport struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

// NewLatencyReport summarises h.
func NewLatencyReport(h *Histogram) LatencyReport {
	if h == nil {
		return LatencyReport{}
	}
	return LatencyReport{
		Min:  ms(h.Min()),
		Mean: ms(h.Mean()),
		P50:  ms(h.Quantile(0.50)),
		P95:  ms(h.Quantile(0.95)),
		P99:  ms(h.Quantile(0.99)),
		P999: ms(h.Quantile(0.999)),
		Max:  ms(h.Max()),
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ProduceReport is the machine-readable form of a produce run: the
// settings that shape the numbers, then the numbers. MB is 10^6 bytes,
// MiB 2^20 bytes.
type ProduceReport struct {
	Kind          string        `json:"kind"` // "produce"
	Topic         string        `json:"topic"`
	Partitions    int           `json:"partitions"`
	Created       bool          `json:"created"`
	RecordSize    int           `json:"record_size"`
	KeySize       int           `json:"key_size"`
	Acks          string        `json:"acks"`
	Compression   string        `json:"compression"`
	Idempotent    bool          `json:"idempotent"`
	Linger        string        `json:"linger"` // "default" or a Go duration
	BatchMaxBytes int32         `json:"batch_max_bytes"`
	MaxInflight   int           `json:"max_inflight"`
	Rate          float64       `json:"rate"`
	Stopped       StopReason    `json:"stopped"`
	Sent          int64         `json:"records_sent"`
	Acked         int64         `json:"records_acked"`
	Errors        int64         `json:"errors"`
	Aborted       int64         `json:"aborted"`
	FirstError    string        `json:"first_error,omitempty"`
	Bytes         int64         `json:"bytes"`
	ElapsedSec    float64       `json:"elapsed_seconds"`
	RecordsPerSec float64       `json:"records_per_sec"`
	MBPerSec      float64       `json:"mb_per_sec"`
	MiBPerSec     float64       `json:"mib_per_sec"`
	LatencyMs     LatencyReport `json:"latency_ms"`
}

// NewProduceReport combines the options and the result of a run.
func NewProduceReport(o ProduceOptions, r ProduceResult) ProduceReport {
	linger := "default"
	if o.Linger >= 0 {
		linger = o.Linger.String()
	}
	return ProduceReport{
		Kind:          "produce",
		Topic:         r.Topic,
		Partitions:    r.Partitions,
		Created:       r.Created,
		RecordSize:    o.RecordSize,
		KeySize:       o.KeySize,
		Acks:          o.Acks,
		Compression:   o.Compression,
		Idempotent:    o.Idempotent,
		Linger:        linger,
		BatchMaxBytes: o.BatchMaxBytes,
		MaxInflight:   o.MaxInflight,
		Rate:          o.Rate,
		Stopped:       r.Stopped,
		Sent:          r.Sent,
		Acked:         r.Acked,
		Errors:        r.Errors,
		Aborted:       r.Aborted,
		FirstError:    errString(r.FirstError),
		Bytes:         r.Bytes,
		ElapsedSec:    r.Elapsed.Seconds(),
		RecordsPerSec: r.RecordsPerSec(),
		MBPerSec:      r.MBPerSec(),
		MiBPerSec:     r.MiBPerSec(),
		LatencyMs:     NewLatencyReport(r.Latency),
	}
}

// ConsumeReport is the machine-readable form of a consume run.
type ConsumeReport struct {
	Kind              string     `json:"kind"` // "consume"
	Topic             string     `json:"topic"`
	Partitions        int        `json:"partitions"`
	FetchMaxBytes     int32      `json:"fetch_max_bytes"`
	PartitionMaxBytes int32      `json:"partition_max_bytes"`
	Stopped           StopReason `json:"stopped"`
	Records           int64      `json:"records"`
	Errors            int64      `json:"errors"`
	FirstError        string     `json:"first_error,omitempty"`
	Bytes             int64      `json:"bytes"`
	ElapsedSec        float64    `json:"elapsed_seconds"`
	FirstRecordMs     float64    `json:"first_record_ms"`
	RecordsPerSec     float64    `json:"records_per_sec"`
	MBPerSec          float64    `json:"mb_per_sec"`
	MiBPerSec         float64    `json:"mib_per_sec"`
}

// NewConsumeReport combines the options and the result of a run.
func NewConsumeReport(o ConsumeOptions, r ConsumeResult) ConsumeReport {
	return ConsumeReport{
		Kind:              "consume",
		Topic:             r.Topic,
		Partitions:        r.Partitions,
		FetchMaxBytes:     o.FetchMaxBytes,
		PartitionMaxBytes: o.PartitionMaxBytes,
		Stopped:           r.Stopped,
		Records:           r.Records,
		Errors:            r.Errors,
		FirstError:        errString(r.FirstError),
		Bytes:             r.Bytes,
		ElapsedSec:        r.Elapsed.Seconds(),
		FirstRecordMs:     ms(r.FirstRecord),
		RecordsPerSec:     r.RecordsPerSec(),
		MBPerSec:          r.MBPerSec(),
		MiBPerSec:         r.MiBPerSec(),
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// WriteProduceReport writes the report of a produce run in format f.
func WriteProduceReport(w io.Writer, f Format, o ProduceOptions, r ProduceResult) error {
	rep := NewProduceReport(o, r)
	if f == FormatJSON {
		return writeJSON(w, rep)
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	created := ""
	if rep.Created {
		created = ", created"
	}
	keys := "no keys"
	if rep.KeySize > 0 {
		keys = fmt.Sprintf("%d B keys", rep.KeySize)
	}
	fmt.Fprintf(tw, "topic\t%s (%d partitions%s)\n", rep.Topic, rep.Partitions, created)
	fmt.Fprintf(tw, "settings\tacks=%s compression=%s idempotent=%t linger=%s, %d B values, %s\n",
		rep.Acks, rep.Compression, rep.Idempotent, rep.Linger, rep.RecordSize, keys)
	fmt.Fprintf(tw, "stopped by\t%s\n", rep.Stopped)
	fmt.Fprintf(tw, "records\t%d sent, %d acked, %d failed, %d aborted\n", rep.Sent, rep.Acked, rep.Errors, rep.Aborted)
	if rep.FirstError != "" {
		fmt.Fprintf(tw, "first error\t%s\n", rep.FirstError)
	}
	fmt.Fprintf(tw, "data\t%.2f MB in %s\n", float64(rep.Bytes)/1e6, roundDur(r.Elapsed))
	fmt.Fprintf(tw, "throughput\t%.0f records/s, %.2f MB/s (%.2f MiB/s)\n", rep.RecordsPerSec, rep.MBPerSec, rep.MiBPerSec)
	if h := r.Latency; h != nil && h.Count() > 0 {
		fmt.Fprintf(tw, "latency\tp50 %s  p95 %s  p99 %s  p99.9 %s  max %s  (mean %s)\n",
			roundDur(h.Quantile(0.50)), roundDur(h.Quantile(0.95)), roundDur(h.Quantile(0.99)),
			roundDur(h.Quantile(0.999)), roundDur(h.Max()), roundDur(h.Mean()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteConsumeReport writes the report of a consume run in format f.
func WriteConsumeReport(w io.Writer, f Format, o ConsumeOptions, r ConsumeResult) error {
	rep := NewConsumeReport(o, r)
	if f == FormatJSON {
		return writeJSON(w, rep)
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "topic\t%s (%d partitions)\n", rep.Topic, rep.Partitions)
	fmt.Fprintf(tw, "stopped by\t%s\n", rep.Stopped)
	fmt.Fprintf(tw, "records\t%d read, %d fetch errors\n", rep.Records, rep.Errors)
	if rep.FirstError != "" {
		fmt.Fprintf(tw, "first error\t%s\n", rep.FirstError)
	}
	fmt.Fprintf(tw, "data\t%.2f MB in %s\n", float64(rep.Bytes)/1e6, roundDur(r.Elapsed))
	fmt.Fprintf(tw, "throughput\t%.0f records/s, %.2f MB/s (%.2f MiB/s)\n", rep.RecordsPerSec, rep.MBPerSec, rep.MiBPerSec)
	if r.Records > 0 {
		fmt.Fprintf(tw, "first record\tafter %s\n", roundDur(r.FirstRecord))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// roundDur keeps about four significant digits.
func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Microsecond)
	}
	return d
}
