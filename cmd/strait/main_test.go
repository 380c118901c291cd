package main

import (
	"errors"
	"slices"
	"testing"

	"github.com/spf13/cobra"
)

func TestCmdOneLine(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"one line", errors.New("invalid --log-level \"loud\""), `invalid --log-level "loud"`},
		{"joined", errors.Join(
			errors.New(`invalid value "abc" for num.partitions: not an integer (bad.properties line 1)`),
			errors.New(`unknown setting "garbage" in bad.properties line 2`)),
			`invalid value "abc" for num.partitions: not an integer (bad.properties line 1); unknown setting "garbage" in bad.properties line 2`},
		{"blank lines", errors.New("a\n\n  b  \n"), "a; b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := oneLine(c.err); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

// The client commands' variables are not broker settings: serve must not
// warn that no setting has their name.
func TestCmdServeIgnoresClientEnv(t *testing.T) {
	got := serverEnv([]string{"STRAIT_URL=http://h:1", "STRAIT_LOG_DIRS=/d", "STRAIT_BOOTSTRAP_SERVER=h:2", "HOME=/root", "STRAIT_URLS=x"})
	want := []string{"STRAIT_LOG_DIRS=/d", "HOME=/root", "STRAIT_URLS=x"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestCmdUnknownCommand(t *testing.T) {
	root := &cobra.Command{Use: "strait"}
	for _, n := range []string{"topic", "serve"} {
		root.AddCommand(&cobra.Command{Use: n, Run: func(*cobra.Command, []string) {}})
	}
	cases := []struct{ name, want string }{
		{"topc", `unknown command "topc": did you mean topic?`},
		{"frobnicate", `unknown command "frobnicate" (see strait --help)`},
	}
	for _, c := range cases {
		if got := unknownCommand(root, c.name); got == nil || got.Error() != c.want {
			t.Errorf("%s: got %v, want %q", c.name, got, c.want)
		}
	}
}
