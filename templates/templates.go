// Package templates holds the server-rendered web UI: html/template files and static assets,
// embedded in the binary. Today it serves the landing page; the live UI grows here.
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

// Index is the data of the landing page.
type Index struct {
	Database string
}

// RenderIndex writes the landing page.
func (p *Pages) RenderIndex(w io.Writer, data Index) error {
	return p.t.ExecuteTemplate(w, "index.html", data)
}
