package group

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupOperations is the authorized-operations bit set of a group when
// every operation is allowed: READ, DELETE and DESCRIBE.
const groupOperations = 1<<3 | 1<<6 | 1<<8

// HandleDescribeGroups serves DescribeGroups v0-v5. A group that does not
// exist is reported Dead without error, as Kafka does before v6. Member
// metadata and assignments are shown only for a Stable group.
func (c *Coordinator) HandleDescribeGroups(req *kmsg.DescribeGroupsRequest) *kmsg.DescribeGroupsResponse {
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, id := range req.Groups {
		dg := kmsg.NewDescribeGroupsResponseGroup()
		dg.Group = id
		dg.AuthorizedOperations = -2147483648
		if req.IncludeAuthorizedOperations {
			dg.AuthorizedOperations = groupOperations
		}
		if err := c.status(id, true); err != nil {
			dg.ErrorCode = err.Code
			resp.Groups = append(resp.Groups, dg)
			continue
		}
		dg.State = StateDead.String()
		if g := c.getGroup(id, false); g != nil {
			g.mu.Lock()
			dg.State = g.state.String()
			dg.ProtocolType = g.protocolType
			stable := g.state == StateStable
			if stable {
				dg.Protocol = g.protocol
			}
			for _, m := range g.membersInOrder() {
				dm := kmsg.NewDescribeGroupsResponseGroupMember()
				dm.MemberID, dm.InstanceID, dm.ClientID, dm.ClientHost = m.id, m.instanceID, m.clientID, m.clientHost
				dm.ProtocolMetadata, dm.MemberAssignment = []byte{}, []byte{}
				if stable {
					dm.ProtocolMetadata = m.metadata(g.protocol)
					dm.MemberAssignment = m.assignment
				}
				dg.Members = append(dg.Members, dm)
			}
			g.mu.Unlock()
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}

// HandleListGroups serves ListGroups v0-v4; v4 filters by state names,
// compared without regard to case.
func (c *Coordinator) HandleListGroups(req *kmsg.ListGroupsRequest) *kmsg.ListGroupsResponse {
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	c.mu.RLock()
	active := c.active
	c.mu.RUnlock()
	if !active {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	var states map[string]bool
	if req.Version >= 4 && len(req.StatesFilter) > 0 {
		states = map[string]bool{}
		for _, s := range req.StatesFilter {
			states[strings.ToLower(s)] = true
		}
	}
	for _, o := range c.ListGroups() {
		if states != nil && !states[strings.ToLower(o.State.String())] {
			continue
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType, lg.GroupState = o.Group, o.ProtocolType, o.State.String()
		resp.Groups = append(resp.Groups, lg)
	}
	return resp
}

// ListGroups returns every group this coordinator serves, sorted by name.
func (c *Coordinator) ListGroups() []Overview {
	var out []Overview
	for _, g := range c.allGroups() {
		g.mu.Lock()
		if g.state != StateDead {
			out = append(out, Overview{Group: g.id, ProtocolType: g.protocolType, State: g.state})
		}
		g.mu.Unlock()
	}
	return out
}

// GroupState returns the group's state; false when the group does not
// exist (or is not served here).
func (c *Coordinator) GroupState(group string) (State, bool) {
	g := c.getGroup(group, false)
	if g == nil {
		return StateDead, false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.state, g.state != StateDead
}

// HandleDeleteGroups serves DeleteGroups v0-v2: an Empty group is deleted
// with its offsets (tombstones are written); a group with members is
// NON_EMPTY_GROUP; an unknown one GROUP_ID_NOT_FOUND.
func (c *Coordinator) HandleDeleteGroups(req *kmsg.DeleteGroupsRequest) *kmsg.DeleteGroupsResponse {
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	for _, id := range req.Groups {
		dg := kmsg.NewDeleteGroupsResponseGroup()
		dg.Group = id
		if err := c.deleteGroup(id); err != nil {
			dg.ErrorCode = err.Code
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}

func (c *Coordinator) deleteGroup(id string) *kerr.Error {
	if err := c.status(id, true); err != nil {
		return err
	}
	g := c.getGroup(id, false)
	if g == nil {
		return kerr.GroupIDNotFound
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch g.state {
	case StateDead:
		return kerr.GroupIDNotFound
	case StateEmpty:
		now := c.clock.Now()
		g.transition(StateDead, now)
		n := c.cleanupLocked(g, now, sortedTPs(g.offsets))
		c.lg.Info("deleted group", "group", id, "offsets", n)
		return nil
	}
	return kerr.NonEmptyGroup
}
