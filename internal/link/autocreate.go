package link

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/strait-kafka/strait/internal/broker"
	"github.com/strait-kafka/strait/internal/link/linkconf"
)

// MirrorMarkerConfig is the read-only topic config a Strait broker reports
// on its mirror topics (value: the link name). Auto-create reads it to
// never mirror a topic that is itself a mirror when the link has a prefix,
// so that links in both directions cannot form a loop.
const MirrorMarkerConfig = broker.MirrorMarkerConfig

// autoCreateMirrors creates a mirror for every source topic selected by
// auto.create.mirror.topics.filters that has none yet. It runs after each
// source metadata refresh, so new source topics become mirrors within one
// metadata.max.age.ms. Internal topics are never mirrored.
func (r *runner) autoCreateMirrors() {
	s := r.settings()
	if !s.conf.AutoCreateMirrorTopics {
		r.setTaskState(TaskAutoCreateMirror, TaskStateNotConfigured, nil)
		return
	}
	if s.paused {
		return
	}
	if msg := linkconf.TaskProblems(s.conf)[TaskAutoCreateMirror]; msg != "" {
		r.setTask(TaskAutoCreateMirror, &taskErr{code: "MISCONFIGURATION_ERROR", msg: msg})
		return
	}
	ctx, cancel := context.WithTimeout(r.ctx, s.requestTimeout)
	defer cancel()
	tds, err := r.adm.ListTopics(ctx)
	if err != nil {
		r.setTask(TaskAutoCreateMirror, fmt.Errorf("listing source topics: %w", err))
		return
	}
	var candidates []string
	for _, td := range tds.Sorted() {
		name := td.Topic
		if td.IsInternal || strings.HasPrefix(name, "__") || td.Err != nil {
			continue
		}
		if !linkconf.Matches(s.conf.AutoCreateFilters, name) {
			continue
		}
		if s.prefix != "" && strings.HasPrefix(name, s.prefix) {
			continue // carries our own prefix: a mirror made by a link the other way
		}
		if _, exists := r.m.meta.Topic(s.prefix + name); exists {
			continue
		}
		candidates = append(candidates, name)
	}
	if s.prefix != "" && len(candidates) > 0 {
		candidates = r.withoutSourceMirrors(ctx, candidates)
	}
	sort.Strings(candidates)
	var problems []string
	for _, name := range candidates {
		err := r.m.createMirror(ctx, CreateMirrorRequest{Link: r.name, SourceTopic: name}, r)
		var e *Error
		if errors.As(err, &e) && e.Code == codeAlreadyExists {
			continue
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		r.lg.Info("auto-created mirror topic", "source_topic", name, "topic", s.prefix+name)
	}
	if len(problems) > 0 {
		r.setTask(TaskAutoCreateMirror, errors.New(strings.Join(problems, "; ")))
		return
	}
	r.setTask(TaskAutoCreateMirror, nil)
}

// withoutSourceMirrors drops source topics that report MirrorMarkerConfig.
func (r *runner) withoutSourceMirrors(ctx context.Context, topics []string) []string {
	rcs, err := r.adm.DescribeTopicConfigs(ctx, topics...)
	if err != nil {
		return nil // unknown: create nothing this round rather than risk a loop
	}
	mirrors := map[string]bool{}
	for _, rc := range rcs {
		for _, c := range rc.Configs {
			if c.Key == MirrorMarkerConfig {
				mirrors[rc.Name] = true
			}
		}
	}
	var out []string
	for _, t := range topics {
		if !mirrors[t] {
			out = append(out, t)
		}
	}
	return out
}
