package group

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestGroupPartitionFor(t *testing.T) {
	cases := []struct {
		group string
		n     int32
		want  int32
	}{
		{"", 50, 0},
		{"a", 50, 97 % 50},
		// "polygenelubricants".hashCode() is Integer.MIN_VALUE, which
		// Kafka's Utils.abs maps to 0.
		{"polygenelubricants", 50, 0},
		// A character outside the BMP counts as two UTF-16 units:
		// 31*0xD83D + 0xDE00 = 1772899.
		{"\U0001F600", 1000, 1772899 % 1000},
		// "hello".hashCode() = 99162322; negative hashes use abs.
		{"hello", 7, 99162322 % 7},
		{"my-group", 1, 0},
	}
	for _, c := range cases {
		if got := PartitionFor(c.group, c.n); got != c.want {
			t.Errorf("PartitionFor(%q, %d) = %d, want %d", c.group, c.n, got, c.want)
		}
	}
	// Negative hashes: "orders-consumer".hashCode() = -1204742690.
	if got := PartitionFor("orders-consumer", 50); got != 1204742690%50 {
		t.Errorf("PartitionFor(orders-consumer) = %d, want %d", got, 1204742690%50)
	}
}

func TestGroupJoinSyncHeartbeatLeave(t *testing.T) {
	h := newHarness(t, testConfig())
	const g = "orders"

	// A new dynamic member (JoinGroup v4+) must come back with an ID.
	first := mustJoin(t, h.joinCB(g, joinOpts{}))
	wantErr(t, "first join", first.err, kerr.MemberIDRequired)
	if first.memberID == "" || first.generation != -1 {
		t.Fatalf("MEMBER_ID_REQUIRED answer %+v", first)
	}
	a := first.memberID
	r := mustJoin(t, h.joinCB(g, joinOpts{member: a}))
	if r.err != nil || r.generation != 1 || r.leader != a || len(r.members) != 1 || *r.protocol != "range" {
		t.Fatalf("join answer %+v", r)
	}
	if s := h.state(g); s != StateCompletingRebalance {
		t.Fatalf("state %v, want CompletingRebalance", s)
	}
	// Heartbeats are fine while awaiting sync; commits are not.
	wantErr(t, "heartbeat before sync", h.heartbeat(g, a, 1), nil)
	wantErr(t, "commit before sync", h.commit(g, a, 1, map[int32]int64{0: 1})[0], kerr.RebalanceInProgress)
	s := mustSync(t, h.syncCB(g, a, 1, map[string][]byte{a: []byte("p0")}))
	if s.err != nil || string(s.assignment) != "p0" || *s.protocol != "range" {
		t.Fatalf("sync answer %+v", s)
	}
	h.mustCommit(g, a, 1, map[int32]int64{0: 5})

	// A second member starts a rebalance; the first learns of it through
	// its heartbeat and rejoins; the follower's sync waits for the leader.
	b, bcb := h.newMember(g, joinOpts{})
	mustParkJoin(t, bcb)
	wantErr(t, "heartbeat during rebalance", h.heartbeat(g, a, 1), kerr.RebalanceInProgress)
	h.mustCommit(g, a, 1, map[int32]int64{0: 6}) // commits still work while preparing
	acb := h.joinCB(g, joinOpts{member: a})
	ra, rb := mustJoin(t, acb), mustJoin(t, bcb)
	if ra.generation != 2 || rb.generation != 2 || ra.leader != a || len(ra.members) != 2 || len(rb.members) != 0 {
		t.Fatalf("rebalance answers %+v / %+v", ra, rb)
	}
	bs := h.syncCB(g, b, 2, nil)
	mustParkSync(t, bs)
	as := h.syncCB(g, a, 2, map[string][]byte{a: []byte("p0"), b: []byte("p1")})
	if r := mustSync(t, as); string(r.assignment) != "p0" {
		t.Fatalf("leader assignment %q", r.assignment)
	}
	if r := mustSync(t, bs); string(r.assignment) != "p1" {
		t.Fatalf("follower assignment %q", r.assignment)
	}
	// The old generation is fenced.
	wantErr(t, "heartbeat of old generation", h.heartbeat(g, a, 1), kerr.IllegalGeneration)
	wantErr(t, "commit of old generation", h.commit(g, a, 1, map[int32]int64{0: 7})[0], kerr.IllegalGeneration)

	// A leaves: B rejoins alone.
	if codes := h.leave(g, a, "nobody"); codes[0] != 0 || codes[1] != kerr.UnknownMemberID.Code {
		t.Fatalf("leave codes %v", codes)
	}
	wantErr(t, "heartbeat after leave", h.heartbeat(g, b, 2), kerr.RebalanceInProgress)
	rb = mustJoin(t, h.joinCB(g, joinOpts{member: b}))
	if rb.generation != 3 || rb.leader != b || len(rb.members) != 1 {
		t.Fatalf("join after leave %+v", rb)
	}
	mustSync(t, h.syncCB(g, b, 3, map[string][]byte{b: []byte("all")}))
	// B leaves too: the group is Empty with a new generation and its offsets.
	h.leave(g, b)
	if s := h.state(g); s != StateEmpty {
		t.Fatalf("state %v after everyone left", s)
	}
	if got := h.committed(g); got[0] != 6 {
		t.Fatalf("committed %v, want partition 0 at 6", got)
	}
	wantErr(t, "heartbeat of an empty group", h.heartbeat(g, b, 4), kerr.UnknownMemberID)
}

func TestGroupErrorCodes(t *testing.T) {
	h := newHarness(t, testConfig())
	ids, gen := h.stableGroup("g", 2, joinOpts{})
	leader, follower := ids[0], ids[1]
	cases := []struct {
		name string
		got  func() *kerr.Error
		want *kerr.Error
	}{
		{"join without group id", func() *kerr.Error { return mustJoin(t, h.joinCB("", joinOpts{})).err }, kerr.InvalidGroupID},
		{"session timeout too small", func() *kerr.Error {
			return mustJoin(t, h.joinCB("x", joinOpts{session: time.Millisecond})).err
		}, kerr.InvalidSessionTimeout},
		{"session timeout too large", func() *kerr.Error {
			return mustJoin(t, h.joinCB("x", joinOpts{session: 2 * time.Hour})).err
		}, kerr.InvalidSessionTimeout},
		{"empty protocol type", func() *kerr.Error {
			return mustJoin(t, h.joinCB("x", joinOpts{ptype: "-", protocols: []protocol{}})).err
		}, kerr.InconsistentGroupProtocol},
		{"other protocol type", func() *kerr.Error {
			return mustJoin(t, h.joinCB("g", joinOpts{ptype: "connect"})).err
		}, kerr.InconsistentGroupProtocol},
		{"no common protocol", func() *kerr.Error {
			return mustJoin(t, h.joinCB("g", joinOpts{protocols: []protocol{{name: "sticky"}}})).err
		}, kerr.InconsistentGroupProtocol},
		{"join with unknown member id", func() *kerr.Error {
			return mustJoin(t, h.joinCB("g", joinOpts{member: "ghost"})).err
		}, kerr.UnknownMemberID},
		{"join of unknown group with a member id", func() *kerr.Error {
			return mustJoin(t, h.joinCB("nope", joinOpts{member: "ghost"})).err
		}, kerr.UnknownMemberID},
		{"heartbeat of unknown group", func() *kerr.Error { return h.heartbeat("nope", "m", 1) }, kerr.UnknownMemberID},
		{"heartbeat of unknown member", func() *kerr.Error { return h.heartbeat("g", "ghost", gen) }, kerr.UnknownMemberID},
		{"heartbeat of old generation", func() *kerr.Error { return h.heartbeat("g", follower, gen-1) }, kerr.IllegalGeneration},
		{"heartbeat", func() *kerr.Error { return h.heartbeat("g", follower, gen) }, nil},
		{"sync of unknown member", func() *kerr.Error { return mustSync(t, h.syncCB("g", "ghost", gen, nil)).err }, kerr.UnknownMemberID},
		{"sync of old generation", func() *kerr.Error { return mustSync(t, h.syncCB("g", follower, gen+1, nil)).err }, kerr.IllegalGeneration},
		{"sync of unknown group", func() *kerr.Error { return mustSync(t, h.syncCB("nope", "m", 1, nil)).err }, kerr.UnknownMemberID},
		{"commit of unknown member", func() *kerr.Error { return h.commit("g", "ghost", gen, map[int32]int64{0: 1})[0] }, kerr.UnknownMemberID},
		{"commit of old generation", func() *kerr.Error { return h.commit("g", follower, gen-1, map[int32]int64{0: 1})[0] }, kerr.IllegalGeneration},
		{"admin commit to a live group", func() *kerr.Error { return h.commit("g", "", -1, map[int32]int64{0: 1})[0] }, kerr.UnknownMemberID},
		{"commit to an unknown group of a generation", func() *kerr.Error {
			return h.commit("nope", "m", 3, map[int32]int64{0: 1})[0]
		}, kerr.IllegalGeneration},
		{"commit to an unknown partition", func() *kerr.Error { return h.commit("g", follower, gen, map[int32]int64{8: 1})[8] }, kerr.UnknownTopicOrPartition},
		{"member commit", func() *kerr.Error { return h.commit("g", follower, gen, map[int32]int64{1: 10})[1] }, nil},
		{"leave of unknown member", func() *kerr.Error {
			return codeErr(h.leave("g", "ghost")[0])
		}, kerr.UnknownMemberID},
	}
	for _, c := range cases {
		if got := c.got(); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if s := h.state("g"); s != StateStable {
		t.Fatalf("the failed requests changed the group to %v", s)
	}
	// The leader rejoining forces a rebalance; then SyncGroup is refused.
	lcb := h.joinCB("g", joinOpts{member: leader})
	mustParkJoin(t, lcb)
	wantErr(t, "sync while preparing", mustSync(t, h.syncCB("g", follower, gen, nil)).err, kerr.RebalanceInProgress)
	wantErr(t, "heartbeat while preparing", h.heartbeat("g", follower, gen), kerr.RebalanceInProgress)
}

func TestGroupMetadataTooLarge(t *testing.T) {
	cfg := testConfig()
	cfg.MaxMetadataBytes = 4
	h := newHarness(t, cfg)
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version = 8
	req.Group, req.Generation = "simple", -1
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = "t"
	for p, meta := range []string{"ok", "too long"} {
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset, rp.Metadata = int32(p), 3, &meta
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = []kmsg.OffsetCommitRequestTopic{rt}
	resp := h.c.HandleOffsetCommit(req)
	if got := []int16{resp.Topics[0].Partitions[0].ErrorCode, resp.Topics[0].Partitions[1].ErrorCode}; got[0] != 0 || got[1] != kerr.OffsetMetadataTooLarge.Code {
		t.Fatalf("codes %v", got)
	}
	if got := h.committed("simple"); len(got) != 1 || got[0] != 3 {
		t.Fatalf("committed %v", got)
	}
}

func TestGroupStaticMembership(t *testing.T) {
	h := newHarness(t, testConfig())
	const g = "static"
	// Static members get their ID at once (no MEMBER_ID_REQUIRED).
	r := mustJoin(t, h.joinCB(g, joinOpts{instance: "host-1"}))
	if r.err != nil {
		t.Fatalf("static join: %v", r.err)
	}
	old := r.memberID
	mustSync(t, h.syncStatic(g, old, "host-1", r.generation))
	sr := mustSync(t, h.syncCB(g, old, r.generation, nil))
	if sr.err != nil {
		t.Fatal(sr.err)
	}
	gen := r.generation

	// The instance restarts and joins without its member ID: it takes its
	// place under a new ID, without a rebalance, and the old ID is fenced.
	r2 := mustJoin(t, h.joinCB(g, joinOpts{instance: "host-1"}))
	if r2.err != nil || r2.memberID == old || r2.generation != gen {
		t.Fatalf("static rejoin %+v (old id %s, generation %d)", r2, old, gen)
	}
	// JoinGroup v9: the static leader is told to skip the assignment.
	if !r2.skip || r2.leader != r2.memberID {
		t.Fatalf("static leader rejoin: skip=%v leader=%s", r2.skip, r2.leader)
	}
	if s := h.state(g); s != StateStable {
		t.Fatalf("state %v after static rejoin, want Stable", s)
	}
	wantErr(t, "old member id", h.heartbeatStatic(g, old, "host-1", gen), kerr.FencedInstanceID)
	wantErr(t, "new member id", h.heartbeatStatic(g, r2.memberID, "host-1", gen), nil)
	wantErr(t, "unknown instance", h.heartbeatStatic(g, r2.memberID, "host-2", gen), kerr.UnknownMemberID)
	if got := mustSync(t, h.syncStatic(g, r2.memberID, "host-1", gen)); got.err != nil {
		t.Fatalf("sync after static rejoin: %v", got.err)
	}
	// Before v9 the old leader ID is returned, so the member does not
	// assign.
	r3 := mustJoin(t, h.joinCB(g, joinOpts{instance: "host-1", version: 8}))
	if r3.err != nil || r3.leader != r2.memberID || r3.skip {
		t.Fatalf("v8 static rejoin %+v", r3)
	}
	// A second static member joins: both rejoin and sync.
	h2cb := h.joinCB(g, joinOpts{instance: "host-2"})
	mustParkJoin(t, h2cb)
	j1 := mustJoin(t, h.joinCB(g, joinOpts{instance: "host-1", member: r3.memberID}))
	j2 := mustJoin(t, h2cb)
	if j1.err != nil || j2.err != nil || j1.generation != gen+1 || j1.leader != r3.memberID {
		t.Fatalf("two static members: %+v / %+v", j1, j2)
	}
	f := h.syncStatic(g, j2.memberID, "host-2", j1.generation)
	mustParkSync(t, f)
	mustSync(t, h.syncStatic(g, j1.memberID, "host-1", j1.generation))
	mustSync(t, f)

	// host-1 rejoins (the leader: a rebalance) and waits for host-2; then
	// host-1 restarts: its parked request, under the replaced ID, is
	// fenced, and the new one takes its place in the rebalance.
	lcb := h.joinCB(g, joinOpts{instance: "host-1", member: j1.memberID})
	mustParkJoin(t, lcb)
	ncb := h.joinCB(g, joinOpts{instance: "host-1"})
	wantErr(t, "parked join of the replaced id", mustJoin(t, lcb).err, kerr.FencedInstanceID)
	mustParkJoin(t, ncb)
	r2b := mustJoin(t, h.joinCB(g, joinOpts{instance: "host-2", member: j2.memberID}))
	rn := mustJoin(t, ncb)
	if rn.err != nil || rn.memberID == j1.memberID || rn.generation != gen+2 || r2b.generation != gen+2 {
		t.Fatalf("rebalance after the static restart: %+v / %+v", rn, r2b)
	}

	// LeaveGroup by instance ID alone removes static members.
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Version, req.Group = 5, g
	for _, inst := range []string{"host-1", "host-2"} {
		lm := kmsg.NewLeaveGroupRequestMember()
		lm.InstanceID = &inst
		req.Members = append(req.Members, lm)
	}
	if resp := h.c.HandleLeaveGroup(req); resp.ErrorCode != 0 || resp.Members[0].ErrorCode != 0 || resp.Members[1].ErrorCode != 0 {
		t.Fatalf("leave by instance id: %+v", resp)
	}
	if s := h.state(g); s != StateEmpty {
		t.Fatalf("state %v after the static members left", s)
	}
}

func TestGroupSessionExpiry(t *testing.T) {
	h := newHarness(t, testConfig())
	ids, gen := h.stableGroup("g", 2, joinOpts{session: 10 * time.Second})
	a, b := ids[0], ids[1]
	// A heartbeats, B does not.
	for range 2 {
		h.advance(4 * time.Second)
		wantErr(t, "A's heartbeat", h.heartbeat("g", a, gen), nil)
	}
	h.advance(4 * time.Second)
	if s := h.state("g"); s != StatePreparingRebalance {
		t.Fatalf("state %v after B's session expired, want PreparingRebalance", s)
	}
	wantErr(t, "A's heartbeat after B expired", h.heartbeat("g", a, gen), kerr.RebalanceInProgress)
	wantErr(t, "B's heartbeat", h.heartbeat("g", b, gen), kerr.UnknownMemberID)
	r := mustJoin(t, h.joinCB("g", joinOpts{member: a}))
	if r.generation != gen+1 || len(r.members) != 1 {
		t.Fatalf("rejoin after expiry %+v", r)
	}
	mustSync(t, h.syncCB("g", a, r.generation, map[string][]byte{a: {1}}))
	// The last member expires: the group becomes Empty.
	h.advance(11 * time.Second)
	if s := h.state("g"); s != StateEmpty {
		t.Fatalf("state %v after the last session expired, want Empty", s)
	}
}

func TestGroupRebalanceTimeout(t *testing.T) {
	h := newHarness(t, testConfig())
	o := joinOpts{session: time.Minute, rebalance: 20 * time.Second}
	ids, gen := h.stableGroup("g", 3, o)
	a, b := ids[0], ids[1]
	// The leader rejoins; B rejoins; the third member never does.
	oa, ob := o, o
	oa.member, ob.member = a, b
	acb := h.joinCB("g", oa)
	bcb := h.joinCB("g", ob)
	mustParkJoin(t, acb)
	h.advance(19 * time.Second)
	mustParkJoin(t, acb)
	h.advance(time.Second)
	ra, rb := mustJoin(t, acb), mustJoin(t, bcb)
	if ra.generation != gen+1 || len(ra.members) != 2 || rb.generation != gen+1 {
		t.Fatalf("after the rebalance timeout: %+v / %+v", ra, rb)
	}
	// Members that do not send SyncGroup within the rebalance timeout are
	// removed, and the group rebalances again.
	as := h.syncCB("g", a, ra.generation, map[string][]byte{a: {1}, b: {2}})
	if r := mustSync(t, as); r.err != nil {
		t.Fatal(r.err)
	}
	h.advance(20 * time.Second)
	wantErr(t, "heartbeat of the member that did not sync", h.heartbeat("g", b, ra.generation), kerr.UnknownMemberID)
	if s := h.state("g"); s != StatePreparingRebalance {
		t.Fatalf("state %v, want PreparingRebalance", s)
	}
}

func TestGroupInitialRebalanceDelay(t *testing.T) {
	cfg := testConfig()
	cfg.InitialRebalanceDelay = 3 * time.Second
	h := newHarness(t, cfg)
	o := joinOpts{rebalance: 10 * time.Second}
	a, acb := h.newMember("g", o)
	h.advance(2 * time.Second)
	mustParkJoin(t, acb)
	// A member arriving during the delay extends it.
	b, bcb := h.newMember("g", o)
	h.advance(time.Second)
	mustParkJoin(t, acb)
	h.advance(3 * time.Second)
	ra, rb := mustJoin(t, acb), mustJoin(t, bcb)
	if ra.generation != 1 || rb.generation != 1 || len(ra.members)+len(rb.members) != 2 {
		t.Fatalf("first generation: %+v / %+v (members %s, %s)", ra, rb, a, b)
	}
}

func TestGroupMaxSize(t *testing.T) {
	cfg := testConfig()
	cfg.MaxSize = 1
	h := newHarness(t, cfg)
	h.stableGroup("g", 1, joinOpts{})
	r := mustJoin(t, h.joinCB("g", joinOpts{}))
	wantErr(t, "joining a full group", r.err, kerr.GroupMaxSizeReached)
	if r.memberID != "" {
		t.Fatalf("member id %q for a refused member", r.memberID)
	}
}

func TestGroupAdminCommitRefusedWithLiveMembers(t *testing.T) {
	h := newHarness(t, testConfig())
	ctx := context.Background()
	// A group that does not exist is created by an admin commit.
	if err := h.c.CommitOffsetsIfEmpty(ctx, "fresh", map[TopicPartition]Offset{{"t", 0}: {Offset: 4, LeaderEpoch: -1}}); err != nil {
		t.Fatal(err)
	}
	if got := h.committed("fresh"); got[0] != 4 {
		t.Fatalf("committed %v", got)
	}
	ids, gen := h.stableGroup("live", 1, joinOpts{})
	err := h.c.CommitOffsetsIfEmpty(ctx, "live", map[TopicPartition]Offset{{"t", 0}: {Offset: 9}})
	if !errors.Is(err, ErrGroupNotEmpty) {
		t.Fatalf("admin commit to a live group: %v, want ErrGroupNotEmpty", err)
	}
	wantErr(t, "wire admin commit to a live group", h.commit("live", "", -1, map[int32]int64{0: 9})[0], kerr.UnknownMemberID)
	h.mustCommit("live", ids[0], gen, map[int32]int64{0: 2})
	h.leave("live", ids[0])
	if s := h.state("live"); s != StateEmpty {
		t.Fatalf("state %v", s)
	}
	// Once empty, admin commits (wire and Go) go through.
	h.mustCommit("live", "", -1, map[int32]int64{0: 7})
	if err := h.c.CommitOffsetsIfEmpty(ctx, "live", map[TopicPartition]Offset{{"t", 1}: {Offset: 8}}); err != nil {
		t.Fatal(err)
	}
	if got := h.committed("live"); got[0] != 7 || got[1] != 8 {
		t.Fatalf("committed %v", got)
	}
	if err := h.c.CommitOffsetsIfEmpty(ctx, "", map[TopicPartition]Offset{{"t", 1}: {Offset: 8}}); err != nil {
		t.Fatalf("the empty group id is valid for commits: %v", err)
	}
}

func TestGroupDeleteAndOffsetDelete(t *testing.T) {
	h := newHarness(t, testConfig())
	ids, gen := h.stableGroup("busy", 1, joinOpts{protocols: rangeProtocol("t")})
	h.mustCommit("busy", ids[0], gen, map[int32]int64{0: 1})
	h.mustCommit("idle", "", -1, map[int32]int64{0: 1, 1: 2})

	del := func(groups ...string) []int16 {
		req := kmsg.NewPtrDeleteGroupsRequest()
		req.Version, req.Groups = 2, groups
		var codes []int16
		for _, g := range h.c.HandleDeleteGroups(req).Groups {
			codes = append(codes, g.ErrorCode)
		}
		return codes
	}
	offDel := func(group, topic string, partitions ...int32) *kmsg.OffsetDeleteResponse {
		req := kmsg.NewPtrOffsetDeleteRequest()
		req.Group = group
		rt := kmsg.NewOffsetDeleteRequestTopic()
		rt.Topic = topic
		for _, p := range partitions {
			rt.Partitions = append(rt.Partitions, kmsg.OffsetDeleteRequestTopicPartition{Partition: p})
		}
		req.Topics = []kmsg.OffsetDeleteRequestTopic{rt}
		return h.c.HandleOffsetDelete(req)
	}

	// A consumer group subscribed to t keeps t's offsets; an idle group's
	// offsets can be deleted; deleting the last one deletes the group.
	if r := offDel("busy", "t", 0); r.ErrorCode != 0 || r.Topics[0].Partitions[0].ErrorCode != kerr.GroupSubscribedToTopic.Code {
		t.Fatalf("offset delete of a subscribed topic: %+v", r)
	}
	if r := offDel("idle", "t", 0); r.ErrorCode != 0 || r.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("offset delete: %+v", r)
	}
	if got := h.committed("idle"); len(got) != 1 || got[1] != 2 {
		t.Fatalf("after offset delete: %v", got)
	}
	if r := offDel("nope", "t", 0); r.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("offset delete of an unknown group: %d", r.ErrorCode)
	}
	if codes := del("busy", "idle", "nope"); codes[0] != kerr.NonEmptyGroup.Code || codes[1] != 0 || codes[2] != kerr.GroupIDNotFound.Code {
		t.Fatalf("delete codes %v", codes)
	}
	if _, ok := h.c.GroupState("idle"); ok {
		t.Fatal("deleted group still exists")
	}
	// Deletions survive a restart (tombstones).
	h.reopen()
	if _, ok := h.c.GroupState("idle"); ok {
		t.Fatal("deleted group came back after a restart")
	}
	if got := h.committed("busy"); got[0] != 1 {
		t.Fatalf("busy's offsets after restart: %v", got)
	}
}

func TestGroupDescribeAndList(t *testing.T) {
	h := newHarness(t, testConfig())
	ids, _ := h.stableGroup("g1", 2, joinOpts{})
	h.mustCommit("simple", "", -1, map[int32]int64{0: 1})

	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Version, req.Groups, req.IncludeAuthorizedOperations = 5, []string{"g1", "simple", "nope"}, true
	resp := h.c.HandleDescribeGroups(req)
	g1, simple, nope := resp.Groups[0], resp.Groups[1], resp.Groups[2]
	if g1.State != "Stable" || g1.ProtocolType != "consumer" || g1.Protocol != "range" || len(g1.Members) != 2 {
		t.Fatalf("g1 described as %+v", g1)
	}
	for _, m := range g1.Members {
		if m.ClientHost != "/127.0.0.1" || m.ClientID != "client" || string(m.MemberAssignment) != "assignment of "+m.MemberID {
			t.Errorf("member %+v", m)
		}
	}
	if g1.AuthorizedOperations != groupOperations {
		t.Errorf("authorized operations %d", g1.AuthorizedOperations)
	}
	if simple.State != "Empty" || simple.ProtocolType != "" || len(simple.Members) != 0 {
		t.Fatalf("simple described as %+v", simple)
	}
	if nope.State != "Dead" || nope.ErrorCode != 0 {
		t.Fatalf("unknown group described as %+v", nope)
	}

	list := func(states ...string) map[string]string {
		req := kmsg.NewPtrListGroupsRequest()
		req.Version, req.StatesFilter = 4, states
		out := map[string]string{}
		for _, g := range h.c.HandleListGroups(req).Groups {
			out[g.Group] = g.GroupState
		}
		return out
	}
	if got := list(); len(got) != 2 || got["g1"] != "Stable" || got["simple"] != "Empty" {
		t.Fatalf("list %v", got)
	}
	if got := list("EMPTY"); len(got) != 1 || got["simple"] != "Empty" {
		t.Fatalf("list of empty groups %v", got)
	}
	_ = ids
}

func TestGroupOffsetFetchVersions(t *testing.T) {
	h := newHarness(t, testConfig())
	h.mustCommit("g", "", -1, map[int32]int64{0: 5, 2: 7})

	// v1: named partitions, with -1 for one never committed.
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version, req.Group = 1, "g"
	req.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "t", Partitions: []int32{0, 1}}}
	resp := h.c.HandleOffsetFetch(req)
	if p := resp.Topics[0].Partitions; p[0].Offset != 5 || p[1].Offset != -1 || *p[0].Metadata != "m" {
		t.Fatalf("v1 fetch %+v", p)
	}
	// v7: null topics = everything committed.
	req = kmsg.NewPtrOffsetFetchRequest()
	req.Version, req.Group, req.RequireStable = 7, "g", true
	resp = h.c.HandleOffsetFetch(req)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 2 || resp.Topics[0].Partitions[1].Offset != 7 {
		t.Fatalf("v7 fetch all %+v", resp.Topics)
	}
	// v8: batched groups, each with its own error.
	req = kmsg.NewPtrOffsetFetchRequest()
	req.Version = 8
	req.Groups = []kmsg.OffsetFetchRequestGroup{{Group: "g"}, {Group: "other", Topics: []kmsg.OffsetFetchRequestGroupTopic{{Topic: "t", Partitions: []int32{0}}}}}
	resp = h.c.HandleOffsetFetch(req)
	if len(resp.Groups) != 2 || len(resp.Groups[0].Topics[0].Partitions) != 2 || resp.Groups[1].Topics[0].Partitions[0].Offset != -1 {
		t.Fatalf("v8 fetch %+v", resp.Groups)
	}
}

func TestGroupNotCoordinatorBeforeLoad(t *testing.T) {
	c := New(Options{})
	req := kmsg.NewPtrHeartbeatRequest()
	req.Group = "g"
	if code := c.HandleHeartbeat(req).ErrorCode; code != kerr.CoordinatorNotAvailable.Code {
		t.Fatalf("heartbeat before load: %d", code)
	}
	if c.PartitionFor("g") != -1 {
		t.Fatal("partition before load")
	}
	if err := c.CommitOffsetsIfEmpty(context.Background(), "g", map[TopicPartition]Offset{{"t", 0}: {}}); !errors.Is(err, ErrNotCoordinator) {
		t.Fatalf("commit before load: %v", err)
	}
}

// TestGroupRunFiresDeadlines drives Run with the fake clock: a member whose
// session ends is removed without any request arriving.
func TestGroupRunFiresDeadlines(t *testing.T) {
	h := newHarness(t, testConfig())
	h.stableGroup("g", 1, joinOpts{session: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitUntil(t, func() bool { return h.clk.pending() >= 2 }) // retention + deadline timers armed
	h.clk.Advance(6 * time.Second)
	waitUntil(t, func() bool { return h.state("g") == StateEmpty })
}

// waitUntil polls cond (the coordinator's own goroutine is what is waited
// for; the fake clock does not move).
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for delay := time.Millisecond; !cond(); delay = min(2*delay, 100*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(delay)
	}
}

func TestGroupHandleJoinReturnsWhenContextEnds(t *testing.T) {
	cfg := testConfig()
	cfg.InitialRebalanceDelay = time.Minute
	h := newHarness(t, cfg)
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version, req.Group, req.ProtocolType = 3, "g", "consumer"
	req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 10000, 10000
	req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: consumerMeta("t")}}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := h.c.HandleJoinGroup(ctx, req, "c", "/h")
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("HandleJoinGroup after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("HandleJoinGroup did not return when its context ended")
	}
}
