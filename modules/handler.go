package modules

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"
)

// A handler translates HTTP to one service call and back. The helpers below are the one way
// every module does it: Read takes the path ids and the body, ServeList and ServeWrite cover the
// common shapes, Reply and Done answer. The caller's identity is not read here: services take it
// from the context (UserID).

// Param is a path parameter that holds an id, with the error answered when it cannot be one
// (the module's own not-found sentinel, e.g. "drive not found").
type Param struct {
	Name     string
	NotFound error
}

// Read reads the path parameters ps as ids, in order (see IDParam), then, when body is not nil,
// binds the JSON body into it (see Bind). A path that cannot name anything answers before the
// body is looked at.
func Read(c echo.Context, body any, ps ...Param) ([]string, error) {
	ids := make([]string, len(ps))
	for i, p := range ps {
		id, err := IDParam(c, p.Name, p.NotFound)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	if body != nil {
		if err := Bind(c, body); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// BindOptional is Bind for a body that may be left out: an empty body leaves v as it is.
func BindOptional(c echo.Context, v any) error {
	if c.Request().ContentLength == 0 {
		return nil
	}
	return Bind(c, v)
}

// BoolQuery reads an optional true/false query parameter (absent is false).
func BoolQuery(c echo.Context, name string) (bool, error) {
	switch c.QueryParam(name) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, Invalid(name+" must be true or false", nil)
}

// Reply answers v as JSON with status, or returns err (for the app's error handler) when it is
// not nil. It takes a service call's two results as they come.
func Reply[T any](c echo.Context, status int, v T, err error) error {
	if err != nil {
		return err
	}
	return c.JSON(status, v)
}

// Done answers 204 No Content, or returns err when it is not nil.
func Done(c echo.Context, err error) error {
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// ServeList answers one page (?limit=&cursor=) of the list that read returns for the id in the
// path parameter p.
func ServeList[T any](c echo.Context, p Param,
	read func(context.Context, string, PageRequest) (List[T], error)) error {
	ids, err := Read(c, nil, p)
	if err != nil {
		return err
	}
	page, err := ParsePage(c)
	if err != nil {
		return err
	}
	out, err := read(c.Request().Context(), ids[0], page)
	return Reply(c, http.StatusOK, out, err)
}

// ServeWrite binds the JSON body, calls write with the id in the path parameter p and the body,
// and answers the result with status.
func ServeWrite[In, Out any](c echo.Context, status int, p Param,
	write func(context.Context, string, In) (Out, error)) error {
	var in In
	ids, err := Read(c, &in, p)
	if err != nil {
		return err
	}
	out, err := write(c.Request().Context(), ids[0], in)
	return Reply(c, status, out, err)
}

// ServeItemWrite is ServeWrite for a path that names an item inside another (a task of a task
// list, a member of a drive): write gets the ids of parent and item, in that order.
func ServeItemWrite[In, Out any](c echo.Context, status int, parent, item Param,
	write func(context.Context, string, string, In) (Out, error)) error {
	var in In
	ids, err := Read(c, &in, parent, item)
	if err != nil {
		return err
	}
	out, err := write(c.Request().Context(), ids[0], ids[1], in)
	return Reply(c, status, out, err)
}
