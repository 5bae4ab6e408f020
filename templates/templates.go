// Package templates holds the server-rendered web UI: html/template files and static assets,
// embedded in the binary. Today it serves the landing page; the live UI grows here.
package templates

import (
	"embed"
	"html/template"
	"io"
)

//go:embed *.html
var files embed.FS

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
