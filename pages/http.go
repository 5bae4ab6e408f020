package pages

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/pagespace/pagespace/modules"
)

// pageID is the :pageId path parameter, or ErrNotFound.
func pageID(c echo.Context) (string, error) {
	if id := c.Param("pageId"); modules.ValidID(id) {
		return id, nil
	}
	return "", ErrNotFound
}

// driveID is the :driveId path parameter, or ErrDriveNotFound.
func driveID(c echo.Context) (string, error) {
	if id := c.Param("driveId"); modules.ValidID(id) {
		return id, nil
	}
	return "", ErrDriveNotFound
}

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

func (h *Handler) tree(c echo.Context) error {
	id, err := driveID(c)
	if err != nil {
		return err
	}
	req, err := modules.ParsePage(c)
	if err != nil {
		return err
	}
	list, err := h.svc.Tree(c.Request().Context(), id, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list)
}

func (h *Handler) create(c echo.Context) error {
	id, err := driveID(c)
	if err != nil {
		return err
	}
	var in CreateInput
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	p, err := h.svc.Create(c.Request().Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

func (h *Handler) trash(c echo.Context) error {
	id, err := driveID(c)
	if err != nil {
		return err
	}
	req, err := modules.ParsePage(c)
	if err != nil {
		return err
	}
	list, err := h.svc.Trashed(c.Request().Context(), id, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list)
}

func (h *Handler) get(c echo.Context) error {
	id, err := pageID(c)
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

func (h *Handler) update(c echo.Context) error {
	id, err := pageID(c)
	if err != nil {
		return err
	}
	var in UpdateInput
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	p, err := h.svc.Update(c.Request().Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *Handler) delete(c echo.Context) error {
	id, err := pageID(c)
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

func (h *Handler) move(c echo.Context) error {
	id, err := pageID(c)
	if err != nil {
		return err
	}
	var in MoveInput
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	p, err := h.svc.Move(c.Request().Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *Handler) restore(c echo.Context) error {
	id, err := pageID(c)
	if err != nil {
		return err
	}
	p, err := h.svc.Restore(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *Handler) revisions(c echo.Context) error {
	id, err := pageID(c)
	if err != nil {
		return err
	}
	req, err := modules.ParsePage(c)
	if err != nil {
		return err
	}
	list, err := h.svc.Revisions(c.Request().Context(), id, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list)
}

func (h *Handler) revision(c echo.Context) error {
	id, err := pageID(c)
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(c.Param("revision"), 10, 64)
	if err != nil || n < 1 {
		return ErrRevisionNotFound
	}
	r, err := h.svc.Revision(c.Request().Context(), id, n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}
