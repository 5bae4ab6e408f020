package realtime

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/realtime/socketio"
)

var _ modules.Module = (*Broker)(nil)

// Mount registers the REST side of agent statuses, for agents without a socket.
func (b *Broker) Mount(r modules.Routes) {
	r.Authed.PUT("/pages/:pageId/agent-status", b.putAgentStatus)
	r.Authed.DELETE("/pages/:pageId/agent-status", b.deleteAgentStatus)
}

// agentStatus is the agent_status event: an agent shows its state in a page it joined.
func (b *Broker) agentStatus(c *client, args socketio.Args, ack socketio.AckFunc) {
	var in statusIn
	if args.Len() != 1 || !decodeArg(args, 0, &in) || !modules.ValidID(in.PageID) {
		fail(ack, "invalid_request", "agent_status takes {pageId, state, tool?, progress?, detail?}")
		return
	}
	if in.TTLSeconds != nil {
		fail(ack, "invalid_request", "ttlSeconds is for PUT /api/pages/{pageId}/agent-status: a socket's status lasts while the agent is in the page")
		return
	}
	if !c.agent {
		b.failErr(ack, errNotAgent)
		return
	}
	if err := in.validate(); err != nil {
		b.failErr(ack, err)
		return
	}
	c.mu.Lock()
	driveID, joined := c.rooms[modules.PageRoom(in.PageID).String()]
	c.mu.Unlock()
	if !joined {
		b.failErr(ack, errStatusNotJoin)
		return
	}
	id := c.identity()
	if _, _, err := b.statuses.set(in, in.PageID, c.userID, c.name, statusChange{driveID: driveID, keyID: id.KeyID, socket: c}); err != nil {
		b.failErr(ack, err)
		return
	}
	ok(ack, nil)
}

func (b *Broker) putAgentStatus(c echo.Context) error {
	ctx := c.Request().Context()
	pageID, err := modules.IDParam(c, "pageId", errStatusPage)
	if err != nil {
		return err
	}
	var in statusIn
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	if in.PageID != "" {
		return errStatusPageBody
	}
	ttl := b.cfg.AgentStatusTTL
	if in.TTLSeconds != nil {
		if *in.TTLSeconds < 1 || time.Duration(*in.TTLSeconds)*time.Second > maxStatusTTL {
			return errStatusTTL
		}
		ttl = time.Duration(*in.TTLSeconds) * time.Second
	}
	if err := in.validate(); err != nil {
		return err
	}
	id, _ := modules.IdentityFrom(ctx)
	st, expires, err := b.setRESTStatus(ctx, id, pageID, in, ttl)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"status": st, "expiresAt": modules.Time(expires)})
}

func (b *Broker) deleteAgentStatus(c echo.Context) error {
	ctx := c.Request().Context()
	pageID, err := modules.IDParam(c, "pageId", errStatusPage)
	if err != nil {
		return err
	}
	if err := b.clearRESTStatus(ctx, modules.UserID(ctx), pageID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// setRESTStatus publishes in (validated) as the status of id's agent in pageID for ttl, and
// returns it with its expiry. Errors: errNotAgent (forbidden) for a person, errStatusPage
// (not_found) without view, rate_limited past restStatusPerMinute.
func (b *Broker) setRESTStatus(ctx context.Context, id modules.Identity, pageID string, in statusIn, ttl time.Duration) (AgentStatus, time.Time, error) {
	name, driveID, err := b.statusAccess(ctx, id.UserID, pageID)
	if err != nil {
		return AgentStatus{}, time.Time{}, err
	}
	if !b.statusLim.Allow(id.UserID) {
		return AgentStatus{}, time.Time{}, modules.ErrRateLimited
	}
	st, at, err := b.statuses.set(in, pageID, id.UserID, name, statusChange{driveID: driveID, keyID: id.KeyID, ttl: ttl})
	if err != nil {
		return AgentStatus{}, time.Time{}, err
	}
	// Checked again now that it is set: a revocation that committed after the first check
	// either sees the status when it is dispatched, or is seen here.
	if b.statuses.verify(ctx, pageID, id.UserID, at) {
		return AgentStatus{}, time.Time{}, errStatusPage
	}
	return st, time.Unix(0, at).Add(ttl), nil
}

// clearRESTStatus ends the status of userID (an agent) in pageID, wherever it was set; there
// may be none. Errors as setRESTStatus's.
func (b *Broker) clearRESTStatus(ctx context.Context, userID, pageID string) error {
	if _, _, err := b.statusAccess(ctx, userID, pageID); err != nil {
		return err
	}
	b.statuses.clear(pageID, userID)
	return nil
}

// statusAccess checks that userID is an agent that may view pageID, and returns its name and
// the page's drive.
func (b *Broker) statusAccess(ctx context.Context, userID, pageID string) (name, driveID string, err error) {
	name, agent, err := b.verify.UserName(ctx, userID)
	if err != nil {
		return "", "", err
	}
	if !agent {
		return "", "", errNotAgent
	}
	pa, err := b.access.Page(ctx, userID, pageID)
	if isNotFound(err) || err == nil && (!pa.View || pa.Trashed) {
		return "", "", errStatusPage
	}
	if err != nil {
		return "", "", err
	}
	return name, pa.DriveID, nil
}
