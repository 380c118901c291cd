package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/strait-kafka/strait/internal/app"
	"github.com/strait-kafka/strait/internal/config"
	"github.com/strait-kafka/strait/internal/metadata"
	"github.com/strait-kafka/strait/internal/rest"
	"github.com/strait-kafka/strait/internal/rest/resttest"
)

// runCLI runs `strait args...` in process with stdin, returning what it
// printed on stdout and stderr.
func runCLI(t *testing.T, ctx context.Context, stdin string, args ...string) (string, string, error) {
	t.Helper()
	root := &cobra.Command{Use: "strait", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(Commands()...)
	var out, errb bytes.Buffer
	root.SetArgs(args)
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errb)
	if ctx == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
	}
	err := root.ExecuteContext(ctx)
	return out.String(), errb.String(), err
}

// request is one HTTP request the REST server received.
type request struct {
	Method, Path, Query, Body string
}

// restServer is Strait's REST handler over a fake link service, recording
// the requests it gets.
type restServer struct {
	url  string
	fake *resttest.Fake

	mu   sync.Mutex
	reqs []request
}

func newRESTServer(t *testing.T, f *resttest.Fake) *restServer {
	t.Helper()
	h := rest.New(rest.Options{Links: f})
	t.Cleanup(h.Close)
	s := &restServer{fake: f}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, request{r.Method, r.URL.Path, r.URL.RawQuery, string(b)})
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

// requests returns the requests so far and forgets them.
func (s *restServer) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.reqs
	s.reqs = nil
	return r
}

// startStrait runs an in-process broker with in-memory metadata and
// returns its Kafka address; it stops at the test's end.
func startStrait(t *testing.T) string {
	t.Helper()
	cfg, _, err := config.Load(config.LoadOptions{Flags: map[string]string{
		"listeners":                    "PLAINTEXT://127.0.0.1:0",
		"http.listeners":               "http://127.0.0.1:0",
		"log.dirs":                     t.TempDir(),
		"offsets.topic.num.partitions": "1",
	}})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Start(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Options{Meta: metadata.NewMemory("")})
	if err != nil {
		cancel()
		t.Fatalf("start: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("broker stopped with error: %v", err)
		}
	})
	return a.KafkaAddrs[0]
}

// lines joins lines with a newline after each.
func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }
