package bench

import (
	"context"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"
)

// baseClientOpts returns the options every client of this package starts
// with.
func baseClientOpts(brokers []string, lg *slog.Logger) []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(brokers...)}
	if lg != nil {
		opts = append(opts, kgo.WithLogger(kgoLogger{lg}))
	}
	return opts
}

// kgoLogger forwards the Kafka client's log to slog, at the level the
// handler has enabled.
type kgoLogger struct{ lg *slog.Logger }

func (l kgoLogger) Level() kgo.LogLevel {
	ctx := context.Background()
	switch {
	case l.lg.Enabled(ctx, slog.LevelDebug):
		return kgo.LogLevelDebug
	case l.lg.Enabled(ctx, slog.LevelInfo):
		return kgo.LogLevelInfo
	case l.lg.Enabled(ctx, slog.LevelWarn):
		return kgo.LogLevelWarn
	case l.lg.Enabled(ctx, slog.LevelError):
		return kgo.LogLevelError
	}
	return kgo.LogLevelNone
}

func (l kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	var sl slog.Level
	switch level {
	case kgo.LogLevelError:
		sl = slog.LevelError
	case kgo.LogLevelWarn:
		sl = slog.LevelWarn
	case kgo.LogLevelInfo:
		sl = slog.LevelInfo
	default:
		sl = slog.LevelDebug
	}
	l.lg.Log(context.Background(), sl, msg, keyvals...)
}
