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

// validate checks the shared flags every command uses.
func (g *Globals) validate() error {
	if g.Timeout <= 0 {
		return fmt.Errorf("invalid --timeout %v: give a positive duration such as 30s", g.Timeout)
	}
	return nil
}

// Context returns a context bounded by --timeout.
func (g *Globals) Context() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), g.Timeout)
}

// Kafka returns a franz-go client and admin client for --bootstrap-server,
// after checking that the cluster answers, so that an unreachable cluster
// is one clear error and not a dial error from the middle of a command.
// The caller closes the client.
func (g *Globals) Kafka(opts ...kgo.Opt) (*kgo.Client, *kadm.Client, error) {
	cl, err := g.connect(g.BootstrapServer, "--bootstrap-server", "the Kafka cluster", opts...)
	if err != nil {
		return nil, nil, err
	}
	return cl, kadm.NewClient(cl), nil
}

// open starts a command that prints what it reads from the Kafka cluster:
// it checks -o, connects to --bootstrap-server and bounds the work by
// --timeout. The caller defers done, which closes the client.
func (g *Globals) open(cmd *cobra.Command) (p *Printer, ctx context.Context, adm *kadm.Client, done func(), err error) {
	if p, err = g.Printer(cmd); err != nil {
		return nil, nil, nil, nil, err
	}
	cl, adm, err := g.Kafka()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ctx, cancel := g.Context()
	return p, ctx, adm, func() { cancel(); cl.Close() }, nil
}

// connect makes a client for the cluster at addrs (the value of flag) and
// pings it within --timeout.
func (g *Globals) connect(addrs, flag, what string, opts ...kgo.Opt) (*kgo.Client, error) {
	var seeds []string
	for _, s := range strings.Split(addrs, ",") {
		if s = strings.TrimSpace(s); s != "" {
			seeds = append(seeds, s)
		}
	}
	if len(seeds) == 0 {
		return nil, fmt.Errorf("%s is empty: give the HOST:PORT of %s", flag, what)
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seeds...), kgo.ClientID("strait-cli")}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("invalid %s %q: %w", flag, addrs, err)
	}
	ctx, cancel := g.Context()
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		cl.Close()
		return nil, unreachable(what, addrs, flag, err, g.Timeout)
	}
	return cl, nil
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

// Commands returns the client commands, each with the shared flags, the
// checks of those flags, and the error wording of usage.go.
func Commands() []*cobra.Command {
	g := &Globals{}
	var out []*cobra.Command
	for _, b := range builders {
		c := b(g)
		AddGlobalFlags(c, g)
		c.PersistentPreRunE = func(*cobra.Command, []string) error { return g.validate() }
		c.SetFlagErrorFunc(flagError)
		g.polish(c)
		out = append(out, c)
	}
	return out
}
