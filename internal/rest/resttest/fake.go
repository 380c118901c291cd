// Package resttest provides a fake link.Service for tests of the REST API
// and of the clients that speak it (the CLI).
//
// The fake keeps links, their configs and mirror topics in memory, records
// every call with its arguments, and applies creates, deletes, config
// changes and pause/resume to its state unless the call is a dry run, so a
// test can create a link and then list it. Fail makes a method return a
// canned error. It is safe for concurrent use.
package resttest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/strait-kafka/strait/internal/link"
)

// Call is one recorded method call.
type Call struct {
	Method string
	Args   []any
}

// Fake is an in-memory link.Service.
type Fake struct {
	// ID is the cluster ID ClusterID reports; fixed at construction.
	ID string
	// Now stamps the state time of mirrors created or altered.
	Now time.Time

	mu      sync.Mutex
	calls   []Call
	links   []link.LinkInfo
	configs map[string][]link.ConfigEntry
	mirrors []link.MirrorInfo
	errs    map[string]error
}

var _ link.Service = (*Fake)(nil)

// New returns an empty fake for cluster id.
func New(id string) *Fake {
	return &Fake{ID: id, Now: time.UnixMilli(1_700_000_000_000), configs: map[string][]link.ConfigEntry{}, errs: map[string]error{}}
}

// AddLink adds a link with its configs.
func (f *Fake) AddLink(li link.LinkInfo, configs ...link.ConfigEntry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.links = append(f.links, li)
	f.configs[li.Name] = configs
}

// AddMirror adds a mirror topic.
func (f *Fake) AddMirror(m link.MirrorInfo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mirrors = append(f.mirrors, m)
}

// Fail makes every later call of method (e.g. "CreateLink") return err;
// a nil err clears it.
func (f *Fake) Fail(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.errs, method)
		return
	}
	f.errs[method] = err
}

// Calls returns the calls so far, oldest first.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// Mirror returns the current state of a mirror topic.
func (f *Fake) Mirror(linkName, topic string) (link.MirrorInfo, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.mirrorLocked(linkName, topic)
	if i < 0 {
		return link.MirrorInfo{}, false
	}
	return f.mirrors[i], true
}

// recordLocked notes a call and returns the canned error for it, if any.
func (f *Fake) recordLocked(method string, args ...any) error {
	f.calls = append(f.calls, Call{Method: method, Args: args})
	return f.errs[method]
}

func (f *Fake) linkLocked(name string) (int, error) {
	for i, l := range f.links {
		if l.Name == name {
			return i, nil
		}
	}
	return -1, link.Errorf(http.StatusNotFound, http.StatusNotFound, "Cluster link '%s' does not exist.", name)
}

func (f *Fake) mirrorLocked(linkName, topic string) int {
	for i, m := range f.mirrors {
		if m.Link == linkName && m.MirrorTopic == topic {
			return i
		}
	}
	return -1
}

// ClusterID implements link.Service.
func (f *Fake) ClusterID() string { return f.ID }

// CreateLink implements link.Service.
func (f *Fake) CreateLink(_ context.Context, req link.CreateLinkRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.recordLocked("CreateLink", req); err != nil {
		return err
	}
	if _, err := f.linkLocked(req.Name); err == nil {
		return link.Errorf(http.StatusBadRequest, 40002, "Cluster link '%s' already exists.", req.Name)
	}
	if req.ValidateOnly {
		return nil
	}
	f.links = append(f.links, link.LinkInfo{
		Name: req.Name, ID: fmt.Sprintf("LINKID%d", len(f.links)+1), SourceClusterID: req.SourceClusterID,
		DestinationClusterID: f.ID, State: link.LinkStateActive, Error: "NO_ERROR", Created: f.Now,
	})
	var entries []link.ConfigEntry
	for k, v := range req.Configs {
		entries = append(entries, link.ConfigEntry{Name: k, Value: &v, Source: "DYNAMIC_CLUSTER_LINK_CONFIG"})
	}
	slices.SortFunc(entries, func(a, b link.ConfigEntry) int { return strings.Compare(a.Name, b.Name) })
	f.configs[req.Name] = entries
	return nil
}

// ListLinks implements link.Service.
func (f *Fake) ListLinks(context.Context) ([]link.LinkInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.recordLocked("ListLinks"); err != nil {
		return nil, err
	}
	out := slices.Clone(f.links)
	for i := range out {
		out[i].Tasks = nil
	}
	return out, nil
}

// DescribeLink implements link.Service.
func (f *Fake) DescribeLink(_ context.Context, name string, includeTasks bool) (link.LinkInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.recordLocked("DescribeLink", name, includeTasks); err != nil {
		return link.LinkInfo{}, err
	}
	i, err := f.linkLocked(name)
	if err != nil {
		return link.LinkInfo{}, err
	}
	li := f.links[i]
	if !includeTasks {
		li.Tasks = nil
	}
	return li, nil
}

// DeleteLink implements link.Service.
func (f *Fake) DeleteLink(_ context.Context, name string, force, validateOnly bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.recordLocked("DeleteLink", name, force, validateOnly); err != nil {
		return err
	}
	i, err := f.linkLocked(name)
	if err != nil {
		return err
	}
	if !validateOnly {
		f.links = slices.Delete(f.links, i, i+1)
		delete(f.configs, name)
	}
	return nil
}

// LinkConfigs implements link.Service.
func (f *Fake) LinkConfigs(_ context.Context, name string) ([]link.ConfigEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.recordLocked("LinkConfigs", name); err != nil {
		return nil, err
	}
	if _, err := f.linkLocked(name); err != nil {
		return nil, err
	}
	return slices.Clone(f.configs[name]), nil
}

// AlterLinkConfigs implements link.Service.
func (f *Fake) AlterLinkConfigs(_ context.Context, name string, set map[string]string, reset []string, validateOnly bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.recordLocked("AlterLinkConfigs", name, set, reset, validateOnly); err != nil {
		return err
	}
	if _, err := f.linkLocked(name); err != nil {
		return err
	}
	if validateOnly {
		return nil
	}
	entries := f.configs[name]
	for k, v := range set {
		entries = slices.DeleteFunc(entries, func(e link.ConfigEntry) bool { return e.Name == k })
		entries = append(entries, link.ConfigEntry{Name: k, Value: &v, Source: "DYNAMIC_CLUSTER_LINK_CONFIG"})
	}
	for _, k := range reset {
		entries = slices.DeleteFunc(entries, func(e link.ConfigEntry) bool { return e.Name == k })
	}
	slices.SortFunc(entries, func(a, b link.ConfigEntry) int { return strings.Compare(a.Name, b.Name) })
	f.configs[name] = entries
	return nil
}

// CreateMirror implements link.Service.
func (f *Fake) CreateMirror(_ context.Context, req link.CreateMirrorRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.recordLocked("CreateMirror", req); err != nil {
		return err
	}
	if _, err := f.linkLocked(req.Link); err != nil {
		return err
	}
	name := req.MirrorTopic
	if name == "" {
		name = req.SourceTopic
	}
	if f.mirrorLocked(req.Link, name) >= 0 {
		return link.Errorf(http.StatusBadRequest, 40002, "Topic '%s' already exists.", name)
	}
	if !req.ValidateOnly {
		f.mirrors = append(f.mirrors, link.MirrorInfo{
			Link: req.Link, MirrorTopic: name, SourceTopic: req.SourceTopic, Partitions: 1,
			State: link.StatePendingMirror, StateTime: f.Now,
			Lags: []link.PartitionLag{{Partition: 0, Lag: 0, LastSourceFetchOffset: -1, SourceHighWatermark: -1}},
		})
	}
	return nil
}

// ListMirrors implements link.Service.
func (f *Fake) ListMirrors(_ context.Context, linkName, status string) ([]link.MirrorInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.recordLocked("ListMirrors", linkName, status); err != nil {
		return nil, err
	}
	if linkName != "" {
		if _, err := f.linkLocked(linkName); err != nil {
			return nil, err
		}
	}
	var out []link.MirrorInfo
	for _, m := range f.mirrors {
		if (linkName == "" || m.Link == linkName) && (status == "" || m.State == status) {
			out = append(out, m)
		}
	}
	return out, nil
}

// DescribeMirror implements link.Service.
func (f *Fake) DescribeMirror(_ context.Context, linkName, topic string) (link.MirrorInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.recordLocked("DescribeMirror", linkName, topic); err != nil {
		return link.MirrorInfo{}, err
	}
	if _, err := f.linkLocked(linkName); err != nil {
		return link.MirrorInfo{}, err
	}
	i := f.mirrorLocked(linkName, topic)
	if i < 0 {
		return link.MirrorInfo{}, link.Errorf(http.StatusNotFound, 40403, "Mirror topic '%s' not found on cluster link '%s'.", topic, linkName)
	}
	return f.mirrors[i], nil
}

// PauseMirrors implements link.Service.
func (f *Fake) PauseMirrors(_ context.Context, linkName string, topics []string, validateOnly bool) ([]link.AlterResult, error) {
	return f.alter("PauseMirrors", link.StatePaused, linkName, topics, validateOnly)
}

// ResumeMirrors implements link.Service.
func (f *Fake) PromoteMirrors(_ context.Context, linkName string, topics []string, validateOnly bool) ([]link.AlterResult, error) {
	return f.alter("PromoteMirrors", link.StateStopped, linkName, topics, validateOnly)
}

func (f *Fake) FailoverMirrors(_ context.Context, linkName string, topics []string, validateOnly bool) ([]link.AlterResult, error) {
	return f.alter("FailoverMirrors", link.StateStopped, linkName, topics, validateOnly)
}

func (f *Fake) ResumeMirrors(_ context.Context, linkName string, topics []string, validateOnly bool) ([]link.AlterResult, error) {
	return f.alter("ResumeMirrors", link.StateActive, linkName, topics, validateOnly)
}

// alter moves each named mirror of linkName to state; unknown topics get
// a per-topic 404.
func (f *Fake) alter(method, state, linkName string, topics []string, validateOnly bool) ([]link.AlterResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.recordLocked(method, linkName, slices.Clone(topics), validateOnly); err != nil {
		return nil, err
	}
	if _, err := f.linkLocked(linkName); err != nil {
		return nil, err
	}
	var out []link.AlterResult
	for _, t := range topics {
		i := f.mirrorLocked(linkName, t)
		if i < 0 {
			out = append(out, link.AlterResult{Topic: t, Err: link.Errorf(http.StatusNotFound, 40403, "Topic '%s' is not a mirror topic of cluster link '%s'.", t, linkName)})
			continue
		}
		if !validateOnly {
			f.mirrors[i].State, f.mirrors[i].StateTime = state, f.Now
		}
		out = append(out, link.AlterResult{Topic: t, Lags: slices.Clone(f.mirrors[i].Lags)})
	}
	return out, nil
}
