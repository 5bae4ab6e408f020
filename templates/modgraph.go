package templates

import (
	"io/fs"
	"path"
	"strings"

	"github.com/tdewolff/parse/v2"
	"github.com/tdewolff/parse/v2/js"
)

// cyclicModules returns the ES modules of fsys (by path) that are in a cycle of static imports:
// one of them may use what another exports before that one's code has run.
func cyclicModules(fsys fs.FS) map[string]bool {
	imports := map[string][]string{} // module → the modules of fsys it imports
	_ = fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || minifiable(name) != "text/javascript" {
			return nil // NewAssets reports what cannot be read
		}
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil
		}
		ast, err := js.Parse(parse.NewInputBytes(src), js.Options{})
		if err != nil {
			return nil
		}
		for _, stmt := range ast.List {
			var spec []byte
			switch s := stmt.(type) {
			case *js.ImportStmt:
				spec = s.Module
			case *js.ExportStmt:
				spec = s.Module
			}
			if to := strings.Trim(string(spec), `"'`); strings.HasPrefix(to, ".") {
				imports[name] = append(imports[name], path.Join(path.Dir(name), to))
			}
		}
		return nil
	})
	cyclic := map[string]bool{}
	for name := range imports {
		cyclic[name] = reaches(imports, name, name)
	}
	return cyclic
}

// reaches reports whether target can be reached from the imports of from.
func reaches(imports map[string][]string, from, target string) bool {
	seen := map[string]bool{}
	next := append([]string(nil), imports[from]...)
	for len(next) > 0 {
		m := next[len(next)-1]
		next = next[:len(next)-1]
		if m == target {
			return true
		}
		if !seen[m] {
			seen[m] = true
			next = append(next, imports[m]...)
		}
	}
	return false
}
