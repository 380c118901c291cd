package group

import (
	"bytes"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// State is a group's state, named as Kafka names it.
type State int8

const (
	StateEmpty State = iota
	StatePreparingRebalance
	StateCompletingRebalance
	StateStable
	StateDead
)

func (s State) String() string {
	switch s {
	case StateEmpty:
		return "Empty"
	case StatePreparingRebalance:
		return "PreparingRebalance"
	case StateCompletingRebalance:
		return "CompletingRebalance"
	case StateStable:
		return "Stable"
	case StateDead:
		return "Dead"
	}
	return "Unknown"
}

// consumerProtocolType is the protocol type of Kafka consumers.
const consumerProtocolType = "consumer"

// newMemberJoinTimeout bounds how long a new member's first JoinGroup may
// stay parked (Kafka's NewMemberJoinTimeoutMs): new members cannot
// heartbeat, and a client that gave up would otherwise linger.
const newMemberJoinTimeout = 5 * time.Minute

// protocol is one assignment protocol a member supports, in preference order.
type protocol struct {
	name     string
	metadata []byte
}

// joinResult is a JoinGroup answer.
type joinResult struct {
	err          *kerr.Error
	memberID     string
	generation   int32
	protocolType *string
	protocol     *string
	leader       string
	skip         bool
	members      []kmsg.JoinGroupResponseMember
}

func joinError(memberID string, err *kerr.Error) joinResult {
	return joinResult{err: err, memberID: memberID, generation: -1}
}

// syncResult is a SyncGroup answer.
type syncResult struct {
	err          *kerr.Error
	protocolType *string
	protocol     *string
	assignment   []byte
}

// A join or sync callback is a channel of capacity one that receives the
// request's answer exactly once; the request's goroutine waits on it.
type (
	joinCallback chan joinResult
	syncCallback chan syncResult
)

func newJoinCallback() joinCallback { return make(joinCallback, 1) }
func newSyncCallback() syncCallback { return make(syncCallback, 1) }

func (cb joinCallback) send(r joinResult) {
	select {
	case cb <- r:
	default:
	}
}

func (cb syncCallback) send(r syncResult) {
	select {
	case cb <- r:
	default:
	}
}

// member is one member of a group.
type member struct {
	id               string
	instanceID       *string
	clientID         string
	clientHost       string
	rebalanceTimeout time.Duration
	sessionTimeout   time.Duration
	protocolType     string
	protocols        []protocol
	assignment       []byte

	joinCB joinCallback // non-nil while a JoinGroup is parked
	syncCB syncCallback // non-nil while a SyncGroup is parked
	// isNew: the member joined for the first time and has not completed a
	// join yet; its deadline is the new-member join timeout.
	isNew bool
	// deadline is when the member is removed unless it heartbeats (zero:
	// none, while its JoinGroup or SyncGroup is parked).
	deadline time.Time
}

func (m *member) awaitingJoin() bool { return m.joinCB != nil }
func (m *member) awaitingSync() bool { return m.syncCB != nil }
func (m *member) isStatic() bool     { return m.instanceID != nil }

func (m *member) metadata(name string) []byte {
	for _, p := range m.protocols {
		if p.name == name {
			return p.metadata
		}
	}
	return nil
}

// matches reports whether protocols are exactly the member's, in order.
func (m *member) matches(protocols []protocol) bool {
	return slices.EqualFunc(m.protocols, protocols, func(a, b protocol) bool {
		return a.name == b.name && bytes.Equal(a.metadata, b.metadata)
	})
}

// vote is the member's most preferred protocol among candidates.
func (m *member) vote(candidates map[string]bool) string {
	for _, p := range m.protocols {
		if candidates[p.name] {
			return p.name
		}
	}
	return ""
}

// group is one consumer group: members, the rebalance state machine and
// the committed offsets. Every field below mu is guarded by it.
type group struct {
	id        string
	partition int32 // of Topic

	mu sync.Mutex
	// state and stateTime (Kafka's currentStateTimestamp: when the group
	// entered its state; offsets of an empty group expire from there).
	state        State
	stateTime    time.Time
	protocolType string // "" until the first member joins (or a simple group)
	protocol     string // selected protocol of the generation, "" if none
	generation   int32
	leader       string

	members         map[string]*member
	order           []string          // member IDs in join order
	static          map[string]string // group.instance.id -> member ID
	pending         map[string]time.Time
	numAwaitingJoin int
	supported       map[string]int // protocol name -> members supporting it

	// Rebalance phases. joinDeadline ends PreparingRebalance; during the
	// initial delay of a group that was empty it is the delay's end and
	// initialRemaining what is left of the rebalance timeout after it.
	joinDeadline     time.Time
	initialDelay     bool
	initialCurDelay  time.Duration
	initialRemaining time.Duration
	newMemberAdded   bool
	// pendingSync are members that got a JoinGroup answer but have not sent
	// SyncGroup yet; they are removed at syncDeadline.
	pendingSync    map[string]bool
	syncDeadline   time.Time
	syncGeneration int32

	// subscribed: topics the consumer-protocol members subscribe to; nil
	// when unknown (not a consumer group, or unparsable metadata).
	subscribed map[string]bool

	offsets map[TopicPartition]Offset

	// nextAt is the time of this group's live entry in the deadline queue.
	nextAt time.Time
}

func newGroup(id string, partition int32, now time.Time) *group {
	return &group{
		id: id, partition: partition, state: StateEmpty, stateTime: now,
		members: map[string]*member{}, static: map[string]string{}, pending: map[string]time.Time{},
		supported: map[string]int{}, pendingSync: map[string]bool{}, offsets: map[TopicPartition]Offset{},
	}
}

func (g *group) has(id string) bool { _, ok := g.members[id]; return ok }
func (g *group) isLeader(id string) bool {
	return g.leader != "" && g.leader == id
}
func (g *group) isPendingMember(id string) bool { _, ok := g.pending[id]; return ok && !g.has(id) }

func (g *group) transition(s State, now time.Time) {
	g.state, g.stateTime = s, now
}

// canRebalance: the states PreparingRebalance may be entered from.
func (g *group) canRebalance() bool {
	return g.state == StateStable || g.state == StateCompletingRebalance || g.state == StateEmpty
}

func (g *group) hasAllMembersJoined() bool {
	return len(g.members) == g.numAwaitingJoin && len(g.pending) == 0
}

func (g *group) rebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalanceTimeout)
	}
	return d
}

func (g *group) membersInOrder() []*member {
	out := make([]*member, 0, len(g.order))
	for _, id := range g.order {
		out = append(out, g.members[id])
	}
	return out
}

func (g *group) staticMemberID(instanceID *string) (string, bool) {
	if instanceID == nil {
		return "", false
	}
	id, ok := g.static[*instanceID]
	return id, ok
}

// supportsProtocols: an empty group accepts any non-empty protocol type and
// list; otherwise the type must match and one protocol must be supported by
// every member.
func (g *group) supportsProtocols(protocolType string, protocols []protocol) bool {
	if g.state == StateEmpty {
		return protocolType != "" && len(protocols) > 0
	}
	if g.protocolType != protocolType {
		return false
	}
	for _, p := range protocols {
		if g.supported[p.name] == len(g.members) {
			return true
		}
	}
	return false
}

func (g *group) incProtocols(m *member) {
	for _, p := range m.protocols {
		g.supported[p.name]++
	}
}

func (g *group) decProtocols(m *member) {
	for _, p := range m.protocols {
		if g.supported[p.name]--; g.supported[p.name] <= 0 {
			delete(g.supported, p.name)
		}
	}
}

// add puts m in the group with its parked JoinGroup (cb may be nil).
func (g *group) add(m *member, cb joinCallback) {
	if m.instanceID != nil {
		g.static[*m.instanceID] = m.id
	}
	if len(g.members) == 0 {
		g.protocolType = m.protocolType
	}
	if g.leader == "" {
		g.leader = m.id
	}
	g.members[m.id] = m
	g.order = append(g.order, m.id)
	g.incProtocols(m)
	m.joinCB = cb
	if cb != nil {
		g.numAwaitingJoin++
	}
	delete(g.pending, m.id)
}

// remove takes a member out of the group. Parked requests of the member
// are answered UNKNOWN_MEMBER_ID so that no request waits forever.
func (g *group) remove(id string) {
	if m, ok := g.members[id]; ok {
		g.decProtocols(m)
		if m.joinCB != nil {
			m.joinCB.send(joinError("", kerr.UnknownMemberID))
			m.joinCB = nil
			g.numAwaitingJoin--
		}
		if m.syncCB != nil {
			m.syncCB.send(syncResult{err: kerr.UnknownMemberID})
			m.syncCB = nil
		}
		if m.instanceID != nil && g.static[*m.instanceID] == id {
			delete(g.static, *m.instanceID)
		}
		delete(g.members, id)
		if i := slices.Index(g.order, id); i >= 0 {
			g.order = slices.Delete(g.order, i, i+1)
		}
	}
	if g.isLeader(id) {
		g.leader = ""
		if len(g.order) > 0 {
			g.leader = g.order[0]
		}
	}
	delete(g.pending, id)
	delete(g.pendingSync, id)
}

// updateMember replaces a member's protocols and timeouts and parks (or,
// with a nil cb, unparks) its JoinGroup. A JoinGroup already parked for the
// member is answered REBALANCE_IN_PROGRESS: the client has retried.
func (g *group) updateMember(m *member, protocols []protocol, rebalance, session time.Duration, cb joinCallback) {
	g.decProtocols(m)
	m.protocols = protocols
	g.incProtocols(m)
	m.rebalanceTimeout, m.sessionTimeout = rebalance, session
	switch {
	case cb != nil && m.joinCB == nil:
		g.numAwaitingJoin++
	case cb == nil && m.joinCB != nil:
		g.numAwaitingJoin--
	case cb != nil && m.joinCB != nil:
		m.joinCB.send(joinError(m.id, kerr.RebalanceInProgress))
	}
	m.joinCB = cb
}

func (g *group) invokeJoin(m *member, r joinResult) {
	if m.joinCB != nil {
		m.joinCB.send(r)
		m.joinCB = nil
		g.numAwaitingJoin--
	}
}

func (g *group) invokeSync(m *member, r syncResult) bool {
	if m.syncCB == nil {
		return false
	}
	m.syncCB.send(r)
	m.syncCB = nil
	return true
}

// replaceStaticMember gives a static member a new member ID, fencing
// requests parked under the old one.
func (g *group) replaceStaticMember(instanceID, oldID, newID string) *member {
	m := g.members[oldID]
	delete(g.members, oldID)
	g.invokeJoin(m, joinError(oldID, kerr.FencedInstanceID))
	g.invokeSync(m, syncResult{err: kerr.FencedInstanceID})
	m.id = newID
	g.members[newID] = m
	if i := slices.Index(g.order, oldID); i >= 0 {
		g.order[i] = newID
	}
	if g.isLeader(oldID) {
		g.leader = newID
	}
	g.static[instanceID] = newID
	if g.pendingSync[oldID] {
		delete(g.pendingSync, oldID)
		g.pendingSync[newID] = true
	}
	return m
}

// maybeElectNewJoinedLeader keeps the leader if it rejoined, else picks a
// member that did; false when no member rejoined (or there is no leader).
func (g *group) maybeElectNewJoinedLeader() bool {
	if g.leader == "" {
		return false
	}
	if l := g.members[g.leader]; l != nil && l.awaitingJoin() {
		return true
	}
	for _, m := range g.membersInOrder() {
		if m.awaitingJoin() {
			g.leader = m.id
			return true
		}
	}
	return false
}

// selectProtocol lets every member vote for its most preferred protocol
// among those all members support; the most votes win, ties going to the
// protocol voted for first in join order.
func (g *group) selectProtocol() string {
	candidates := map[string]bool{}
	for name, n := range g.supported {
		if n == len(g.members) {
			candidates[name] = true
		}
	}
	votes := map[string]int{}
	var order []string
	for _, m := range g.membersInOrder() {
		v := m.vote(candidates)
		if votes[v] == 0 {
			order = append(order, v)
		}
		votes[v]++
	}
	best := ""
	for _, name := range order {
		if best == "" || votes[name] > votes[best] {
			best = name
		}
	}
	return best
}

// computeSubscribed is the union of the members' subscribed topics for a
// consumer group, or nil when it cannot be known.
func (g *group) computeSubscribed() map[string]bool {
	if g.protocolType != consumerProtocolType {
		return nil
	}
	if len(g.members) == 0 {
		return map[string]bool{}
	}
	if g.protocol == "" {
		return nil
	}
	out := map[string]bool{}
	for _, m := range g.members {
		topics, ok := subscribedTopics(m.metadata(g.protocol))
		if !ok {
			return nil
		}
		for _, t := range topics {
			out[t] = true
		}
	}
	return out
}

func (g *group) isSubscribedTo(topic string) bool {
	if g.subscribed == nil {
		return true
	}
	return g.subscribed[topic]
}

// initNextGeneration starts a generation: CompletingRebalance with a
// selected protocol, or Empty when no member is left.
func (g *group) initNextGeneration(now time.Time) {
	g.generation++
	if len(g.members) > 0 {
		g.protocol = g.selectProtocol()
		g.subscribed = g.computeSubscribed()
		g.transition(StateCompletingRebalance, now)
	} else {
		g.protocol = ""
		g.subscribed = g.computeSubscribed()
		g.transition(StateEmpty, now)
	}
	clear(g.pendingSync)
}

// currentMemberMetadata is what the leader gets to compute assignments.
func (g *group) currentMemberMetadata() []kmsg.JoinGroupResponseMember {
	out := make([]kmsg.JoinGroupResponseMember, 0, len(g.members))
	for _, m := range g.membersInOrder() {
		jm := kmsg.NewJoinGroupResponseMember()
		jm.MemberID = m.id
		jm.InstanceID = m.instanceID
		jm.ProtocolMetadata = m.metadata(g.protocol)
		out = append(out, jm)
	}
	return out
}

func (g *group) protocolTypePtr() *string {
	if g.protocolType == "" {
		return nil
	}
	s := g.protocolType
	return &s
}

func (g *group) protocolPtr() *string {
	if g.protocol == "" {
		return nil
	}
	s := g.protocol
	return &s
}

// nextDeadline is the earliest moment the group has something to do.
func (g *group) nextDeadline() time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, t := range g.pending {
		consider(t)
	}
	for _, m := range g.members {
		consider(m.deadline)
	}
	if g.state == StatePreparingRebalance {
		consider(g.joinDeadline)
	}
	consider(g.syncDeadline)
	return next
}
