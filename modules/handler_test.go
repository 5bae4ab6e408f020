package modules_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/pagespace/pagespace/modules"
)

var (
	errListNotFound = modules.E(modules.KindNotFound, "list not found")
	errItemNotFound = modules.E(modules.KindNotFound, "item not found")
	listParam       = modules.Param{Name: "listId", NotFound: errListNotFound}
	itemParam       = modules.Param{Name: "itemId", NotFound: errItemNotFound}
)

type noteInput struct {
	Note string `json:"note"`
}

type written struct {
	List, Item, Note string
}

// handlerServer serves the helpers on a real listener. The routes sit on a plain group, not a
// Router, so that odd path ids reach Read and answer the Param's own sentinel.
func handlerServer(t *testing.T) string {
	t.Helper()
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		status := http.StatusInternalServerError
		if me := modules.As(err); me != nil {
			status = me.Kind.Status()
		}
		_ = c.JSON(status, map[string]string{"error": err.Error()})
	}
	g := e.Group("/api")
	g.PATCH("/lists/:listId/items/:itemId", func(c echo.Context) error {
		return modules.ServeItemWrite(c, http.StatusOK, listParam, itemParam,
			func(_ context.Context, list, item string, in noteInput) (written, error) {
				return written{List: list, Item: item, Note: in.Note}, nil
			})
	})
	g.DELETE("/lists/:listId", func(c echo.Context) error {
		ids, err := modules.Read(c, nil, listParam)
		if err != nil {
			return err
		}
		if ids[0] == "gone" {
			return modules.Done(c, errListNotFound)
		}
		return modules.Done(c, nil)
	})
	g.GET("/lists/:listId/items", func(c echo.Context) error {
		return modules.ServeList(c, listParam,
			func(_ context.Context, list string, p modules.PageRequest) (modules.List[string], error) {
				return modules.List[string]{Items: []string{list, p.Cursor}}, nil
			})
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv.URL + "/api"
}

func TestHandlerHelpers(t *testing.T) {
	base := handlerServer(t)
	long := strings.Repeat("x", 129)
	cases := []struct {
		name, method, path, body string
		status                   int
		want                     string // a part of the answer
	}{
		{"item write", "PATCH", "/lists/l1/items/i1", `{"note":"hi"}`, 200, `"List":"l1","Item":"i1","Note":"hi"`},
		{"bad body", "PATCH", "/lists/l1/items/i1", `{"Note":"hi"}`, 400, "unknown field"},
		{"no body", "PATCH", "/lists/l1/items/i1", ``, 400, "request body is required"},
		{"parent id that cannot be one, before the body", "PATCH", "/lists/" + long + "/items/i1", `{`, 404, "list not found"},
		{"item id that cannot be one", "PATCH", "/lists/l1/items/" + long, `{"note":"hi"}`, 404, "item not found"},
		{"done", "DELETE", "/lists/l1", ``, 204, ""},
		{"done with an error", "DELETE", "/lists/gone", ``, 404, "list not found"},
		{"list", "GET", "/lists/l1/items?limit=5", ``, 200, `"items":["l1",""]`},
		{"list with a bad limit", "GET", "/lists/l1/items?limit=0", ``, 400, "limit must be"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != c.status || !strings.Contains(string(b), c.want) {
				t.Fatalf("%d %s, want %d with %q", res.StatusCode, b, c.status, c.want)
			}
			if c.status == 200 && !json.Valid(b) {
				t.Fatalf("not JSON: %s", b)
			}
		})
	}
}

func TestBoolQuery(t *testing.T) {
	e := echo.New()
	for q, want := range map[string]bool{"": false, "?f=false": false, "?f=0": false, "?f=true": true, "?f=1": true} {
		c := e.NewContext(httptest.NewRequest("GET", "/"+q, nil), httptest.NewRecorder())
		if got, err := modules.BoolQuery(c, "f"); err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", q, got, err, want)
		}
	}
	c := e.NewContext(httptest.NewRequest("GET", "/?f=yes", nil), httptest.NewRecorder())
	if _, err := modules.BoolQuery(c, "f"); modules.As(err) == nil || modules.As(err).Kind != modules.KindInvalid {
		t.Errorf("f=yes: %v, want invalid_request", err)
	}
}

func TestBindOptional(t *testing.T) {
	e := echo.New()
	in := noteInput{Note: "kept"}
	c := e.NewContext(httptest.NewRequest("POST", "/", nil), httptest.NewRecorder())
	if err := modules.BindOptional(c, &in); err != nil || in.Note != "kept" {
		t.Fatalf("no body: %v, %+v", err, in)
	}
	c = e.NewContext(httptest.NewRequest("POST", "/", strings.NewReader(`{"note":1}`)), httptest.NewRecorder())
	var me *modules.Error
	if err := modules.BindOptional(c, &in); !errors.As(err, &me) || me.Kind != modules.KindInvalid {
		t.Fatalf("bad body: %v, want invalid_request", err)
	}
}
