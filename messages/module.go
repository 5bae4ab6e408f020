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

// New wires the package: its service on db, writing through the event log, asking r for access,
// with the limits of streamed messages in cfg and their chunks handed to deltas (nil: nobody).
func New(db *gorm.DB, log *eventlog.Log, r *permissions.Resolver, cfg StreamConfig, deltas Deltas) *Handler {
	return &Handler{svc: NewService(db, log, r, cfg, deltas)}
}

// Service is the handler's service (for the socket's chunks, the idle sweep and the
// revocations that interrupt streams).
func (h *Handler) Service() *Service { return h.svc }

var _ modules.Module = (*Handler)(nil)

// Mount registers the routes.
func (h *Handler) Mount(rt modules.Routes) {
	rt.Authed.GET("/pages/:pageId/messages", h.list)
	rt.Authed.POST("/pages/:pageId/messages", h.post)
	rt.Authed.GET("/pages/:pageId/messages/:messageId", h.get)
	rt.Authed.PATCH("/pages/:pageId/messages/:messageId", h.edit)
	rt.Authed.DELETE("/pages/:pageId/messages/:messageId", h.delete)
	rt.Authed.POST("/pages/:pageId/messages/streams", h.startStream)
	rt.Authed.POST("/pages/:pageId/messages/:messageId/chunks", h.chunk)
	rt.Authed.POST("/pages/:pageId/messages/:messageId/complete", h.complete)
	rt.Authed.POST("/pages/:pageId/messages/:messageId/fail", h.fail)
	rt.Authed.POST("/pages/:pageId/messages/:messageId/stop", h.stop)
}

// bindOptional is modules.Bind for a body that may be left out: no body leaves v as it is.
func bindOptional(c echo.Context, v any) error {
	if c.Request().ContentLength == 0 {
		return nil
	}
	return modules.Bind(c, v)
}

func (h *Handler) get(c echo.Context) error {
	return respond(c)(h.svc.Get(c.Request().Context(), c.Param("pageId"), c.Param("messageId")))
}

func (h *Handler) startStream(c echo.Context) error {
	var in StartInput
	if err := bindOptional(c, &in); err != nil {
		return err
	}
	v, err := h.svc.StartStream(c.Request().Context(), c.Param("pageId"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, v)
}

func (h *Handler) chunk(c echo.Context) error {
	var in ChunkInput
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	res, err := h.svc.AppendChunk(c.Request().Context(), c.Param("pageId"), c.Param("messageId"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func (h *Handler) complete(c echo.Context) error {
	var in CompleteInput
	if err := bindOptional(c, &in); err != nil {
		return err
	}
	return respond(c)(h.svc.Complete(c.Request().Context(), c.Param("pageId"), c.Param("messageId"), in))
}

func (h *Handler) fail(c echo.Context) error {
	var in FailInput
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	return respond(c)(h.svc.Fail(c.Request().Context(), c.Param("pageId"), c.Param("messageId"), in))
}

func (h *Handler) stop(c echo.Context) error {
	var in struct{}
	if err := bindOptional(c, &in); err != nil {
		return err
	}
	return respond(c)(h.svc.Stop(c.Request().Context(), c.Param("pageId"), c.Param("messageId")))
}

// respond returns a function that answers a service call's message (200), or its error.
func respond(c echo.Context) func(View, error) error {
	return func(v View, err error) error {
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, v)
	}
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
