package permissions

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/pagespace/pagespace/modules"
)

func (h *Handler) listAgents(c echo.Context) error {
	ids, err := modules.Read(c, nil, driveParam)
	if err != nil {
		return err
	}
	list, err := h.svc.ListAgents(c.Request().Context(), ids[0])
	return modules.Reply(c, http.StatusOK, map[string]any{"items": list}, err)
}

func (h *Handler) createAgent(c echo.Context) error {
	return modules.ServeWrite(c, http.StatusCreated, driveParam, h.svc.CreateAgent)
}

func (h *Handler) removeAgent(c echo.Context) error {
	ids, err := modules.Read(c, nil, driveParam, agentParam)
	if err != nil {
		return err
	}
	return modules.Done(c, h.svc.RemoveAgent(c.Request().Context(), ids[0], ids[1]))
}

func (h *Handler) createAgentKey(c echo.Context) error {
	ids, err := modules.Read(c, nil, driveParam, agentParam)
	if err != nil {
		return err
	}
	k, err := h.svc.CreateAgentKey(c.Request().Context(), ids[0], ids[1])
	return modules.Reply(c, http.StatusCreated, k, err)
}

func (h *Handler) revokeAgentKey(c echo.Context) error {
	ids, err := modules.Read(c, nil, driveParam, agentParam, keyParam)
	if err != nil {
		return err
	}
	return modules.Done(c, h.svc.RevokeAgentKey(c.Request().Context(), ids[0], ids[1], ids[2]))
}
