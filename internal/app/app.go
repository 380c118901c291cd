// Package app wires Strait's components together and owns their lifecycle:
// start order, the goroutines that run them, and a bounded, ordered stop.
// It holds no broker logic.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/strait-kafka/strait/internal/broker"
	"github.com/strait-kafka/strait/internal/config"
	"github.com/strait-kafka/strait/internal/group"
	"github.com/strait-kafka/strait/internal/link"
	"github.com/strait-kafka/strait/internal/metadata"
	"github.com/strait-kafka/strait/internal/partition"
	"github.com/strait-kafka/strait/internal/rest"
	"github.com/strait-kafka/strait/internal/server"
	"github.com/strait-kafka/strait/internal/storage"
)

// App is a running broker.
type App struct {
	cfg    *config.Broker
	lg     *slog.Logger
	meta   metadata.Store
	mgr    *partition.Manager
	groups *group.Coordinator
	brk    *broker.Broker
	links  *link.Manager
	reg    *prometheus.Registry

	kafkaLns []net.Listener
	httpLns  []net.Listener
	httpSrv  *http.Server

	// Ready facts.
	KafkaAddrs []string
	HTTPAddrs  []string
}

// Options are optional injections for Start.
type Options struct {
	// Meta replaces the metadata store named by the config (tests use an
	// in-memory store). The App closes it at shutdown.
	Meta metadata.Store
	// FS replaces the file system of the partitions (tests inject faults).
	FS storage.FS
}

// Start opens storage and metadata and binds the listeners. Run serves until
// its context ends and then stops everything.
func Start(ctx context.Context, cfg *config.Broker, lg *slog.Logger, opts ...Options) (*App, error) {
	a := &App{cfg: cfg, lg: lg}
	ok := false
	defer func() {
		if !ok {
			a.closeAll()
		}
	}()
	var err error
	var fsys storage.FS
	for _, o := range opts {
		if o.Meta != nil {
			a.meta = o.Meta
		}
		if o.FS != nil {
			fsys = o.FS
		}
	}
	if a.meta != nil {
		// injected
	} else {
		// A failed open returns a nil *Etcd; it must not become a non-nil
		// Store that closeAll would then close.
		var store *metadata.Etcd
		if len(cfg.MetadataEndpoints) > 0 {
			store, err = metadata.OpenRemote(ctx, metadata.RemoteConfig{Endpoints: cfg.MetadataEndpoints, Logger: lg})
		} else {
			minFree := cfg.MetadataMinFreeBytes
			if minFree == 0 {
				minFree = -1 // 0 bytes to keep: no check
			}
			store, err = metadata.OpenEmbedded(ctx, metadata.EmbeddedConfig{Dir: cfg.MetadataLogDir, Logger: lg, MinFreeBytes: minFree})
		}
		if err != nil {
			return nil, err // metadata errors name their package
		}
		a.meta = store
	}
	meta := a.meta
	a.mgr, err = partition.NewManager(partition.ManagerOptions{
		Dirs:           cfg.LogDirs,
		Logger:         lg,
		RetentionCheck: time.Duration(cfg.RetentionCheckMs) * time.Millisecond,
		FlushCheck:     time.Duration(cfg.FlushSchedulerMs) * time.Millisecond,
		Files:          storage.FilesConfig{FS: fsys, MaxOpen: openFileBudget(lg)},
		ClusterID:      a.meta.ClusterID(),
		TopicKnown: func(id uuid.UUID) bool {
			_, ok := meta.TopicByID(id)
			return ok
		},
		NodeID:             cfg.NodeID,
		DefaultDeleteDelay: time.Duration(cfg.SegmentDeleteDelayMs) * time.Millisecond,
	})
	if err != nil {
		return nil, err
	}
	a.groups = group.New(group.Options{
		Config: group.ConfigFromBroker(cfg), Partitions: a.mgr, Logger: lg,
		Topics: func(topic string) (int32, bool) {
			t, ok := meta.Topic(topic)
			return int32(len(t.Partitions)), ok
		},
	})
	a.brk, err = broker.New(broker.Options{Config: cfg, Meta: a.meta, Partitions: a.mgr, Groups: a.groups, Logger: lg})
	if err != nil {
		return nil, err
	}
	if err := a.brk.Reconcile(); err != nil {
		return nil, fmt.Errorf("opening partitions: %w", err)
	}
	n, err := a.brk.EnsureInternalTopic(ctx, group.Topic, cfg.OffsetsTopicPartitions, group.TopicConfigs())
	if err != nil {
		return nil, err
	}
	if err := a.groups.Load(n); err != nil {
		return nil, err
	}
	a.reg = prometheus.NewRegistry()
	a.links, err = link.New(link.Options{
		Broker: a.brk, Secret: cfg.ClusterLinkSecret, MaxLinks: int(cfg.ClusterLinkMaxLinks),
		Logger: lg, Registerer: a.reg, Groups: a.groups,
	})
	if err != nil {
		return nil, err
	}

	for _, l := range cfg.Listeners {
		_, hostport, err := splitListener(l)
		if err != nil {
			return nil, err
		}
		ln, err := net.Listen("tcp", hostport)
		if err != nil {
			return nil, fmt.Errorf("listeners: %s: %w", l, err)
		}
		a.kafkaLns = append(a.kafkaLns, ln)
		a.KafkaAddrs = append(a.KafkaAddrs, ln.Addr().String())
	}
	host, port, err := a.advertised()
	if err != nil {
		return nil, err
	}
	a.brk.SetAdvertised(host, port)
	for _, l := range cfg.HTTPListeners {
		u, err := url.Parse(l)
		if err != nil {
			return nil, fmt.Errorf("http.listeners: %s: %w", l, err)
		}
		ln, err := net.Listen("tcp", u.Host)
		if err != nil {
			return nil, fmt.Errorf("http.listeners: %s: %w", l, err)
		}
		a.httpLns = append(a.httpLns, ln)
		a.HTTPAddrs = append(a.HTTPAddrs, ln.Addr().String())
	}
	ok = true
	return a, nil
}

// ClusterID is the cluster's ID.
func (a *App) ClusterID() string { return a.meta.ClusterID() }

// Broker exposes the broker (for in-process tests).
func (a *App) Broker() *broker.Broker { return a.brk }

// advertised picks the address clients are told: the first advertised
// listener, else the first bound listener (a wildcard host becomes this
// machine's host name).
func (a *App) advertised() (string, int32, error) {
	var hostport string
	if len(a.cfg.AdvertisedListeners) > 0 {
		_, hp, err := splitListener(a.cfg.AdvertisedListeners[0])
		if err != nil {
			return "", 0, err
		}
		hostport = hp
	} else {
		hostport = a.KafkaAddrs[0]
	}
	h, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", 0, fmt.Errorf("advertised.listeners: %q: %w", hostport, err)
	}
	if h == "" || h == "0.0.0.0" || h == "::" {
		if h, err = os.Hostname(); err != nil {
			return "", 0, err
		}
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("advertised.listeners: bad port %q", p)
	}
	if port == 0 && len(a.KafkaAddrs) > 0 {
		_, bp, _ := net.SplitHostPort(a.KafkaAddrs[0])
		port, _ = strconv.Atoi(bp)
	}
	return h, int32(port), nil
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }

func splitListener(l string) (name, hostport string, err error) {
	name, hostport, ok := strings.Cut(l, "://")
	if !ok {
		return "", "", fmt.Errorf("listener %q is not NAME://HOST:PORT", l)
	}
	return name, hostport, nil
}

// Run serves until ctx ends, then shuts down in order: stop accepting and
// drain connections, stop background loops, close the group coordinator,
// close partitions (writing clean shutdown markers and producer snapshots),
// close the metadata store.
func (a *App) Run(ctx context.Context) error {
	reg := a.reg
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newPartitionCollector(a.mgr))
	srvMetrics := server.NewMetrics(reg)
	restSrv := rest.New(rest.Options{
		Registry: reg, ClusterID: a.ClusterID(), NodeID: a.cfg.NodeID,
		Links: a.links, KafkaAddr: a.KafkaAddrs[0], Logger: a.lg.With("component", "rest"),
	})
	defer restSrv.Close()
	a.httpSrv = restSrv.HTTPServer()

	var wg sync.WaitGroup
	errs := make(chan error, len(a.kafkaLns)+len(a.httpLns)+1)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	if err := a.meta.RegisterBroker(runCtx, a.brokerRegistration()); err != nil {
		if ctx.Err() != nil { // stopped while starting: a clean stop
			return a.closeAll()
		}
		return fmt.Errorf("registering broker: %w", err)
	}
	// One connection count and one request-bytes budget for all listeners,
	// as Kafka's max.connections and queued.max.request.bytes are per broker.
	quotas := server.NewQuotas(func() server.Limits {
		c := a.brk.Config()
		return server.Limits{MaxConnections: c.MaxConnections, MaxPerIP: c.MaxConnectionsPerIP,
			PerIPOverrides: c.ConnectionsPerIPOverrides()}
	}, a.lg)
	budget := server.NewBudget(a.cfg.QueuedMaxRequestBytes)
	srvMetrics.TrackBudget(budget)
	for i, ln := range a.kafkaLns {
		name, _, _ := splitListener(a.cfg.Listeners[i])
		srv := server.New(server.Options{
			Listener: ln, Name: name, Broker: a.brk, Logger: a.lg, Metrics: srvMetrics,
			MaxRequestBytes: func() int32 { return a.brk.Config().SocketRequestMaxBytes },
			Quotas:          quotas, Budget: budget,
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(runCtx); err != nil {
				errs <- err
			}
		}()
	}
	for _, ln := range a.httpLns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("http: %w", err)
			}
		}()
	}
	wg.Add(4)
	go func() { defer wg.Done(); a.links.Run(runCtx) }()
	go func() { defer wg.Done(); a.brk.Run(runCtx) }()
	go func() { defer wg.Done(); a.mgr.Run(runCtx) }()
	go func() { defer wg.Done(); a.groups.Run(runCtx) }()

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errs:
		a.lg.Error("stopping after a fatal error", "err", runErr)
	}
	cancel()
	shutCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	_ = a.httpSrv.Shutdown(shutCtx)
	done()
	wg.Wait()
	return errors.Join(runErr, a.closeAll())
}

func (a *App) brokerRegistration() metadata.Broker {
	h, p, _ := a.advertised()
	return metadata.Broker{NodeID: a.cfg.NodeID, Host: h, Port: p}
}

func (a *App) closeAll() error {
	var errs []error
	for _, ln := range a.kafkaLns {
		ln.Close()
	}
	for _, ln := range a.httpLns {
		ln.Close()
	}
	if a.groups != nil {
		a.groups.Close()
		a.groups = nil
	}
	if a.mgr != nil {
		errs = append(errs, a.mgr.Close())
		a.mgr = nil
	}
	if a.meta != nil {
		errs = append(errs, a.meta.Close())
		a.meta = nil
	}
	return errors.Join(errs...)
}
