package link

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/strait-kafka/strait/internal/group"
	"github.com/strait-kafka/strait/internal/link/linkconf"
)

// Consumer offset sync copies the committed offsets of selected source
// groups onto the destination, every consumer.offset.sync.ms:
//
//   - only groups selected by consumer.offset.group.filters (exclude wins);
//   - only offsets of this link's mirror topics that still mirror, and
//     only while the source topic of that name still has the mirror's
//     source topic ID (never offsets of a recreated topic);
//   - never past the mirror's log end offset (a consumer must not skip
//     records the mirror does not have yet);
//   - only into groups with no live members on the destination (the
//     coordinator refuses the others; they are skipped, not errors);
//   - with consumer.group.prefix.enable, into prefix + group.
//
// Only offsets that changed since the last sync are written. A group that
// the filters stop selecting is no longer synced from the next round on.

// syncOffsets is the periodic task.
func (r *runner) syncOffsets() {
	s := r.settings()
	if !s.conf.ConsumerOffsetSync {
		r.setTaskState(TaskConsumerOffsetSync, TaskStateNotConfigured, nil)
		return
	}
	if s.paused {
		return
	}
	ctx, cancel := context.WithTimeout(r.ctx, s.requestTimeout)
	defer cancel()
	r.setTask(TaskConsumerOffsetSync, r.offsetSync(ctx, ""))
}

// syncOffsetsFor runs one sync restricted to one mirror topic (promote's
// final sync). It is a no-op when offset sync is off.
func (r *runner) syncOffsetsFor(ctx context.Context, mirror string) error {
	if !r.settings().conf.ConsumerOffsetSync {
		return nil
	}
	return r.offsetSync(ctx, mirror)
}

// offsetSync syncs every selected group's offsets of the link's mirrors
// (only: one mirror topic, or "" for all).
func (r *runner) offsetSync(ctx context.Context, only string) error {
	s := r.settings()
	if msg := linkconf.TaskProblems(s.conf)[TaskConsumerOffsetSync]; msg != "" {
		return &taskErr{code: "MISCONFIGURATION_ERROR", msg: msg}
	}
	r.m.metrics.offsetSyncRounds.Inc()
	g := r.m.o.Groups
	if g == nil {
		return errors.New("this broker has no group coordinator")
	}
	// Source topic -> mirror topic, for mirrors that still mirror.
	mirrors := map[string]string{}
	ids := map[string]uuid.UUID{} // source topic -> the mirror's source topic ID
	for _, t := range r.mirrorTopics() {
		if only != "" && t.Name != only {
			continue
		}
		switch t.Mirror.State {
		case StateActive, StatePaused, StatePendingStopped:
			mirrors[t.Mirror.SourceTopic] = t.Name
			ids[t.Mirror.SourceTopic] = t.Mirror.SourceTopicID
		}
	}
	if len(mirrors) == 0 {
		return nil
	}
	listed, err := r.adm.ListGroups(ctx)
	if err != nil {
		return fmt.Errorf("listing source consumer groups: %w", err)
	}
	var groups []string
	for _, name := range listed.Groups() {
		if linkconf.Matches(s.conf.GroupFilters, name) {
			groups = append(groups, name)
		}
	}
	sort.Strings(groups)
	if len(groups) == 0 {
		return nil
	}
	fetched := r.adm.FetchManyOffsets(ctx, groups...)
	// Group offsets name topics: those of a source topic that was deleted
	// (and perhaps recreated) since its mirror was made are not the
	// mirror's. Checked after reading them, as the fetcher does.
	names := make([]string, 0, len(mirrors))
	for src := range mirrors {
		names = append(names, src)
	}
	sources, err := r.sourceMetadata(names)
	if err != nil {
		return fmt.Errorf("reading source topic IDs: %w", err)
	}
	for src := range mirrors {
		st, ok := sources[src]
		if !ok || st.err != 0 || (ids[src] != uuid.Nil && st.id != ids[src]) {
			delete(mirrors, src)
		}
	}
	var problems []string
	for _, name := range groups {
		resp, ok := fetched[name]
		if !ok {
			continue
		}
		if resp.Err != nil {
			problems = append(problems, fmt.Sprintf("group %s: %v", name, resp.Err))
			continue
		}
		dest := name
		if s.conf.ConsumerGroupPrefix {
			dest = s.prefix + name
		}
		want := map[group.TopicPartition]group.Offset{}
		for srcTopic, parts := range resp.Fetched {
			mirror, ok := mirrors[srcTopic]
			if !ok {
				continue
			}
			for part, o := range parts {
				if o.Err != nil || o.At < 0 {
					continue
				}
				p := r.m.brk.Partition(mirror, part)
				if p == nil {
					continue
				}
				off, epoch := o.At, o.LeaderEpoch
				if end := p.Log().NextOffset(); off > end {
					off, epoch = end, -1
				}
				tp := group.TopicPartition{Topic: mirror, Partition: part}
				if r.lastSynced(dest, tp) == off {
					continue
				}
				want[tp] = group.Offset{Offset: off, LeaderEpoch: epoch, Metadata: o.Metadata}
			}
		}
		if len(want) == 0 {
			continue
		}
		err := g.CommitOffsetsIfEmpty(ctx, dest, want)
		switch {
		case errors.Is(err, group.ErrGroupNotEmpty):
			continue // active on the destination: its own commits win
		case err != nil:
			problems = append(problems, fmt.Sprintf("group %s: %v", dest, err))
			continue
		}
		r.recordSynced(dest, want)
		r.lg.Debug("synced consumer group offsets", "group", dest, "offsets", len(want))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func (r *runner) lastSynced(g string, tp group.TopicPartition) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if o, ok := r.synced[g][tp]; ok {
		return o
	}
	return -1
}

func (r *runner) recordSynced(g string, offs map[group.TopicPartition]group.Offset) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.synced[g] == nil {
		r.synced[g] = map[group.TopicPartition]int64{}
	}
	for tp, o := range offs {
		r.synced[g][tp] = o.Offset
	}
}
