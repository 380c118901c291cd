package group

import (
	"io"
	"log/slog"
	"math"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/partition"
	"github.com/strait-kafka/strait/internal/storage"
)

// fakeClock is a Clock that moves only when told to.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	clk *fakeClock
	c   chan time.Time
	at  time.Time
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	for i, x := range t.clk.timers {
		if x == t {
			t.clk.timers = append(t.clk.timers[:i], t.clk.timers[i+1:]...)
			return true
		}
	}
	return false
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clk: c, c: make(chan time.Time, 1), at: c.now.Add(d)}
	if d <= 0 {
		t.c <- c.now
		return t
	}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves the clock and fires the timers that came due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.timers[:0]
	for _, t := range c.timers {
		if t.at.After(c.now) {
			keep = append(keep, t)
			continue
		}
		t.c <- c.now
	}
	c.timers = keep
}

// pending is how many timers wait (for tests of Run).
func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

const testPartitions = 4

// harness is a coordinator on real partitions of __consumer_offsets in a
// temporary directory, with a fake clock.
type harness struct {
	t       *testing.T
	dir     string
	topicID uuid.UUID
	cfg     Config
	clk     *fakeClock
	mgr     *partition.Manager
	c       *Coordinator
}

func testConfig() Config {
	return Config{
		MinSessionTimeout:     time.Second,
		MaxSessionTimeout:     time.Hour,
		MaxSize:               math.MaxInt32,
		InitialRebalanceDelay: 0,
		OffsetsRetention:      24 * time.Hour,
		RetentionCheck:        10 * time.Minute,
		MaxMetadataBytes:      4096,
	}
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), topicID: uuid.New(), cfg: cfg,
		clk: &fakeClock{now: time.Now().Truncate(time.Millisecond)}}
	h.open()
	t.Cleanup(h.close)
	return h
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (h *harness) open() {
	h.t.Helper()
	mgr, err := partition.NewManager(partition.ManagerOptions{Dirs: []string{h.dir}, Logger: testLogger()})
	if err != nil {
		h.t.Fatal(err)
	}
	pc := partition.Config{
		Storage: storage.Config{
			SegmentBytes: 1 << 20, SegmentMs: math.MaxInt64, RetentionMs: -1, RetentionBytes: -1,
			IndexIntervalBytes: 4096, SegmentIndexBytes: 1 << 20, FlushMessages: math.MaxInt64,
			FlushMs: math.MaxInt64, FileDeleteDelayMs: 60000,
		},
		MaxMessageBytes: 1 << 20, TimestampBeforeMaxMs: -1, TimestampAfterMaxMs: -1, MinInsyncReplicas: 1,
	}
	var want []partition.Assignment
	for i := range int32(testPartitions) {
		want = append(want, partition.Assignment{Topic: Topic, TopicID: h.topicID, Index: i, Config: pc})
	}
	if err := mgr.Reconcile(want); err != nil {
		h.t.Fatal(err)
	}
	h.mgr = mgr
	h.c = New(Options{
		Config: h.cfg, Partitions: mgr, Logger: testLogger(), Clock: h.clk,
		Topics: func(topic string) (int32, bool) { return 8, topic != "missing" },
	})
	if err := h.c.Load(testPartitions); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) close() {
	if h.c != nil {
		h.c.Close()
		h.c = nil
	}
	if h.mgr != nil {
		if err := h.mgr.Close(); err != nil {
			h.t.Errorf("closing partitions: %v", err)
		}
		h.mgr = nil
	}
}

// reopen closes everything and loads the coordinator again from disk.
func (h *harness) reopen() {
	h.t.Helper()
	h.close()
	h.open()
}

// advance moves the clock and runs what came due, as Run would.
func (h *harness) advance(d time.Duration) {
	h.clk.Advance(d)
	h.c.fireDeadlines()
}

type joinOpts struct {
	member    string
	instance  string
	version   int16
	session   time.Duration
	rebalance time.Duration
	ptype     string
	protocols []protocol
}

// consumerMeta is a consumer protocol subscription to topics.
func consumerMeta(topics ...string) []byte {
	m := kmsg.NewConsumerMemberMetadata()
	m.Topics = topics
	return m.AppendTo(nil)
}

func rangeProtocol(topics ...string) []protocol {
	return []protocol{{name: "range", metadata: consumerMeta(topics...)}}
}

// joinCB registers a JoinGroup and returns its callback: answered at once
// or parked.
func (h *harness) joinCB(group string, o joinOpts) joinCallback {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = o.version
	if req.Version == 0 {
		req.Version = 9
	}
	req.Group, req.MemberID = group, o.member
	if o.instance != "" {
		inst := o.instance
		req.InstanceID = &inst
	}
	if o.session == 0 {
		o.session = 10 * time.Second
	}
	if o.rebalance == 0 {
		o.rebalance = 30 * time.Second
	}
	req.SessionTimeoutMillis = int32(o.session / time.Millisecond)
	req.RebalanceTimeoutMillis = int32(o.rebalance / time.Millisecond)
	req.ProtocolType = o.ptype
	if req.ProtocolType == "" {
		req.ProtocolType = consumerProtocolType
	}
	if o.protocols == nil {
		o.protocols = rangeProtocol("t")
	}
	for _, p := range o.protocols {
		rp := kmsg.NewJoinGroupRequestProtocol()
		rp.Name, rp.Metadata = p.name, p.metadata
		req.Protocols = append(req.Protocols, rp)
	}
	cb := newJoinCallback()
	h.c.joinGroup(req, "client", "/127.0.0.1", cb)
	return cb
}

func mustJoin(t *testing.T, cb joinCallback) joinResult {
	t.Helper()
	select {
	case r := <-cb:
		return r
	default:
		t.Fatal("JoinGroup was not answered")
		return joinResult{}
	}
}

func mustParkJoin(t *testing.T, cb joinCallback) {
	t.Helper()
	select {
	case r := <-cb:
		t.Fatalf("JoinGroup answered %+v, want it parked", r)
	default:
	}
}

func mustSync(t *testing.T, cb syncCallback) syncResult {
	t.Helper()
	select {
	case r := <-cb:
		return r
	default:
		t.Fatal("SyncGroup was not answered")
		return syncResult{}
	}
}

func mustParkSync(t *testing.T, cb syncCallback) {
	t.Helper()
	select {
	case r := <-cb:
		t.Fatalf("SyncGroup answered %+v, want it parked", r)
	default:
	}
}

func wantErr(t *testing.T, what string, got, want *kerr.Error) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: error %v, want %v", what, got, want)
	}
}

// newMember joins a new dynamic member the KIP-394 way (MEMBER_ID_REQUIRED,
// then again with the ID) and returns the second JoinGroup's callback.
func (h *harness) newMember(group string, o joinOpts) (string, joinCallback) {
	h.t.Helper()
	first := mustJoin(h.t, h.joinCB(group, o))
	wantErr(h.t, "first JoinGroup", first.err, kerr.MemberIDRequired)
	o.member = first.memberID
	return first.memberID, h.joinCB(group, o)
}

func (h *harness) syncCB(group, member string, generation int32, assignment map[string][]byte) syncCallback {
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version = 5
	req.Group, req.MemberID, req.Generation = group, member, generation
	for id, a := range assignment {
		ga := kmsg.NewSyncGroupRequestGroupAssignment()
		ga.MemberID, ga.MemberAssignment = id, a
		req.GroupAssignment = append(req.GroupAssignment, ga)
	}
	cb := newSyncCallback()
	h.c.syncGroup(req, cb)
	return cb
}

func (h *harness) syncStatic(group, member, instance string, generation int32) syncCallback {
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version = 5
	req.Group, req.MemberID, req.Generation, req.InstanceID = group, member, generation, &instance
	cb := newSyncCallback()
	h.c.syncGroup(req, cb)
	return cb
}

func (h *harness) heartbeat(group, member string, generation int32) *kerr.Error {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Version = 4
	req.Group, req.MemberID, req.Generation = group, member, generation
	return codeErr(h.c.HandleHeartbeat(req).ErrorCode)
}

// codeErr is the *kerr.Error of a code, nil for 0.
func codeErr(code int16) *kerr.Error {
	if code == 0 {
		return nil
	}
	return kerr.ErrorForCode(code).(*kerr.Error)
}

func (h *harness) heartbeatStatic(group, member, instance string, generation int32) *kerr.Error {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Version = 4
	req.Group, req.MemberID, req.Generation, req.InstanceID = group, member, generation, &instance
	return codeErr(h.c.HandleHeartbeat(req).ErrorCode)
}

func (h *harness) leave(group string, members ...string) []int16 {
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Version = 5
	req.Group = group
	for _, m := range members {
		lm := kmsg.NewLeaveGroupRequestMember()
		lm.MemberID = m
		req.Members = append(req.Members, lm)
	}
	resp := h.c.HandleLeaveGroup(req)
	var codes []int16
	for _, m := range resp.Members {
		codes = append(codes, m.ErrorCode)
	}
	return codes
}

// commit commits offset to t/partition for every partition given, and
// returns each partition's error (nil for success).
func (h *harness) commit(group, member string, generation int32, offsets map[int32]int64) map[int32]*kerr.Error {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version = 8
	req.Group, req.MemberID, req.Generation = group, member, generation
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = "t"
	for p, o := range offsets {
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset = p, o
		meta := "m"
		rp.Metadata = &meta
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	out := map[int32]*kerr.Error{}
	for _, st := range h.c.HandleOffsetCommit(req).Topics {
		for _, sp := range st.Partitions {
			out[sp.Partition] = codeErr(sp.ErrorCode)
		}
	}
	return out
}

func (h *harness) mustCommit(group, member string, generation int32, offsets map[int32]int64) {
	h.t.Helper()
	for p, err := range h.commit(group, member, generation, offsets) {
		if err != nil {
			h.t.Fatalf("committing t/%d for %s: %v", p, group, err)
		}
	}
}

// committed returns the group's committed offsets of topic t.
func (h *harness) committed(group string) map[int32]int64 {
	h.t.Helper()
	offs, err := h.c.FetchOffsets(group)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[int32]int64{}
	for tp, o := range offs {
		if tp.Topic == "t" {
			out[tp.Partition] = o.Offset
		}
	}
	return out
}

func (h *harness) state(group string) State {
	s, _ := h.c.GroupState(group)
	return s
}

// stableGroup brings n dynamic members into a Stable group and returns
// their IDs (leader first) and the generation.
func (h *harness) stableGroup(group string, n int, o joinOpts) ([]string, int32) {
	h.t.Helper()
	var ids []string
	var cbs []joinCallback
	for range n {
		id, cb := h.newMember(group, o)
		ids = append(ids, id)
		cbs = append(cbs, cb)
	}
	// With no initial delay the first member completes a generation alone;
	// everyone then (re)joins the rebalance the later members caused.
	if n > 1 {
		for i := range n {
			select {
			case r := <-cbs[i]:
				if r.err != nil {
					h.t.Fatalf("JoinGroup of %s: %v", ids[i], r.err)
				}
				oo := o
				oo.member = ids[i]
				cbs[i] = h.joinCB(group, oo)
			default:
			}
		}
	}
	var gen int32
	var leader string
	for i, cb := range cbs {
		r := mustJoin(h.t, cb)
		if r.err != nil {
			h.t.Fatalf("JoinGroup of %s: %v", ids[i], r.err)
		}
		gen, leader = r.generation, r.leader
	}
	for i, id := range ids {
		if id == leader {
			ids[0], ids[i] = ids[i], ids[0]
		}
	}
	assignment := map[string][]byte{}
	for _, id := range ids {
		assignment[id] = []byte("assignment of " + id)
	}
	var syncs []syncCallback
	for i, id := range ids {
		a := assignment
		if i > 0 {
			a = nil
		}
		syncs = append(syncs, h.syncCB(group, id, gen, a))
	}
	for i, cb := range syncs {
		r := mustSync(h.t, cb)
		if r.err != nil || string(r.assignment) != "assignment of "+ids[i] {
			h.t.Fatalf("SyncGroup of %s: %v %q", ids[i], r.err, r.assignment)
		}
	}
	if s := h.state(group); s != StateStable {
		h.t.Fatalf("group %s is %v after sync, want Stable", group, s)
	}
	return ids, gen
}
