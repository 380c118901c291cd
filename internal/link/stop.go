package link

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/strait-kafka/strait/internal/config"
	"github.com/strait-kafka/strait/internal/group"
	"github.com/strait-kafka/strait/internal/metadata"
)

// Stopping a mirror turns it into an ordinary writable topic, for good.
//
// Promote (a planned cutover) is accepted only when the mirror has no lag
// against the source's current log end offsets (and nothing past them),
// the source topic still has the mirror's source topic ID, its synced
// configs equal the source's, and the source answers; a last consumer offset sync runs
// before the mirror stops. Failover (a disaster) is always accepted, from
// any state but STOPPED, even with the source down or lagging.
//
// Both set PENDING_STOPPED and return; the link's runner (or, for a link
// that no longer runs, the request itself) then stops fetching the topic,
// records each partition's log end offset, clamps destination consumer group
// offsets that point past those ends, starts a new leader epoch above every
// epoch copied from the source, and sets STOPPED.

const (
	stopPromote  = "promote"
	stopFailover = "failover"
	// promoteProbeTimeout bounds promote's own check that the source
	// answers, so that a promote against a lost source fails promptly.
	promoteProbeTimeout = 5 * time.Second
)

// PromoteMirrors promotes mirrors after checking they are fully caught up.
func (m *Manager) PromoteMirrors(ctx context.Context, link string, topics []string, validateOnly bool) ([]AlterResult, error) {
	return m.stopMirrors(ctx, link, topics, validateOnly, stopPromote)
}

// FailoverMirrors stops mirrors whatever their lag or the source's state.
func (m *Manager) FailoverMirrors(ctx context.Context, link string, topics []string, validateOnly bool) ([]AlterResult, error) {
	return m.stopMirrors(ctx, link, topics, validateOnly, stopFailover)
}

func (m *Manager) stopMirrors(ctx context.Context, link string, topics []string, validateOnly bool, kind string) ([]AlterResult, error) {
	if _, ok := m.meta.Link(link); !ok {
		return nil, linkNotFound(link)
	}
	if len(topics) == 0 {
		return nil, badRequest("no mirror topics named")
	}
	r := m.runner(link)
	var out []AlterResult
	scheduled := false
	for _, topic := range topics {
		res := AlterResult{Topic: topic}
		t, ok := m.meta.Topic(topic)
		if !ok || t.Mirror == nil || t.Mirror.Link != link {
			res.Err = Errorf(http.StatusNotFound, codeTopicNotFound, "Topic '%s' is not a mirror topic of cluster link '%s'.", topic, link)
			out = append(out, res)
			continue
		}
		mi := m.mirrorInfo(t)
		res.Lags = mi.Lags
		if e := stoppable(topic, t.Mirror, kind); e != nil {
			res.Err = e
			out = append(out, res)
			continue
		}
		if kind == stopPromote {
			lags, e := m.checkPromote(ctx, r, t, mi)
			if lags != nil {
				res.Lags = lags
			}
			if e != nil {
				res.Err = e
				out = append(out, res)
				continue
			}
		}
		if validateOnly {
			out = append(out, res)
			continue
		}
		err := m.meta.UpdateTopic(ctx, topic, func(tp *metadata.Topic) error {
			if tp.Mirror == nil {
				return fmt.Errorf("topic '%s' is no longer a mirror", topic)
			}
			if e := stoppable(topic, tp.Mirror, kind); e != nil {
				return e
			}
			tp.Mirror.State, tp.Mirror.StateTimeMs, tp.Mirror.StopKind = StatePendingStopped, m.now().UnixMilli(), kind
			return nil
		})
		if err != nil {
			res.Err = internalError(err)
			out = append(out, res)
			continue
		}
		m.lg.Info("stopping mirror topic", "link", link, "topic", topic, "kind", kind)
		scheduled = true
		out = append(out, res)
	}
	if scheduled {
		if r != nil {
			r.metadataChanged()
		} else {
			// No runner (the link failed to start or was deleted): stop here.
			m.completeStops(ctx, link, nil)
		}
	}
	return out, nil
}

// stoppable says whether a mirror in its current state can be stopped.
func stoppable(topic string, mm *metadata.Mirror, kind string) *Error {
	switch mm.State {
	case StateStopped, StatePendingStopped:
		return badRequest("Topic '%s' has already stopped its mirror from '%s'", topic, mm.Link)
	case StateActive, StatePaused:
		return nil
	case StateFailed, StateLinkFailed:
		if kind == stopFailover {
			return nil
		}
		return badRequest("Cannot promote mirror topic '%s': it is %s (%s); use failover", topic, mm.State, mm.Error)
	}
	return badRequest("Cannot %s mirror topic '%s' in state %s", kind, topic, mm.State)
}

// checkPromote verifies the promote preconditions: the source answers, no
// partition lags its current end, the synced configs match, and a final
// consumer offset sync succeeds. It returns the lags it measured.
func (m *Manager) checkPromote(ctx context.Context, r *runner, t metadata.Topic, mi MirrorInfo) ([]PartitionLag, *Error) {
	if r == nil {
		return nil, badRequest("Cannot promote mirror topic '%s': cluster link '%s' is not running", t.Name, t.Mirror.Link)
	}
	s := r.settings()
	if s.paused {
		return nil, badRequest("Cannot promote mirror topic '%s': cluster link '%s' is paused", t.Name, t.Mirror.Link)
	}
	if failures, last := r.availability(); failures > 0 {
		return nil, badRequest("Cannot promote mirror topic '%s': the source cluster is not reachable: the last %d availability checks failed: %s", t.Name, failures, last)
	}
	probeCtx, cancelProbe := context.WithTimeout(ctx, min(s.requestTimeout, promoteProbeTimeout))
	err := r.probe(probeCtx)
	cancelProbe()
	if err != nil {
		return nil, badRequest("Cannot promote mirror topic '%s': the source cluster is not reachable: %v", t.Name, err)
	}
	cctx, cancel := context.WithTimeout(ctx, s.requestTimeout)
	defer cancel()
	ends, err := r.adm.ListEndOffsets(cctx, t.Mirror.SourceTopic)
	if err != nil {
		return nil, badRequest("Cannot promote mirror topic '%s': cannot read the source topic's end offsets: %v", t.Name, err)
	}
	lags := append([]PartitionLag(nil), mi.Lags...)
	var behind []string
	for i := range lags {
		pl := &lags[i]
		e, ok := ends.Lookup(t.Mirror.SourceTopic, pl.Partition)
		if !ok || e.Err != nil {
			return lags, badRequest("Cannot promote mirror topic '%s': cannot read the end offset of source partition %d: %v", t.Name, pl.Partition, e.Err)
		}
		pl.SourceHighWatermark = e.Offset
		pl.Lag = max(e.Offset-pl.MirrorLogEndOffset, 0)
		switch {
		case pl.Lag > 0:
			behind = append(behind, fmt.Sprintf("partition %d lags %d records (source end %d, mirror end %d)", pl.Partition, pl.Lag, e.Offset, pl.MirrorLogEndOffset))
		case pl.MirrorLogEndOffset > e.Offset:
			// Records the source no longer has (truncated there): not in sync.
			behind = append(behind, fmt.Sprintf("partition %d has %d records the source does not (source end %d, mirror end %d)",
				pl.Partition, pl.MirrorLogEndOffset-e.Offset, e.Offset, pl.MirrorLogEndOffset))
		}
	}
	if len(ends[t.Mirror.SourceTopic]) != len(lags) {
		return lags, badRequest("Cannot promote mirror topic '%s': the source topic has %d partitions, the mirror %d", t.Name, len(ends[t.Mirror.SourceTopic]), len(lags))
	}
	// The end offsets are those of whatever topic has the source topic's
	// name now: they measure nothing if it was deleted and recreated.
	if id := t.Mirror.SourceTopicID; id != uuid.Nil {
		src, err := r.sourceMetadata([]string{t.Mirror.SourceTopic})
		if err != nil {
			return lags, badRequest("Cannot promote mirror topic '%s': cannot read the source topic's ID: %v", t.Name, err)
		}
		if st, ok := src[t.Mirror.SourceTopic]; !ok || st.id != id {
			return lags, badRequest("Cannot promote mirror topic '%s': source topic '%s' is no longer the topic with ID %s (it was deleted or recreated); use failover",
				t.Name, t.Mirror.SourceTopic, id)
		}
	}
	if len(behind) > 0 {
		return lags, badRequest("Cannot promote mirror topic '%s': mirroring lag is not zero: %s", t.Name, strings.Join(behind, "; "))
	}
	if diff, err := r.configDiff(cctx, t); err != nil {
		return lags, badRequest("Cannot promote mirror topic '%s': cannot compare topic configs with the source: %v", t.Name, err)
	} else if diff != "" {
		return lags, badRequest("Cannot promote mirror topic '%s': topic configs are not in sync with the source: %s", t.Name, diff)
	}
	if err := r.syncOffsetsFor(cctx, t.Name); err != nil {
		return lags, badRequest("Cannot promote mirror topic '%s': the final consumer offset sync failed: %v", t.Name, err)
	}
	return lags, nil
}

// configDiff compares the mirror's synced configs with the source's now.
func (r *runner) configDiff(ctx context.Context, t metadata.Topic) (string, error) {
	rcs, err := r.adm.DescribeTopicConfigs(ctx, t.Mirror.SourceTopic)
	if err != nil {
		return "", err
	}
	rc, err := rcs.On(t.Mirror.SourceTopic, nil)
	if err != nil {
		return "", err
	}
	if rc.Err != nil {
		return "", rc.Err
	}
	src := map[string]string{}
	for _, c := range rc.Configs {
		if config.IsMirrorSyncedTopicKey(c.Key) && c.Value != nil {
			src[c.Key] = *c.Value
		}
	}
	var diffs []string
	for _, k := range config.MirrorSyncedTopicKeys {
		if src[k] != t.Configs[k] {
			diffs = append(diffs, fmt.Sprintf("%s is %q on the source and %q on the mirror", k, src[k], t.Configs[k]))
		}
	}
	return strings.Join(diffs, "; "), nil
}

// completeStops finishes every PENDING_STOPPED mirror of link. r is the
// link's runner (nil when it does not run); its fetchers must already have
// dropped the topics, which assign does for any state but ACTIVE.
func (m *Manager) completeStops(ctx context.Context, link string, r *runner) {
	stopped := 0
	for _, t := range m.meta.Topics() {
		if t.Mirror == nil || t.Mirror.Link != link || t.Mirror.State != StatePendingStopped {
			continue
		}
		if r != nil {
			r.fenceTopic(t.Name)
		}
		if err := m.completeStop(ctx, t); err != nil {
			m.lg.Error("stopping mirror topic", "link", link, "topic", t.Name, "err", err)
			continue
		}
		stopped++
	}
	// The new leader epochs reach the partitions in one pass for the round.
	if stopped > 0 {
		if err := m.brk.Reconcile(); err != nil {
			m.lg.Error("applying stopped mirrors", "link", link, "err", err)
		}
	}
}

// completeStop records the stop offsets, clamps group offsets, moves every
// partition to a fresh leader epoch and sets STOPPED.
func (m *Manager) completeStop(ctx context.Context, t metadata.Topic) error {
	ends := make([]int64, len(t.Partitions))
	maxEpoch := int32(0)
	for i := range t.Partitions {
		p := m.brk.Partition(t.Name, int32(i))
		if p == nil {
			return fmt.Errorf("partition %d is not stored here", i)
		}
		ends[i] = p.Log().NextOffset()
		maxEpoch = max(maxEpoch, p.Log().LatestEpoch(), t.Partitions[i].LeaderEpoch)
	}
	clamped, live := m.clampGroupOffsets(ctx, t.Name, ends)
	if len(live) > 0 {
		m.lg.Warn("consumer groups with live members keep offsets past the stopped mirror's end; they reset by their auto.offset.reset",
			"topic", t.Name, "groups", live)
	}
	newEpoch := maxEpoch + 1
	if newEpoch == math.MaxInt32 {
		newEpoch = maxEpoch
	}
	err := m.meta.UpdateTopic(ctx, t.Name, func(tp *metadata.Topic) error {
		if tp.Mirror == nil || tp.Mirror.State != StatePendingStopped {
			return nil
		}
		for i := range tp.Partitions {
			tp.Partitions[i].LeaderEpoch = newEpoch
		}
		tp.Mirror.State, tp.Mirror.StateTimeMs = StateStopped, m.now().UnixMilli()
		tp.Mirror.StoppedLogEndOffsets = ends
		return nil
	})
	if err != nil {
		return err
	}
	m.lg.Info("mirror topic stopped", "link", t.Mirror.Link, "topic", t.Name, "kind", t.Mirror.StopKind,
		"log_end_offsets", ends, "leader_epoch", newEpoch, "group_offsets_clamped", clamped)
	return nil
}

// clampGroupOffsets lowers committed offsets of topic that point past the
// mirror's end to that end, for every group on this cluster without live
// members. It returns how many offsets it moved and the live groups it
// could not change.
func (m *Manager) clampGroupOffsets(ctx context.Context, topic string, ends []int64) (int, []string) {
	g := m.o.Groups
	if g == nil {
		return 0, nil
	}
	moved := 0
	var live []string
	for _, ov := range g.ListGroups() {
		offs, err := g.FetchOffsets(ov.Group)
		if err != nil {
			continue
		}
		fix := map[group.TopicPartition]group.Offset{}
		for tp, o := range offs {
			if tp.Topic == topic && int(tp.Partition) < len(ends) && o.Offset > ends[tp.Partition] {
				o.Offset, o.LeaderEpoch, o.CommitTime = ends[tp.Partition], -1, time.Time{}
				fix[tp] = o
			}
		}
		if len(fix) == 0 {
			continue
		}
		if err := g.CommitOffsetsIfEmpty(ctx, ov.Group, fix); err != nil {
			if errors.Is(err, group.ErrGroupNotEmpty) {
				live = append(live, ov.Group)
				continue
			}
			m.lg.Warn("clamping group offsets", "group", ov.Group, "topic", topic, "err", err)
			continue
		}
		moved += len(fix)
	}
	return moved, live
}
