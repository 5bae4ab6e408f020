package messages

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/permissions"
	"gorm.io/gorm"
)

// Handler serves the message routes: HTTP in, a service call, HTTP out.
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
	rt.Authed.GET("/pages/:pageId/messages", h.list)
	rt.Authed.POST("/pages/:pageId/messages", h.post)
	rt.Authed.PATCH("/pages/:pageId/messages/:messageId", h.edit)
	rt.Authed.DELETE("/pages/:pageId/messages/:messageId", h.delete)
}

func (h *Handler) list(c echo.Context) error {
	p, err := modules.ParsePage(c)
	if err != nil {
		return err
	}
	out, err := h.svc.List(c.Request().Context(), ListInput{
		PageID: c.Param("pageId"), ParentID: c.QueryParam("parentId"), Limit: p.Limit, Cursor: p.Cursor,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (h *Handler) post(c echo.Context) error {
	var in PostInput
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	v, err := h.svc.Post(c.Request().Context(), c.Param("pageId"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, v)
}

func (h *Handler) edit(c echo.Context) error {
	var in EditInput
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	v, err := h.svc.Edit(c.Request().Context(), c.Param("pageId"), c.Param("messageId"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (h *Handler) delete(c echo.Context) error {
	if err := h.svc.Delete(c.Request().Context(), c.Param("pageId"), c.Param("messageId")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
