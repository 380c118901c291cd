package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/strait-kafka/strait/internal/app"
	"github.com/strait-kafka/strait/internal/config"
)

func newServeCommand() *cobra.Command {
	var (
		file      string
		overrides []string
		logLevel  string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a Strait broker",
		Long: `Run a Strait broker. With no settings it is a complete single-node cluster:
Kafka on 127.0.0.1:9092, HTTP on 127.0.0.1:8090, data in ./strait-data.

Settings use Kafka's property names. Each comes, in increasing precedence,
from its default, the --config properties file, a STRAIT_<NAME> environment
variable (log.dirs -> STRAIT_LOG_DIRS), and a flag of the same name
(--log.dirs /data) or --override log.dirs=/data.`,
		Args: cobra.NoArgs,
	}
	keys := config.Keys()
	for _, k := range keys {
		cmd.Flags().String(k.Name, "", k.Doc+" (default "+quoteDefault(k.Default)+")")
	}
	cmd.Flags().StringVarP(&file, "config", "c", "", "server.properties file")
	cmd.Flags().StringArrayVar(&overrides, "override", nil, "KEY=VALUE setting (repeatable)")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var lvl slog.Level
		if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
			return fmt.Errorf("invalid --log-level %q: use debug, info, warn or error", logLevel)
		}
		lg := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
		flags := map[string]string{}
		for _, k := range keys {
			if f := cmd.Flags().Lookup(k.Name); f.Changed {
				flags[k.Name] = f.Value.String()
			}
		}
		for _, o := range overrides {
			k, v, ok := strings.Cut(o, "=")
			if !ok {
				return fmt.Errorf("--override %q is not KEY=VALUE", o)
			}
			flags[k] = v
		}
		cfg, warnings, err := config.Load(config.LoadOptions{File: file, Env: serverEnv(os.Environ()), Flags: flags})
		if err != nil {
			return err
		}
		for _, w := range warnings {
			lg.Warn(w)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		a, err := app.Start(ctx, cfg, lg)
		if err != nil {
			return err
		}
		fmt.Printf("strait serving kafka=%s http=%s cluster.id=%s\n",
			strings.Join(a.KafkaAddrs, ","), strings.Join(a.HTTPAddrs, ","), a.ClusterID())
		err = a.Run(ctx)
		lg.Info("stopped")
		return err
	}
	return cmd
}

func quoteDefault(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// cliEnv are the client commands' environment variables. They share the
// STRAIT_ prefix with the broker's settings but are not settings, so serve
// leaves them out instead of warning about them on every start.
var cliEnv = []string{"STRAIT_BOOTSTRAP_SERVER", "STRAIT_URL"}

func serverEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(cliEnv, k) {
			out = append(out, kv)
		}
	}
	return out
}
