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

// The path parameters of the routes.
var (
	pageParam = modules.Param{Name: "pageId", NotFound: ErrPageNotFound}
	taskParam = modules.Param{Name: "taskId", NotFound: ErrNotFound}
)

func (h *Handler) list(c echo.Context) error {
	ids, err := modules.Read(c, nil, pageParam)
	if err != nil {
		return err
	}
	p, err := modules.ParsePage(c)
	if err != nil {
		return err
	}
	out, err := h.svc.List(c.Request().Context(), ListInput{
		PageID: ids[0], Status: c.QueryParam("status"), AssigneeID: c.QueryParam("assigneeId"),
		Limit: p.Limit, Cursor: p.Cursor,
	})
	return modules.Reply(c, http.StatusOK, out, err)
}

func (h *Handler) create(c echo.Context) error {
	return modules.ServeWrite(c, http.StatusCreated, pageParam, h.svc.Create)
}

func (h *Handler) update(c echo.Context) error {
	return modules.ServeItemWrite(c, http.StatusOK, pageParam, taskParam, h.svc.Update)
}

func (h *Handler) move(c echo.Context) error {
	return modules.ServeItemWrite(c, http.StatusOK, pageParam, taskParam, h.svc.Move)
}

func (h *Handler) delete(c echo.Context) error {
	ids, err := modules.Read(c, nil, pageParam, taskParam)
	if err != nil {
		return err
	}
	return modules.Done(c, h.svc.Delete(c.Request().Context(), ids[0], ids[1]))
}
