package app

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/pagespace/pagespace/app/apispec"
)

// mountDescriptions serves the machine-readable descriptions of the API (public, like the
// docs they restate) and a readable page rendered once from openapi.json.
func (a *App) mountDescriptions() error {
	page, err := apispec.Page()
	if err != nil {
		return err
	}
	doc := func(body []byte) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
			return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
		}
	}
	a.echo.GET("/api/openapi.json", doc(apispec.OpenAPI()))
	a.echo.GET("/api/asyncapi.json", doc(apispec.AsyncAPI()))
	a.echo.GET("/api/docs", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
		return c.HTMLBlob(http.StatusOK, page)
	})
	a.echo.GET("/api/docs.css", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
		return c.Blob(http.StatusOK, "text/css; charset=utf-8", apispec.PageCSS)
	})
	return nil
}
