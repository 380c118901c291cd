package group

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// HandleJoinGroup serves JoinGroup (all versions kmsg knows). It blocks
// until the rebalance answers the member, and returns an error only when
// ctx ends first. clientHost is how DescribeGroups shows the member's host.
func (c *Coordinator) HandleJoinGroup(ctx context.Context, req *kmsg.JoinGroupRequest, clientID, clientHost string) (*kmsg.JoinGroupResponse, error) {
	cb := newJoinCallback()
	c.joinGroup(req, clientID, clientHost, cb)
	var r joinResult
	select {
	case r = <-cb:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.Generation = r.generation
	resp.MemberID = r.memberID
	resp.LeaderID = r.leader
	resp.SkipAssignment = r.skip
	resp.Members = r.members
	if resp.Members == nil {
		resp.Members = []kmsg.JoinGroupResponseMember{}
	}
	if r.err != nil {
		resp.ErrorCode = r.err.Code
	}
	resp.ProtocolType = r.protocolType
	resp.Protocol = r.protocol
	if req.Version < 7 && resp.Protocol == nil {
		empty := ""
		resp.Protocol = &empty
	}
	return resp, nil
}

func (c *Coordinator) joinGroup(req *kmsg.JoinGroupRequest, clientID, clientHost string, cb joinCallback) {
	if err := c.status(req.Group, false); err != nil {
		cb.send(joinError(req.MemberID, err))
		return
	}
	session := time.Duration(req.SessionTimeoutMillis) * time.Millisecond
	if session < c.cfg.MinSessionTimeout || session > c.cfg.MaxSessionTimeout {
		cb.send(joinError(req.MemberID, kerr.InvalidSessionTimeout))
		return
	}
	rebalance := time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond
	if req.Version == 0 {
		rebalance = session
	}
	protocols := make([]protocol, 0, len(req.Protocols))
	for _, p := range req.Protocols {
		protocols = append(protocols, protocol{name: p.Name, metadata: p.Metadata})
	}
	j := joinRequest{
		memberID: req.MemberID, instanceID: req.InstanceID, clientID: clientID, clientHost: clientHost,
		rebalance: rebalance, session: session, protocolType: req.ProtocolType, protocols: protocols,
		requireKnownID: req.Version >= 4 && req.InstanceID == nil,
		supportSkip:    req.Version >= 9,
		cb:             cb,
	}
	unknown := req.MemberID == ""
	g := c.getGroup(req.Group, unknown)
	if g == nil {
		cb.send(joinError(req.MemberID, kerr.UnknownMemberID))
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := c.clock.Now()
	switch {
	case !c.acceptJoiningMember(g, req.MemberID):
		g.remove(req.MemberID)
		cb.send(joinError("", kerr.GroupMaxSizeReached))
	case unknown:
		c.doNewMemberJoin(g, j, now)
	default:
		c.doCurrentMemberJoin(g, j, now)
	}
	if g.state == StatePreparingRebalance {
		c.maybeCompleteJoin(g, now)
	}
	c.settle(g, now)
}

// joinRequest is a decoded JoinGroup.
type joinRequest struct {
	memberID, clientID, clientHost string
	instanceID                     *string
	rebalance, session             time.Duration
	protocolType                   string
	protocols                      []protocol
	requireKnownID, supportSkip    bool
	cb                             joinCallback
}

// acceptJoiningMember applies group.max.size: existing members are
// accepted, new ones while there is room (counting, while preparing a
// rebalance, only the members that rejoined).
func (c *Coordinator) acceptJoiningMember(g *group, id string) bool {
	switch g.state {
	case StatePreparingRebalance:
		m := g.members[id]
		return (m != nil && m.awaitingJoin()) || g.numAwaitingJoin < c.cfg.MaxSize
	case StateCompletingRebalance, StateStable:
		return g.has(id) || len(g.members) < c.cfg.MaxSize
	}
	return true
}

func (c *Coordinator) doNewMemberJoin(g *group, j joinRequest, now time.Time) {
	switch {
	case g.state == StateDead:
		j.cb.send(joinError("", kerr.CoordinatorNotAvailable))
		return
	case !g.supportsProtocols(j.protocolType, j.protocols):
		j.cb.send(joinError("", kerr.InconsistentGroupProtocol))
		return
	}
	prefix := j.clientID
	if j.instanceID != nil {
		prefix = *j.instanceID
	}
	newID := prefix + "-" + uuid.NewString()
	if j.instanceID != nil {
		if oldID, ok := g.staticMemberID(j.instanceID); ok {
			c.lg.Info("static member rejoined with a new member id", "group", g.id, "instance", *j.instanceID, "old", oldID, "new", newID)
			c.updateStaticMemberAndRebalance(g, oldID, newID, j, now)
			return
		}
		c.addMemberAndRebalance(g, newID, j, now)
		return
	}
	if j.requireKnownID {
		// KIP-394: a new dynamic member first gets its ID and must join
		// again with it; until then it is pending, for a session timeout.
		g.pending[newID] = now.Add(j.session)
		j.cb.send(joinError(newID, kerr.MemberIDRequired))
		return
	}
	c.addMemberAndRebalance(g, newID, j, now)
}

func (c *Coordinator) doCurrentMemberJoin(g *group, j joinRequest, now time.Time) {
	switch {
	case g.state == StateDead:
		j.cb.send(joinError(j.memberID, kerr.CoordinatorNotAvailable))
		return
	case !g.supportsProtocols(j.protocolType, j.protocols):
		j.cb.send(joinError(j.memberID, kerr.InconsistentGroupProtocol))
		return
	case g.isPendingMember(j.memberID):
		if j.instanceID != nil {
			// Pending members are dynamic by construction.
			j.cb.send(joinError(j.memberID, kerr.UnknownMemberID))
			return
		}
		c.addMemberAndRebalance(g, j.memberID, j, now)
		return
	}
	if err := validateCurrentMember(g, j.memberID, j.instanceID); err != nil {
		j.cb.send(joinError(j.memberID, err))
		return
	}
	m := g.members[j.memberID]
	switch g.state {
	case StatePreparingRebalance:
		c.updateMemberAndRebalance(g, m, j, now, "member rejoined during a rebalance")
	case StateCompletingRebalance:
		if m.matches(j.protocols) {
			// The member missed the answer to its JoinGroup: repeat it.
			r := c.joinAnswer(g, m)
			j.cb.send(r)
		} else {
			c.updateMemberAndRebalance(g, m, j, now, "member changed its metadata while awaiting sync")
		}
	case StateStable:
		if g.isLeader(m.id) {
			// The leader rejoining forces a rebalance: it does so when
			// something that affects assignment changed (topic metadata).
			c.updateMemberAndRebalance(g, m, j, now, "leader rejoined")
		} else if !m.matches(j.protocols) {
			c.updateMemberAndRebalance(g, m, j, now, "member changed its metadata")
		} else {
			j.cb.send(joinResult{
				memberID: m.id, generation: g.generation, protocolType: g.protocolTypePtr(),
				protocol: g.protocolPtr(), leader: g.leader,
			})
		}
	default:
		j.cb.send(joinError(j.memberID, kerr.UnknownMemberID))
	}
}

// joinAnswer is the answer of a completed join for m: the leader gets
// every member's metadata.
func (c *Coordinator) joinAnswer(g *group, m *member) joinResult {
	r := joinResult{
		memberID: m.id, generation: g.generation, protocolType: g.protocolTypePtr(),
		protocol: g.protocolPtr(), leader: g.leader,
	}
	if g.isLeader(m.id) {
		r.members = g.currentMemberMetadata()
	}
	return r
}

// validateCurrentMember: a static member's instance ID must map to its
// member ID (FENCED_INSTANCE_ID otherwise), and the member must exist.
func validateCurrentMember(g *group, memberID string, instanceID *string) *kerr.Error {
	if instanceID != nil {
		cur, ok := g.static[*instanceID]
		switch {
		case !ok:
			return kerr.UnknownMemberID
		case cur != memberID:
			return kerr.FencedInstanceID
		}
		return nil
	}
	if !g.has(memberID) {
		return kerr.UnknownMemberID
	}
	return nil
}

func (c *Coordinator) addMemberAndRebalance(g *group, id string, j joinRequest, now time.Time) {
	m := &member{
		id: id, instanceID: j.instanceID, clientID: j.clientID, clientHost: j.clientHost,
		rebalanceTimeout: j.rebalance, sessionTimeout: j.session,
		protocolType: j.protocolType, protocols: j.protocols, isNew: true,
	}
	if g.state == StatePreparingRebalance && g.generation == 0 {
		g.newMemberAdded = true
	}
	g.add(m, j.cb)
	m.deadline = now.Add(newMemberJoinTimeout)
	c.maybePrepareRebalance(g, now, "new member "+id+" joined")
}

func (c *Coordinator) updateMemberAndRebalance(g *group, m *member, j joinRequest, now time.Time, reason string) {
	g.updateMember(m, j.protocols, j.rebalance, j.session, j.cb)
	c.maybePrepareRebalance(g, now, reason)
}

// updateStaticMemberAndRebalance lets a static member that restarted take
// its place back under a new member ID. In a Stable group whose protocol
// would not change, there is no rebalance: the member gets its previous
// assignment through SyncGroup.
func (c *Coordinator) updateStaticMemberAndRebalance(g *group, oldID, newID string, j joinRequest, now time.Time) {
	currentLeader := g.leader
	m := g.replaceStaticMember(*j.instanceID, oldID, newID)
	m.deadline = now.Add(m.sessionTimeout)
	oldProtocols, oldRebalance, oldSession := m.protocols, m.rebalanceTimeout, m.sessionTimeout
	g.updateMember(m, j.protocols, j.rebalance, j.session, j.cb)
	switch g.state {
	case StateStable:
		if g.selectProtocol() != g.protocol {
			c.maybePrepareRebalance(g, now, "static member "+newID+" changed the group's protocol")
			return
		}
		assignment := map[string][]byte{}
		for _, x := range g.members {
			assignment[x.id] = x.assignment
		}
		if err := c.storeGroupLocked(g, assignment); err != nil {
			g.updateMember(m, oldProtocols, oldRebalance, oldSession, nil)
			old := g.replaceStaticMember(*j.instanceID, newID, oldID)
			old.deadline = now.Add(old.sessionTimeout)
			r := joinError("", err)
			r.generation, r.protocolType, r.protocol, r.leader = g.generation, g.protocolTypePtr(), g.protocolPtr(), currentLeader
			j.cb.send(r)
			return
		}
		r := joinResult{
			memberID: newID, generation: g.generation, protocolType: g.protocolTypePtr(),
			protocol: g.protocolPtr(), leader: currentLeader,
		}
		if j.supportSkip && g.isLeader(newID) {
			// JoinGroup v9+: the leader learns it leads but skips the
			// assignment, which a Stable group would not broadcast.
			r.leader, r.skip, r.members = g.leader, true, g.currentMemberMetadata()
		}
		g.invokeJoin(m, r)
	case StateCompletingRebalance:
		// The old member ID may already be in the leader's assignment.
		c.prepareRebalance(g, now, "static member "+newID+" rejoined while awaiting sync")
	}
}

func (c *Coordinator) maybePrepareRebalance(g *group, now time.Time, reason string) {
	if g.canRebalance() {
		c.prepareRebalance(g, now, reason)
	}
}

// prepareRebalance starts a rebalance: members parked in SyncGroup are told
// to rejoin, and the join phase lasts until every member rejoined or the
// rebalance timeout. A group that was empty first waits
// group.initial.rebalance.delay.ms for more members.
func (c *Coordinator) prepareRebalance(g *group, now time.Time, reason string) {
	if g.state == StateCompletingRebalance {
		c.resetAndPropagateAssignmentError(g, now, kerr.RebalanceInProgress)
	}
	clear(g.pendingSync)
	g.syncDeadline = time.Time{}
	if g.state == StateEmpty {
		g.initialDelay = true
		g.initialCurDelay = c.cfg.InitialRebalanceDelay
		g.initialRemaining = max(g.rebalanceTimeout()-c.cfg.InitialRebalanceDelay, 0)
		g.joinDeadline = now.Add(c.cfg.InitialRebalanceDelay)
	} else {
		g.initialDelay = false
		g.joinDeadline = now.Add(g.rebalanceTimeout())
	}
	g.transition(StatePreparingRebalance, now)
	c.lg.Info("preparing to rebalance", "group", g.id, "generation", g.generation, "reason", reason)
	c.maybeCompleteJoin(g, now)
}

// maybeCompleteJoin ends the join phase once every member rejoined (never
// during the initial delay, which only its deadline ends).
func (c *Coordinator) maybeCompleteJoin(g *group, now time.Time) {
	if g.state == StatePreparingRebalance && !g.initialDelay && g.hasAllMembersJoined() {
		c.completeJoin(g, now)
	}
}

// completeJoin ends the join phase: dynamic members that did not rejoin
// are removed, and a new generation starts.
func (c *Coordinator) completeJoin(g *group, now time.Time) {
	g.joinDeadline, g.initialDelay = time.Time{}, false
	for _, m := range g.membersInOrder() {
		if !m.awaitingJoin() && !m.isStatic() {
			c.lg.Info("removing member that did not rejoin", "group", g.id, "member", m.id)
			g.remove(m.id)
		}
	}
	if g.state == StateDead {
		return
	}
	if !g.maybeElectNewJoinedLeader() && len(g.members) > 0 {
		// Only static members that have not rejoined are left: wait another
		// rebalance timeout for them (or for their sessions to expire).
		c.lg.Warn("no member rejoined; extending the rebalance", "group", g.id)
		g.joinDeadline = now.Add(g.rebalanceTimeout())
		return
	}
	g.initNextGeneration(now)
	if g.state == StateEmpty {
		c.lg.Info("group is now empty", "group", g.id, "generation", g.generation)
		c.storeGroupLocked(g, nil)
		return
	}
	c.lg.Info("stabilized group", "group", g.id, "generation", g.generation, "members", len(g.members), "protocol", g.protocol)
	for _, m := range g.membersInOrder() {
		g.invokeJoin(m, c.joinAnswer(g, m))
		m.deadline = now.Add(m.sessionTimeout)
		m.isNew = false
		g.pendingSync[m.id] = true
	}
	g.syncDeadline = now.Add(g.rebalanceTimeout())
	g.syncGeneration = g.generation
}

// expirePendingSync removes members that got their JoinGroup answer but did
// not send SyncGroup within the rebalance timeout, and rebalances.
func (c *Coordinator) expirePendingSync(g *group, now time.Time) {
	if g.syncGeneration != g.generation || (g.state != StateCompletingRebalance && g.state != StateStable) {
		return
	}
	if len(g.pendingSync) == 0 {
		return
	}
	var gone []string
	for id := range g.pendingSync {
		gone = append(gone, id)
	}
	for _, id := range gone {
		g.remove(id)
	}
	c.prepareRebalance(g, now, "members did not send SyncGroup in time")
}

func (c *Coordinator) removeMemberAndUpdateGroup(g *group, m *member, now time.Time, reason string) {
	g.invokeJoin(m, joinError("", kerr.UnknownMemberID))
	g.remove(m.id)
	switch g.state {
	case StateStable, StateCompletingRebalance:
		c.maybePrepareRebalance(g, now, reason)
	case StatePreparingRebalance:
		c.maybeCompleteJoin(g, now)
	}
}

func (c *Coordinator) removePendingMemberAndUpdateGroup(g *group, id string, now time.Time) {
	g.remove(id)
	if g.state == StatePreparingRebalance {
		c.maybeCompleteJoin(g, now)
	}
}

func (c *Coordinator) resetAndPropagateAssignmentError(g *group, now time.Time, err *kerr.Error) {
	for _, m := range g.members {
		m.assignment = nil
	}
	c.propagateAssignment(g, now, err)
}

func (c *Coordinator) setAndPropagateAssignment(g *group, now time.Time, assignment map[string][]byte) {
	for _, m := range g.members {
		m.assignment = assignment[m.id]
	}
	c.propagateAssignment(g, now, nil)
}

func (c *Coordinator) propagateAssignment(g *group, now time.Time, err *kerr.Error) {
	for _, m := range g.membersInOrder() {
		r := syncResult{err: err, assignment: m.assignment}
		if err == nil {
			r.protocolType, r.protocol = g.protocolTypePtr(), g.protocolPtr()
		}
		if g.invokeSync(m, r) {
			// The member may have gone past its deadline while parked.
			m.deadline = now.Add(m.sessionTimeout)
		}
	}
}

// HandleSyncGroup serves SyncGroup. Followers block until the leader's
// assignment is stored; the error is ctx's when it ends first.
func (c *Coordinator) HandleSyncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) (*kmsg.SyncGroupResponse, error) {
	cb := newSyncCallback()
	c.syncGroup(req, cb)
	var r syncResult
	select {
	case r = <-cb:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	if r.err != nil {
		resp.ErrorCode = r.err.Code
	}
	resp.ProtocolType, resp.Protocol = r.protocolType, r.protocol
	resp.MemberAssignment = r.assignment
	if resp.MemberAssignment == nil {
		resp.MemberAssignment = []byte{}
	}
	return resp, nil
}

func (c *Coordinator) syncGroup(req *kmsg.SyncGroupRequest, cb syncCallback) {
	if err := c.status(req.Group, false); err != nil {
		cb.send(syncResult{err: err})
		return
	}
	g := c.getGroup(req.Group, false)
	if g == nil {
		cb.send(syncResult{err: kerr.UnknownMemberID})
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := c.clock.Now()
	defer c.settle(g, now)
	var err *kerr.Error
	switch {
	case g.state == StateDead:
		err = kerr.CoordinatorNotAvailable
	default:
		err = validateCurrentMember(g, req.MemberID, req.InstanceID)
		switch {
		case err != nil:
		case req.Generation != g.generation:
			err = kerr.IllegalGeneration
		case req.ProtocolType != nil && *req.ProtocolType != g.protocolType:
			err = kerr.InconsistentGroupProtocol
		case req.Protocol != nil && *req.Protocol != g.protocol:
			err = kerr.InconsistentGroupProtocol
		}
	}
	if err != nil {
		cb.send(syncResult{err: err})
		return
	}
	m := g.members[req.MemberID]
	switch g.state {
	case StateEmpty:
		cb.send(syncResult{err: kerr.UnknownMemberID})
	case StatePreparingRebalance:
		cb.send(syncResult{err: kerr.RebalanceInProgress})
	case StateCompletingRebalance:
		if m.syncCB != nil {
			m.syncCB.send(syncResult{err: kerr.RebalanceInProgress})
		}
		m.syncCB = cb
		c.removePendingSync(g, m.id)
		if !g.isLeader(m.id) {
			return
		}
		assignment := make(map[string][]byte, len(g.members))
		for _, a := range req.GroupAssignment {
			assignment[a.MemberID] = a.MemberAssignment
		}
		for id := range g.members {
			if _, ok := assignment[id]; !ok {
				assignment[id] = []byte{}
			}
		}
		if err := c.storeGroupLocked(g, assignment); err != nil {
			c.resetAndPropagateAssignmentError(g, now, err)
			c.maybePrepareRebalance(g, now, "storing the assignment failed")
			return
		}
		c.setAndPropagateAssignment(g, now, assignment)
		g.transition(StateStable, now)
		c.lg.Info("group is stable", "group", g.id, "generation", g.generation, "members", len(g.members))
	case StateStable:
		c.removePendingSync(g, m.id)
		cb.send(syncResult{protocolType: g.protocolTypePtr(), protocol: g.protocolPtr(), assignment: m.assignment})
		m.deadline = now.Add(m.sessionTimeout)
	}
}

func (c *Coordinator) removePendingSync(g *group, id string) {
	delete(g.pendingSync, id)
	if len(g.pendingSync) == 0 {
		g.syncDeadline = time.Time{}
	}
}

// HandleHeartbeat serves Heartbeat.
func (c *Coordinator) HandleHeartbeat(req *kmsg.HeartbeatRequest) *kmsg.HeartbeatResponse {
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	if err := c.heartbeat(req); err != nil {
		resp.ErrorCode = err.Code
	}
	return resp
}

func (c *Coordinator) heartbeat(req *kmsg.HeartbeatRequest) *kerr.Error {
	if err := c.status(req.Group, false); err != nil {
		return err
	}
	g := c.getGroup(req.Group, false)
	if g == nil {
		return kerr.UnknownMemberID
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == StateDead {
		return kerr.CoordinatorNotAvailable
	}
	if err := validateCurrentMember(g, req.MemberID, req.InstanceID); err != nil {
		return err
	}
	if req.Generation != g.generation {
		return kerr.IllegalGeneration
	}
	m := g.members[req.MemberID]
	switch g.state {
	case StateEmpty:
		return kerr.UnknownMemberID
	case StatePreparingRebalance:
		m.deadline = c.clock.Now().Add(m.sessionTimeout)
		return kerr.RebalanceInProgress
	}
	m.deadline = c.clock.Now().Add(m.sessionTimeout)
	return nil
}

// HandleLeaveGroup serves LeaveGroup: v0-v2 name one member, v3+ a batch,
// each by member ID or (to remove a static member administratively) by
// group.instance.id alone.
func (c *Coordinator) HandleLeaveGroup(req *kmsg.LeaveGroupRequest) *kmsg.LeaveGroupResponse {
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	leaving := req.Members
	if req.Version < 3 {
		m := kmsg.NewLeaveGroupRequestMember()
		m.MemberID = req.MemberID
		leaving = []kmsg.LeaveGroupRequestMember{m}
	}
	top, codes := c.leaveGroup(req.Group, leaving)
	if top != nil {
		resp.ErrorCode = top.Code
	}
	for i, lm := range leaving {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID = lm.MemberID, lm.InstanceID
		if i < len(codes) && codes[i] != nil {
			rm.ErrorCode = codes[i].Code
		}
		if top == nil {
			resp.Members = append(resp.Members, rm)
		}
	}
	if req.Version < 3 && resp.ErrorCode == 0 && len(resp.Members) > 0 {
		resp.ErrorCode = resp.Members[0].ErrorCode
	}
	return resp
}

func (c *Coordinator) leaveGroup(id string, leaving []kmsg.LeaveGroupRequestMember) (*kerr.Error, []*kerr.Error) {
	if err := c.status(id, false); err != nil {
		return err, nil
	}
	codes := make([]*kerr.Error, len(leaving))
	g := c.getGroup(id, false)
	if g == nil {
		for i := range codes {
			codes[i] = kerr.UnknownMemberID
		}
		return nil, codes
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == StateDead {
		return kerr.CoordinatorNotAvailable, nil
	}
	now := c.clock.Now()
	defer c.settle(g, now)
	for i, lm := range leaving {
		switch {
		case lm.MemberID == "":
			cur, ok := g.staticMemberID(lm.InstanceID)
			if !ok {
				codes[i] = kerr.UnknownMemberID
				continue
			}
			c.lg.Info("member left the group", "group", id, "member", cur)
			c.removeMemberAndUpdateGroup(g, g.members[cur], now, "member "+cur+" left")
		case g.isPendingMember(lm.MemberID):
			c.removePendingMemberAndUpdateGroup(g, lm.MemberID, now)
		default:
			if err := validateCurrentMember(g, lm.MemberID, lm.InstanceID); err != nil {
				codes[i] = err
				continue
			}
			c.lg.Info("member left the group", "group", id, "member", lm.MemberID)
			c.removeMemberAndUpdateGroup(g, g.members[lm.MemberID], now, "member "+lm.MemberID+" left")
		}
	}
	return nil, codes
}
