package permissions

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/pagespace/pagespace/modules"
)

// agentParams reads the drive and, when named, the agent and key from the path.
func agentParams(c echo.Context, names ...string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		notFound := ErrDriveNotFound
		switch n {
		case "agentId":
			notFound = ErrAgentNotFound
		case "keyId":
			notFound = ErrKeyNotFound
		}
		v, err := modules.IDParam(c, n, notFound)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (h *Handler) listAgents(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := agentParams(c, "driveId")
	if err != nil {
		return err
	}
	list, err := h.svc.ListAgents(ctx, modules.UserID(ctx), p[0])
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}

func (h *Handler) createAgent(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := agentParams(c, "driveId")
	if err != nil {
		return err
	}
	var in AgentInput
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	a, err := h.svc.CreateAgent(ctx, modules.UserID(ctx), p[0], in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a)
}

func (h *Handler) removeAgent(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := agentParams(c, "driveId", "agentId")
	if err != nil {
		return err
	}
	if err := h.svc.RemoveAgent(ctx, modules.UserID(ctx), p[0], p[1]); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) createAgentKey(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := agentParams(c, "driveId", "agentId")
	if err != nil {
		return err
	}
	k, err := h.svc.CreateAgentKey(ctx, modules.UserID(ctx), p[0], p[1])
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, k)
}

func (h *Handler) revokeAgentKey(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := agentParams(c, "driveId", "agentId", "keyId")
	if err != nil {
		return err
	}
	if err := h.svc.RevokeAgentKey(ctx, modules.UserID(ctx), p[0], p[1], p[2]); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
