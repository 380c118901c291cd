package link

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/strait-kafka/strait/internal/broker"
	"github.com/strait-kafka/strait/internal/config"
	"github.com/strait-kafka/strait/internal/metadata"
)

// sourceClient returns an admin client for the link's source: the runner's
// when it runs, else a temporary one the caller must close with done.
// The settings always come from the stored link, which a config change
// updates before the runner hears of it. self is the calling runner, if a
// runner calls: it must not take Manager.mu, which the Manager holds while
// it stops (and joins) that runner.
func (m *Manager) sourceClient(l metadata.Link, self *runner) (adm *kadm.Client, s settings, done func(), err error) {
	cfg, err := m.linkConfigs(l)
	if err != nil {
		return nil, settings{}, nil, err
	}
	if s, err = parseSettings(cfg); err != nil {
		return nil, settings{}, nil, err
	}
	r := self
	if r == nil {
		r = m.runner(l.Name)
	}
	if r != nil && r.id == l.ID && r.settings().connection == s.connection {
		return r.adm, s, func() {}, nil
	}
	cl, _, err := newSourceClient(s, dialHooks{}, m.lg.With("link", l.Name))
	if err != nil {
		return nil, settings{}, nil, err
	}
	return kadm.NewClient(cl), s, cl.Close, nil
}

// CreateMirror creates a mirror topic: named prefix + source topic, with the
// source's partition count and synced configs, starting per
// mirror.start.offset.spec.
func (m *Manager) CreateMirror(ctx context.Context, req CreateMirrorRequest) error {
	return m.createMirror(ctx, req, nil)
}

// createMirror is CreateMirror; self is the link's runner when it calls
// (auto-create), so that it never takes Manager.mu (see sourceClient).
func (m *Manager) createMirror(ctx context.Context, req CreateMirrorRequest, self *runner) error {
	l, ok := m.meta.Link(req.Link)
	if !ok {
		return linkNotFound(req.Link)
	}
	if req.SourceTopic == "" {
		return badRequest("source_topic_name is required")
	}
	adm, s, done, err := m.sourceClient(l, self)
	if err != nil {
		return internalError(err)
	}
	defer done()
	name := s.prefix + req.SourceTopic
	if req.MirrorTopic != "" && req.MirrorTopic != name {
		if s.prefix == "" {
			return badRequest("Cannot create mirror topic '%s': a mirror topic has its source topic's name ('%s'); renaming needs a link with cluster.link.prefix", req.MirrorTopic, req.SourceTopic)
		}
		return badRequest("Cannot create mirror topic '%s': on cluster link '%s' the mirror of '%s' must be named '%s'", req.MirrorTopic, l.Name, req.SourceTopic, name)
	}
	if s.paused {
		return badRequest("Cannot create mirror topic '%s': cluster link '%s' is paused", name, l.Name)
	}
	if _, exists := m.meta.Topic(name); exists {
		return Errorf(http.StatusBadRequest, codeAlreadyExists, "Topic '%s' already exists.", name)
	}
	for k := range req.Configs {
		if config.IsMirrorSyncedTopicKey(k) {
			return badRequest("Cannot set configuration '%s' for mirror topic '%s': it is synced from the source topic", k, name)
		}
	}
	src, err := m.describeSource(ctx, adm, req.SourceTopic)
	if err != nil {
		return err
	}
	configs := cloneMap(req.Configs)
	for k, v := range src.synced {
		configs[k] = v
	}
	starts, err := startOffsets(ctx, adm, req.SourceTopic, len(src.partitions), s.start)
	if err != nil {
		return badRequest("Cannot create mirror topic '%s': reading start offsets from the source: %v", name, err)
	}
	if req.ValidateOnly {
		return nil
	}
	mirror := &metadata.Mirror{
		Link: l.Name, LinkID: l.ID, SourceTopic: req.SourceTopic, SourceTopicID: src.id,
		State: StateActive, StateTimeMs: m.now().UnixMilli(), StartOffsets: starts,
	}
	rf := req.ReplicationFactor
	if rf <= 0 {
		rf = -1 // default.replication.factor
	}
	_, err = m.brk.CreateMirrorTopic(ctx, broker.MirrorTopicSpec{
		Name: name, Partitions: int32(len(src.partitions)), ReplicationFactor: rf,
		Configs: configs, Mirror: mirror,
	})
	if err != nil {
		switch {
		case errors.Is(err, kerr.TopicAlreadyExists), errors.Is(err, metadata.ErrTopicExists):
			return Errorf(http.StatusBadRequest, codeAlreadyExists, "Topic '%s' already exists.", name)
		case errors.Is(err, kerr.InvalidReplicationFactor), errors.Is(err, kerr.InvalidTopicException),
			errors.Is(err, kerr.InvalidConfig), errors.Is(err, config.ErrInvalidConfig), errors.Is(err, config.ErrUnknownConfig):
			return badRequest("Cannot create mirror topic '%s': %v", name, err)
		}
		return internalError(err)
	}
	m.lg.Info("created mirror topic", "link", l.Name, "topic", name, "source_topic", req.SourceTopic,
		"source_topic_id", src.id, "partitions", len(src.partitions), "start_offsets", starts)
	r := self
	if r == nil {
		r = m.runner(l.Name)
	}
	if r != nil {
		r.kickRefresh()
	}
	return nil
}

// sourceInfo is a source topic as seen when creating its mirror.
type sourceInfo struct {
	id         uuid.UUID
	partitions []int32
	synced     map[string]string
}

func (m *Manager) describeSource(ctx context.Context, adm *kadm.Client, topic string) (sourceInfo, error) {
	tds, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return sourceInfo{}, badRequest("Cannot reach the source cluster: %v", err)
	}
	td, ok := tds[topic]
	switch {
	case !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition):
		return sourceInfo{}, Errorf(http.StatusNotFound, codeTopicNotFound, "Cannot create mirror topic: source topic '%s' does not exist on the source cluster.", topic)
	case errors.Is(td.Err, kerr.TopicAuthorizationFailed):
		return sourceInfo{}, badRequest("Cannot create mirror topic: the cluster link is not authorized to read source topic '%s'.", topic)
	case td.Err != nil:
		return sourceInfo{}, badRequest("Cannot create mirror topic: source topic '%s': %v", topic, td.Err)
	}
	info := sourceInfo{id: uuid.UUID(td.ID), synced: map[string]string{}}
	for _, p := range td.Partitions.Sorted() {
		info.partitions = append(info.partitions, p.Partition)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return sourceInfo{}, badRequest("Cannot read the configs of source topic '%s': %v", topic, err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil || rc.Err != nil {
		return sourceInfo{}, badRequest("Cannot read the configs of source topic '%s': %v", topic, errors.Join(err, rc.Err))
	}
	for _, c := range rc.Configs {
		if config.IsMirrorSyncedTopicKey(c.Key) && c.Value != nil {
			info.synced[c.Key] = *c.Value
		}
	}
	return info, nil
}

// startOffsets resolves mirror.start.offset.spec per partition.
func startOffsets(ctx context.Context, adm *kadm.Client, topic string, n int, spec startSpec) ([]int64, error) {
	var (
		lo  kadm.ListedOffsets
		err error
	)
	switch spec.kind {
	case startLatest:
		lo, err = adm.ListEndOffsets(ctx, topic)
	case startTimestamp:
		lo, err = adm.ListOffsetsAfterMilli(ctx, spec.timestampMs, topic)
	default:
		lo, err = adm.ListStartOffsets(ctx, topic)
	}
	if err != nil {
		return nil, err
	}
	var ends kadm.ListedOffsets
	out := make([]int64, n)
	for i := range out {
		o, ok := lo.Lookup(topic, int32(i))
		if !ok || o.Err != nil {
			return nil, fmt.Errorf("partition %d: %v", i, o.Err)
		}
		if o.Offset < 0 { // no record at or after the timestamp: start at the end
			if ends == nil {
				if ends, err = adm.ListEndOffsets(ctx, topic); err != nil {
					return nil, err
				}
			}
			e, _ := ends.Lookup(topic, int32(i))
			o.Offset = e.Offset
		}
		out[i] = o.Offset
	}
	return out, nil
}

// mirrors lists mirror topics of link ("" = all links) in state status ("" = any).
func (m *Manager) mirrors(link, status string) []MirrorInfo {
	var out []MirrorInfo
	for _, t := range m.meta.Topics() {
		if t.Mirror == nil || (link != "" && t.Mirror.Link != link) {
			continue
		}
		mi := m.mirrorInfo(t)
		if status != "" && mi.State != status {
			continue
		}
		out = append(out, mi)
	}
	return out
}

// mirrorInfo builds the described state of a mirror topic: the persisted
// state, turned into LINK_PAUSED or SOURCE_UNAVAILABLE by the link's
// condition, with the runner's per-partition positions.
func (m *Manager) mirrorInfo(t metadata.Topic) MirrorInfo {
	mm := t.Mirror
	mi := MirrorInfo{
		Link: mm.Link, MirrorTopic: t.Name, SourceTopic: mm.SourceTopic, SourceTopicID: mm.SourceTopicID,
		Partitions: len(t.Partitions), State: mm.State, Error: mm.Error, ErrorMessage: mm.ErrorMessage,
		StateTime: time.UnixMilli(mm.StateTimeMs),
	}
	r := m.runner(mm.Link)
	var parts map[partKey]*mpart
	if r != nil && r.id == mm.LinkID {
		parts = r.derive(&mi)
	}
	for i := range t.Partitions {
		if mp := parts[partKey{t.Name, int32(i)}]; mp != nil {
			mi.Lags = append(mi.Lags, mp.lag())
			continue
		}
		pl := PartitionLag{Partition: int32(i), LastSourceFetchOffset: -1, SourceHighWatermark: -1, MirrorLogEndOffset: -1}
		if p := m.brk.Partition(t.Name, int32(i)); p != nil {
			pl.MirrorLogEndOffset = p.Log().NextOffset()
		}
		mi.Lags = append(mi.Lags, pl)
	}
	if mi.Error != "" {
		mi.TransitionErrors = []TaskError{{Code: mi.Error, Message: mi.ErrorMessage}}
	}
	return mi
}

// derive applies the link's condition to a mirror's state and returns the
// runner's partitions (read-only use).
func (r *runner) derive(mi *MirrorInfo) map[partKey]*mpart {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch mi.State {
	case StateActive, StatePaused:
		switch {
		case r.s.paused:
			mi.State, mi.StateTime = StateLinkPaused, r.pausedSince
		case r.unavailable && mi.State == StateActive:
			mi.State, mi.StateTime = StateSourceUnavailable, r.unavailableSince
		}
		if p, ok := r.problems[mi.MirrorTopic]; ok && mi.Error == "" {
			mi.Error, mi.ErrorMessage = p.code, p.message
		}
	}
	parts := make(map[partKey]*mpart, mi.Partitions)
	for i := 0; i < mi.Partitions; i++ {
		k := partKey{mi.MirrorTopic, int32(i)}
		if mp := r.parts[k]; mp != nil {
			parts[k] = mp
		}
	}
	return parts
}

// ListMirrors lists mirror topics.
func (m *Manager) ListMirrors(ctx context.Context, link, status string) ([]MirrorInfo, error) {
	if link != "" {
		if _, ok := m.meta.Link(link); !ok {
			return nil, linkNotFound(link)
		}
	}
	out := m.mirrors(link, status)
	sort.Slice(out, func(i, j int) bool { return out[i].MirrorTopic < out[j].MirrorTopic })
	return out, nil
}

// DescribeMirror describes one mirror topic of a link.
func (m *Manager) DescribeMirror(ctx context.Context, link, topic string) (MirrorInfo, error) {
	if _, ok := m.meta.Link(link); !ok {
		return MirrorInfo{}, linkNotFound(link)
	}
	t, ok := m.meta.Topic(topic)
	if !ok || t.Mirror == nil || t.Mirror.Link != link {
		return MirrorInfo{}, Errorf(http.StatusNotFound, codeTopicNotFound, "Topic '%s' is not a mirror topic of cluster link '%s'.", topic, link)
	}
	return m.mirrorInfo(t), nil
}

// PauseMirrors pauses mirrors: they stop fetching and stay read-only.
func (m *Manager) PauseMirrors(ctx context.Context, link string, topics []string, validateOnly bool) ([]AlterResult, error) {
	return m.alterMirrors(ctx, link, topics, validateOnly, func(topic string, mm *metadata.Mirror) *Error {
		switch mm.State {
		case StateActive:
			mm.State = StatePaused
		case StatePaused:
		default:
			return stateError(topic, mm, "pause")
		}
		return nil
	})
}

// ResumeMirrors resumes paused mirrors.
func (m *Manager) ResumeMirrors(ctx context.Context, link string, topics []string, validateOnly bool) ([]AlterResult, error) {
	return m.alterMirrors(ctx, link, topics, validateOnly, func(topic string, mm *metadata.Mirror) *Error {
		switch mm.State {
		case StatePaused:
			mm.State = StateActive
		case StateActive:
		default:
			return stateError(topic, mm, "resume")
		}
		return nil
	})
}

// stateError is the per-topic error for an operation a state does not allow.
func stateError(topic string, mm *metadata.Mirror, op string) *Error {
	if mm.State == StateStopped || mm.State == StatePendingStopped {
		return badRequest("Topic '%s' has already stopped its mirror from '%s'", topic, mm.Link)
	}
	return badRequest("Cannot %s mirror topic '%s': it is %s", op, topic, mm.State)
}

// mirrorChange changes a mirror's state in place, or says why it cannot.
type mirrorChange func(topic string, mm *metadata.Mirror) *Error

// alterMirrors applies change to each named mirror of link and reports per topic.
func (m *Manager) alterMirrors(ctx context.Context, link string, topics []string, validateOnly bool, change mirrorChange) ([]AlterResult, error) {
	if _, ok := m.meta.Link(link); !ok {
		return nil, linkNotFound(link)
	}
	if len(topics) == 0 {
		return nil, badRequest("no mirror topics named")
	}
	var out []AlterResult
	changed := false
	for _, topic := range topics {
		res := AlterResult{Topic: topic}
		t, ok := m.meta.Topic(topic)
		if !ok || t.Mirror == nil || t.Mirror.Link != link {
			res.Err = Errorf(http.StatusNotFound, codeTopicNotFound, "Topic '%s' is not a mirror topic of cluster link '%s'.", topic, link)
			out = append(out, res)
			continue
		}
		probe := *t.Mirror
		if e := change(topic, &probe); e != nil {
			res.Err = e
			out = append(out, res)
			continue
		}
		r := m.runner(link)
		if !validateOnly && probe.State != t.Mirror.State && probe.State != StateActive && r != nil {
			r.holdTopic(topic, true) // before the state is visible: nothing lands after pause returns
		}
		if !validateOnly && probe.State != t.Mirror.State {
			var opErr *Error
			err := m.meta.UpdateTopic(ctx, topic, func(tp *metadata.Topic) error {
				if tp.Mirror == nil {
					return fmt.Errorf("topic '%s' is no longer a mirror", topic)
				}
				if e := change(topic, tp.Mirror); e != nil {
					opErr = e
					return e
				}
				tp.Mirror.StateTimeMs = m.now().UnixMilli()
				return nil
			})
			if err != nil {
				if opErr != nil {
					res.Err = opErr
				} else {
					res.Err = internalError(err)
				}
				if r != nil {
					if cur, ok := m.meta.Topic(topic); ok && cur.Mirror != nil && cur.Mirror.State == StateActive {
						r.holdTopic(topic, false)
					}
				}
				out = append(out, res)
				continue
			}
			changed = true
			if probe.State == StateActive && r != nil {
				r.holdTopic(topic, false)
			}
			m.lg.Info("mirror topic state changed", "link", link, "topic", topic, "state", probe.State)
		}
		if t2, ok := m.meta.Topic(topic); ok && t2.Mirror != nil {
			res.Lags = m.mirrorInfo(t2).Lags
		}
		out = append(out, res)
	}
	if changed {
		if r := m.runner(link); r != nil {
			r.metadataChanged()
		}
	}
	return out, nil
}
