package bench

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

func newMirrorCommand() *cobra.Command {
	opts := DefaultMirrorOptions()
	var sources, brokers, output string
	cmd := &cobra.Command{
		Use:   "mirror",
		Short: "Measure a cluster link: mirror catch-up against a plain consumer, then end-to-end lag",
		Long: `Create a topic on the source cluster and fill it, then at one instant create a
mirror of it on the destination (through the destination's REST API, over
--link, created if missing) and start a plain consumer of the source topic.
Report both rates until the mirror's end offsets equal the source's (polled
every --poll-interval, which bounds the accuracy) and their ratio.

Then, with the mirror caught up, produce --lag-records timestamped records at
--lag-rate per second to the source and read them at the mirror: the latency
from each record's acknowledgement at the source to its read at the same
partition and offset of the mirror, which includes up to --lag-fetch-max-wait
of the mirror consumer's own fetch wait.

The source topic and the mirror must not exist; --cleanup deletes both at
the end (the link is kept for the next run).`,
		Example: `  strait bench mirror --source-bootstrap-server east:9092 --bootstrap-server west:9092 --url http://west:8090 --cleanup`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := ParseFormat(output)
			if err != nil {
				return err
			}
			opts.SourceBrokers, opts.Brokers = splitBrokers(sources), splitBrokers(brokers)
			if err := opts.Validate(); err != nil {
				return err
			}
			cmd.SilenceUsage = true
			opts.Logger = stderrLogger(cmd)
			ctx, stop := signalContext(cmd)
			defer stop()
			if f == FormatText {
				fmt.Fprintf(cmd.ErrOrStderr(), "mirroring %s over link %s: %d records to load first\n", opts.Topic, opts.Link, opts.Records)
			}
			res, runErr := Mirror(ctx, opts)
			if runErr != nil && res.Records == 0 {
				return runErr
			}
			if err := WriteMirrorReport(cmd.OutOrStdout(), f, opts, res); err != nil {
				return errors.Join(runErr, err)
			}
			return runErr
		},
	}
	fl := cmd.Flags()
	linkFlags(cmd, &sources, &brokers, &opts.URL, &opts.Link, &opts.CreateLink)
	fl.StringVar(&opts.Topic, "topic", opts.Topic, "source topic to create and mirror")
	fl.Int32Var(&opts.Partitions, "partitions", opts.Partitions, "partitions of the source topic")
	fl.Int16Var(&opts.ReplicationFactor, "replication-factor", opts.ReplicationFactor, "replication factor of the source topic (-1: broker default)")
	fl.Int64Var(&opts.Records, "records", opts.Records, "records to load into the source before mirroring")
	fl.IntVar(&opts.RecordSize, "record-size", opts.RecordSize, "value size in bytes")
	fl.Float64Var(&opts.Rate, "rate", opts.Rate, "records per second cap while loading (0: unlimited)")
	fl.DurationVar(&opts.PollInterval, "poll-interval", opts.PollInterval, "how often the mirror's end offsets are listed while it catches up")
	fl.DurationVar(&opts.Timeout, "timeout", opts.Timeout, "bound on loading and catching up")
	fl.Int64Var(&opts.LagRecords, "lag-records", opts.LagRecords, "records for the end-to-end lag phase (0: skip it)")
	fl.Float64Var(&opts.LagRate, "lag-rate", opts.LagRate, "records per second in the lag phase")
	fl.DurationVar(&opts.LagFetchMaxWait, "lag-fetch-max-wait", opts.LagFetchMaxWait, "fetch max wait of the consumer reading the mirror in the lag phase")
	fl.DurationVar(&opts.LagTimeout, "lag-timeout", opts.LagTimeout, "how long to wait for the last records at the mirror")
	fl.BoolVar(&opts.Cleanup, "cleanup", opts.Cleanup, "delete the mirror and source topics at the end")
	fl.StringVarP(&output, "output", "o", string(FormatText), "output format: text or json")
	return cmd
}

func newStopCommand() *cobra.Command {
	opts := DefaultStopOptions()
	var sources, brokers, output string
	cmd := &cobra.Command{
		Use:   "stop",
		Short: "Measure promoting or failing over many mirror topics in one call",
		Long: `Create --topics source topics of --partitions partitions with a few records
each, mirror them all over --link (created if missing), wait until every
mirror has caught up, then promote (or fail over) all of them with one REST
call. Report the call's latency and the time until every mirror shows
STOPPED (mirror states polled every --poll-interval, which bounds the
accuracy; the broker's own state timestamps are shown too).

Topics are named <topic-prefix>-0, <topic-prefix>-1, ... and must not exist;
--cleanup deletes them on both clusters at the end.`,
		Example: `  strait bench stop --source-bootstrap-server east:9092 --bootstrap-server west:9092 --url http://west:8090 --topics 100 --partitions 10 --kind failover --cleanup`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := ParseFormat(output)
			if err != nil {
				return err
			}
			opts.SourceBrokers, opts.Brokers = splitBrokers(sources), splitBrokers(brokers)
			if err := opts.Validate(); err != nil {
				return err
			}
			cmd.SilenceUsage = true
			opts.Logger = stderrLogger(cmd)
			ctx, stop := signalContext(cmd)
			defer stop()
			if f == FormatText {
				fmt.Fprintf(cmd.ErrOrStderr(), "setting up %d mirrors of %d partitions over link %s, then %s\n",
					opts.Topics, opts.Partitions, opts.Link, opts.Kind)
			}
			res, runErr := Stop(ctx, opts)
			if runErr != nil && res.CallLatency == 0 {
				return runErr
			}
			if err := WriteStopReport(cmd.OutOrStdout(), f, opts, res); err != nil {
				return errors.Join(runErr, err)
			}
			return runErr
		},
	}
	fl := cmd.Flags()
	linkFlags(cmd, &sources, &brokers, &opts.URL, &opts.Link, &opts.CreateLink)
	fl.StringVar(&opts.TopicPrefix, "topic-prefix", opts.TopicPrefix, "source topics are named PREFIX-0, PREFIX-1, ...")
	fl.IntVar(&opts.Topics, "topics", opts.Topics, "number of topics to mirror and stop")
	fl.Int32Var(&opts.Partitions, "partitions", opts.Partitions, "partitions per topic")
	fl.Int16Var(&opts.ReplicationFactor, "replication-factor", opts.ReplicationFactor, "replication factor of the source topics (-1: broker default)")
	fl.IntVar(&opts.RecordsPerTopic, "records-per-topic", opts.RecordsPerTopic, "records written to each source topic, round-robin over its partitions")
	fl.StringVar(&opts.Kind, "kind", opts.Kind, "promote (requires zero lag) or failover")
	fl.DurationVar(&opts.PollInterval, "poll-interval", opts.PollInterval, "how often end offsets and mirror states are polled")
	fl.DurationVar(&opts.Timeout, "timeout", opts.Timeout, "bound on catching up and on stopping")
	fl.BoolVar(&opts.Cleanup, "cleanup", opts.Cleanup, "delete the topics on both clusters at the end")
	fl.StringVarP(&output, "output", "o", string(FormatText), "output format: text or json")
	return cmd
}

// linkFlags adds the flags both link benchmarks share.
func linkFlags(cmd *cobra.Command, sources, brokers, url, link *string, create *bool) {
	fl := cmd.Flags()
	fl.StringVar(sources, "source-bootstrap-server", "", "comma-separated host:port list of the source cluster's brokers (required)")
	fl.StringVar(brokers, "bootstrap-server", DefaultBootstrapServer, "comma-separated host:port list of the destination cluster's brokers")
	fl.StringVar(url, "url", *url, "the destination's HTTP address (its REST API v3 is below /kafka/v3)")
	fl.StringVar(link, "link", *link, "cluster link on the destination; reused if it exists")
	fl.BoolVar(create, "create-link", *create, "create the link if missing, with metadata.max.age.ms=1000 and replica.fetch.wait.max.ms=100")
}
