package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// MirrorReport is the machine-readable form of a Mirror run. Times are in
// seconds or milliseconds as their names say; MB is 10^6 bytes.
type MirrorReport struct {
	Kind        string            `json:"kind"` // "mirror"
	Link        string            `json:"link"`
	LinkCreated bool              `json:"link_created"`
	LinkConfigs map[string]string `json:"link_configs"`
	SourceTopic string            `json:"source_topic"`
	MirrorTopic string            `json:"mirror_topic"`
	Partitions  int               `json:"partitions"`
	RecordSize  int               `json:"record_size"`
	Records     int64             `json:"records"`
	Bytes       int64             `json:"bytes"`
	SourceEnds  []int64           `json:"source_end_offsets"`

	LoadSec       float64 `json:"load_seconds"`
	LoadMBPerSec  float64 `json:"load_mb_per_sec"`
	LoadRate      float64 `json:"load_rate"`
	CreateCallMs  float64 `json:"mirror_create_call_ms"`
	FirstDataMs   float64 `json:"mirror_first_data_ms"`
	PollMs        float64 `json:"poll_interval_ms"`
	Polls         int     `json:"polls"`
	MirrorSec     float64 `json:"mirror_seconds"`
	MirrorLower   float64 `json:"mirror_seconds_lower_bound"`
	MirrorRecsSec float64 `json:"mirror_records_per_sec"`
	MirrorMBSec   float64 `json:"mirror_mb_per_sec"`
	MirrorMBUpper float64 `json:"mirror_mb_per_sec_upper_bound"`
	RawSec        float64 `json:"raw_seconds"`
	RawRecords    int64   `json:"raw_records"`
	RawFirstMs    float64 `json:"raw_first_record_ms"`
	RawRecsSec    float64 `json:"raw_records_per_sec"`
	RawMBSec      float64 `json:"raw_mb_per_sec"`
	RawErrors     int64   `json:"raw_fetch_errors"`
	Ratio         float64 `json:"mirror_raw_ratio"`

	Lag *LagReport `json:"lag,omitempty"`

	CleanedUp    bool   `json:"cleaned_up"`
	CleanupError string `json:"cleanup_error,omitempty"`
}

// LagReport is the latency phase of a MirrorReport.
type LagReport struct {
	Rate            float64       `json:"rate"`
	RecordSize      int           `json:"record_size"`
	FetchMaxWaitMs  float64       `json:"fetch_max_wait_ms"`
	Sent            int64         `json:"sent"`
	Acked           int64         `json:"acked"`
	Errors          int64         `json:"errors"`
	Measured        int64         `json:"measured"`
	Missing         int64         `json:"missing"`
	Duplicates      int64         `json:"duplicates"`
	Unexpected      int64         `json:"unexpected"`
	Mismatched      int64         `json:"mismatched"`
	Early           int64         `json:"early"`
	ElapsedSec      float64       `json:"elapsed_seconds"`
	AckToMirror     LatencyReport `json:"ack_to_mirror_ms"`
	ProduceToMirror LatencyReport `json:"produce_to_mirror_ms"`
	ProduceToAck    LatencyReport `json:"produce_to_ack_ms"`
}

// NewMirrorReport combines the options and the result of a run.
func NewMirrorReport(o MirrorOptions, r MirrorResult) MirrorReport {
	rep := MirrorReport{
		Kind: "mirror", Link: r.Link, LinkCreated: r.LinkCreated, LinkConfigs: r.LinkConfigs,
		SourceTopic: r.SourceTopic, MirrorTopic: r.MirrorTopic, Partitions: r.Partitions,
		RecordSize: o.RecordSize, Records: r.Records, Bytes: r.Bytes, SourceEnds: r.SourceEnds,
		LoadSec: r.Load.Elapsed.Seconds(), LoadMBPerSec: r.Load.MBPerSec(), LoadRate: o.Rate,
		CreateCallMs: ms(r.CreateCall), FirstDataMs: ms(r.MirrorFirstData),
		PollMs: ms(r.PollInterval), Polls: r.Polls,
		MirrorSec: r.MirrorElapsed.Seconds(), MirrorLower: r.MirrorLower.Seconds(),
		MirrorRecsSec: r.MirrorRecordsPerSec(), MirrorMBSec: r.MirrorMBPerSec(), MirrorMBUpper: r.MirrorMBPerSecUpper(),
		RawSec: r.Raw.Elapsed.Seconds(), RawRecords: r.Raw.Records, RawFirstMs: ms(r.Raw.FirstRecord),
		RawRecsSec: r.Raw.RecordsPerSec(), RawMBSec: r.Raw.MBPerSec(), RawErrors: r.Raw.Errors,
		Ratio:     r.Ratio(),
		CleanedUp: r.CleanedUp, CleanupError: errString(r.CleanupError),
	}
	if l := r.Lag; l != nil {
		rep.Lag = &LagReport{
			Rate: l.Rate, RecordSize: l.RecordSize, FetchMaxWaitMs: ms(l.FetchMaxWait),
			Sent: l.Sent, Acked: l.Acked, Errors: l.Errors, Measured: l.Measured, Missing: l.Missing,
			Duplicates: l.Duplicates, Unexpected: l.Unexpected, Mismatched: l.Mismatched, Early: l.Early,
			ElapsedSec:      l.Elapsed.Seconds(),
			AckToMirror:     NewLatencyReport(l.AckToMirror),
			ProduceToMirror: NewLatencyReport(l.ProduceToMirror),
			ProduceToAck:    NewLatencyReport(l.ProduceToAck),
		}
	}
	return rep
}

// WriteMirrorReport writes the report of a Mirror run in format f.
func WriteMirrorReport(w io.Writer, f Format, o MirrorOptions, r MirrorResult) error {
	rep := NewMirrorReport(o, r)
	if f == FormatJSON {
		return writeJSON(w, rep)
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "link\t%s (%s; %s)\n", rep.Link, createdOrReused(rep.LinkCreated), linkConfigText(rep.LinkConfigs))
	fmt.Fprintf(tw, "topics\tsource %s -> mirror %s, %d partitions\n", rep.SourceTopic, rep.MirrorTopic, rep.Partitions)
	fmt.Fprintf(tw, "load\t%d records of %d B (%.2f MB) produced in %s (%.2f MB/s)\n",
		rep.Records, rep.RecordSize, float64(rep.Bytes)/1e6, roundDur(r.Load.Elapsed), rep.LoadMBPerSec)
	if r.MirrorElapsed > 0 {
		fmt.Fprintf(tw, "mirror\t%s: %.0f records/s, %.2f MB/s\n", roundDur(r.MirrorElapsed), rep.MirrorRecsSec, rep.MirrorMBSec)
		fmt.Fprintf(tw, "\tcaught up in (%s, %s] (end offsets polled every %s: at most %.2f MB/s);\n",
			roundDur(r.MirrorLower), roundDur(r.MirrorElapsed), r.PollInterval, rep.MirrorMBUpper)
		fmt.Fprintf(tw, "\tcreate call %s, first mirrored data seen after %s, %d polls\n",
			roundDur(r.CreateCall), roundDur(r.MirrorFirstData), rep.Polls)
	}
	if r.Raw.Records > 0 {
		fmt.Fprintf(tw, "raw consumer\t%s: %.0f records/s, %.2f MB/s (%d records, first after %s, %d fetch errors)\n",
			roundDur(r.Raw.Elapsed), rep.RawRecsSec, rep.RawMBSec, rep.RawRecords, roundDur(r.Raw.FirstRecord), rep.RawErrors)
	}
	if rep.Ratio > 0 {
		fmt.Fprintf(tw, "mirror/raw\t%.2f (both timed from the same instant, reading the same source at once)\n", rep.Ratio)
	}
	if l := r.Lag; l != nil {
		fmt.Fprintf(tw, "lag phase\t%d records of %d B at %.0f/s: %d acked, %d measured, %d missing, %d duplicates, %d early, %d mismatched\n",
			l.Sent, l.RecordSize, l.Rate, l.Acked, l.Measured, l.Missing, l.Duplicates, l.Early, l.Mismatched)
		fmt.Fprintf(tw, "ack -> mirror\t%s\n", latencyText(l.AckToMirror))
		fmt.Fprintf(tw, "\t(source ack to read at the mirror; includes up to %s fetch wait of the mirror's consumer)\n", l.FetchMaxWait)
		fmt.Fprintf(tw, "produce -> mirror\t%s\n", latencyText(l.ProduceToMirror))
		fmt.Fprintf(tw, "produce -> ack\t%s\n", latencyText(l.ProduceToAck))
	}
	switch {
	case rep.CleanedUp:
		fmt.Fprintf(tw, "cleanup\tdeleted %s (mirror) and %s (source); link kept\n", rep.MirrorTopic, rep.SourceTopic)
	case rep.CleanupError != "":
		fmt.Fprintf(tw, "cleanup\tfailed: %s\n", rep.CleanupError)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// StopReport is the machine-readable form of a Stop run.
type StopReport struct {
	Kind           string            `json:"kind"` // "stop"
	StopKind       string            `json:"stop_kind"`
	Link           string            `json:"link"`
	LinkCreated    bool              `json:"link_created"`
	LinkConfigs    map[string]string `json:"link_configs"`
	Topics         int               `json:"topics"`
	Partitions     int               `json:"partitions_per_topic"`
	Records        int64             `json:"records"`
	CreateMirrorsS float64           `json:"create_mirrors_seconds"`
	CatchUpS       float64           `json:"catch_up_seconds"`
	CallMs         float64           `json:"call_ms"`
	Refused        int               `json:"refused"`
	FirstRefusal   string            `json:"first_refusal,omitempty"`
	FirstStopMs    float64           `json:"first_stopped_ms"`
	AllStopMs      float64           `json:"all_stopped_ms"`
	AllStopLowerMs float64           `json:"all_stopped_ms_lower_bound"`
	AllStopSrvMs   float64           `json:"all_stopped_server_ms"`
	PollMs         float64           `json:"poll_interval_ms"`
	Polls          int               `json:"polls"`
	EndsMatch      bool              `json:"end_offsets_match_source"`
	CleanedUp      bool              `json:"cleaned_up"`
	CleanupError   string            `json:"cleanup_error,omitempty"`
}

// NewStopReport combines the options and the result of a run.
func NewStopReport(_ StopOptions, r StopResult) StopReport {
	return StopReport{
		Kind: "stop", StopKind: r.Kind, Link: r.Link, LinkCreated: r.LinkCreated, LinkConfigs: r.LinkConfigs,
		Topics: len(r.Topics), Partitions: r.Partitions, Records: r.Records,
		CreateMirrorsS: r.CreateMirrors.Seconds(), CatchUpS: r.CatchUp.Seconds(),
		CallMs: ms(r.CallLatency), Refused: r.Refused, FirstRefusal: r.FirstRefusal,
		FirstStopMs: ms(r.FirstStopped), AllStopMs: ms(r.AllStopped), AllStopLowerMs: ms(r.AllStoppedLower),
		AllStopSrvMs: ms(r.AllStoppedServer), PollMs: ms(r.PollInterval), Polls: r.Polls,
		EndsMatch: r.EndsMatch, CleanedUp: r.CleanedUp, CleanupError: errString(r.CleanupError),
	}
}

// WriteStopReport writes the report of a Stop run in format f.
func WriteStopReport(w io.Writer, f Format, o StopOptions, r StopResult) error {
	rep := NewStopReport(o, r)
	if f == FormatJSON {
		return writeJSON(w, rep)
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "link\t%s (%s; %s)\n", rep.Link, createdOrReused(rep.LinkCreated), linkConfigText(rep.LinkConfigs))
	fmt.Fprintf(tw, "mirrors\t%d topics x %d partitions, %d records in all\n", rep.Topics, rep.Partitions, rep.Records)
	fmt.Fprintf(tw, "set-up\tmirrors created in %s (one REST call each), caught up %s later\n",
		roundDur(r.CreateMirrors), roundDur(r.CatchUp))
	if r.CallLatency > 0 {
		fmt.Fprintf(tw, "%s call\t%s for %d topics in one call (%d refused)\n", rep.StopKind, roundDur(r.CallLatency), rep.Topics, rep.Refused)
	}
	if rep.FirstRefusal != "" {
		fmt.Fprintf(tw, "first refusal\t%s\n", rep.FirstRefusal)
	}
	if r.AllStopped > 0 {
		fmt.Fprintf(tw, "all STOPPED\t%s after the call started: in (%s, %s] (mirror states polled every %s, %d polls)\n",
			roundDur(r.AllStopped), roundDur(r.AllStoppedLower), roundDur(r.AllStopped), r.PollInterval, rep.Polls)
		fmt.Fprintf(tw, "\tbroker-stamped (latest state_time_ms): %s; first STOPPED seen after %s\n",
			roundDur(r.AllStoppedServer), roundDur(r.FirstStopped))
		fmt.Fprintf(tw, "end offsets\tequal to the source's: %t\n", rep.EndsMatch)
	}
	switch {
	case rep.CleanedUp:
		fmt.Fprintf(tw, "cleanup\tdeleted the %d stopped topics and their sources; link kept\n", rep.Topics)
	case rep.CleanupError != "":
		fmt.Fprintf(tw, "cleanup\tfailed: %s\n", rep.CleanupError)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func createdOrReused(created bool) string {
	if created {
		return "created"
	}
	return "reused"
}

func linkConfigText(cs map[string]string) string {
	var parts []string
	for _, k := range reportedLinkConfigs {
		if v, ok := cs[k]; ok && (v != "" || k != "cluster.link.prefix") {
			parts = append(parts, k+"="+v)
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func latencyText(h *Histogram) string {
	if h == nil || h.Count() == 0 {
		return "no records"
	}
	return fmt.Sprintf("p50 %s  p95 %s  p99 %s  max %s  (mean %s, min %s)",
		roundDur(h.Quantile(0.50)), roundDur(h.Quantile(0.95)), roundDur(h.Quantile(0.99)),
		roundDur(h.Max()), roundDur(h.Mean()), roundDur(h.Min()))
}
