// Command strait is both the Strait broker (`strait serve`) and its
// operator CLI.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/strait-kafka/strait/internal/bench"
	"github.com/strait-kafka/strait/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	root := &cobra.Command{
		Use:           "strait",
		Short:         "Strait: a Kafka-compatible broker with cluster linking",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCommand(), bench.NewCommand())
	root.AddCommand(cli.Commands()...)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "strait:", err)
		os.Exit(1)
	}
}
