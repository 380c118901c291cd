package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Globals are the flags every client command shares.
type Globals struct {
	BootstrapServer string
	URL             string
	Output          string
	Timeout         time.Duration
}

// AddGlobalFlags registers the shared flags on root as persistent flags.
// Defaults may come from STRAIT_BOOTSTRAP_SERVER and STRAIT_URL.
func AddGlobalFlags(root *cobra.Command, g *Globals) {
	bs := envOr("STRAIT_BOOTSTRAP_SERVER", "127.0.0.1:9092")
	url := envOr("STRAIT_URL", "http://127.0.0.1:8090")
	root.PersistentFlags().StringVar(&g.BootstrapServer, "bootstrap-server", bs, "Kafka address of the cluster (HOST:PORT[,HOST:PORT...])")
	root.PersistentFlags().StringVar(&g.URL, "url", url, "REST address of the cluster")
	root.PersistentFlags().StringVarP(&g.Output, "output", "o", "table", "output format: table, json or yaml")
	root.PersistentFlags().DurationVar(&g.Timeout, "timeout", 30*time.Second, "how long a command may take")
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// Context returns a context bounded by --timeout.
func (g *Globals) Context() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), g.Timeout)
}

// Kafka returns a franz-go client and admin client for --bootstrap-server.
// The caller closes the client.
func (g *Globals) Kafka(opts ...kgo.Opt) (*kgo.Client, *kadm.Client, error) {
	seeds := strings.Split(g.BootstrapServer, ",")
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seeds...), kgo.ClientID("strait-cli")}, opts...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to %s: %w", g.BootstrapServer, err)
	}
	return cl, kadm.NewClient(cl), nil
}

// Printer returns the output printer for -o.
func (g *Globals) Printer(cmd *cobra.Command) (*Printer, error) {
	f, err := ParseFormat(g.Output)
	if err != nil {
		return nil, err
	}
	return &Printer{W: cmd.OutOrStdout(), Format: f}, nil
}

// builders make the top-level client commands; each command file registers
// its own in init, so adding a command touches only its file.
var builders []func(g *Globals) *cobra.Command

func register(b func(g *Globals) *cobra.Command) { builders = append(builders, b) }

// Commands returns the client commands, each with the shared flags.
func Commands() []*cobra.Command {
	g := &Globals{}
	var out []*cobra.Command
	for _, b := range builders {
		c := b(g)
		AddGlobalFlags(c, g)
		out = append(out, c)
	}
	return out
}
