package metadata

// This file runs a single-member etcd inside the broker process. It listens
// on unix-domain sockets only, so that any number of brokers can run on one
// machine without choosing ports.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// EmbeddedConfig configures OpenEmbedded.
type EmbeddedConfig struct {
	Dir    string // the broker's data directory; etcd keeps its files in Dir/etcd
	Logger *slog.Logger
	// MinFreeBytes is metadata.min.free.bytes: writes are refused (with
	// ErrUnavailable) while the file system of Dir has less free space,
	// and the store does not start below it. 0 means DefaultMinFreeBytes;
	// a negative value turns the check off.
	MinFreeBytes int64
	// FreeBytes measures free space (tests); nil measures the file system.
	FreeBytes func(dir string) (uint64, error)
}

// ErrDirLocked means another store (in this or another process) has the
// embedded etcd of the same directory open.
var ErrDirLocked = errors.New("metadata: etcd directory is in use by another process")

// maxSocketPath is the longest socket path used in place. sun_path holds
// 108 bytes on Linux and 104 on the BSDs and macOS, terminator included.
const maxSocketPath = 100

// embeddedServer is what an embedded store stops on Close after its client.
type embeddedServer struct {
	etcd    *embed.Etcd
	sockDir string // a private temporary directory to remove, or ""
	unlock  func() error
}

func (es *embeddedServer) close() error {
	es.etcd.Close()
	var err error
	if es.sockDir != "" {
		err = os.RemoveAll(es.sockDir)
	}
	return errors.Join(err, es.unlock())
}

// OpenEmbedded starts a single-member etcd server in this process with its
// data under cfg.Dir/etcd and opens the store on it. The server listens on
// unix sockets only (cfg.Dir/etcd/client.sock, or one in a private temporary
// directory when that path is too long for a socket; see doc.go for the
// peer listener), so it needs no ports. A lock file keeps a second process off the same directory; stale
// sockets left by a killed process are replaced. ctx bounds the start-up.
// Close stops the server.
func OpenEmbedded(ctx context.Context, cfg EmbeddedConfig) (*Etcd, error) {
	return openEmbeddedWithHook(ctx, cfg, nil)
}

// openEmbeddedWithHook is OpenEmbedded; when failed is not nil it receives
// the function the server's logger calls on a fatal entry (tests).
func openEmbeddedWithHook(ctx context.Context, cfg EmbeddedConfig, failed *func(error)) (s *Etcd, err error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("%w: embedded etcd needs a directory", ErrInvalid)
	}
	lg := orDiscard(cfg.Logger)
	dir, err := filepath.Abs(filepath.Join(cfg.Dir, "etcd"))
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	guard := newSpaceGuard(dir)
	if cfg.FreeBytes != nil {
		guard.freeFunc = cfg.FreeBytes
	}
	switch {
	case cfg.MinFreeBytes == 0:
		guard.minFree = DefaultMinFreeBytes
	case cfg.MinFreeBytes > 0:
		guard.minFree = uint64(cfg.MinFreeBytes)
	}
	// etcd writes as it starts; below the margin it could fail half-way.
	if err := guard.check(false); err != nil {
		return nil, fmt.Errorf("metadata: not starting the embedded etcd: %w", err)
	}
	unlock, err := lockFile(filepath.Join(dir, "lock"))
	if err != nil {
		return nil, err
	}
	es := &embeddedServer{unlock: unlock}
	quiet := new(atomic.Bool)
	defer func() {
		if err != nil {
			quiet.Store(true)
			if es.etcd != nil {
				es.etcd.Close()
			}
			if es.sockDir != "" {
				os.RemoveAll(es.sockDir)
			}
			unlock()
		}
	}()

	sockDir := dir
	if len(filepath.Join(dir, "client.sock")) > maxSocketPath {
		if es.sockDir, err = os.MkdirTemp("", "strait-etcd-"); err != nil {
			return nil, fmt.Errorf("metadata: socket directory: %w", err)
		}
		sockDir = es.sockDir
	}
	clientSock := filepath.Join(sockDir, "client.sock")
	peerSock := filepath.Join(sockDir, "peer.sock")
	clientURL := url.URL{Scheme: "unix", Path: clientSock}
	peerURL := url.URL{Scheme: "unix", Path: peerSock}

	ecfg := embed.NewConfig()
	ecfg.Name = "strait"
	ecfg.Dir = filepath.Join(dir, "data")
	ecfg.InitialClusterToken = "strait"
	ecfg.ListenClientUrls = []url.URL{clientURL}
	ecfg.AdvertiseClientUrls = []url.URL{clientURL}
	ecfg.ListenPeerUrls = []url.URL{peerURL}
	ecfg.AdvertisePeerUrls = []url.URL{peerURL}
	ecfg.InitialCluster = ecfg.InitialClusterFromName(ecfg.Name)
	ecfg.EnableGRPCGateway = false
	// A single member campaigns after a random 1 to 10 ticks once etcd has
	// fast-forwarded its election clock. It is the only voter and cannot
	// lose an election, so short ticks cost nothing but cheap wake-ups and
	// make start-up take tens of milliseconds instead of up to a second.
	ecfg.TickMs = 25
	ecfg.ElectionMs = 250
	// History is only needed by watchers that lag; a reload covers the rest.
	ecfg.AutoCompactionMode = "revision"
	ecfg.AutoCompactionRetention = "1000"
	// Metadata requests are few; only a really slow one is worth a warning.
	ecfg.WarningApplyDuration = time.Second
	ecfg.WarningUnaryRequestDuration = time.Second
	ecfg.LogLevel = "warn"
	es.etcd, guard, err = startServer(ctx, ecfg, lg, quiet, guard)
	if err != nil && rebuildableDB(ecfg.Dir) {
		// The WAL holds the whole history (no snapshot was ever taken), so
		// a database etcd cannot open is rebuilt from it; the old file is
		// kept aside.
		db := filepath.Join(ecfg.Dir, "member", "snap", "db")
		aside := fmt.Sprintf("%s.%d.damaged", db, time.Now().UnixMilli())
		if rerr := os.Rename(db, aside); rerr == nil {
			lg.Warn("metadata: the embedded etcd did not start; rebuilding its database from its WAL", "err", err, "kept_in", aside)
			es.etcd, guard, err = startServer(ctx, ecfg, lg, quiet, guard.fresh())
			if err != nil {
				os.Rename(aside, db) // as it was
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("metadata: the embedded etcd in %s did not start: %w. Its files may be damaged; "+
			"the partitions in the log directories are untouched. Restore %s from a backup, or point metadata.endpoints at the cluster's etcd",
			dir, err, ecfg.Dir)
	}
	if failed != nil {
		*failed = guard.fail
	}

	endpoint := "unix://" + clientSock
	cli, err := newClient([]string{endpoint}, lg, quiet)
	if err != nil {
		return nil, fmt.Errorf("metadata: etcd client: %w", err)
	}
	s, err = open(ctx, cli, DefaultPrefix, lg, []string{endpoint}, quiet, es)
	if err != nil {
		cli.Close()
		return nil, err
	}
	s.guard, s.writesStopped = guard.check, guard.stopped
	return s, nil
}

// monitor reports an embedded server that fails or stops while the store
// is open.
func (s *Etcd) monitor(es *embeddedServer) {
	select {
	case err, ok := <-es.etcd.Err():
		if ok && s.ctx.Err() == nil {
			s.lg.Error("metadata: embedded etcd failed", "err", err)
		}
	case <-es.etcd.Server.StopNotify():
		if s.ctx.Err() == nil {
			s.lg.Error("metadata: embedded etcd stopped")
		}
	case <-s.ctx.Done():
	}
}

// startTimeout bounds how long the embedded etcd may take to become ready:
// a healthy one takes well under a second, a damaged one may never be.
const startTimeout = time.Minute

// startServer starts the embedded etcd and waits until it is ready. etcd
// ends the process on a failed WAL or database write (zap Fatal) and on some
// inconsistencies (zap Panic); its logger here stops only the goroutine that
// logged such an entry and tells guard, so a failure at run time leaves the
// broker serving with metadata changes refused, and one while starting (a
// panic too) is an error instead of a crash or a hang.
func startServer(ctx context.Context, ecfg *embed.Config, lg *slog.Logger, quiet *atomic.Bool, guard *spaceGuard) (*embed.Etcd, *spaceGuard, error) {
	ecfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(newServerZapLogger(lg.With("component", "etcd"), quiet, guard.fail))
	type started struct {
		e   *embed.Etcd
		err error
	}
	ch := make(chan started, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- started{err: fmt.Errorf("etcd panicked: %v", r)}
			}
		}()
		e, err := embed.StartEtcd(ecfg)
		ch <- started{e, err}
	}()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	var e *embed.Etcd
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, guard, r.err
		}
		e = r.e
	case <-guard.stopped.Done():
		return nil, guard, guard.cause()
	case <-timer.C:
		return nil, guard, fmt.Errorf("not ready after %v", startTimeout)
	case <-ctx.Done():
		return nil, guard, fmt.Errorf("not ready: %w", ctx.Err())
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, guard, nil
	case err := <-e.Err():
		go e.Close()
		return nil, guard, err
	case <-guard.stopped.Done():
		return nil, guard, guard.cause()
	case <-timer.C:
		go e.Close()
		return nil, guard, fmt.Errorf("not ready after %v", startTimeout)
	case <-ctx.Done():
		go e.Close()
		return nil, guard, fmt.Errorf("not ready: %w", ctx.Err())
	}
}

// rebuildableDB reports whether etcd can rebuild its database from its WAL
// alone: no snapshot was ever taken and the WAL starts at index 0.
func rebuildableDB(dataDir string) bool {
	snaps, _ := filepath.Glob(filepath.Join(dataDir, "member", "snap", "*.snap"))
	if len(snaps) > 0 {
		return false
	}
	if _, err := os.Stat(filepath.Join(dataDir, "member", "snap", "db")); err != nil {
		return false
	}
	_, err := os.Stat(filepath.Join(dataDir, "member", "wal", "0000000000000000-0000000000000000.wal"))
	return err == nil
}
