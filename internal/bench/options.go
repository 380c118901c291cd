package bench

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Sentinel errors. Errors returned by this package wrap one of these, or the
// error of the Kafka client or of the context.
var (
	// ErrInvalidOption reports an option value out of range; the wrapping
	// message names the option and the value.
	ErrInvalidOption = errors.New("bench: invalid option")
	// ErrTopicNotFound reports that the topic does not exist and the run
	// was not allowed to create it.
	ErrTopicNotFound = errors.New("bench: topic not found")
	// ErrRecordsFailed reports that a produce run finished with records
	// the broker rejected; the result still holds the measurements.
	ErrRecordsFailed = errors.New("bench: records failed")
)

// Defaults shared by the library and the command line.
const (
	DefaultBootstrapServer = "127.0.0.1:9092"
	DefaultTopic           = "strait-bench"
	DefaultPartitions      = 3
	DefaultRecords         = 1_000_000
	DefaultRecordSize      = 1024
	DefaultDrainTimeout    = 5 * time.Second
)

// Acks values accepted by ProduceOptions.Acks.
const (
	AcksAll    = "all" // every in-sync replica (-1)
	AcksLeader = "1"   // the leader only
	AcksNone   = "0"   // no response at all
)

// Compression codecs accepted by ProduceOptions.Compression.
var compressionCodecs = map[string]kgo.CompressionCodec{
	"none":   kgo.NoCompression(),
	"gzip":   kgo.GzipCompression(),
	"snappy": kgo.SnappyCompression(),
	"lz4":    kgo.Lz4Compression(),
	"zstd":   kgo.ZstdCompression(),
}

// ProduceOptions configures Produce. Start from DefaultProduceOptions; the
// zero value is not valid (it has no brokers).
type ProduceOptions struct {
	// Brokers are the bootstrap servers, "host:port".
	Brokers []string
	// Topic is the topic to write to.
	Topic string
	// Partitions, if positive, creates the topic with this many partitions
	// when it does not exist. Zero means the topic must already exist. An
	// existing topic is used as it is, whatever its partition count.
	Partitions int32
	// ReplicationFactor is used when creating the topic; -1 asks for the
	// broker's default.
	ReplicationFactor int16

	// Records stops the run after this many records were handed to the
	// client (0: no limit). Duration stops it after this long (0: no limit).
	// Whichever comes first ends the run; with neither, only the context
	// does.
	Records  int64
	Duration time.Duration
	// Rate caps records per second (0: as fast as the client accepts).
	// Pacing follows a fixed schedule from the start of the run, so a
	// stall is followed by a catch-up burst rather than lowering the
	// average rate.
	Rate float64

	// RecordSize is the value size in bytes. KeySize, if positive, gives
	// each record one of 1024 distinct random keys of this size, so records
	// spread over partitions by key hash; with 0 records have no key and the
	// client's sticky partitioner spreads them.
	RecordSize int
	KeySize    int

	// Acks is AcksAll, AcksLeader or AcksNone.
	Acks string
	// Compression is none, gzip, snappy, lz4 or zstd. Values are random
	// bytes, so they do not compress: this measures codec cost, not gain.
	Compression string
	// Linger is how long the client waits to fill a batch; negative keeps
	// the client's default.
	Linger time.Duration
	// BatchMaxBytes caps a record batch (0: client default, 1,000,012).
	BatchMaxBytes int32
	// MaxInflight caps produce requests in flight per broker (0: client
	// default). The client fixes it when Idempotent is set, so a positive
	// value requires Idempotent false.
	MaxInflight int
	// Idempotent enables the idempotent producer; it requires AcksAll.
	Idempotent bool

	// DrainTimeout bounds how long records already handed to the client may
	// still be acknowledged after the context is cancelled (0: do not wait).
	DrainTimeout time.Duration

	// Logger receives the Kafka client's log; nil discards it.
	Logger *slog.Logger
	// ClientOpts are appended to the client options this package builds,
	// for TLS, SASL, hooks and the like.
	ClientOpts []kgo.Opt
}

// DefaultProduceOptions returns the options `strait bench produce` starts
// from.
func DefaultProduceOptions() ProduceOptions {
	return ProduceOptions{
		Brokers:           []string{DefaultBootstrapServer},
		Topic:             DefaultTopic,
		Partitions:        DefaultPartitions,
		ReplicationFactor: -1,
		Records:           DefaultRecords,
		RecordSize:        DefaultRecordSize,
		Acks:              AcksAll,
		Compression:       "none",
		Linger:            -1,
		Idempotent:        true,
		DrainTimeout:      DefaultDrainTimeout,
	}
}

// Validate reports the first invalid option, wrapping ErrInvalidOption.
func (o ProduceOptions) Validate() error {
	switch {
	case len(o.Brokers) == 0:
		return invalid("bootstrap-server", "", "at least one broker is required")
	case o.Topic == "":
		return invalid("topic", o.Topic, "must not be empty")
	case o.Partitions < 0:
		return invalid("partitions", o.Partitions, "must be >= 0")
	case o.ReplicationFactor < -1 || o.ReplicationFactor == 0:
		return invalid("replication-factor", o.ReplicationFactor, "must be -1 or positive")
	case o.Records < 0:
		return invalid("records", o.Records, "must be >= 0")
	case o.Duration < 0:
		return invalid("duration", o.Duration, "must be >= 0")
	case o.Rate < 0:
		return invalid("rate", o.Rate, "must be >= 0")
	case o.RecordSize < 0:
		return invalid("record-size", o.RecordSize, "must be >= 0")
	case o.KeySize < 0:
		return invalid("key-size", o.KeySize, "must be >= 0")
	case o.BatchMaxBytes < 0:
		return invalid("batch-max-bytes", o.BatchMaxBytes, "must be >= 0")
	case o.MaxInflight < 0:
		return invalid("max-inflight", o.MaxInflight, "must be >= 0")
	case o.DrainTimeout < 0:
		return invalid("drain-timeout", o.DrainTimeout, "must be >= 0")
	}
	if _, err := parseAcks(o.Acks); err != nil {
		return err
	}
	if _, err := parseCompression(o.Compression); err != nil {
		return err
	}
	if o.Idempotent && o.Acks != AcksAll {
		return invalid("acks", o.Acks, "the idempotent producer requires acks=all")
	}
	if o.Idempotent && o.MaxInflight > 0 {
		return invalid("max-inflight", o.MaxInflight, "only settable with the idempotent producer disabled")
	}
	return nil
}

// ConsumeOptions configures Consume. Start from DefaultConsumeOptions.
type ConsumeOptions struct {
	// Brokers are the bootstrap servers, "host:port".
	Brokers []string
	// Topic is read from the log start offset of every partition.
	Topic string

	// Records stops after this many records (0: no limit). UntilEnd stops
	// once every partition has been read up to the high watermark it had
	// when the run started. Duration stops after this long (0: no limit).
	// Whichever comes first ends the run; with none, only the context does.
	Records  int64
	UntilEnd bool
	Duration time.Duration

	// FetchMaxBytes and PartitionMaxBytes cap a fetch response and one
	// partition within it (0: client defaults, 50 MiB and 1 MiB).
	FetchMaxBytes     int32
	PartitionMaxBytes int32

	// Logger receives the Kafka client's log; nil discards it.
	Logger *slog.Logger
	// ClientOpts are appended to the client options this package builds.
	ClientOpts []kgo.Opt
}

// DefaultConsumeOptions returns the options `strait bench consume` starts
// from: read the whole default topic as it stood at the start.
func DefaultConsumeOptions() ConsumeOptions {
	return ConsumeOptions{
		Brokers:  []string{DefaultBootstrapServer},
		Topic:    DefaultTopic,
		UntilEnd: true,
	}
}

// Validate reports the first invalid option, wrapping ErrInvalidOption.
func (o ConsumeOptions) Validate() error {
	switch {
	case len(o.Brokers) == 0:
		return invalid("bootstrap-server", "", "at least one broker is required")
	case o.Topic == "":
		return invalid("topic", o.Topic, "must not be empty")
	case o.Records < 0:
		return invalid("records", o.Records, "must be >= 0")
	case o.Duration < 0:
		return invalid("duration", o.Duration, "must be >= 0")
	case o.FetchMaxBytes < 0:
		return invalid("fetch-max-bytes", o.FetchMaxBytes, "must be >= 0")
	case o.PartitionMaxBytes < 0:
		return invalid("partition-max-bytes", o.PartitionMaxBytes, "must be >= 0")
	}
	return nil
}

func invalid(key string, value any, why string) error {
	return fmt.Errorf("%w: %s=%v: %s", ErrInvalidOption, key, value, why)
}

func parseAcks(s string) (kgo.Acks, error) {
	switch s {
	case AcksAll:
		return kgo.AllISRAcks(), nil
	case AcksLeader:
		return kgo.LeaderAck(), nil
	case AcksNone:
		return kgo.NoAck(), nil
	}
	return kgo.Acks{}, invalid("acks", s, "want all, 1 or 0")
}

func parseCompression(s string) (kgo.CompressionCodec, error) {
	c, ok := compressionCodecs[strings.ToLower(s)]
	if !ok {
		return kgo.CompressionCodec{}, invalid("compression", s, "want none, gzip, snappy, lz4 or zstd")
	}
	return c, nil
}
