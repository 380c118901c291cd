package metadata

// etcd's server and client log through zap. This file routes their
// warnings and errors into the broker's slog logger and drops the rest, so
// that etcd's chatter at info level never reaches the broker's output.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newZapLogger returns a zap logger that forwards entries at WARN and above
// to lg, with their fields as attributes. While quiet is set (the store is
// closing, and etcd reports every listener it closes as a failure) and for
// the benign warnings below, entries go to lg at debug level instead.
func newZapLogger(lg *slog.Logger, quiet *atomic.Bool) *zap.Logger {
	return zap.New(&slogCore{lg: lg, quiet: quiet})
}

// newServerZapLogger is newZapLogger for the embedded etcd server, whose
// Fatal and Panic entries must not end the broker: failed is told what
// went wrong and the goroutine that logged it exits (runtime.Goexit), as
// zap's hook contract asks.
func newServerZapLogger(lg *slog.Logger, quiet *atomic.Bool, failed func(error)) *zap.Logger {
	hook := stopGoroutine{failed: failed}
	return zap.New(&slogCore{lg: lg, quiet: quiet}, zap.WithFatalHook(hook), zap.WithPanicHook(hook))
}

type stopGoroutine struct{ failed func(error) }

func (h stopGoroutine) OnWrite(ce *zapcore.CheckedEntry, fields []zapcore.Field) {
	msg := ce.Message
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fields {
		f.AddTo(enc)
	}
	if e, ok := enc.Fields["error"]; ok {
		msg = fmt.Sprintf("%s: %v", msg, e)
	}
	h.failed(errors.New(msg))
	runtime.Goexit()
}

// benignEtcdWarnings are warnings the embedded single-member setup causes by
// design: one port (socket) for gRPC and HTTP, and the default simple auth
// token although auth is off.
var benignEtcdWarnings = map[string]bool{
	"Running http and grpc server on single port. This is not recommended for production.": true,
	"simple token is not cryptographically signed":                                         true,
}

type slogCore struct {
	lg     *slog.Logger
	quiet  *atomic.Bool
	fields []zapcore.Field // from With, oldest first
}

func (c *slogCore) Enabled(l zapcore.Level) bool { return l >= zapcore.WarnLevel }

func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	return &slogCore{lg: c.lg, quiet: c.quiet, fields: append(append([]zapcore.Field(nil), c.fields...), fields...)}
}

func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	level := slog.LevelWarn
	switch {
	case c.quiet.Load() || benignEtcdWarnings[e.Message]:
		level = slog.LevelDebug
	case e.Level > zapcore.WarnLevel:
		level = slog.LevelError
	}
	if !c.lg.Enabled(context.Background(), level) {
		return nil
	}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range c.fields {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	attrs := make([]slog.Attr, 0, len(enc.Fields)+1)
	if e.LoggerName != "" {
		attrs = append(attrs, slog.String("logger", e.LoggerName))
	}
	for _, k := range slices.Sorted(maps.Keys(enc.Fields)) {
		attrs = append(attrs, slog.Any(k, enc.Fields[k]))
	}
	c.lg.LogAttrs(context.Background(), level, e.Message, attrs...)
	return nil
}

func (c *slogCore) Sync() error { return nil }
