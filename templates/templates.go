// Package templates holds the web UI: the html/template app shell and the static assets (the
// stylesheet and the ES modules under static/js), embedded in the binary. The server renders the
// same shell for every UI route; the modules then sign in through the refresh cookie, route on
// the client (history.pushState) and read the REST API.
package templates

import (
	"embed"
	"html/template"
	"io"
	"io/fs"
)

// The pages load their styles and scripts from static/ only: the Content-Security-Policy that
// app sends allows no inline <script> or <style>, nor style attributes.
//
//go:embed *.html static
var files embed.FS

// Static is the tree of static assets (stylesheets, scripts, images), served at /static/.
func Static() fs.FS {
	sub, _ := fs.Sub(files, "static") // never fails: the directory is embedded
	return sub
}

// Pages are the parsed templates.
type Pages struct {
	t *template.Template
}

// Parse parses the embedded templates.
func Parse() (*Pages, error) {
	t, err := template.ParseFS(files, "*.html")
	if err != nil {
		return nil, err
	}
	return &Pages{t: t}, nil
}

// Shell is the data of the app shell.
type Shell struct {
	Database string
}

// UIPaths are the routes that answer with the app shell, in Echo's syntax. The client router
// (static/js/router.js) knows the same paths.
var UIPaths = []string{"/", "/login", "/signup", "/account", "/d/:driveId", "/d/:driveId/trash", "/d/:driveId/members", "/d/:driveId/agents", "/p/:pageId"}

// RenderShell writes the app shell.
func (p *Pages) RenderShell(w io.Writer, data Shell) error {
	return p.t.ExecuteTemplate(w, "app.html", data)
}
