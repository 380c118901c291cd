package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
)

// This file turns what cobra, pflag, net and franz-go report into the one
// clear line every failure prints: it names the command, the argument or
// flag, and what was being done, never a Go-internal phrase alone.

// commandName is the command's path without the program name
// ("topic create").
func commandName(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// usageHint is " (usage: strait topic create TOPIC [flags])".
func usageHint(cmd *cobra.Command) string {
	return " (usage: " + cmd.UseLine() + ")"
}

// exactArgs accepts exactly the named positional arguments.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < len(names):
			return fmt.Errorf("%s: missing %s%s", commandName(cmd), strings.Join(names[len(args):], " "), usageHint(cmd))
		case len(args) > len(names):
			return fmt.Errorf("%s: unexpected argument %q%s", commandName(cmd), args[len(names)], usageHint(cmd))
		}
		return nil
	}
}

// minArgs accepts one or more arguments named name (TOPIC...).
func minArgs(name string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return fmt.Errorf("%s: missing %s (give one or more)%s", commandName(cmd), name, usageHint(cmd))
		}
		return nil
	}
}

// noArgs accepts no positional arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%s: unexpected argument %q%s", commandName(cmd), args[0], usageHint(cmd))
	}
	return nil
}

// groupRun is the RunE of a command that only groups subcommands: without
// one, or with one it does not have, it fails and names the choices
// instead of printing help and exiting 0 (a typo must not look like
// success in a script).
func groupRun(cmd *cobra.Command, args []string) error {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	choices := strings.Join(names, ", ")
	if len(args) == 0 {
		return fmt.Errorf("%s: missing command: use one of %s (see %s --help)", commandName(cmd), choices, cmd.CommandPath())
	}
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's own default
	}
	msg := fmt.Sprintf("%s: unknown command %q: use one of %s", commandName(cmd), args[0], choices)
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg = fmt.Sprintf("%s: unknown command %q: did you mean %s?", commandName(cmd), args[0], strings.Join(s, " or "))
	}
	return errors.New(msg)
}

// flagError rewords pflag's parse errors: the flag, the value and what is
// wrong with it, without strconv's or time's wording.
func flagError(cmd *cobra.Command, err error) error {
	var ive *pflag.InvalidValueError
	if errors.As(err, &ive) {
		f := ive.GetFlag()
		return fmt.Errorf("%s: invalid value %q for --%s: %s", commandName(cmd), ive.GetValue(), f.Name, valueProblem(f.Value.Type(), ive.Unwrap()))
	}
	return fmt.Errorf("%s: %v (see %s --help)", commandName(cmd), err, cmd.CommandPath())
}

// valueProblem says why a flag value of the given pflag type did not parse.
func valueProblem(typ string, cause error) string {
	switch {
	case strings.HasPrefix(typ, "int") || strings.HasPrefix(typ, "uint"):
		if errors.Is(cause, strconv.ErrRange) {
			return "out of range for " + typ
		}
		return "not an integer"
	case typ == "duration":
		return "not a duration (use a number with a unit: 500ms, 30s, 2m)"
	case typ == "bool":
		return "not true or false"
	case cause != nil:
		return cause.Error()
	}
	return "invalid"
}

// presented is an error reworded for printing; it unwraps to the original
// so errors.Is and errors.As keep working.
type presented struct {
	msg string
	err error
}

func (e *presented) Error() string { return e.msg }
func (e *presented) Unwrap() error { return e.err }

// present rewords err for the one line main prints: kadm's "request X has
// 1 separate shard errors, first: E" becomes E, a context deadline names
// --timeout, and a multi-line error becomes one line. An error it does not
// change is returned as is.
func (g *Globals) present(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var se *kadm.ShardErrors
	if errors.As(err, &se) && len(se.Errs) == 1 {
		msg = strings.Replace(msg, se.Error(), se.Errs[0].Err.Error(), 1)
	}
	msg = strings.ReplaceAll(msg, context.DeadlineExceeded.Error(), fmt.Sprintf("no answer within --timeout %v", g.Timeout))
	msg = oneLine(msg)
	if msg == err.Error() {
		return err
	}
	return &presented{msg: msg, err: err}
}

// oneLine joins the lines of a multi-line message with "; ".
func oneLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	lines = slices.DeleteFunc(lines, func(l string) bool { return strings.TrimSpace(l) == "" })
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, "; ")
}

// netReason is the short reason a connection failed: "connection refused",
// "cannot resolve host "x"", "no answer within --timeout 3s".
func netReason(err error, timeout time.Duration) string {
	var dns *net.DNSError
	var sys *os.SyscallError
	var op *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer within --timeout %v", timeout)
	case errors.As(err, &dns) && dns.IsNotFound:
		return fmt.Sprintf("cannot resolve host %q", dns.Name)
	case errors.As(err, &dns):
		return dns.Error()
	case errors.As(err, &sys):
		return sys.Err.Error()
	case errors.As(err, &op) && op.Timeout():
		return "the connection timed out"
	case errors.As(err, &op):
		return op.Err.Error()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection was closed without an answer (is this the right port and protocol?)"
	}
	return strings.TrimPrefix(err.Error(), "unable to dial: ")
}

// unreachable is the error for a cluster or server that did not answer:
// "cannot reach the Kafka cluster at h:1 (--bootstrap-server): connection refused".
func unreachable(what, addr, flag string, err error, timeout time.Duration) error {
	return fmt.Errorf("cannot reach %s at %s (%s): %s", what, addr, flag, netReason(err, timeout))
}

// polish prepares a command tree for users: named argument errors,
// reworded flag errors, failing group commands and presented errors.
func (g *Globals) polish(cmd *cobra.Command) {
	if cmd.HasSubCommands() && !cmd.Runnable() {
		cmd.Args = cobra.ArbitraryArgs
		cmd.RunE = groupRun
	}
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(c *cobra.Command, args []string) error { return g.present(run(c, args)) }
	}
	for _, c := range cmd.Commands() {
		g.polish(c)
	}
}
