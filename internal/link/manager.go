package link

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strait-kafka/strait/internal/broker"
	"github.com/strait-kafka/strait/internal/group"
	"github.com/strait-kafka/strait/internal/link/linkconf"
	"github.com/strait-kafka/strait/internal/metadata"
)

// Options configure a Manager.
type Options struct {
	Broker *broker.Broker
	// Secret seals link credentials at rest (cluster.link.secret); "" means
	// links with credentials cannot be stored.
	Secret string
	// MaxLinks bounds the links of this cluster (cluster.link.max.links).
	MaxLinks int
	Logger   *slog.Logger
	Now      func() time.Time
	// Registerer receives the link metrics (nil: none).
	Registerer prometheus.Registerer
	// Groups is this cluster's group coordinator, for consumer offset sync
	// and for clamping offsets when mirrors stop (nil: neither).
	Groups *group.Coordinator
}

// Manager runs the cluster links of this cluster and implements Service.
type Manager struct {
	o       Options
	lg      *slog.Logger
	meta    metadata.Store
	brk     *broker.Broker
	sealer  *linkconf.Sealer
	now     func() time.Time
	metrics *metrics

	// ctx is the Manager's lifetime; runners derive from it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	runners map[string]*runner // by link name
}

var _ Service = (*Manager)(nil)

// New makes a manager; Run starts the links.
func New(o Options) (*Manager, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxLinks <= 0 {
		o.MaxLinks = 10
	}
	m := &Manager{
		o: o, lg: o.Logger.With("component", "link"), meta: o.Broker.Metadata(), brk: o.Broker,
		now: o.Now, runners: make(map[string]*runner),
	}
	if o.Secret != "" {
		s, err := linkconf.NewSealer(o.Secret)
		if err != nil {
			return nil, err
		}
		m.sealer = s
	}
	m.metrics = newMetrics(m, o.Registerer)
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

// ClusterID is this (the destination) cluster's ID.
func (m *Manager) ClusterID() string { return m.meta.ClusterID() }

// Run starts a runner for every link and keeps the set of runners equal to
// the stored links (and their configs) until ctx ends; it then stops every
// runner and returns once they are joined.
func (m *Manager) Run(ctx context.Context) {
	stop := context.AfterFunc(ctx, m.cancel)
	defer stop()
	changes := m.meta.Changes()
	for {
		m.reconcile()
		select {
		case <-m.ctx.Done():
			m.mu.Lock()
			for name, r := range m.runners {
				r.stop()
				delete(m.runners, name)
			}
			m.mu.Unlock()
			m.wg.Wait()
			return
		case <-changes:
		}
	}
}

// reconcile starts, restarts and stops runners to match the stored links,
// and tells every runner that the metadata changed.
func (m *Manager) reconcile() {
	links := m.meta.Links()
	m.mu.Lock()
	defer m.mu.Unlock()
	want := make(map[string]metadata.Link, len(links))
	for _, l := range links {
		want[l.Name] = l
	}
	for name, r := range m.runners {
		l, ok := want[name]
		if !ok || l.ID != r.id {
			r.stop()
			delete(m.runners, name)
			continue
		}
		if l.Revision != r.link.Revision {
			if r.needsRestart(l) {
				r.stop()
				delete(m.runners, name)
				continue
			}
			r.update(l)
		}
		r.metadataChanged()
	}
	for name, l := range want {
		if _, ok := m.runners[name]; ok {
			continue
		}
		r, err := newRunner(m, l)
		if err != nil {
			m.lg.Error("cannot start cluster link", "link", name, "err", err)
			continue
		}
		m.runners[name] = r
		r.start(&m.wg)
	}
}

func (m *Manager) runner(name string) *runner {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.runners[name]
}

// ---- errors ----

// Confluent REST error codes used here.
const (
	codeBadRequest    = 400
	codeAlreadyExists = 40002
	codeNotFound      = 404
	codeTopicNotFound = 40403
	codeInternal      = 500
)

func badRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, codeBadRequest, format, args...)
}

func linkNotFound(name string) *Error {
	return Errorf(http.StatusNotFound, codeNotFound, "Cluster link '%s' does not exist.", name)
}

func internalError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Errorf(http.StatusInternalServerError, codeInternal, "%v", err)
}

// ---- links ----

// validateLinkName applies Confluent's link name rules and error texts.
func validateLinkName(name string) *Error {
	switch {
	case name == "":
		return badRequest("Link name must not be empty")
	case len(name) > 200:
		return badRequest("Link name exceeds maximum size of '200' characters")
	case name == "." || name == "..":
		return badRequest("Link name '%s' is illegal, valid characters: [a-zA-Z0-9._-]", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return badRequest("Link name '%s' is illegal, valid characters: [a-zA-Z0-9._-]", name)
		}
	}
	return nil
}

// newLinkID makes a cluster_link_id: a random UUID in base64url, 22 characters.
func newLinkID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// CreateLink validates and stores a link.
func (m *Manager) CreateLink(ctx context.Context, req CreateLinkRequest) error {
	if e := validateLinkName(req.Name); e != nil {
		return e
	}
	if _, ok := m.meta.Link(req.Name); ok {
		return Errorf(http.StatusBadRequest, codeAlreadyExists, "Cluster link '%s' already exists.", req.Name)
	}
	if n := len(m.meta.Links()); n >= m.o.MaxLinks {
		return badRequest("Cannot create cluster link '%s': this cluster already has %d cluster links, the limit set by cluster.link.max.links", req.Name, n)
	}
	cfg := cloneMap(req.Configs)
	if err := linkconf.Validate(cfg); err != nil {
		return badRequest("%v", err)
	}
	s, err := parseSettings(cfg)
	if err != nil {
		return badRequest("%v", err)
	}
	sourceID := req.SourceClusterID
	if !req.SkipValidation {
		got, err := probeSource(ctx, s, m.lg.With("link", req.Name))
		if err != nil {
			return badRequest("Cannot validate cluster link '%s': %v", req.Name, err)
		}
		if sourceID != "" && got != sourceID {
			return badRequest("Cannot create cluster link '%s': the source cluster at %s has cluster ID '%s', not the expected '%s'",
				req.Name, strings.Join(s.bootstrap, ","), got, sourceID)
		}
		sourceID = got
	}
	sealed, err := linkconf.SealConfigs(cfg, m.sealer)
	if err != nil {
		return badRequest("%v", err)
	}
	if req.ValidateOnly {
		return nil
	}
	l := metadata.Link{Name: req.Name, ID: newLinkID(), SourceClusterID: sourceID, Configs: sealed, CreatedMs: m.now().UnixMilli()}
	if err := m.meta.CreateLink(ctx, l); err != nil {
		if errors.Is(err, metadata.ErrLinkExists) {
			return Errorf(http.StatusBadRequest, codeAlreadyExists, "Cluster link '%s' already exists.", req.Name)
		}
		return internalError(err)
	}
	m.lg.Info("created cluster link", "link", req.Name, "link_id", l.ID, "source_cluster_id", sourceID,
		"bootstrap.servers", strings.Join(s.bootstrap, ","))
	return nil
}

// linkConfigs returns a stored link's configs with secrets opened.
func (m *Manager) linkConfigs(l metadata.Link) (map[string]string, error) {
	return linkconf.OpenConfigs(l.Configs, m.sealer)
}

// ListLinks describes every link.
func (m *Manager) ListLinks(ctx context.Context) ([]LinkInfo, error) {
	var out []LinkInfo
	for _, l := range m.meta.Links() {
		out = append(out, m.linkInfo(l, false))
	}
	return out, nil
}

// DescribeLink describes one link.
func (m *Manager) DescribeLink(ctx context.Context, name string, includeTasks bool) (LinkInfo, error) {
	l, ok := m.meta.Link(name)
	if !ok {
		return LinkInfo{}, linkNotFound(name)
	}
	return m.linkInfo(l, includeTasks), nil
}

func (m *Manager) linkInfo(l metadata.Link, includeTasks bool) LinkInfo {
	info := LinkInfo{
		Name: l.Name, ID: l.ID, SourceClusterID: l.SourceClusterID, DestinationClusterID: m.ClusterID(),
		State: LinkStateActive, Error: "NO_ERROR", Created: time.UnixMilli(l.CreatedMs),
		MirrorStateCounts: map[string]int{},
	}
	r := m.runner(l.Name)
	if r != nil {
		st := r.status()
		info.State, info.Error, info.ErrorMessage = st.state, st.errCode, st.errMessage
		if includeTasks {
			info.Tasks = st.tasks
		}
	}
	for _, mi := range m.mirrors(l.Name, "") {
		info.Topics = append(info.Topics, mi.MirrorTopic)
		info.MirrorStateCounts[stateCategory(mi.State)] += mi.Partitions
	}
	sort.Strings(info.Topics)
	return info
}

// stateCategory maps a mirror state to Confluent's partition state categories.
func stateCategory(state string) string {
	switch state {
	case StateActive:
		return "ACTIVE"
	case StatePaused, StateLinkPaused:
		return "PAUSED"
	case StatePendingStopped, StatePendingMirror:
		return "PENDING"
	case StateStopped:
		return "NOT_APPLICABLE"
	default:
		return "IN_ERROR"
	}
}

// DeleteLink deletes a link. Without force it is refused while the link has
// mirror topics that are not stopped; with force those mirrors become
// LINK_FAILED (still read-only; they can be deleted).
func (m *Manager) DeleteLink(ctx context.Context, name string, force, validateOnly bool) error {
	if _, ok := m.meta.Link(name); !ok {
		return linkNotFound(name)
	}
	var live []string
	for _, t := range m.meta.Topics() {
		if t.Mirror != nil && t.Mirror.Link == name && t.Mirror.State != StateStopped && t.Mirror.State != StateLinkFailed {
			live = append(live, t.Name)
		}
	}
	if len(live) > 0 && !force {
		return badRequest("Cannot delete cluster link '%s': it has mirror topics that are not stopped: %s. Promote or fail them over first, or delete the link with force.",
			name, strings.Join(live, ", "))
	}
	if validateOnly {
		return nil
	}
	for _, topic := range live {
		err := m.meta.UpdateTopic(ctx, topic, func(t *metadata.Topic) error {
			if t.Mirror != nil && t.Mirror.State != StateStopped {
				t.Mirror.State, t.Mirror.StateTimeMs = StateLinkFailed, m.now().UnixMilli()
				t.Mirror.Error, t.Mirror.ErrorMessage = "ILLEGAL_STATE", fmt.Sprintf("cluster link '%s' was deleted", name)
			}
			return nil
		})
		if err != nil && !errors.Is(err, metadata.ErrTopicNotFound) {
			return internalError(err)
		}
	}
	if err := m.meta.DeleteLink(ctx, name); err != nil {
		if errors.Is(err, metadata.ErrLinkNotFound) {
			return linkNotFound(name)
		}
		return internalError(err)
	}
	m.lg.Info("deleted cluster link", "link", name, "forced", force, "mirrors_failed", live)
	return nil
}

// LinkConfigs describes a link's configs (sensitive values are never returned).
func (m *Manager) LinkConfigs(ctx context.Context, name string) ([]ConfigEntry, error) {
	l, ok := m.meta.Link(name)
	if !ok {
		return nil, linkNotFound(name)
	}
	var out []ConfigEntry
	for _, e := range linkconf.Describe(l.Configs) {
		out = append(out, ConfigEntry{Name: e.Name, Value: e.Value, IsDefault: e.IsDefault, ReadOnly: e.ReadOnly,
			Sensitive: e.Sensitive, Source: e.Source, Synonyms: e.Synonyms})
	}
	return out, nil
}

// AlterLinkConfigs changes a link's configs; the runner applies them live.
func (m *Manager) AlterLinkConfigs(ctx context.Context, name string, set map[string]string, reset []string, validateOnly bool) error {
	l, ok := m.meta.Link(name)
	if !ok {
		return linkNotFound(name)
	}
	old, err := m.linkConfigs(l)
	if err != nil {
		return internalError(err)
	}
	updated := cloneMap(old)
	for _, k := range reset {
		if _, known := linkconf.Lookup(k); !known {
			return badRequest("unknown cluster link config %q", k)
		}
		delete(updated, k)
	}
	for k, v := range set {
		updated[k] = v
	}
	if err := linkconf.ValidateUpdate(old, updated); err != nil {
		return badRequest("%v", err)
	}
	if _, err := parseSettings(updated); err != nil {
		return badRequest("%v", err)
	}
	sealed, err := linkconf.SealConfigs(updated, m.sealer)
	if err != nil {
		return badRequest("%v", err)
	}
	if validateOnly {
		return nil
	}
	if err := m.meta.UpdateLink(ctx, name, func(l *metadata.Link) error {
		l.Configs = sealed
		return nil
	}); err != nil {
		if errors.Is(err, metadata.ErrLinkNotFound) {
			return linkNotFound(name)
		}
		return internalError(err)
	}
	m.lg.Info("cluster link configs changed", "link", name, "set", linkconf.Mask(set), "reset", reset)
	return nil
}

// Close stops every runner (Run does this too when its context ends).
func (m *Manager) Close() {
	m.cancel()
	m.wg.Wait()
}

func cloneMap(in map[string]string) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}
