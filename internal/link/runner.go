package link

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/group"
	"github.com/strait-kafka/strait/internal/link/linkconf"
	"github.com/strait-kafka/strait/internal/metadata"
)

// partKey names a mirror partition.
type partKey struct {
	topic string
	index int32
}

// sourceTopic is what the last source metadata said of a mirrored topic.
type sourceTopic struct {
	id      uuid.UUID
	leaders []int32 // by partition; -1 when leaderless
	err     int16   // topic-level error code from the source, 0 if none
}

// topicProblem is a source-side condition that stops a mirror topic from
// fetching; it becomes FAILED if it lasts cluster.link.retry.timeout.ms.
type topicProblem struct {
	code    string // mirror_topic_error
	message string
	since   time.Time
}

// runnerStatus is a snapshot of a link's health for describe.
type runnerStatus struct {
	state, errCode, errMessage string
	tasks                      []TaskStatus
}

// runner runs one link.
type runner struct {
	m  *Manager
	lg *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// name and id are the link's name and cluster_link_id; they never
	// change for a runner (another ID means another runner), so they are
	// read without mu, unlike link.
	name, id string

	cl  *kgo.Client
	adm *kadm.Client
	// dialer opens cl's connections and spaces attempts to failing
	// addresses (reconnect.backoff.ms); status reports its failures.
	dialer *sourceDialer

	kick   chan struct{} // refresh source metadata now
	notify chan struct{} // local metadata changed

	mu       sync.Mutex
	link     metadata.Link
	s        settings
	parts    map[partKey]*mpart
	fetchers map[int32]*fetcher
	sources  map[string]sourceTopic  // by source topic name
	problems map[string]topicProblem // by mirror topic
	// availability
	failures         int
	unavailable      bool
	unavailableSince time.Time
	availErr         string
	availMsg         string
	pausedSince      time.Time
	tasks            map[string]TaskStatus
	// synced is the last offset written per destination group and
	// partition by the offset sync.
	synced map[string]map[group.TopicPartition]int64
}

func newRunner(m *Manager, l metadata.Link) (*runner, error) {
	cfg, err := m.linkConfigs(l)
	if err != nil {
		return nil, err
	}
	s, err := parseSettings(cfg)
	if err != nil {
		return nil, err
	}
	lg := m.lg.With("link", l.Name)
	cl, dialer, err := newSourceClient(s, m.metrics.dialHooks(l.Name), lg)
	if err != nil {
		return nil, fmt.Errorf("source client: %w", err)
	}
	r := &runner{
		m: m, lg: lg, name: l.Name, id: l.ID, cl: cl, adm: kadm.NewClient(cl), dialer: dialer,
		kick: make(chan struct{}, 1), notify: make(chan struct{}, 1),
		link: l, s: s,
		parts: make(map[partKey]*mpart), fetchers: make(map[int32]*fetcher),
		sources: make(map[string]sourceTopic), problems: make(map[string]topicProblem),
		tasks: make(map[string]TaskStatus), synced: make(map[string]map[group.TopicPartition]int64),
	}
	if s.paused {
		r.pausedSince = time.UnixMilli(l.CreatedMs)
	}
	r.ctx, r.cancel = context.WithCancel(m.ctx)
	return r, nil
}

func (r *runner) start(wg *sync.WaitGroup) {
	wg.Add(1)
	r.wg.Add(1)
	go func() {
		defer wg.Done()
		defer r.wg.Done()
		r.control()
	}()
}

// stop ends the runner and joins its goroutines and fetchers.
func (r *runner) stop() {
	r.cancel()
	r.wg.Wait()
	r.cl.Close()
	r.m.metrics.forgetLink(r.name)
}

// needsRestart reports a config change that needs a new source client.
func (r *runner) needsRestart(l metadata.Link) bool {
	cfg, err := r.m.linkConfigs(l)
	if err != nil {
		return true
	}
	s, err := parseSettings(cfg)
	if err != nil {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return s.connection != r.s.connection
}

// update applies a config change that keeps the source client.
func (r *runner) update(l metadata.Link) {
	cfg, err := r.m.linkConfigs(l)
	if err != nil {
		r.lg.Error("reading link configs", "err", err)
		return
	}
	s, err := parseSettings(cfg)
	if err != nil {
		r.lg.Error("link configs do not parse", "err", err)
		return
	}
	r.mu.Lock()
	if s.paused && !r.s.paused {
		r.pausedSince = r.m.now()
		r.lg.Info("cluster link paused")
	} else if !s.paused && r.s.paused {
		r.lg.Info("cluster link resumed")
	}
	r.link, r.s = l, s
	r.mu.Unlock()
	r.dialer.setBackoff(s.conf.ReconnectBackoff, s.conf.ReconnectBackoffMax)
	r.metadataChanged()
	r.kickRefresh()
}

func (r *runner) metadataChanged() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *runner) kickRefresh() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (r *runner) settings() settings {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.s
}

// control is the runner's main loop. It owns two more goroutines, joined
// before it returns: one for the tasks that talk to the source (metadata
// refresh and auto-create, topic config sync, consumer offset sync), which
// may each wait up to request.timeout.ms on a slow or lost source, and one
// for the availability checks. The loop itself only does local work
// (assignment, failing mirrors whose problems outlived the retry timeout,
// completing stops), so a lost source never delays a failover.
func (r *runner) control() {
	defer r.stopFetchers()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.sourceTasks() }()
	go func() { defer wg.Done(); r.availabilityLoop() }()
	defer wg.Wait()
	housekeeping := time.NewTicker(time.Second)
	defer housekeeping.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-housekeeping.C:
			r.failExpiredProblems()
		case <-r.notify:
		}
		r.assign()
		r.m.completeStops(r.ctx, r.name, r)
	}
}

// sourceTasks runs the periodic tasks that read the source.
func (r *runner) sourceTasks() {
	s := r.settings()
	refresh := time.NewTimer(0)
	cfgSync := time.NewTimer(s.topicConfigSync)
	offsetSync := time.NewTimer(0)
	defer refresh.Stop()
	defer cfgSync.Stop()
	defer offsetSync.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-refresh.C:
			refresh.Reset(r.nextRefresh(r.refreshSource()))
		case <-r.kick:
			ok := r.refreshSource()
			if !refresh.Stop() {
				select {
				case <-refresh.C:
				default:
				}
			}
			refresh.Reset(r.nextRefresh(ok))
		case <-cfgSync.C:
			r.syncTopicConfigs()
			cfgSync.Reset(r.settings().topicConfigSync)
		case <-offsetSync.C:
			r.syncOffsets()
			offsetSync.Reset(r.settings().conf.ConsumerOffsetSyncInterval)
		}
	}
}

// availabilityLoop probes the source every availability.check.ms.
func (r *runner) availabilityLoop() {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
			r.checkAvailability()
			t.Reset(r.settings().availabilityCheck)
		}
	}
}

// mirrorTopics are the stored mirror topics of this link.
func (r *runner) mirrorTopics() []metadata.Topic {
	var out []metadata.Topic
	for _, t := range r.m.meta.Topics() {
		if t.Mirror != nil && t.Mirror.Link == r.name {
			out = append(out, t)
		}
	}
	return out
}

// nextRefresh is when to refresh the source metadata again: after
// metadata.max.age.ms, or — when the last refresh failed — after the fetch
// backoff, so that a source that was unreachable for a moment (at start, say)
// does not leave its mirrors idle for a whole metadata age.
func (r *runner) nextRefresh(ok bool) time.Duration {
	s := r.settings()
	if ok {
		return s.metadataMaxAge
	}
	return min(s.fetchBackoff, s.metadataMaxAge)
}

// refreshSource reads the source metadata of every mirrored topic, records
// topic-level problems, grows mirrors whose source grew, and reassigns
// partitions to fetchers. It reports whether the source answered (or there
// was nothing to ask).
func (r *runner) refreshSource() bool {
	if r.settings().paused {
		r.assign()
		return true
	}
	topics := r.mirrorTopics()
	var names []string
	for _, t := range topics {
		if t.Mirror.State == StateActive || t.Mirror.State == StatePaused {
			names = append(names, t.Mirror.SourceTopic)
		}
	}
	ok := true
	if len(names) > 0 {
		src, err := r.sourceMetadata(names)
		if err != nil {
			r.lg.Warn("source metadata refresh failed", "err", err)
			r.m.metrics.refreshFailures.WithLabelValues(r.name).Inc()
			ok = false
		} else {
			r.mu.Lock()
			for name, st := range src {
				r.sources[name] = st
			}
			r.mu.Unlock()
			r.checkSources(topics, src)
		}
	}
	r.assign()
	r.autoCreateMirrors()
	return ok
}

// sourceMetadata asks the source for the topics' IDs and leaders.
func (r *runner) sourceMetadata(names []string) (map[string]sourceTopic, error) {
	ctx, cancel := context.WithTimeout(r.ctx, r.settings().requestTimeout)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	for _, n := range names {
		n := n
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = &n
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, r.cl)
	if err != nil {
		return nil, err
	}
	out := make(map[string]sourceTopic, len(resp.Topics))
	for _, t := range resp.Topics {
		if t.Topic == nil {
			continue
		}
		st := sourceTopic{id: uuid.UUID(t.TopicID), err: t.ErrorCode}
		st.leaders = make([]int32, len(t.Partitions))
		for i := range st.leaders {
			st.leaders[i] = -1
		}
		for _, p := range t.Partitions {
			if int(p.Partition) < len(st.leaders) && p.ErrorCode == 0 {
				st.leaders[p.Partition] = p.Leader
			}
		}
		out[*t.Topic] = st
	}
	return out, nil
}

// checkSources compares each mirror with its source: a missing topic, a
// changed topic ID or fewer partitions is a problem that stops fetching; a
// source with more partitions grows the mirror.
func (r *runner) checkSources(topics []metadata.Topic, src map[string]sourceTopic) {
	now := r.m.now()
	for _, t := range topics {
		if t.Mirror.State != StateActive && t.Mirror.State != StatePaused {
			continue
		}
		st, ok := src[t.Mirror.SourceTopic]
		var code, msg string
		switch {
		case !ok || st.err == kerr.UnknownTopicOrPartition.Code:
			code, msg = "SOURCE_TOPIC_MAY_BE_DELETED", fmt.Sprintf("source topic '%s' does not exist on the source cluster", t.Mirror.SourceTopic)
		case st.err != 0:
			code, msg = "UNKNOWN", fmt.Sprintf("source topic '%s': %v", t.Mirror.SourceTopic, kerr.ErrorForCode(st.err))
		case t.Mirror.SourceTopicID != uuid.Nil && st.id != t.Mirror.SourceTopicID:
			code, msg = "SOURCE_TOPIC_ID_CHANGED", fmt.Sprintf("source topic '%s' now has topic ID %s, not %s: it was deleted and recreated",
				t.Mirror.SourceTopic, st.id, t.Mirror.SourceTopicID)
		case len(st.leaders) < len(t.Partitions):
			code, msg = "SOURCE_PARTITIONS_DECREASED", fmt.Sprintf("source topic '%s' has %d partitions, the mirror has %d",
				t.Mirror.SourceTopic, len(st.leaders), len(t.Partitions))
		}
		r.mu.Lock()
		if code == "" {
			if p, had := r.problems[t.Name]; had {
				r.lg.Info("source problem cleared", "topic", t.Name, "was", p.code)
				delete(r.problems, t.Name)
			}
		} else if p, had := r.problems[t.Name]; !had || p.code != code {
			since := now
			if had {
				since = p.since // the retry timeout runs from the first problem
			}
			r.problems[t.Name] = topicProblem{code: code, message: msg, since: since}
			r.lg.Warn("mirror topic stopped fetching", "topic", t.Name, "error", code, "reason", msg)
		}
		r.mu.Unlock()
		if code == "" && len(st.leaders) > len(t.Partitions) {
			ctx, cancel := context.WithTimeout(r.ctx, r.settings().requestTimeout)
			if err := r.m.brk.GrowMirrorTopic(ctx, t.Name, int32(len(st.leaders))); err != nil {
				r.lg.Warn("adding partitions to mirror", "topic", t.Name, "err", err)
			}
			cancel()
		}
	}
}

// failExpiredProblems turns problems older than the retry timeout into FAILED.
func (r *runner) failExpiredProblems() {
	timeout := r.settings().retryTimeout
	now := r.m.now()
	r.mu.Lock()
	var expired map[string]topicProblem
	for topic, p := range r.problems {
		if now.Sub(p.since) >= timeout {
			if expired == nil {
				expired = make(map[string]topicProblem)
			}
			expired[topic] = p
			delete(r.problems, topic)
		}
	}
	r.mu.Unlock()
	for topic, p := range expired {
		r.lg.Error("mirror topic failed", "topic", topic, "error", p.code, "reason", p.message, "retried_for", now.Sub(p.since).Round(time.Millisecond))
		if err := r.setMirrorFailed(topic, p.code, p.message); err != nil {
			// Not persisted: keep the problem (the mirror keeps not
			// fetching) so that the next round tries again.
			r.mu.Lock()
			if _, again := r.problems[topic]; !again {
				r.problems[topic] = p
			}
			r.mu.Unlock()
		}
	}
}

// setMirrorFailed persists FAILED for a mirror that is still mirroring.
func (r *runner) setMirrorFailed(topic, code, message string) error {
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	err := r.m.meta.UpdateTopic(ctx, topic, func(t *metadata.Topic) error {
		if t.Mirror == nil || (t.Mirror.State != StateActive && t.Mirror.State != StatePaused) {
			return nil
		}
		t.Mirror.State, t.Mirror.StateTimeMs = StateFailed, r.m.now().UnixMilli()
		t.Mirror.Error, t.Mirror.ErrorMessage = code, message
		return nil
	})
	if err != nil && !errors.Is(err, metadata.ErrTopicNotFound) {
		r.lg.Error("persisting mirror failure", "topic", topic, "err", err)
		return err
	}
	return nil
}

// reportPartitionProblem records a problem found by a fetcher.
func (r *runner) reportPartitionProblem(topic, code, msg string) {
	r.mu.Lock()
	if _, had := r.problems[topic]; !had {
		r.problems[topic] = topicProblem{code: code, message: msg, since: r.m.now()}
		r.lg.Warn("mirror topic stopped fetching", "topic", topic, "error", code, "reason", msg)
	}
	r.mu.Unlock()
	r.kickRefresh()
}

// assign computes which partitions are fetched from which source broker and
// hands them to the fetchers, starting and stopping fetchers as needed.
func (r *runner) assign() {
	topics := r.mirrorTopics()
	r.mu.Lock()
	defer r.mu.Unlock()
	byBroker := make(map[int32]map[partKey]*mpart)
	seen := make(map[partKey]bool)
	for _, t := range topics {
		m := t.Mirror
		active := m.State == StateActive && !r.s.paused
		if _, bad := r.problems[t.Name]; bad {
			active = false
		}
		st, known := r.sources[m.SourceTopic]
		for i := range t.Partitions {
			k := partKey{t.Name, int32(i)}
			seen[k] = true
			mp := r.parts[k]
			if mp == nil {
				p := r.m.brk.Partition(t.Name, int32(i))
				if p == nil {
					continue // not stored here
				}
				var start int64 = -1
				if i < len(m.StartOffsets) {
					start = m.StartOffsets[i]
				}
				mp = newMpart(t.Name, int32(i), m.SourceTopic, m.SourceTopicID, p, start)
				mp.held = m.State != StateActive // not yet shared: no lock needed
				r.parts[k] = mp
			}
			if !active || !known || i >= len(st.leaders) || st.leaders[i] < 0 {
				continue
			}
			b := st.leaders[i]
			if byBroker[b] == nil {
				byBroker[b] = make(map[partKey]*mpart)
			}
			byBroker[b][k] = mp
		}
	}
	for k := range r.parts {
		if !seen[k] {
			delete(r.parts, k)
		}
	}
	for id, f := range r.fetchers {
		if _, ok := byBroker[id]; !ok {
			f.setParts(nil)
		}
	}
	for id, parts := range byBroker {
		f := r.fetchers[id]
		if f == nil {
			f = newFetcher(r, id)
			r.fetchers[id] = f
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				f.run()
			}()
		}
		f.setParts(parts)
	}
}

func (r *runner) stopFetchers() {
	r.mu.Lock()
	for _, f := range r.fetchers {
		f.setParts(nil)
	}
	r.mu.Unlock()
}

// checkAvailability probes the source; after the configured number of
// consecutive failures the link is unavailable (mirrors show
// SOURCE_UNAVAILABLE) until a probe succeeds again.
func (r *runner) checkAvailability() {
	s := r.settings()
	if s.paused {
		return
	}
	// A probe that cannot answer within its own period counts as failed;
	// otherwise a lost source (connections timing out, not refused) would
	// take threshold x request.timeout.ms to notice.
	ctx, cancel := context.WithTimeout(r.ctx, min(s.requestTimeout, s.availabilityCheck))
	defer cancel()
	err := r.probe(ctx)
	if r.ctx.Err() != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		if r.unavailable {
			r.lg.Info("cluster link is available again", "unavailable_for", r.m.now().Sub(r.unavailableSince).Round(time.Millisecond))
			r.kickRefreshLocked()
		}
		r.failures, r.unavailable, r.availErr, r.availMsg = 0, false, "", ""
		return
	}
	r.failures++
	r.availErr, r.availMsg = classifyLinkError(err), err.Error()
	if !r.unavailable && r.failures >= s.availabilityThreshold {
		r.unavailable, r.unavailableSince = true, r.m.now()
		r.lg.Warn(fmt.Sprintf("Cluster link %s is not available, moving to degraded state", r.name),
			"consecutive_failures", r.failures, "err", err)
	}
}

// probe asks the source something it must answer itself (franz-go may
// answer Metadata from its cache): DescribeCluster, or ApiVersions-era
// Metadata for sources older than Kafka 2.8.
func (r *runner) probe(ctx context.Context) error {
	resp, err := kmsg.NewPtrDescribeClusterRequest().RequestWith(ctx, r.cl)
	switch {
	case errors.Is(err, kerr.UnsupportedVersion), err != nil && strings.Contains(err.Error(), "broker is too old"):
		// franz-go does not export its "too old" error; its text is stable.
		_, err = r.adm.BrokerMetadata(ctx)
		return err
	case err != nil:
		return err
	case resp.ErrorCode != 0:
		return kerr.ErrorForCode(resp.ErrorCode)
	}
	return nil
}

func (r *runner) kickRefreshLocked() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// availability returns the current run of failed availability checks and
// the last error.
func (r *runner) availability() (int, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failures, r.availMsg
}

// classifyLinkError maps a source error to Confluent's link_error values.
func classifyLinkError(err error) string {
	var ne *net.OpError
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed),
		errors.Is(err, kerr.TopicAuthorizationFailed), strings.Contains(err.Error(), "SASL"):
		return "AUTHENTICATION_ERROR"
	case errors.As(err, &dnsErr):
		return "UNRESOLVABLE_BOOTSTRAP_ERROR"
	case errors.As(err, &ne), errors.Is(err, errNoAnswer):
		return "BOOTSTRAP_TCP_CONNECTION_FAILED_ERROR"
	case errors.Is(err, context.DeadlineExceeded):
		return "TIMEOUT_ERROR"
	default:
		return "UNKNOWN"
	}
}

// holdTopic suspends (or resumes) appends to a topic's mirror partitions;
// when it returns, no fetch response is being applied to them.
func (r *runner) holdTopic(topic string, hold bool) {
	for _, mp := range r.topicParts(topic) {
		mp.appendMu.Lock()
		mp.held = hold
		mp.appendMu.Unlock()
	}
}

func (r *runner) topicParts(topic string) []*mpart {
	r.mu.Lock()
	defer r.mu.Unlock()
	var mps []*mpart
	for k, mp := range r.parts {
		if k.topic == topic {
			mps = append(mps, mp)
		}
	}
	return mps
}

// fenceTopic stops every append to the topic's mirror partitions; when it
// returns, no fetch response is being applied to them and none will be.
func (r *runner) fenceTopic(topic string) {
	for _, mp := range r.topicParts(topic) {
		mp.appendMu.Lock()
		mp.fenced = true
		mp.appendMu.Unlock()
	}
}

// status summarises the link's health. While connections to the source
// fail, the link's error says so (which address, the last error, since
// when, when the next attempt is) even before the availability check makes
// the link UNAVAILABLE; it is more precise than the probe's own error.
func (r *runner) status() runnerStatus {
	failing := r.dialer.failing()
	r.mu.Lock()
	defer r.mu.Unlock()
	st := runnerStatus{state: LinkStateActive, errCode: "NO_ERROR"}
	switch {
	case r.s.paused:
		st.state = LinkStatePaused
	case r.unavailable:
		st.state, st.errCode, st.errMessage = LinkStateUnavailable, r.availErr, r.availMsg
	}
	if !r.s.paused && len(failing) > 0 {
		st.errCode, st.errMessage = classifyLinkError(failing[0].err), describeFailing(failing, time.Now())
		// A refused login ends the connection from this side, which the
		// dialer cannot tell from a timeout; the probe knows.
		if r.failures > 0 && r.availErr == "AUTHENTICATION_ERROR" {
			st.errCode, st.errMessage = r.availErr, r.availMsg+"; "+st.errMessage
		}
	}
	for _, name := range []string{TaskAclSync, TaskAutoCreateMirror, TaskConsumerOffsetSync, TaskTopicConfigsSync} {
		ts, ok := r.tasks[name]
		if !ok {
			ts = TaskStatus{Name: name, State: TaskStateNotConfigured}
		}
		switch {
		case name == TaskConsumerOffsetSync && !r.s.conf.ConsumerOffsetSync,
			name == TaskAutoCreateMirror && !r.s.conf.AutoCreateMirrorTopics:
			ts = TaskStatus{Name: name, State: TaskStateNotConfigured}
		case name == TaskConsumerOffsetSync || name == TaskAutoCreateMirror:
			if p := linkconf.TaskProblems(r.s.conf)[name]; p != "" {
				ts = TaskStatus{Name: name, State: TaskStateInError, Errors: []TaskError{{Code: "MISCONFIGURATION_ERROR", Message: p}}}
			} else if !ok {
				ts = TaskStatus{Name: name, State: TaskStateActive}
			}
		}
		if name == TaskAclSync && r.s.conf.ACLSync {
			msg := "ACL sync is not supported by Strait yet: ACLs are not enforced by this broker"
			if p := linkconf.TaskProblems(r.s.conf)[TaskAclSync]; p != "" {
				msg = p
			}
			ts = TaskStatus{Name: name, State: TaskStateInError, Errors: []TaskError{{Code: "MISCONFIGURATION_ERROR", Message: msg}}}
		}
		switch {
		case ts.State == TaskStateNotConfigured:
		case r.s.paused:
			ts.State = TaskStateLinkPaused
		case r.unavailable:
			ts.State = TaskStateUnavailable
		}
		st.tasks = append(st.tasks, ts)
	}
	return st
}

// setTaskState records a task's state directly (e.g. NOT_CONFIGURED).
func (r *runner) setTaskState(name, state string, errs []TaskError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tasks[name] = TaskStatus{Name: name, State: state, Errors: errs}
}

// setTask records a task's state and last error.
func (r *runner) setTask(name string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ts := TaskStatus{Name: name, State: TaskStateActive}
	if err != nil {
		ts.State = TaskStateInError
		ts.Errors = []TaskError{{Code: taskErrorCode(err), Message: err.Error()}}
	}
	r.tasks[name] = ts
}

func taskErrorCode(err error) string {
	var te *taskErr
	if errors.As(err, &te) {
		return te.code
	}
	if classifyLinkError(err) == "AUTHENTICATION_ERROR" {
		return "AUTHENTICATION_ERROR"
	}
	return "INTERNAL_ERROR"
}

// taskErr is a task error with its Confluent code.
type taskErr struct {
	code string
	msg  string
}

func (e *taskErr) Error() string { return e.msg }
