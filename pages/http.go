package pages

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/pagespace/pagespace/modules"
)

// The path parameters of the routes.
var (
	driveParam = modules.Param{Name: "driveId", NotFound: ErrDriveNotFound}
	pageParam  = modules.Param{Name: "pageId", NotFound: ErrNotFound}
)

func (h *Handler) tree(c echo.Context) error {
	return modules.ServeList(c, driveParam, h.svc.Tree)
}

func (h *Handler) trash(c echo.Context) error {
	return modules.ServeList(c, driveParam, h.svc.Trashed)
}

func (h *Handler) revisions(c echo.Context) error {
	return modules.ServeList(c, pageParam, h.svc.Revisions)
}

func (h *Handler) create(c echo.Context) error {
	return modules.ServeWrite(c, http.StatusCreated, driveParam, h.svc.Create)
}

func (h *Handler) update(c echo.Context) error {
	return modules.ServeWrite(c, http.StatusOK, pageParam, h.svc.Update)
}

func (h *Handler) move(c echo.Context) error {
	return modules.ServeWrite(c, http.StatusOK, pageParam, h.svc.Move)
}

func (h *Handler) get(c echo.Context) error {
	ids, err := modules.Read(c, nil, pageParam)
	if err != nil {
		return err
	}
	withTrashed, err := modules.BoolQuery(c, "includeTrashed")
	if err != nil {
		return err
	}
	p, err := h.svc.Get(c.Request().Context(), ids[0], withTrashed)
	return modules.Reply(c, http.StatusOK, p, err)
}

func (h *Handler) delete(c echo.Context) error {
	ids, err := modules.Read(c, nil, pageParam)
	if err != nil {
		return err
	}
	permanent, err := modules.BoolQuery(c, "permanent")
	if err != nil {
		return err
	}
	if permanent {
		return modules.Done(c, h.svc.Delete(c.Request().Context(), ids[0]))
	}
	return modules.Done(c, h.svc.Trash(c.Request().Context(), ids[0]))
}

func (h *Handler) restore(c echo.Context) error {
	ids, err := modules.Read(c, nil, pageParam)
	if err != nil {
		return err
	}
	p, err := h.svc.Restore(c.Request().Context(), ids[0])
	return modules.Reply(c, http.StatusOK, p, err)
}

// serveRevision answers what call returns for the page and revision in the path.
func serveRevision[Out any](c echo.Context, call func(context.Context, string, int64) (Out, error)) error {
	ids, err := modules.Read(c, nil, pageParam)
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(c.Param("revision"), 10, 64)
	if err != nil || n < 1 {
		return ErrRevisionNotFound
	}
	out, err := call(c.Request().Context(), ids[0], n)
	return modules.Reply(c, http.StatusOK, out, err)
}

func (h *Handler) revision(c echo.Context) error {
	return serveRevision(c, h.svc.Revision)
}

func (h *Handler) restoreRevision(c echo.Context) error {
	return serveRevision(c, h.svc.RestoreRevision)
}
