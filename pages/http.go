package pages

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/pagespace/pagespace/modules"
)

// boolQuery reads an optional true/false query parameter.
func boolQuery(c echo.Context, name string) (bool, error) {
	switch c.QueryParam(name) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, modules.Invalid(name+" must be true or false", nil)
}

// serveList answers one page of the list that read returns for the id in the path parameter param.
func serveList[T any](c echo.Context, param string, notFound error,
	read func(context.Context, string, modules.PageRequest) (modules.List[T], error)) error {
	id, err := modules.IDParam(c, param, notFound)
	if err != nil {
		return err
	}
	req, err := modules.ParsePage(c)
	if err != nil {
		return err
	}
	out, err := read(c.Request().Context(), id, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// serveWrite binds the JSON body, calls write with it and the id in the path parameter param,
// and answers the result with status.
func serveWrite[In, Out any](c echo.Context, status int, param string, notFound error,
	write func(context.Context, string, In) (Out, error)) error {
	id, err := modules.IDParam(c, param, notFound)
	if err != nil {
		return err
	}
	var in In
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	out, err := write(c.Request().Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(status, out)
}

func (h *Handler) tree(c echo.Context) error {
	return serveList(c, "driveId", ErrDriveNotFound, h.svc.Tree)
}

func (h *Handler) trash(c echo.Context) error {
	return serveList(c, "driveId", ErrDriveNotFound, h.svc.Trashed)
}

func (h *Handler) revisions(c echo.Context) error {
	return serveList(c, "pageId", ErrNotFound, h.svc.Revisions)
}

func (h *Handler) create(c echo.Context) error {
	return serveWrite(c, http.StatusCreated, "driveId", ErrDriveNotFound, h.svc.Create)
}

func (h *Handler) update(c echo.Context) error {
	return serveWrite(c, http.StatusOK, "pageId", ErrNotFound, h.svc.Update)
}

func (h *Handler) move(c echo.Context) error {
	return serveWrite(c, http.StatusOK, "pageId", ErrNotFound, h.svc.Move)
}

func (h *Handler) get(c echo.Context) error {
	id, err := modules.IDParam(c, "pageId", ErrNotFound)
	if err != nil {
		return err
	}
	withTrashed, err := boolQuery(c, "includeTrashed")
	if err != nil {
		return err
	}
	p, err := h.svc.Get(c.Request().Context(), id, withTrashed)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *Handler) delete(c echo.Context) error {
	id, err := modules.IDParam(c, "pageId", ErrNotFound)
	if err != nil {
		return err
	}
	permanent, err := boolQuery(c, "permanent")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if permanent {
		err = h.svc.Delete(ctx, id)
	} else {
		err = h.svc.Trash(ctx, id)
	}
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) restore(c echo.Context) error {
	id, err := modules.IDParam(c, "pageId", ErrNotFound)
	if err != nil {
		return err
	}
	p, err := h.svc.Restore(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// serveRevision answers what call returns for the page and revision in the path.
func serveRevision[Out any](c echo.Context, call func(context.Context, string, int64) (Out, error)) error {
	id, err := modules.IDParam(c, "pageId", ErrNotFound)
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(c.Param("revision"), 10, 64)
	if err != nil || n < 1 {
		return ErrRevisionNotFound
	}
	out, err := call(c.Request().Context(), id, n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (h *Handler) revision(c echo.Context) error {
	return serveRevision(c, h.svc.Revision)
}

func (h *Handler) restoreRevision(c echo.Context) error {
	return serveRevision(c, h.svc.RestoreRevision)
}
