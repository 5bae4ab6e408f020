package templates

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/tdewolff/minify/v2"
	"github.com/tdewolff/minify/v2/css"
	"github.com/tdewolff/minify/v2/js"
)

// Assets serves the static files, prepared once when it is built: scripts and stylesheets
// minified (the sources keep their comments; there is no build step), text compressed with gzip
// for browsers that accept it, and every file with a strong ETag of its content. Responses say
// Cache-Control: no-cache, so a browser keeps its copy and revalidates it (a 304 when unchanged):
// a new binary's assets are seen at once, without versioned file names.
//
// An Assets is read-only after NewAssets and safe for concurrent use.
type Assets struct {
	files map[string]*asset // by path under the root, e.g. "js/app.js"
}

type asset struct {
	body        []byte
	gz          []byte // nil when compression does not pay
	etag        string // quoted, of body
	contentType string
	minified    bool
	sourceSize  int
}

// jsVersion is the newest ECMAScript edition the minifier may write: it never rewrites the code
// into syntax newer than the sources use (they need ES2022: private class fields, ?., ??).
const jsVersion = 2022

// gzipMin is the smallest body worth compressing.
const gzipMin = 1024

// NewAssets reads every file of fsys and prepares it. A script or stylesheet the minifier
// cannot handle is served as written and logged; only an unreadable fsys is an error.
func NewAssets(fsys fs.FS, log *slog.Logger) (*Assets, error) {
	m := minify.New()
	m.Add("text/css", &css.Minifier{})
	m.Add("text/javascript", &js.Minifier{Version: jsVersion})
	a := &Assets{files: map[string]*asset{}}
	cyclic := cyclicModules(fsys)
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		f := &asset{body: src, sourceSize: len(src), contentType: contentType(name)}
		if kind := minifiable(name); kind != "" {
			in := src
			if kind == "text/javascript" {
				in = compactModule(src, cyclic[name]) // what the minifier leaves of a module's names and declarations
			}
			if out, merr := m.Bytes(kind, in); merr != nil {
				log.Warn("static asset served unminified", "file", name, "err", merr.Error())
			} else {
				f.body, f.minified = out, true
			}
		}
		if compressible(f.contentType) && len(f.body) >= gzipMin {
			f.gz = gzipBytes(f.body)
		}
		sum := sha256.Sum256(f.body)
		f.etag = `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
		a.files[name] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("templates: static assets: %w", err)
	}
	return a, nil
}

func minifiable(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript"
	case ".css":
		return "text/css"
	}
	return ""
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(ct string) bool {
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "svg") || strings.Contains(ct, "json")
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // a valid level: no error
	zw.Write(b)                                              // a bytes.Buffer does not fail
	zw.Close()
	if buf.Len() >= len(b) {
		return nil
	}
	return buf.Bytes()
}

// Sizes reports the bytes of the scripts and stylesheets: as written, as served, and as served
// gzip-compressed (the served size when not compressed).
func (a *Assets) Sizes() (source, served, gzipped int) {
	for name, f := range a.files {
		if minifiable(name) == "" {
			continue
		}
		source += f.sourceSize
		served += len(f.body)
		if f.gz != nil {
			gzipped += len(f.gz)
		} else {
			gzipped += len(f.body)
		}
	}
	return source, served, gzipped
}

// Served reports the bytes served (uncompressed) for each script and stylesheet, by path.
func (a *Assets) Served() map[string]int {
	out := map[string]int{}
	for name, f := range a.files {
		if minifiable(name) != "" {
			out[name] = len(f.body)
		}
	}
	return out
}

// Minified reports whether the file at name (e.g. "js/app.js") is served minified.
func (a *Assets) Minified(name string) bool {
	f := a.files[name]
	return f != nil && f.minified
}

// ServeHTTP answers GET and HEAD for the file at the request's path (relative to where the
// handler is mounted: strip the prefix first).
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f := a.files[strings.TrimPrefix(r.URL.Path, "/")]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", f.etag)
	if f.gz != nil {
		h.Set("Vary", "Accept-Encoding")
	}
	if etagMatches(r.Header.Get("If-None-Match"), f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if f.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body = f.gz
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}

// etagMatches reports whether an If-None-Match header names etag (weakly compared, as RFC 9110
// asks for If-None-Match: a proxy may have marked our tag weak).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (not refused with q=0).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.TrimSpace(name) != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
