package link

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/strait-kafka/strait/internal/config"
	"github.com/strait-kafka/strait/internal/metadata"
)

// syncTopicConfigs copies the synced configs (config.MirrorSyncedTopicKeys)
// of every mirrored source topic onto its mirror, every topic.config.sync.ms.
// Only configs that changed are written; a mirror's own (non-synced)
// overrides are kept.
func (r *runner) syncTopicConfigs() {
	s := r.settings()
	if s.paused {
		return
	}
	bySource := map[string][]string{} // source topic -> mirror topics
	for _, t := range r.mirrorTopics() {
		if t.Mirror.State == StateActive || t.Mirror.State == StatePaused {
			bySource[t.Mirror.SourceTopic] = append(bySource[t.Mirror.SourceTopic], t.Name)
		}
	}
	if len(bySource) == 0 {
		r.setTask(TaskTopicConfigsSync, nil)
		return
	}
	sources := make([]string, 0, len(bySource))
	for src := range bySource {
		sources = append(sources, src)
	}
	ctx, cancel := context.WithTimeout(r.ctx, s.requestTimeout)
	defer cancel()
	rcs, err := r.adm.DescribeTopicConfigs(ctx, sources...)
	if err != nil {
		r.setTask(TaskTopicConfigsSync, fmt.Errorf("describing source topic configs: %w", err))
		return
	}
	var failed []string
	for _, rc := range rcs {
		if rc.Err != nil {
			continue // a missing source topic is the fetch path's problem
		}
		synced := map[string]string{}
		for _, c := range rc.Configs {
			if config.IsMirrorSyncedTopicKey(c.Key) && c.Value != nil {
				synced[c.Key] = *c.Value
			}
		}
		for _, mirror := range bySource[rc.Name] {
			if err := r.applySyncedConfigs(ctx, mirror, synced); err != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", mirror, err))
			}
		}
	}
	if len(failed) > 0 {
		r.setTask(TaskTopicConfigsSync, fmt.Errorf("syncing topic configs: %s", strings.Join(failed, "; ")))
		return
	}
	r.setTask(TaskTopicConfigsSync, nil)
}

// applySyncedConfigs writes synced onto the mirror's overrides if they differ.
func (r *runner) applySyncedConfigs(ctx context.Context, mirror string, synced map[string]string) error {
	changed := false
	err := r.m.meta.UpdateTopic(ctx, mirror, func(t *metadata.Topic) error {
		changed = false
		// Only while it still mirrors: a mirror stopped since the source
		// was read is an independent topic with configs of its own.
		if t.Mirror == nil || (t.Mirror.State != StateActive && t.Mirror.State != StatePaused) {
			return nil
		}
		next := maps.Clone(t.Configs)
		if next == nil {
			next = map[string]string{}
		}
		for _, k := range config.MirrorSyncedTopicKeys {
			if v, ok := synced[k]; ok {
				next[k] = v
			} else {
				delete(next, k)
			}
		}
		if maps.Equal(next, t.Configs) {
			return nil
		}
		if err := config.ValidateTopicConfigs(next); err != nil {
			return err
		}
		t.Configs, changed = next, true
		return nil
	})
	if err != nil {
		return err
	}
	if changed {
		r.lg.Info("synced topic configs from the source", "topic", mirror)
		return r.m.brk.Reconcile()
	}
	return nil
}
