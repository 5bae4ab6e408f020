package tasks

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/permissions"
	"gorm.io/gorm"
)

// Handler serves the task routes: HTTP in, a service call, HTTP out.
type Handler struct {
	svc *Service
}

// New wires the package: its service on db, writing through the event log, asking r for access.
func New(db *gorm.DB, log *eventlog.Log, r *permissions.Resolver) *Handler {
	return &Handler{svc: NewService(db, log, r)}
}

var _ modules.Module = (*Handler)(nil)

// Mount registers the routes.
func (h *Handler) Mount(rt modules.Routes) {
	rt.Authed.GET("/pages/:pageId/tasks", h.list)
	rt.Authed.POST("/pages/:pageId/tasks", h.create)
	rt.Authed.PATCH("/pages/:pageId/tasks/:taskId", h.update)
	rt.Authed.DELETE("/pages/:pageId/tasks/:taskId", h.delete)
	rt.Authed.POST("/pages/:pageId/tasks/:taskId/move", h.move)
}

func (h *Handler) list(c echo.Context) error {
	p, err := modules.ParsePage(c)
	if err != nil {
		return err
	}
	out, err := h.svc.List(c.Request().Context(), ListInput{
		PageID: c.Param("pageId"), Status: c.QueryParam("status"), AssigneeID: c.QueryParam("assigneeId"),
		Limit: p.Limit, Cursor: p.Cursor,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (h *Handler) create(c echo.Context) error {
	var in CreateInput
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	v, err := h.svc.Create(c.Request().Context(), c.Param("pageId"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, v)
}

func (h *Handler) update(c echo.Context) error {
	var in UpdateInput
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	v, err := h.svc.Update(c.Request().Context(), c.Param("pageId"), c.Param("taskId"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (h *Handler) move(c echo.Context) error {
	var in MoveInput
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	v, err := h.svc.Move(c.Request().Context(), c.Param("pageId"), c.Param("taskId"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (h *Handler) delete(c echo.Context) error {
	if err := h.svc.Delete(c.Request().Context(), c.Param("pageId"), c.Param("taskId")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
