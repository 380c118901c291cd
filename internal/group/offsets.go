package group

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// HandleOffsetCommit serves OffsetCommit v0-v9. A commit with generation -1
// and no member ID is an admin (or simple consumer) commit: accepted while
// the group is Empty or does not exist (it is then created, without a
// protocol type), refused with UNKNOWN_MEMBER_ID while it has members. The
// response is sent only after the offsets are in the log.
func (c *Coordinator) HandleOffsetCommit(req *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	now := c.clock.Now()
	errs := map[TopicPartition]*kerr.Error{}
	valid := map[TopicPartition]Offset{}
	for _, rt := range req.Topics {
		n, known := c.topics(rt.Topic)
		for _, rp := range rt.Partitions {
			tp := TopicPartition{rt.Topic, rp.Partition}
			if !known || rp.Partition < 0 || rp.Partition >= n {
				errs[tp] = kerr.UnknownTopicOrPartition
				continue
			}
			o := Offset{Offset: rp.Offset, LeaderEpoch: -1, CommitTime: now}
			if rp.Metadata != nil {
				o.Metadata = *rp.Metadata
			}
			if req.Version >= 6 {
				o.LeaderEpoch = rp.LeaderEpoch
			}
			if req.Version == 1 && rp.Timestamp != -1 {
				o.CommitTime = time.UnixMilli(rp.Timestamp)
			}
			if req.Version >= 2 && req.Version <= 4 && req.RetentionTimeMillis != -1 {
				o.ExpireTime = now.Add(time.Duration(req.RetentionTimeMillis) * time.Millisecond)
			}
			valid[tp] = o
		}
	}
	for tp, err := range c.commitOffsets(req.Group, req.MemberID, req.InstanceID, req.Generation, valid) {
		errs[tp] = err
	}
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetCommitResponseTopicPartition()
			sp.Partition = rp.Partition
			if err := errs[TopicPartition{rt.Topic, rp.Partition}]; err != nil {
				sp.ErrorCode = err.Code
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// commitOffsets is Kafka's handleCommitOffsets; it returns the partitions
// that failed.
func (c *Coordinator) commitOffsets(id, memberID string, instanceID *string, generation int32, offsets map[TopicPartition]Offset) map[TopicPartition]*kerr.Error {
	fail := func(err *kerr.Error) map[TopicPartition]*kerr.Error {
		out := make(map[TopicPartition]*kerr.Error, len(offsets))
		for tp := range offsets {
			out[tp] = err
		}
		return out
	}
	if len(offsets) == 0 {
		return nil
	}
	if err := c.status(id, true); err != nil {
		return fail(err)
	}
	g := c.getGroup(id, false)
	if g == nil {
		if generation >= 0 {
			// A member of a generation the coordinator does not know.
			return fail(kerr.IllegalGeneration)
		}
		c.lg.Info("creating simple group through an offset commit", "group", id)
		g = c.getGroup(id, true)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := c.validateOffsetCommit(g, memberID, instanceID, generation); err != nil {
		return fail(err)
	}
	switch g.state {
	case StateStable, StatePreparingRebalance:
		// During PreparingRebalance commits are still taken: heartbeats
		// tell members about the rebalance.
		m := g.members[memberID]
		if m == nil { // a static member committing under its instance ID
			m = g.members[g.static[deref(instanceID)]]
		}
		if m != nil {
			m.deadline = c.clock.Now().Add(m.sessionTimeout)
		}
	case StateCompletingRebalance:
		return fail(kerr.RebalanceInProgress)
	}
	return c.storeOffsetsChecked(g, offsets)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// validateOffsetCommit is Kafka's: generation -1 may commit to an Empty
// group; a member must exist with the group's generation; without a member,
// only an Empty group takes commits.
func (c *Coordinator) validateOffsetCommit(g *group, memberID string, instanceID *string, generation int32) *kerr.Error {
	switch {
	case g.state == StateDead:
		return kerr.CoordinatorNotAvailable
	case generation < 0 && g.state == StateEmpty:
		return nil
	case generation >= 0 || memberID != "" || instanceID != nil:
		if err := validateCurrentMember(g, memberID, instanceID); err != nil {
			return err
		}
		if generation != g.generation {
			return kerr.IllegalGeneration
		}
		return nil
	case g.state != StateEmpty:
		return kerr.UnknownMemberID
	}
	return nil
}

// storeOffsetsChecked refuses metadata longer than offset.metadata.max.bytes
// and stores the rest. Requires g.mu.
func (c *Coordinator) storeOffsetsChecked(g *group, offsets map[TopicPartition]Offset) map[TopicPartition]*kerr.Error {
	out := map[TopicPartition]*kerr.Error{}
	ok := make(map[TopicPartition]Offset, len(offsets))
	for tp, o := range offsets {
		if c.cfg.MaxMetadataBytes > 0 && len(o.Metadata) > c.cfg.MaxMetadataBytes {
			out[tp] = kerr.OffsetMetadataTooLarge
			continue
		}
		ok[tp] = o
	}
	if err := c.storeOffsetsLocked(g, ok); err != nil {
		for tp := range ok {
			out[tp] = err
		}
	}
	return out
}

// HandleOffsetFetch serves OffsetFetch v0-v9: one group (v0-v7) or a batch
// (v8+), named partitions or (v2+, null topics) all of the group's.
// Offsets are only visible once written, so require_stable never sees
// pending commits.
func (c *Coordinator) HandleOffsetFetch(req *kmsg.OffsetFetchRequest) *kmsg.OffsetFetchResponse {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			var want map[string][]int32
			if rg.Topics != nil {
				want = map[string][]int32{}
				for _, t := range rg.Topics {
					want[t.Topic] = append(want[t.Topic], t.Partitions...)
				}
			}
			sg := kmsg.NewOffsetFetchResponseGroup()
			sg.Group = rg.Group
			got, err := c.fetchOffsets(rg.Group, want)
			if err != nil {
				sg.ErrorCode = err.Code
			} else {
				for _, t := range got {
					st := kmsg.NewOffsetFetchResponseGroupTopic()
					st.Topic = t.topic
					for _, p := range t.partitions {
						sp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
						sp.Partition, sp.Offset, sp.LeaderEpoch, sp.Metadata = p.partition, p.offset.Offset, p.offset.LeaderEpoch, &p.offset.Metadata
						st.Partitions = append(st.Partitions, sp)
					}
					sg.Topics = append(sg.Topics, st)
				}
			}
			resp.Groups = append(resp.Groups, sg)
		}
		return resp
	}
	var want map[string][]int32
	if req.Topics != nil || req.Version < 2 {
		want = map[string][]int32{}
		for _, t := range req.Topics {
			want[t.Topic] = append(want[t.Topic], t.Partitions...)
		}
	}
	got, err := c.fetchOffsets(req.Group, want)
	if err != nil && req.Version >= 2 {
		resp.ErrorCode = err.Code
		return resp
	}
	if err != nil {
		// v0-v1 carry errors per partition only.
		got = nil
		for _, t := range req.Topics {
			ft := fetchedTopic{topic: t.Topic}
			for _, p := range t.Partitions {
				ft.partitions = append(ft.partitions, fetchedPartition{partition: p, offset: noOffset, err: err})
			}
			got = append(got, ft)
		}
	}
	for _, t := range got {
		st := kmsg.NewOffsetFetchResponseTopic()
		st.Topic = t.topic
		for _, p := range t.partitions {
			sp := kmsg.NewOffsetFetchResponseTopicPartition()
			sp.Partition, sp.Offset, sp.LeaderEpoch, sp.Metadata = p.partition, p.offset.Offset, p.offset.LeaderEpoch, &p.offset.Metadata
			if p.err != nil {
				sp.ErrorCode = p.err.Code
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// noOffset is what OffsetFetch reports for a partition without a commit.
var noOffset = Offset{Offset: -1, LeaderEpoch: -1}

type fetchedPartition struct {
	partition int32
	offset    Offset
	err       *kerr.Error
}

type fetchedTopic struct {
	topic      string
	partitions []fetchedPartition
}

// fetchOffsets returns the committed offsets of the partitions in want, or
// of every partition the group committed for when want is nil. Partitions
// without a commit report offset -1.
func (c *Coordinator) fetchOffsets(id string, want map[string][]int32) ([]fetchedTopic, *kerr.Error) {
	if err := c.status(id, true); err != nil {
		return nil, err
	}
	var offsets map[TopicPartition]Offset
	if g := c.getGroup(id, false); g != nil {
		g.mu.Lock()
		if g.state != StateDead {
			offsets = make(map[TopicPartition]Offset, len(g.offsets))
			for tp, o := range g.offsets {
				offsets[tp] = o
			}
		}
		g.mu.Unlock()
	}
	var out []fetchedTopic
	if want == nil {
		for _, tp := range sortedTPs(offsets) { // sorted: a topic's partitions are adjacent
			if len(out) == 0 || out[len(out)-1].topic != tp.Topic {
				out = append(out, fetchedTopic{topic: tp.Topic})
			}
			last := &out[len(out)-1]
			last.partitions = append(last.partitions, fetchedPartition{partition: tp.Partition, offset: offsets[tp]})
		}
		return out, nil
	}
	topics := make([]string, 0, len(want))
	for t := range want {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	for _, t := range topics {
		ft := fetchedTopic{topic: t}
		for _, p := range want[t] {
			o, ok := offsets[TopicPartition{t, p}]
			if !ok {
				o = noOffset
			}
			ft.partitions = append(ft.partitions, fetchedPartition{partition: p, offset: o})
		}
		out = append(out, ft)
	}
	return out, nil
}

// HandleOffsetDelete serves OffsetDelete: offsets of an Empty group, or of
// topics a consumer group is not subscribed to, are deleted (tombstones
// are written); subscribed topics get GROUP_SUBSCRIBED_TO_TOPIC.
func (c *Coordinator) HandleOffsetDelete(req *kmsg.OffsetDeleteRequest) *kmsg.OffsetDeleteResponse {
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	errs := map[TopicPartition]*kerr.Error{}
	var tps []TopicPartition
	for _, rt := range req.Topics {
		n, known := c.topics(rt.Topic)
		for _, rp := range rt.Partitions {
			tp := TopicPartition{rt.Topic, rp.Partition}
			if !known || rp.Partition < 0 || rp.Partition >= n {
				errs[tp] = kerr.UnknownTopicOrPartition
				continue
			}
			tps = append(tps, tp)
		}
	}
	top, perPartition := c.deleteOffsets(req.Group, tps)
	if top != nil {
		resp.ErrorCode = top.Code
		return resp
	}
	for tp, err := range perPartition {
		errs[tp] = err
	}
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetDeleteResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetDeleteResponseTopicPartition()
			sp.Partition = rp.Partition
			if err := errs[TopicPartition{rt.Topic, rp.Partition}]; err != nil {
				sp.ErrorCode = err.Code
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

func (c *Coordinator) deleteOffsets(id string, tps []TopicPartition) (*kerr.Error, map[TopicPartition]*kerr.Error) {
	if err := c.status(id, false); err != nil {
		return err, nil
	}
	g := c.getGroup(id, false)
	if g == nil {
		return kerr.GroupIDNotFound, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	errs := map[TopicPartition]*kerr.Error{}
	var eligible []TopicPartition
	switch {
	case g.state == StateDead:
		return kerr.GroupIDNotFound, nil
	case g.state == StateEmpty:
		eligible = tps
	case g.protocolType == consumerProtocolType:
		for _, tp := range tps {
			if g.isSubscribedTo(tp.Topic) {
				errs[tp] = kerr.GroupSubscribedToTopic
			} else {
				eligible = append(eligible, tp)
			}
		}
	default:
		return kerr.NonEmptyGroup, nil
	}
	if len(eligible) > 0 {
		n := c.cleanupLocked(g, c.clock.Now(), eligible)
		c.lg.Info("deleted offsets", "group", id, "offsets", n)
	}
	return nil, errs
}

// ExpireOffsets removes offsets past offsets.retention.minutes (KIP-211):
// for an Empty group, counted from when it became empty; for a consumer
// group with members, offsets of topics no member subscribes to, counted
// from their commit; for a simple group (no protocol type), from their
// commit. An offset committed with a retention time (OffsetCommit v2-v4)
// expires at its own expire time. Empty groups left without offsets are
// deleted. Run calls it every offsets.retention.check.interval.ms.
func (c *Coordinator) ExpireOffsets() {
	now := c.clock.Now()
	var expired, deleted int
	for _, g := range c.allGroups() {
		g.mu.Lock()
		if g.state != StateDead {
			sel := c.expiredLocked(g, now)
			expired += len(sel)
			if len(sel) > 0 || (g.state == StateEmpty && len(g.offsets) == 0) {
				c.cleanupLocked(g, now, sel)
				if g.state == StateDead {
					deleted++
				}
			}
		}
		g.mu.Unlock()
	}
	if expired > 0 || deleted > 0 {
		c.lg.Info("expired offsets", "offsets", expired, "groups_deleted", deleted)
	}
}

func (c *Coordinator) expiredLocked(g *group, now time.Time) []TopicPartition {
	retention := c.cfg.OffsetsRetention
	var base func(o Offset) time.Time
	var subscribed map[string]bool
	switch {
	case g.protocolType != "" && g.state == StateEmpty:
		base = func(Offset) time.Time { return g.stateTime }
	case g.protocolType == consumerProtocolType && g.subscribed != nil:
		base = func(o Offset) time.Time { return o.CommitTime }
		subscribed = g.subscribed
	case g.protocolType == "":
		base = func(o Offset) time.Time { return o.CommitTime }
	default:
		return nil
	}
	var out []TopicPartition
	for tp, o := range g.offsets {
		if subscribed[tp.Topic] {
			continue
		}
		if !o.ExpireTime.IsZero() {
			if !now.Before(o.ExpireTime) {
				out = append(out, tp)
			}
			continue
		}
		if now.Sub(base(o)) >= retention {
			out = append(out, tp)
		}
	}
	sortTPs(out)
	return out
}

func sortTPs(tps []TopicPartition) {
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].Topic != tps[j].Topic {
			return tps[i].Topic < tps[j].Topic
		}
		return tps[i].Partition < tps[j].Partition
	})
}

// CommitOffsetsIfEmpty commits offsets for group as an administrator does
// (Kafka's AlterConsumerGroupOffsets: OffsetCommit with no member): the
// group is created if it does not exist; a group with members is refused
// with ErrGroupNotEmpty. Zero commit times are set to now. It returns once
// the offsets are in the log; ErrNotCoordinator when the group is not
// served here. This is the path of the cluster link's offset sync.
func (c *Coordinator) CommitOffsetsIfEmpty(ctx context.Context, group string, offsets map[TopicPartition]Offset) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(offsets) == 0 {
		return nil
	}
	if err := c.status(group, true); err != nil {
		return fmt.Errorf("%w: %s (%v)", ErrNotCoordinator, group, err)
	}
	now := c.clock.Now()
	for attempt := 0; ; attempt++ {
		g := c.getGroup(group, true)
		g.mu.Lock()
		if g.state == StateDead && attempt < 3 {
			g.mu.Unlock() // deleted meanwhile: the next get makes a new one
			continue
		}
		if g.state != StateEmpty {
			state := g.state
			g.mu.Unlock()
			return fmt.Errorf("%w: group %s is %s", ErrGroupNotEmpty, group, state)
		}
		stamped := make(map[TopicPartition]Offset, len(offsets))
		for tp, o := range offsets {
			if o.CommitTime.IsZero() {
				o.CommitTime = now
			}
			stamped[tp] = o
		}
		errs := c.storeOffsetsChecked(g, stamped)
		g.mu.Unlock()
		for tp, err := range errs {
			return fmt.Errorf("group: committing %s %s/%d: %w", group, tp.Topic, tp.Partition, err)
		}
		return nil
	}
}

// FetchOffsets returns the group's committed offsets (empty when the group
// does not exist), or ErrNotCoordinator.
func (c *Coordinator) FetchOffsets(group string) (map[TopicPartition]Offset, error) {
	if err := c.status(group, true); err != nil {
		return nil, fmt.Errorf("%w: %s (%v)", ErrNotCoordinator, group, err)
	}
	out := map[TopicPartition]Offset{}
	if g := c.getGroup(group, false); g != nil {
		g.mu.Lock()
		if g.state != StateDead {
			for tp, o := range g.offsets {
				out[tp] = o
			}
		}
		g.mu.Unlock()
	}
	return out, nil
}
