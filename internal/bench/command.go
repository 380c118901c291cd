package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// NewCommand returns the `bench` command with its `produce`, `consume`,
// `mirror` and `stop` subcommands.
func NewCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure produce, consume and cluster-link throughput and latency",
		Long: `Load generators for Strait or any Kafka-compatible cluster.

Run "strait bench produce" to write records and then "strait bench consume"
to read them back. Ctrl-C ends a run early and still prints its results.
"strait bench mirror" measures a cluster link between two clusters (mirror
catch-up against a plain consumer, then end-to-end lag), and "strait bench
stop" the promotion or failover of many mirror topics in one call.
MB is 10^6 bytes, MiB 2^20 bytes.`,
	}
	cmd.AddCommand(newProduceCommand(), newConsumeCommand(), newMirrorCommand(), newStopCommand())
	return cmd
}

func newProduceCommand() *cobra.Command {
	opts := DefaultProduceOptions()
	var brokers, output string
	cmd := &cobra.Command{
		Use:   "produce",
		Short: "Write records as fast as allowed and report throughput and latency",
		Long: `Write records of random bytes (generated once) to a topic, creating it if
missing, and report throughput and per-record produce latency (Produce call to
acknowledgement). The run ends after --records or --duration, whichever comes
first. Without --rate the client's buffer stays full, so latency is mostly
queueing; set --rate below the saturation point to measure latency.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := ParseFormat(output)
			if err != nil {
				return err
			}
			opts.Brokers = splitBrokers(brokers)
			flags := cmd.Flags()
			if !flags.Changed("linger") {
				opts.Linger = -1
			}
			// The idempotent producer needs acks=all; weaker acks turn it
			// off unless the user asked for both, which Validate rejects.
			if opts.Acks != AcksAll && !flags.Changed("idempotent") {
				opts.Idempotent = false
			}
			if err := opts.Validate(); err != nil {
				return err
			}
			cmd.SilenceUsage = true // from here on, errors are not about usage
			opts.Logger = stderrLogger(cmd)
			ctx, stop := signalContext(cmd)
			defer stop()
			if f == FormatText {
				limit := fmt.Sprintf("%d records", opts.Records)
				if opts.Records == 0 {
					limit = "no record limit"
				}
				if opts.Duration > 0 {
					limit += fmt.Sprintf(" or %s", opts.Duration)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "producing to %s (%s); Ctrl-C stops early\n", opts.Topic, limit)
			}
			res, runErr := Produce(ctx, opts)
			if runErr != nil && !errors.Is(runErr, ErrRecordsFailed) {
				return runErr
			}
			if err := WriteProduceReport(cmd.OutOrStdout(), f, opts, res); err != nil {
				return err
			}
			return runErr
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&brokers, "bootstrap-server", DefaultBootstrapServer, "comma-separated host:port list of brokers")
	fl.StringVar(&opts.Topic, "topic", opts.Topic, "topic to write to")
	fl.Int32Var(&opts.Partitions, "partitions", opts.Partitions, "partitions to create the topic with if it is missing (0: require an existing topic)")
	fl.Int16Var(&opts.ReplicationFactor, "replication-factor", opts.ReplicationFactor, "replication factor when creating the topic (-1: broker default)")
	fl.Int64Var(&opts.Records, "records", opts.Records, "records to send (0: no limit)")
	fl.DurationVar(&opts.Duration, "duration", opts.Duration, "stop after this long (0: no limit)")
	fl.IntVar(&opts.RecordSize, "record-size", opts.RecordSize, "value size in bytes")
	fl.IntVar(&opts.KeySize, "key-size", opts.KeySize, "key size in bytes; keys cycle through 1024 distinct values (0: no keys)")
	fl.StringVar(&opts.Acks, "acks", opts.Acks, "acknowledgements to wait for: all, 1 or 0 (1 and 0 disable --idempotent)")
	fl.StringVar(&opts.Compression, "compression", opts.Compression, "none, gzip, snappy, lz4 or zstd")
	fl.DurationVar(&opts.Linger, "linger", 0, "how long to wait to fill a batch (default: the client's, 10ms)")
	fl.Int32Var(&opts.BatchMaxBytes, "batch-max-bytes", opts.BatchMaxBytes, "maximum record batch size (0: client default, 1000012)")
	fl.IntVar(&opts.MaxInflight, "max-inflight", opts.MaxInflight, "produce requests in flight per broker; needs --idempotent=false (0: client default)")
	fl.BoolVar(&opts.Idempotent, "idempotent", opts.Idempotent, "use the idempotent producer (requires --acks all)")
	fl.Float64Var(&opts.Rate, "rate", opts.Rate, "records per second cap (0: unlimited)")
	fl.StringVarP(&output, "output", "o", string(FormatText), "output format: text or json")
	return cmd
}

func newConsumeCommand() *cobra.Command {
	opts := DefaultConsumeOptions()
	var brokers, output string
	cmd := &cobra.Command{
		Use:   "consume",
		Short: "Read a topic from the beginning and report throughput",
		Long: `Read every partition of a topic from its start offset, without a consumer
group, and report throughput and the time to the first record. By default the
run ends when each partition has been read up to the high watermark it had at
the start (--until-end); --records and --duration end it earlier.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := ParseFormat(output)
			if err != nil {
				return err
			}
			opts.Brokers = splitBrokers(brokers)
			if err := opts.Validate(); err != nil {
				return err
			}
			cmd.SilenceUsage = true // from here on, errors are not about usage
			opts.Logger = stderrLogger(cmd)
			ctx, stop := signalContext(cmd)
			defer stop()
			if f == FormatText {
				fmt.Fprintf(cmd.ErrOrStderr(), "consuming %s; Ctrl-C stops early\n", opts.Topic)
			}
			res, err := Consume(ctx, opts)
			if err != nil {
				return err
			}
			return WriteConsumeReport(cmd.OutOrStdout(), f, opts, res)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&brokers, "bootstrap-server", DefaultBootstrapServer, "comma-separated host:port list of brokers")
	fl.StringVar(&opts.Topic, "topic", opts.Topic, "topic to read")
	fl.Int64Var(&opts.Records, "records", opts.Records, "stop after this many records (0: no limit)")
	fl.BoolVar(&opts.UntilEnd, "until-end", opts.UntilEnd, "stop at the high watermarks the partitions had at the start")
	fl.DurationVar(&opts.Duration, "duration", opts.Duration, "stop after this long (0: no limit)")
	fl.Int32Var(&opts.FetchMaxBytes, "fetch-max-bytes", opts.FetchMaxBytes, "maximum bytes per fetch response (0: client default, 50 MiB)")
	fl.Int32Var(&opts.PartitionMaxBytes, "partition-max-bytes", opts.PartitionMaxBytes, "maximum bytes per partition in a fetch (0: client default, 1 MiB)")
	fl.StringVarP(&output, "output", "o", string(FormatText), "output format: text or json")
	return cmd
}

func splitBrokers(s string) []string {
	var out []string
	for _, b := range strings.Split(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// signalContext ends the run on Ctrl-C or SIGTERM; the run then reports
// what it measured so far. After the first signal the default handling is
// back, so a second Ctrl-C during the drain exits at once.
func signalContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	return ctx, stop
}

// stderrLogger passes on the Kafka client's warnings and errors.
func stderrLogger(cmd *cobra.Command) *slog.Logger {
	return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}
