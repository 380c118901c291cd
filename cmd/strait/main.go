// Command strait is both the Strait broker (`strait serve`) and its
// operator CLI.
package main

import (
	"fmt"
	"os"
	"strings"

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
	// Without a command, help; with an unknown one, one line (cobra's own
	// error spreads its suggestion over three).
	root.Args = cobra.ArbitraryArgs
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		return unknownCommand(cmd, args[0])
	}
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "strait:", oneLine(err))
		os.Exit(1)
	}
}

// oneLine is err's message on one line: an error that joins several (a
// config file with two bad lines) prints them separated by "; ".
func oneLine(err error) string {
	var parts []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

// unknownCommand names the command that does not exist and, when one is
// close, the one meant.
func unknownCommand(root *cobra.Command, name string) error {
	if root.SuggestionsMinimumDistance <= 0 {
		root.SuggestionsMinimumDistance = 2
	}
	if s := root.SuggestionsFor(name); len(s) > 0 {
		return fmt.Errorf("unknown command %q: did you mean %s?", name, strings.Join(s, " or "))
	}
	return fmt.Errorf("unknown command %q (see %s --help)", name, root.Name())
}
