package metadata

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/zap"
)

func TestMetadataZapToSlog(t *testing.T) {
	var buf bytes.Buffer
	lg := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var quiet atomic.Bool
	zl := newZapLogger(lg, &quiet).With(zap.String("member", "m1"))

	zl.Info("chatter")
	zl.Debug("more chatter")
	zl.Warn("slow apply", zap.Int("took-ms", 150), zap.Error(errors.New("disk")))
	zl.Error("failed", zap.Strings("urls", []string{"a", "b"}))
	zl.Warn("simple token is not cryptographically signed")
	quiet.Store(true)
	zl.Error("accept: use of closed network connection")

	var got []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		delete(m, "time")
		got = append(got, m)
	}
	want := []map[string]any{
		{"level": "WARN", "msg": "slow apply", "member": "m1", "took-ms": float64(150), "error": "disk"},
		{"level": "ERROR", "msg": "failed", "member": "m1", "urls": []any{"a", "b"}},
		{"level": "DEBUG", "msg": "simple token is not cryptographically signed", "member": "m1"},
		{"level": "DEBUG", "msg": "accept: use of closed network connection", "member": "m1"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d:\n%s", len(got), len(want), buf.String())
	}
	for i := range want {
		if g, w := mustJSON(t, got[i]), mustJSON(t, want[i]); g != w {
			t.Errorf("entry %d = %s, want %s", i, g, w)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
