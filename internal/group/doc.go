// Package group is Strait's group coordinator for Kafka's classic group
// protocol: membership (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), the
// rebalance state machine, committed offsets (OffsetCommit, OffsetFetch,
// OffsetDelete) and group administration (ListGroups, DescribeGroups,
// DeleteGroups). It follows Apache Kafka's GroupCoordinator closely, down to
// the error code each situation returns, so that clients, their assignors
// (which run in the clients) and tools work unchanged.
//
// # Groups and partitions
//
// Every group belongs to one partition of the internal topic
// __consumer_offsets (offsets.topic.num.partitions partitions, 50 by
// default, cleanup.policy=compact):
//
//	partition = abs(javaStringHashCode(groupId)) % partitions
//
// with Java's String.hashCode over UTF-16 code units and Kafka's Utils.abs
// (Integer.MIN_VALUE maps to 0). The coordinator serves the groups of the
// partitions this broker stores; others get NOT_COORDINATOR.
//
// # State machine
//
//	          join (new member)            all members joined,
//	 Empty ──────────────────▶ Preparing ─────────────────────▶ Completing
//	   ▲                       Rebalance   or rebalance timeout  Rebalance
//	   │ last member left /        ▲  ▲                              │
//	   │ session expired           │  └────── join / leave / ────────┤
//	   └───────────────────────────┤         session expired          │ leader's
//	                               │                                  ▼ SyncGroup
//	                               └────── join / leave / ─────────  Stable
//	                                       session expired
//
//	Dead: deleted (DeleteGroups, or an Empty group whose offsets all expired).
//
// A rebalance of a group that was Empty first waits
// group.initial.rebalance.delay.ms, extended (up to the rebalance timeout)
// while new members keep arriving. Otherwise the join phase ends when every
// member rejoined or after the largest rebalance timeout of the members;
// dynamic members that did not rejoin are removed, static ones are kept.
// The leader then gets every member's metadata and sends the assignment in
// SyncGroup; followers' SyncGroup requests wait for it. Members that do not
// send SyncGroup within the rebalance timeout are removed and the group
// rebalances again. A member whose session timeout passes without a
// heartbeat (or commit) is removed, unless its JoinGroup or SyncGroup is
// waiting; a new member's first JoinGroup waits at most five minutes.
//
// JoinGroup v4+ from a new dynamic member is answered MEMBER_ID_REQUIRED
// with an ID to join with (KIP-394). A static member (group.instance.id,
// KIP-345) that restarts takes its old place under a new member ID; the old
// ID is fenced (FENCED_INSTANCE_ID), and in a Stable group there is no
// rebalance. Heartbeat, SyncGroup and OffsetCommit are fenced by generation
// (ILLEGAL_GENERATION) and membership (UNKNOWN_MEMBER_ID); a Heartbeat during
// PreparingRebalance answers REBALANCE_IN_PROGRESS, as does an OffsetCommit
// during CompletingRebalance.
//
// An OffsetCommit with generation -1 and no member ID is an administrative
// commit (AlterConsumerGroupOffsets): accepted when the group is Empty or
// does not exist (a "simple" group without protocol type is created), and
// UNKNOWN_MEMBER_ID while the group has members. CommitOffsetsIfEmpty is the
// same for callers inside the broker.
//
// # Records in __consumer_offsets
//
// Records use Kafka's formats (kmsg's types), so that tools reading the
// topic can decode them:
//
//	key   OffsetCommitKey v1:    int16 version=1 | group string | topic string | partition int32
//	value OffsetCommitValue v3:  int16 version=3 | offset int64 | leader epoch int32 |
//	                             metadata string | commit timestamp int64
//	      (v1, with an expire timestamp, when OffsetCommit v2-v4 gave a retention time)
//	key   GroupMetadataKey v2:   int16 version=2 | group string
//	value GroupMetadataValue v3: int16 version=3 | protocol type | generation |
//	                             protocol (nullable) | leader (nullable) |
//	                             current state timestamp | members: [member id,
//	                             group instance id, client id, client host,
//	                             rebalance timeout, session timeout,
//	                             subscription, assignment]
//
// A null value is a tombstone: the offset, or the group, is deleted. Each
// commit is one batch appended through the partition's leader append path;
// a commit is acknowledged only after its append returned, and the
// in-memory offsets change only then. Group metadata is written when the
// leader's assignment is stored, when a group becomes Empty, and when a
// static member rejoins a Stable group.
//
// Load replays every stored partition of __consumer_offsets from its start
// (last value wins). Groups come back as Kafka loads them: a group stored
// with members is Stable with its generation, protocol, leader, members and
// assignments, and each member's session timer starts afresh (a member that
// does not heartbeat again expires and the group rebalances); a group
// without members is Empty with its protocol type and generation; offsets
// without group metadata form a simple group.
//
// # Expiration (KIP-211)
//
// Every offsets.retention.check.interval.ms, offsets older than
// offsets.retention.minutes are removed (and tombstoned): for an Empty group
// counted from when it became Empty, for a consumer group with members only
// offsets of topics no member subscribes to, counted from their commit, and
// for a simple group counted from their commit. An Empty group left without
// offsets is deleted.
//
// # Concurrency
//
// A Coordinator is safe for concurrent use. Its mu guards the group map;
// each group has its own mu. Lock order: a group's mu, then the
// coordinator's (only to forget a Dead group); the coordinator's mu is never
// held while taking a group's, and no two groups' mu are held at once.
// Appends to __consumer_offsets happen with
// the group's mu held, which orders a group's writes. JoinGroup and
// SyncGroup park on a channel (capacity one, answered exactly once) and
// return when answered or when their context ends; nothing polls. Run is the
// one goroutine the coordinator needs: it waits on the earliest group
// deadline (session, join and sync timeouts, from a heap) and on the
// retention timer, with an injectable Clock. The owner runs it, cancels its
// context, waits for it, then calls Close before closing partitions.
package group
