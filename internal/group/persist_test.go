package group

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/record"
	"github.com/strait-kafka/strait/internal/storage"
)

// rawRecords reads every record of every partition of __consumer_offsets
// straight from storage.
func (h *harness) rawRecords() []record.Record {
	h.t.Helper()
	var out []record.Record
	for i := range int32(testPartitions) {
		l := h.mgr.Get(Topic, i).Log()
		c, err := l.Read(l.StartOffset(), math.MaxInt32, -1)
		if err != nil {
			h.t.Fatal(err)
		}
		buf, err := storage.ReadChunk(c)
		c.Release()
		if err != nil {
			h.t.Fatal(err)
		}
		for len(buf) > 0 {
			batch, rest, _, err := record.Next(buf)
			if err != nil {
				h.t.Fatal(err)
			}
			recs, err := record.Records(batch)
			if err != nil {
				h.t.Fatal(err)
			}
			out = append(out, recs...)
			buf = rest
		}
	}
	return out
}

// TestGroupRecordsDecodeWithKmsg checks the bytes in __consumer_offsets
// against Kafka's formats, decoded with kmsg's types and nothing of ours.
func TestGroupRecordsDecodeWithKmsg(t *testing.T) {
	h := newHarness(t, testConfig())
	ids, gen := h.stableGroup("g", 1, joinOpts{protocols: rangeProtocol("t", "u")})
	h.mustCommit("g", ids[0], gen, map[int32]int64{3: 42})
	h.leave("g", ids[0])
	h.c.HandleDeleteGroups(&kmsg.DeleteGroupsRequest{Version: 2, Groups: []string{"g"}})

	var offsets, tombstones, groups, groupTombstones int
	var sawStable, sawEmpty bool
	for _, r := range h.rawRecords() {
		switch v := int16(binary.BigEndian.Uint16(r.Key)); v {
		case 1:
			var k kmsg.OffsetCommitKey
			if err := k.ReadFrom(r.Key); err != nil {
				t.Fatal(err)
			}
			if k.Group != "g" || k.Topic != "t" || k.Partition != 3 {
				t.Fatalf("offset key %+v", k)
			}
			if r.Value == nil {
				tombstones++
				continue
			}
			var val kmsg.OffsetCommitValue
			if err := val.ReadFrom(r.Value); err != nil {
				t.Fatal(err)
			}
			if val.Version != 3 || val.Offset != 42 || val.Metadata != "m" || val.LeaderEpoch != -1 || val.CommitTimestamp != h.clk.Now().UnixMilli() {
				t.Fatalf("offset value %+v", val)
			}
			offsets++
		case 2:
			var k kmsg.GroupMetadataKey
			if err := k.ReadFrom(r.Key); err != nil {
				t.Fatal(err)
			}
			if k.Group != "g" {
				t.Fatalf("group key %+v", k)
			}
			if r.Value == nil {
				groupTombstones++
				continue
			}
			var val kmsg.GroupMetadataValue
			if err := val.ReadFrom(r.Value); err != nil {
				t.Fatal(err)
			}
			if val.Version != 3 || val.ProtocolType != "consumer" {
				t.Fatalf("group value %+v", val)
			}
			groups++
			switch len(val.Members) {
			case 1:
				m := val.Members[0]
				var sub kmsg.ConsumerMemberMetadata
				if err := sub.ReadFrom(m.Subscription); err != nil {
					t.Fatal(err)
				}
				if m.MemberID != ids[0] || *val.Leader != ids[0] || *val.Protocol != "range" || val.Generation != gen ||
					string(m.Assignment) != "assignment of "+ids[0] || len(sub.Topics) != 2 || m.SessionTimeoutMillis != 10000 ||
					m.ClientHost != "/127.0.0.1" {
					t.Fatalf("stable group value %+v member %+v", val, m)
				}
				sawStable = true
			case 0:
				if val.Protocol != nil || val.Generation != gen+1 {
					t.Fatalf("empty group value %+v", val)
				}
				sawEmpty = true
			}
		default:
			t.Fatalf("record key version %d", v)
		}
	}
	if offsets != 1 || tombstones != 1 || groups != 2 || groupTombstones != 1 || !sawStable || !sawEmpty {
		t.Fatalf("records: %d offsets, %d offset tombstones, %d group values (stable %v, empty %v), %d group tombstones",
			offsets, tombstones, groups, sawStable, sawEmpty, groupTombstones)
	}
}

func TestGroupPersistenceRoundTrip(t *testing.T) {
	h := newHarness(t, testConfig())
	live, gen := h.stableGroup("live", 2, joinOpts{session: 30 * time.Second})
	h.mustCommit("live", live[0], gen, map[int32]int64{0: 10, 1: 11})
	h.mustCommit("live", live[1], gen, map[int32]int64{1: 12}) // last value wins

	empty, egen := h.stableGroup("empty", 1, joinOpts{})
	h.mustCommit("empty", empty[0], egen, map[int32]int64{2: 20})
	h.leave("empty", empty[0])

	h.mustCommit("simple", "", -1, map[int32]int64{0: 1, 1: 2})
	h.c.HandleOffsetDelete(&kmsg.OffsetDeleteRequest{Group: "simple", Topics: []kmsg.OffsetDeleteRequestTopic{
		{Topic: "t", Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}},
	}})

	h.reopen()

	if got := h.committed("live"); len(got) != 2 || got[0] != 10 || got[1] != 12 {
		t.Fatalf("live offsets after restart: %v", got)
	}
	if got := h.committed("empty"); len(got) != 1 || got[2] != 20 {
		t.Fatalf("empty offsets after restart: %v", got)
	}
	if got := h.committed("simple"); len(got) != 1 || got[1] != 2 {
		t.Fatalf("simple offsets after restart: %v", got)
	}
	// The live group is back Stable with its members: they carry on
	// heartbeating and committing in their generation, without rejoining.
	if s := h.state("live"); s != StateStable {
		t.Fatalf("live group is %v after restart", s)
	}
	wantErr(t, "heartbeat after restart", h.heartbeat("live", live[0], gen), nil)
	h.mustCommit("live", live[1], gen, map[int32]int64{0: 13})
	if r := mustSync(t, h.syncCB("live", live[1], gen, nil)); string(r.assignment) != "assignment of "+live[1] {
		t.Fatalf("assignment after restart %q", r.assignment)
	}
	d := h.c.HandleDescribeGroups(&kmsg.DescribeGroupsRequest{Version: 5, Groups: []string{"live", "empty", "simple"}})
	if g := d.Groups[0]; g.Protocol != "range" || len(g.Members) != 2 {
		t.Fatalf("live described after restart %+v", g)
	}
	if g := d.Groups[1]; g.State != "Empty" || g.ProtocolType != "consumer" {
		t.Fatalf("empty described after restart %+v", g)
	}
	if g := d.Groups[2]; g.State != "Empty" || g.ProtocolType != "" {
		t.Fatalf("simple described after restart %+v", g)
	}
	// A member that does not come back expires after its session timeout.
	h.advance(20 * time.Second)
	wantErr(t, "heartbeat", h.heartbeat("live", live[0], gen), nil)
	h.advance(15 * time.Second)
	if s := h.state("live"); s != StatePreparingRebalance {
		t.Fatalf("live group is %v once a member expired", s)
	}
	// The empty group's next generation continues from the stored one.
	id, cb := h.newMember("empty", joinOpts{})
	if r := mustJoin(t, cb); r.generation != egen+2 || r.memberID != id {
		t.Fatalf("join after restart %+v, want generation %d", r, egen+2)
	}
}

func TestGroupOffsetExpiration(t *testing.T) {
	cfg := testConfig()
	cfg.OffsetsRetention = time.Hour
	h := newHarness(t, cfg)
	o := joinOpts{session: 30 * time.Minute, protocols: rangeProtocol("t")}
	ids, gen := h.stableGroup("consumers", 1, o)
	commitTopic := func(group, member string, generation int32, topic string, offset int64, version int16, retention int64) {
		t.Helper()
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Version, req.Group, req.MemberID, req.Generation, req.RetentionTimeMillis = version, group, member, generation, retention
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = topic
		rt.Partitions = []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: offset, Timestamp: -1, LeaderEpoch: -1}}
		req.Topics = []kmsg.OffsetCommitRequestTopic{rt}
		if code := h.c.HandleOffsetCommit(req).Topics[0].Partitions[0].ErrorCode; code != 0 {
			t.Fatalf("commit %s %s: %v", group, topic, kerr.ErrorForCode(code))
		}
	}
	commitTopic("consumers", ids[0], gen, "t", 1, 8, -1)
	commitTopic("consumers", ids[0], gen, "other", 2, 8, -1) // not subscribed
	commitTopic("simple", "", -1, "t", 3, 8, -1)
	commitTopic("explicit", "", -1, "t", 4, 2, int64(10*time.Minute/time.Millisecond)) // v2 retention

	keepAlive := func(d time.Duration) {
		for step := 20 * time.Minute; d > 0; d -= step {
			h.advance(min(step, d))
			wantErr(t, "heartbeat", h.heartbeat("consumers", ids[0], gen), nil)
		}
	}
	keepAlive(11 * time.Minute)
	h.c.ExpireOffsets()
	if _, ok := h.c.GroupState("explicit"); ok {
		t.Fatal("an offset committed with a 10 minute retention outlived it (and its group)")
	}
	keepAlive(49 * time.Minute) // one hour since the commits
	h.c.ExpireOffsets()
	offs, _ := h.c.FetchOffsets("consumers")
	if _, ok := offs[TopicPartition{"other", 0}]; ok {
		t.Fatal("offset of a topic no member subscribes to did not expire")
	}
	if _, ok := offs[TopicPartition{"t", 0}]; !ok {
		t.Fatal("offset of a subscribed topic expired while the group is alive")
	}
	if _, ok := h.c.GroupState("simple"); ok {
		t.Fatal("a simple group's offset did not expire an hour after its commit")
	}
	// Once the group is empty, retention counts from then.
	keepAlive(2 * time.Hour)
	h.leave("consumers", ids[0])
	h.advance(59 * time.Minute)
	h.c.ExpireOffsets()
	if got := h.committed("consumers"); got[0] != 1 {
		t.Fatalf("offsets of a group empty for 59 minutes: %v", got)
	}
	h.advance(time.Minute)
	h.c.ExpireOffsets()
	if _, ok := h.c.GroupState("consumers"); ok {
		t.Fatal("group empty for an hour, with expired offsets, still exists")
	}
	h.reopen()
	for _, g := range []string{"consumers", "simple", "explicit"} {
		if _, ok := h.c.GroupState(g); ok {
			t.Fatalf("expired group %s came back after a restart", g)
		}
	}
}

func FuzzGroupRecord(f *testing.F) {
	tp := TopicPartition{"t", 3}
	f.Add(offsetKey("g", tp), offsetValue(Offset{Offset: 5, LeaderEpoch: 2, Metadata: "m", CommitTime: time.UnixMilli(1)}))
	f.Add(offsetKey("g", tp), offsetValue(Offset{Offset: 5, CommitTime: time.UnixMilli(1), ExpireTime: time.UnixMilli(9)}))
	f.Add(offsetKey("g", tp), []byte(nil))
	f.Add(groupKey("g"), []byte(nil))
	v := kmsg.NewGroupMetadataValue()
	v.Version, v.ProtocolType, v.Generation = 3, "consumer", 4
	p, l := "range", "m1"
	v.Protocol, v.Leader = &p, &l
	v.Members = []kmsg.GroupMetadataValueMember{{MemberID: "m1", ClientID: "c", Subscription: consumerMeta("t"), Assignment: []byte{1}}}
	f.Add(groupKey("g"), v.AppendTo(nil))
	f.Add([]byte{0, 9, 0}, []byte{1})
	f.Fuzz(func(t *testing.T, key, value []byte) {
		r, err := decodeRecord(key, value)
		if err != nil {
			return
		}
		if r.isOffset && r.offset != nil {
			// What decodes re-encodes to something that decodes the same.
			back, err := decodeRecord(offsetKey(r.group, r.tp), offsetValue(*r.offset))
			if err != nil || back.group != r.group || back.tp != r.tp || !sameOffset(*back.offset, *r.offset) {
				t.Fatalf("round trip of %+v: %+v, %v", r.offset, back.offset, err)
			}
		}
		if !r.isOffset && r.meta != nil {
			for _, m := range r.meta.Members {
				subscribedTopics(m.Subscription)
			}
		}
	})
}

func sameOffset(a, b Offset) bool {
	return a.Offset == b.Offset && a.LeaderEpoch == b.LeaderEpoch && a.Metadata == b.Metadata &&
		a.CommitTime.Equal(b.CommitTime) && a.ExpireTime.Equal(b.ExpireTime)
}
