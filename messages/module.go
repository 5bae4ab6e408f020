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

// The path parameters of the routes.
var (
	pageParam    = modules.Param{Name: "pageId", NotFound: ErrPageNotFound}
	messageParam = modules.Param{Name: "messageId", NotFound: ErrNotFound}
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
		PageID: ids[0], ParentID: c.QueryParam("parentId"), Limit: p.Limit, Cursor: p.Cursor,
	})
	return modules.Reply(c, http.StatusOK, out, err)
}

func (h *Handler) post(c echo.Context) error {
	return modules.ServeWrite(c, http.StatusCreated, pageParam, h.svc.Post)
}

func (h *Handler) get(c echo.Context) error {
	ids, err := modules.Read(c, nil, pageParam, messageParam)
	if err != nil {
		return err
	}
	v, err := h.svc.Get(c.Request().Context(), ids[0], ids[1])
	return modules.Reply(c, http.StatusOK, v, err)
}

func (h *Handler) edit(c echo.Context) error {
	return modules.ServeItemWrite(c, http.StatusOK, pageParam, messageParam, h.svc.Edit)
}

func (h *Handler) delete(c echo.Context) error {
	ids, err := modules.Read(c, nil, pageParam, messageParam)
	if err != nil {
		return err
	}
	return modules.Done(c, h.svc.Delete(c.Request().Context(), ids[0], ids[1]))
}

func (h *Handler) startStream(c echo.Context) error {
	var in StartInput
	ids, err := modules.Read(c, nil, pageParam)
	if err != nil {
		return err
	}
	if err := modules.BindOptional(c, &in); err != nil {
		return err
	}
	v, err := h.svc.StartStream(c.Request().Context(), ids[0], in)
	return modules.Reply(c, http.StatusCreated, v, err)
}

func (h *Handler) chunk(c echo.Context) error {
	return modules.ServeItemWrite(c, http.StatusOK, pageParam, messageParam, h.svc.AppendChunk)
}

func (h *Handler) complete(c echo.Context) error {
	var in CompleteInput
	ids, err := modules.Read(c, nil, pageParam, messageParam)
	if err != nil {
		return err
	}
	if err := modules.BindOptional(c, &in); err != nil {
		return err
	}
	v, err := h.svc.Complete(c.Request().Context(), ids[0], ids[1], in)
	return modules.Reply(c, http.StatusOK, v, err)
}

func (h *Handler) fail(c echo.Context) error {
	return modules.ServeItemWrite(c, http.StatusOK, pageParam, messageParam, h.svc.Fail)
}

func (h *Handler) stop(c echo.Context) error {
	var in struct{}
	ids, err := modules.Read(c, nil, pageParam, messageParam)
	if err != nil {
		return err
	}
	if err := modules.BindOptional(c, &in); err != nil {
		return err
	}
	v, err := h.svc.Stop(c.Request().Context(), ids[0], ids[1])
	return modules.Reply(c, http.StatusOK, v, err)
}
