// Command kfakeserver runs franz-go's kfake, an independent in-memory Kafka
// implementation, as a standalone single-broker cluster.
//
// It exists so that Strait's client suite and benchmarks can be run, unchanged,
// against a Kafka implementation that Strait did not write: a test that passes
// against kfake but fails against Strait points at Strait, and a test that
// fails against both points at the test.
//
// When the broker accepts connections, kfakeserver prints exactly one line on
// stdout, in the same format as `strait serve`:
//
//	strait serving kafka=HOST:PORT http=- cluster.id=ID
//
// ("http=-": kfake has no HTTP face). Logs, if enabled, go to stderr.
// SIGTERM or SIGINT closes the cluster and exits with status 0.
//
// Usage:
//
//	kfakeserver [-listen 127.0.0.1:0] [-partitions 3] [-seed-topics a,b]
//	            [-cluster-id ID] [-auto-create=true] [-log-level none]
//	            [-data-dir DIR [-sync]]
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "kfakeserver: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("kfakeserver", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address the broker listens on (port 0 picks a free port)")
	partitions := fs.Int("partitions", 1, "partitions of auto-created topics and of CreateTopics requests asking for the default")
	seed := fs.String("seed-topics", "", "comma-separated topics to create at start, each with -partitions partitions")
	clusterID := fs.String("cluster-id", "kfake", "cluster ID reported in metadata and in the ready line")
	autoCreate := fs.Bool("auto-create", true, "create unknown topics on metadata requests that ask for it")
	logLevel := fs.String("log-level", "none", "kfake log level written to stderr: none, error, warn, info, debug")
	dataDir := fs.String("data-dir", "", "keep the cluster's state in this directory across restarts (default: in memory)")
	syncWrites := fs.Bool("sync", false, "with -data-dir, fsync every write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *partitions < 1 {
		return fmt.Errorf("-partitions %d: must be at least 1", *partitions)
	}
	level, err := parseLogLevel(*logLevel)
	if err != nil {
		return err
	}

	// kfake always asks for 127.0.0.1:<port>; we listen where we were told
	// instead, and kfake advertises whatever address the listener has.
	addr := *listen
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.ClusterID(*clusterID),
		kfake.DefaultNumPartitions(*partitions),
		kfake.WithLogger(kfake.BasicLogger(os.Stderr, level)),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, addr)
		}),
	}
	if *autoCreate {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	if *dataDir != "" {
		opts = append(opts, kfake.DataDir(*dataDir))
		if *syncWrites {
			opts = append(opts, kfake.SyncWrites())
		}
	} else if *syncWrites {
		return fmt.Errorf("-sync needs -data-dir")
	}
	if topics := splitList(*seed); len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(int32(*partitions), topics...))
	}

	// Subscribe before announcing readiness so that a signal sent right
	// after the ready line is never missed.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return fmt.Errorf("starting kfake: %w", err)
	}
	defer c.Close()

	addrs := c.ListenAddrs()
	if len(addrs) != 1 {
		return fmt.Errorf("kfake listens on %d addresses, want 1", len(addrs))
	}
	if _, err := fmt.Printf("strait serving kafka=%s http=- cluster.id=%s\n", addrs[0], *clusterID); err != nil {
		return fmt.Errorf("writing ready line: %w", err)
	}

	<-sigs
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func parseLogLevel(s string) (kfake.LogLevel, error) {
	switch strings.ToLower(s) {
	case "none", "":
		return kfake.LogLevelNone, nil
	case "error":
		return kfake.LogLevelError, nil
	case "warn":
		return kfake.LogLevelWarn, nil
	case "info":
		return kfake.LogLevelInfo, nil
	case "debug":
		return kfake.LogLevelDebug, nil
	}
	return kfake.LogLevelNone, fmt.Errorf("-log-level %q: want none, error, warn, info or debug", s)
}
