package modules

import "github.com/labstack/echo/v4"

// Routes are the two route groups a module mounts on: Public needs no identity, Authed runs
// behind the authentication middleware, so handlers there always find an Identity in the context.
type Routes struct {
	Public *echo.Group
	Authed *echo.Group
}

// Module is a domain module that serves HTTP routes.
type Module interface {
	// Mount registers the module's routes.
	Mount(r Routes)
}
