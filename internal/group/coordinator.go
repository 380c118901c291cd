package group

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/strait-kafka/strait/internal/config"
	"github.com/strait-kafka/strait/internal/partition"
)

var (
	// ErrGroupNotEmpty: an admin offset change for a group that has members.
	ErrGroupNotEmpty = errors.New("group: the group has active members")
	// ErrNotCoordinator: the group's partition of __consumer_offsets is not
	// served here (or the coordinator is not running).
	ErrNotCoordinator = errors.New("group: not the coordinator of this group")
)

// TopicPartition names a partition whose offset a group commits.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Offset is a committed offset.
type Offset struct {
	Offset      int64
	LeaderEpoch int32 // -1 when unknown
	Metadata    string
	CommitTime  time.Time
	// ExpireTime is set only by OffsetCommit v2-v4 with a retention time;
	// such an offset expires then instead of by offsets.retention.minutes.
	ExpireTime time.Time
}

// Overview is one group as ListGroups reports it.
type Overview struct {
	Group        string
	ProtocolType string
	State        State
}

// Config holds the coordinator's settings (Kafka's names in comments).
type Config struct {
	MinSessionTimeout     time.Duration // group.min.session.timeout.ms
	MaxSessionTimeout     time.Duration // group.max.session.timeout.ms
	MaxSize               int           // group.max.size
	InitialRebalanceDelay time.Duration // group.initial.rebalance.delay.ms
	OffsetsRetention      time.Duration // offsets.retention.minutes
	RetentionCheck        time.Duration // offsets.retention.check.interval.ms
	MaxMetadataBytes      int           // offset.metadata.max.bytes
}

// ConfigFromBroker takes the coordinator's settings from the broker config.
func ConfigFromBroker(b *config.Broker) Config {
	ms := func(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
	return Config{
		MinSessionTimeout:     ms(int64(b.GroupMinSessionTimeoutMs)),
		MaxSessionTimeout:     ms(int64(b.GroupMaxSessionTimeoutMs)),
		MaxSize:               int(b.GroupMaxSize),
		InitialRebalanceDelay: ms(int64(b.GroupInitialRebalanceDelayMs)),
		OffsetsRetention:      time.Duration(b.OffsetsRetentionMinutes) * time.Minute,
		RetentionCheck:        ms(b.OffsetsRetentionCheckMs),
		MaxMetadataBytes:      int(b.OffsetMetadataMaxBytes),
	}
}

// Partitions finds the partitions of __consumer_offsets that this broker
// stores (*partition.Manager).
type Partitions interface {
	Get(topic string, index int32) *partition.Partition
}

// Options are what a Coordinator is built from.
type Options struct {
	Config     Config
	Partitions Partitions
	// Topics reports how many partitions a topic has; commits to partitions
	// that do not exist are refused with UNKNOWN_TOPIC_OR_PARTITION.
	Topics func(topic string) (partitions int32, ok bool)
	Logger *slog.Logger
	Clock  Clock // nil = the system clock
}

// Coordinator is the group coordinator of one broker. Safe for concurrent
// use; see the package documentation for its locking and goroutines.
type Coordinator struct {
	cfg    Config
	parts  Partitions
	topics func(string) (int32, bool)
	lg     *slog.Logger
	clock  Clock
	timers *deadlines

	// mu guards the fields below. It is never held while taking a group's
	// mu; it may be taken while holding one (to forget a Dead group).
	mu     sync.RWMutex
	active bool
	nparts int32
	owned  []bool // owned[i]: partition i of Topic is stored and loaded here
	groups map[string]*group
}

// New makes a coordinator. It serves nothing until Load.
func New(o Options) *Coordinator {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Topics == nil {
		o.Topics = func(string) (int32, bool) { return math.MaxInt32, true }
	}
	if o.Config.MaxSize <= 0 {
		o.Config.MaxSize = math.MaxInt32
	}
	if o.Config.RetentionCheck <= 0 {
		o.Config.RetentionCheck = 10 * time.Minute
	}
	return &Coordinator{
		cfg: o.Config, parts: o.Partitions, topics: o.Topics,
		lg: o.Logger.With("component", "group-coordinator"), clock: o.Clock,
		timers: newDeadlines(), groups: map[string]*group{},
	}
}

// Load reads every partition of __consumer_offsets (which has partitions
// partitions) stored here, rebuilds the groups and their offsets, and
// starts serving them. Call it once, before serving requests.
func (c *Coordinator) Load(partitions int32) error {
	if partitions <= 0 {
		return fmt.Errorf("group: %s has %d partitions", Topic, partitions)
	}
	owned := make([]bool, partitions)
	st := newLoadState()
	var errs []error
	for i := range partitions {
		p := c.parts.Get(Topic, i)
		if p == nil {
			continue
		}
		if err := c.replay(p, i, st); err != nil {
			errs = append(errs, fmt.Errorf("group: loading %s-%d: %w", Topic, i, err))
			continue
		}
		owned[i] = true
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	now := c.clock.Now()
	groups := st.build(partitions, now)
	c.mu.Lock()
	c.nparts, c.owned, c.groups, c.active = partitions, owned, groups, true
	c.mu.Unlock()
	var nOffsets int
	for _, g := range groups {
		g.mu.Lock()
		nOffsets += len(g.offsets)
		c.onGroupLoadedLocked(g, now)
		g.mu.Unlock()
	}
	c.lg.Info("loaded groups", "groups", len(groups), "offsets", nOffsets, "partitions", partitions)
	return nil
}

// onGroupLoadedLocked restarts the session timers of a loaded group's
// members and rebalances a group that is larger than group.max.size.
func (c *Coordinator) onGroupLoadedLocked(g *group, now time.Time) {
	for _, m := range g.members {
		m.deadline = now.Add(m.sessionTimeout)
	}
	if len(g.members) > c.cfg.MaxSize {
		c.prepareRebalance(g, now, "loaded group is over group.max.size")
	}
	c.settle(g, now)
}

// Run fires session, rebalance and sync timeouts and expires offsets every
// offsets.retention.check.interval.ms until ctx ends.
func (c *Coordinator) Run(ctx context.Context) {
	retention := c.clock.NewTimer(c.cfg.RetentionCheck)
	defer func() { retention.Stop() }()
	for {
		var wake <-chan time.Time
		var t Timer
		if next := c.timers.next(); !next.IsZero() {
			t = c.clock.NewTimer(max(next.Sub(c.clock.Now()), 0))
			wake = t.C()
		}
		select {
		case <-ctx.Done():
			if t != nil {
				t.Stop()
			}
			return
		case <-c.timers.wake:
		case <-wake:
			c.fireDeadlines()
		case <-retention.C():
			c.ExpireOffsets()
			retention = c.clock.NewTimer(c.cfg.RetentionCheck)
		}
		if t != nil {
			t.Stop()
		}
	}
}

// fireDeadlines runs what is due in every group whose deadline passed.
func (c *Coordinator) fireDeadlines() {
	now := c.clock.Now()
	for _, d := range c.timers.due(now) {
		g := d.g
		g.mu.Lock()
		if g.state != StateDead && g.nextAt.Equal(d.at) {
			g.nextAt = time.Time{}
			c.settle(g, now)
		}
		g.mu.Unlock()
	}
}

// Close stops serving. Parked JoinGroup and SyncGroup requests are answered
// NOT_COORDINATOR. Call it after Run returned and before the partitions of
// __consumer_offsets close.
func (c *Coordinator) Close() {
	c.mu.Lock()
	c.active = false
	groups := c.groups
	c.groups = map[string]*group{}
	c.mu.Unlock()
	for _, g := range groups {
		g.mu.Lock()
		for _, m := range g.members {
			g.invokeJoin(m, joinError(m.id, kerr.NotCoordinator))
			g.invokeSync(m, syncResult{err: kerr.NotCoordinator})
		}
		g.mu.Unlock()
	}
}

// PartitionFor is the partition of __consumer_offsets that holds group, or
// -1 before Load.
func (c *Coordinator) PartitionFor(group string) int32 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.nparts == 0 {
		return -1
	}
	return PartitionFor(group, c.nparts)
}

// validGroupID: OffsetCommit, OffsetFetch, DescribeGroups and DeleteGroups
// accept the empty group ID (as Kafka does, for old clients); the other
// APIs need a name.
func validGroupID(id string, emptyOK bool) bool { return emptyOK || id != "" }

// status is Kafka's validateGroupStatus: nil when this coordinator serves id.
func (c *Coordinator) status(id string, emptyOK bool) *kerr.Error {
	if !validGroupID(id, emptyOK) {
		return kerr.InvalidGroupID
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.active {
		return kerr.CoordinatorNotAvailable
	}
	if !c.owned[PartitionFor(id, c.nparts)] {
		return kerr.NotCoordinator
	}
	return nil
}

// getGroup returns the group, creating it (Empty) when create is set.
func (c *Coordinator) getGroup(id string, create bool) *group {
	c.mu.RLock()
	g := c.groups[id]
	c.mu.RUnlock()
	if g != nil || !create {
		return g
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if g = c.groups[id]; g == nil {
		g = newGroup(id, PartitionFor(id, c.nparts), c.clock.Now())
		c.groups[id] = g
	}
	return g
}

// removeGroup forgets a Dead group.
func (c *Coordinator) removeGroup(g *group) {
	c.mu.Lock()
	if c.groups[g.id] == g {
		delete(c.groups, g.id)
	}
	c.mu.Unlock()
}

func (c *Coordinator) allGroups() []*group {
	c.mu.RLock()
	out := make([]*group, 0, len(c.groups))
	for _, g := range c.groups {
		out = append(out, g)
	}
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// settle runs everything that is due in g (expired sessions, finished
// rebalance phases) and queues the group's next deadline. Requires g.mu.
func (c *Coordinator) settle(g *group, now time.Time) {
	for range 64 { // each round clears at least one due deadline
		if g.state == StateDead {
			return
		}
		next := g.nextDeadline()
		if next.IsZero() {
			return
		}
		if next.After(now) {
			if g.nextAt.IsZero() || next.Before(g.nextAt) || !g.nextAt.After(now) {
				g.nextAt = next
				c.timers.push(next, g)
			}
			return
		}
		c.tick(g, now)
	}
	c.lg.Error("group timers did not settle", "group", g.id)
}

// tick handles g's deadlines that passed: Kafka's heartbeat, join and sync
// expirations. Requires g.mu.
func (c *Coordinator) tick(g *group, now time.Time) {
	for id, at := range g.pending {
		if !at.After(now) {
			c.lg.Info("pending member expired", "group", g.id, "member", id)
			c.removePendingMemberAndUpdateGroup(g, id, now)
		}
	}
	for _, m := range g.membersInOrder() {
		if m.deadline.IsZero() || m.deadline.After(now) || g.members[m.id] != m {
			continue
		}
		m.deadline = time.Time{}
		// A member whose JoinGroup or SyncGroup is parked satisfies its
		// heartbeats, unless it is new: new members time out while joining.
		if !m.isNew && (m.awaitingJoin() || m.awaitingSync()) {
			continue
		}
		c.lg.Info("member session expired, removing it", "group", g.id, "member", m.id)
		c.removeMemberAndUpdateGroup(g, m, now, "session timeout of "+m.id)
	}
	if g.state == StatePreparingRebalance && !g.joinDeadline.IsZero() && !g.joinDeadline.After(now) {
		g.joinDeadline = time.Time{}
		if g.initialDelay && g.newMemberAdded && g.initialRemaining != 0 {
			// More members arrived during the initial delay: wait again,
			// up to the rebalance timeout.
			g.newMemberAdded = false
			delay := min(c.cfg.InitialRebalanceDelay, g.initialRemaining)
			g.initialRemaining = max(g.initialRemaining-g.initialCurDelay, 0)
			g.initialCurDelay = delay
			g.joinDeadline = now.Add(delay)
		} else {
			c.completeJoin(g, now)
		}
	}
	if !g.syncDeadline.IsZero() && !g.syncDeadline.After(now) {
		g.syncDeadline = time.Time{}
		c.expirePendingSync(g, now)
	}
}
