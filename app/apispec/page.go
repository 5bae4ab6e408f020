package apispec

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strings"
)

//go:embed page.html
var pageTemplate string

// PageCSS is the reference page's stylesheet, served at /api/docs.css (not under /static: the
// web UI's bytes budget counts what the app ships, and the app never loads this).
//
//go:embed page.css
var PageCSS []byte

// Page renders openapi.json as a self-contained HTML reference (its only asset is
// /api/docs.css, so it works under the server's CSP): operations grouped by tag with their
// parameters, bodies and answers, then every schema with its fields.
func Page() ([]byte, error) {
	var doc struct {
		Info struct {
			Title, Description string
		}
		Tags       []struct{ Name string }
		Paths      map[string]map[string]rawOp
		Components struct {
			Schemas    map[string]schema
			Parameters map[string]param
			Responses  map[string]struct{ Description string }
		}
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		return nil, fmt.Errorf("apispec: openapi.json: %w", err)
	}
	v := pageView{Title: doc.Info.Title, Description: doc.Info.Description}
	byTag := map[string]*tagView{}
	for _, t := range doc.Tags {
		tv := &tagView{Name: t.Name}
		byTag[t.Name] = tv
		v.Tags = append(v.Tags, tv)
	}
	for path, item := range doc.Paths {
		for method, op := range item {
			ov := opView{Method: strings.ToUpper(method), Path: path, Summary: op.Summary, Description: op.Description,
				Public: op.Security != nil && len(*op.Security) == 0}
			for _, p := range op.Parameters {
				if p.Ref != "" {
					p = doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
				}
				ov.Params = append(ov.Params, paramView{Name: p.Name, In: p.In, Required: p.Required, Type: p.Schema.summary(), Description: p.Description})
			}
			if op.RequestBody != nil {
				for _, c := range op.RequestBody.Content {
					ov.Body = c.Schema.summary()
				}
			}
			for status, r := range op.Responses {
				rv := answerView{Status: status, Description: r.Description}
				if r.Ref != "" {
					rv.Description = doc.Components.Responses[strings.TrimPrefix(r.Ref, "#/components/responses/")].Description
					rv.Type = template.HTML(`<a href="#schema-Error">Error</a>`)
				}
				for mt, c := range r.Content {
					rv.Type = c.Schema.summary()
					if mt != "application/json" {
						rv.Type = template.HTML(template.HTMLEscapeString(mt))
					}
				}
				ov.Answers = append(ov.Answers, rv)
			}
			slices.SortFunc(ov.Answers, func(a, b answerView) int { return strings.Compare(a.Status, b.Status) })
			tag := "Other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			if byTag[tag] == nil {
				byTag[tag] = &tagView{Name: tag}
				v.Tags = append(v.Tags, byTag[tag])
			}
			byTag[tag].Ops = append(byTag[tag].Ops, ov)
		}
	}
	for _, t := range v.Tags {
		slices.SortFunc(t.Ops, func(a, b opView) int { return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method) })
	}
	for _, name := range slices.Sorted(maps.Keys(doc.Components.Schemas)) {
		s := doc.Components.Schemas[name]
		sv := schemaView{Name: name, Description: s.Description, Type: s.summary()}
		for _, f := range slices.Sorted(maps.Keys(s.Properties)) {
			p := s.Properties[f]
			sv.Fields = append(sv.Fields, fieldView{Name: f, Type: p.summary(), Required: slices.Contains(s.Required, f), Description: p.Description})
		}
		v.Schemas = append(v.Schemas, sv)
	}
	t, err := template.New("page").Parse(pageTemplate)
	if err != nil {
		return nil, fmt.Errorf("apispec: page template: %w", err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return nil, fmt.Errorf("apispec: page: %w", err)
	}
	return buf.Bytes(), nil
}

type rawOp struct {
	Summary, Description string
	Tags                 []string
	Security             *[]any
	Parameters           []param
	RequestBody          *struct {
		Content map[string]struct{ Schema schema }
	}
	Responses map[string]struct {
		Ref         string `json:"$ref"`
		Description string
		Content     map[string]struct{ Schema schema }
	}
}

type param struct {
	Ref                   string `json:"$ref"`
	Name, In, Description string
	Required              bool
	Schema                schema
}

// schema is the part of a JSON Schema the page shows.
type schema struct {
	Ref         string `json:"$ref"`
	Type        any    // a name or a list of names
	Description string
	Enum        []any
	Const       any
	OneOf       []schema
	Items       *schema
	Properties  map[string]schema
	Required    []string
	Minimum     *float64
	Maximum     *float64
	MinLength   *int
	MaxLength   *int
}

// summary is a one-line type: a link to a named schema, "string (1–100)", "a | null", an enum.
func (s schema) summary() template.HTML {
	esc := template.HTMLEscapeString
	switch {
	case s.Ref != "":
		name := s.Ref[strings.LastIndex(s.Ref, "/")+1:]
		return template.HTML(`<a href="#schema-` + esc(name) + `">` + esc(name) + `</a>`)
	case len(s.OneOf) > 0:
		parts := make([]string, len(s.OneOf))
		for i, o := range s.OneOf {
			parts[i] = string(o.summary())
		}
		return template.HTML(strings.Join(parts, " | "))
	case s.Const != nil:
		b, _ := json.Marshal(s.Const)
		return template.HTML("<code>" + esc(string(b)) + "</code>")
	case len(s.Enum) > 0:
		parts := make([]string, len(s.Enum))
		for i, e := range s.Enum {
			b, _ := json.Marshal(e)
			parts[i] = "<code>" + esc(string(b)) + "</code>"
		}
		return template.HTML(strings.Join(parts, " | "))
	case s.Items != nil:
		return "array of " + s.Items.summary()
	}
	var typ string
	switch t := s.Type.(type) {
	case string:
		typ = t
	case []any:
		names := make([]string, len(t))
		for i, n := range t {
			names[i] = fmt.Sprint(n)
		}
		typ = strings.Join(names, " | ")
	default:
		typ = "any"
	}
	lo, hi := "", ""
	if s.MinLength != nil {
		lo = fmt.Sprint(*s.MinLength)
	}
	if s.MaxLength != nil {
		hi = fmt.Sprint(*s.MaxLength)
	}
	if s.Minimum != nil {
		lo = fmt.Sprint(*s.Minimum)
	}
	if s.Maximum != nil {
		hi = fmt.Sprint(*s.Maximum)
	}
	if lo != "" || hi != "" {
		typ += " (" + lo + "–" + hi + ")"
	}
	return template.HTML(esc(typ))
}

type pageView struct {
	Title, Description string
	Tags               []*tagView
	Schemas            []schemaView
}

type tagView struct {
	Name string
	Ops  []opView
}

type opView struct {
	Method, Path, Summary, Description string
	Public                             bool
	Params                             []paramView
	Body                               template.HTML
	Answers                            []answerView
}

type paramView struct {
	Name, In, Description string
	Required              bool
	Type                  template.HTML
}

type answerView struct {
	Status, Description string
	Type                template.HTML
}

type schemaView struct {
	Name, Description string
	Type              template.HTML
	Fields            []fieldView
}

type fieldView struct {
	Name, Description string
	Required          bool
	Type              template.HTML
}
