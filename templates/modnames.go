package templates

import (
	"bytes"
	"slices"

	"github.com/tdewolff/parse/v2"
	"github.com/tdewolff/parse/v2/js"
)

// compactModule rewrites an ES module where the minifier does not, because it reads every file
// as a script: its own top-level names shortened (shortenNames), its functions declared as arrow
// functions where one can stand for them (arrowFunctions; cyclic says the module is in a cycle of
// imports), its constants declared with let (letForConst). A file that does not parse, or has
// neither import nor export (a script), is returned as it is.
func compactModule(src []byte, cyclic bool) []byte {
	ast, err := js.Parse(parse.NewInputBytes(bytes.Clone(src)), js.Options{})
	if err != nil || !isModule(ast) {
		return src // the minifier reports what does not parse
	}
	shortenNames(ast)
	arrowFunctions(ast, cyclic)
	letForConst(ast)
	var out bytes.Buffer
	ast.JS(&out)
	return out.Bytes()
}

// shortenNames gives a module's own top-level names (the local names of its imports, and what it
// declares at the top level) the shortest names used nowhere in the module, where that makes it
// shorter. The minifier shortens names inside functions only: at a script's top level, names are
// globals that other scripts may use, whereas a module's are its own.
//
// What other modules see does not change: an import keeps the name it imports (`import{h as a}`),
// and an export the name it exports (`export function f` becomes `function a` and
// `export{a as f}`). New names are taken from none of the module's identifiers, in any scope, so
// no inner declaration can capture a renamed use.
func shortenNames(ast *js.AST) {
	m := newModule(ast)
	cands := m.candidates()
	// The most used names get the shortest new ones.
	slices.SortStableFunc(cands, func(x, y *candidate) int { return y.uses - x.uses })
	next := nameSource(m.names)
	var name []byte // the next new name, while no candidate took it
	for _, c := range cands {
		if name == nil {
			name = next()
		}
		if c.worth(name, m.exportCost(c)) {
			m.rename(c, name)
			name = nil
		}
	}
	m.exportUnwrapped()
}

// letForConst declares with let what a module declares with const, two bytes shorter each time
// and the same program: a constant differs from a let only in refusing assignment, and no
// source assigns one (that would throw, in the browser as in the unit tests, which run against
// the modules as served).
func letForConst(ast *js.AST) {
	js.Walk(letDecls{}, ast)
}

// letDecls is the js.IVisitor of letForConst.
type letDecls struct{}

func (letDecls) Enter(n js.INode) js.IVisitor {
	if d, ok := n.(*js.VarDecl); ok && d.TokenType == js.ConstToken {
		d.TokenType = js.LetToken
	}
	return letDecls{}
}

func (letDecls) Exit(js.INode) {}

// isModule reports whether a parsed file imports or exports anything.
func isModule(ast *js.AST) bool {
	for _, stmt := range ast.List {
		switch stmt.(type) {
		case *js.ImportStmt, *js.ExportStmt:
			return true
		}
	}
	return false
}

// module is a parsed module being renamed.
type module struct {
	ast   *js.AST
	uses  map[*js.Var][]*js.Var // each variable's references (the end of the parser's links)
	names map[string]bool       // every identifier of the module, in any scope
	// The entries (new name as exported name) of the export statement added at the end, for the
	// declarations that lost their export keyword.
	unwrapped []js.Alias
}

// candidate is a top-level variable that may be renamed.
type candidate struct {
	v        *js.Var
	uses     int         // references, the declaration included (not an import's binding)
	imported *js.Alias   // the import binding it, if imported
	listed   []*js.Alias // the entries of export lists that export it
	decl     int         // the index of the statement `export <declaration of v>`, or -1
}

// worth reports whether renaming c to name makes the module shorter, counting what the imports
// and exports of c then have to say (" as " and a name, the name exported), and extra bytes.
func (c *candidate) worth(name []byte, extra int) bool {
	old := len(c.v.Data)
	saved := (old-len(name))*c.uses - extra
	if c.imported != nil && c.imported.Name == nil {
		saved -= len(" as ") + len(name)
	}
	for _, a := range c.listed {
		if a.Name == nil {
			saved -= len(" as ") + len(name)
		}
	}
	if c.decl >= 0 {
		saved -= len(name) + len(" as ") + old + len(",") - len("export ")
	}
	return saved > 0
}

func newModule(ast *js.AST) *module {
	m := &module{ast: ast, uses: map[*js.Var][]*js.Var{}, names: map[string]bool{}}
	js.Walk(m, ast)
	return m
}

// Enter indexes every variable reference of the module (for js.Walk).
func (m *module) Enter(n js.INode) js.IVisitor {
	if v, ok := n.(*js.Var); ok {
		root := v
		for root.Link != nil {
			root = root.Link
		}
		m.uses[root] = append(m.uses[root], v)
		m.names[string(v.Data)] = true
		m.names[string(root.Data)] = true
	}
	return m
}

// Exit is part of js.IVisitor.
func (m *module) Exit(js.INode) {}

// candidates are the module's top-level variables that may be renamed: what it declares, where an
// export allows it, and what it imports and uses.
func (m *module) candidates() []*candidate {
	top := m.ast.BlockStmt.Scope
	byName := map[string]*candidate{}
	var out []*candidate
	for _, v := range top.Declared {
		c := &candidate{v: v, uses: len(m.uses[v]), decl: -1}
		byName[string(v.Data)] = c
		out = append(out, c)
	}
	// The parser declares no import: its uses are the top level's undeclared names.
	for _, v := range top.Undeclared {
		if _, taken := byName[string(v.Data)]; !taken {
			byName[string(v.Data)] = &candidate{v: v, uses: len(m.uses[v]), decl: -1}
		}
	}
	fixed := map[*candidate]bool{} // exported in a way that cannot take a new local name
	imported := map[*candidate]bool{}
	for i, stmt := range m.ast.List {
		switch s := stmt.(type) {
		case *js.ImportStmt:
			for j := range s.List {
				if c := byName[string(s.List[j].Binding)]; c != nil && len(s.List[j].Binding) > 0 {
					c.imported = &s.List[j]
					imported[c] = true
				}
			}
		case *js.ExportStmt:
			m.exported(s, i, byName, fixed)
		}
	}
	for c := range imported {
		if len(c.listed) == 0 { // re-exporting an import by name keeps it
			out = append(out, c)
		}
	}
	return slices.DeleteFunc(out, func(c *candidate) bool { return fixed[c] || c.uses == 0 })
}

// exported notes what the export statement s (the index-th) says about the candidates: an export
// list entry names a local that may be renamed, and so does the declaration of one function,
// class or variable; the names other declarations bind keep them (fixed).
func (m *module) exported(s *js.ExportStmt, index int, byName map[string]*candidate, fixed map[*candidate]bool) {
	if s.Module != nil {
		return // a re-export from another module names none of ours
	}
	for j := range s.List {
		a := &s.List[j]
		local := a.Binding
		if a.Name != nil {
			local = a.Name
		}
		if c := byName[string(local)]; c != nil {
			c.listed = append(c.listed, a)
		}
	}
	if s.Decl == nil {
		return
	}
	var single *js.Var
	switch d := s.Decl.(type) {
	case *js.FuncDecl:
		single = d.Name
	case *js.ClassDecl:
		single = d.Name
	case *js.VarDecl:
		if len(d.List) == 1 {
			single, _ = d.List[0].Binding.(*js.Var)
		}
	}
	if c := byVar(byName, single); c != nil && !s.Default {
		c.decl = index
		return
	}
	// The names it binds keep them (an initializer's references may change).
	names := &module{uses: map[*js.Var][]*js.Var{}, names: map[string]bool{}}
	switch d := s.Decl.(type) {
	case *js.FuncDecl:
		js.Walk(names, d.Name)
	case *js.ClassDecl:
		js.Walk(names, d.Name)
	case *js.VarDecl:
		for _, b := range d.List {
			js.Walk(names, b.Binding)
		}
	}
	for _, c := range byName {
		if names.uses[c.v] != nil {
			fixed[c] = true
		}
	}
}

func byVar(byName map[string]*candidate, v *js.Var) *candidate {
	if v == nil {
		return nil
	}
	if c := byName[string(v.Data)]; c != nil && c.v == v {
		return c
	}
	return nil
}

// exportCost is what renaming c costs besides its names: the export statement at the end, when c
// is the first declaration to lose its export keyword.
func (m *module) exportCost(c *candidate) int {
	if c.decl >= 0 && len(m.unwrapped) == 0 {
		return len("export{};")
	}
	return 0
}

// rename gives c the new name, in every reference, import and export of it.
func (m *module) rename(c *candidate, name []byte) {
	old := bytes.Clone(c.v.Data)
	if a := c.imported; a != nil {
		if a.Name == nil {
			a.Name = a.Binding
		}
		a.Binding = name
	}
	for _, a := range c.listed {
		a.Name = name // the exported name (Binding) stays
	}
	if c.decl >= 0 {
		s := m.ast.List[c.decl].(*js.ExportStmt)
		m.ast.List[c.decl] = s.Decl.(js.IStmt)
		m.unwrapped = append(m.unwrapped, js.Alias{Name: name, Binding: old})
	}
	c.v.Data = name // what a linked reference prints
	for _, use := range m.uses[c.v] {
		use.Data = name
	}
}

// exportUnwrapped exports, in one statement at the end, the declarations that lost their export
// keyword.
func (m *module) exportUnwrapped() {
	if len(m.unwrapped) > 0 {
		m.ast.List = append(m.ast.List, &js.ExportStmt{List: m.unwrapped})
	}
}

// reserved are the words no short name may be (the ones of up to three letters).
var reserved = map[string]bool{"do": true, "if": true, "in": true, "for": true, "let": true, "new": true,
	"try": true, "var": true, "NaN": true, "as": true, "of": true}

// nameSource returns a function that gives the next short name (a, b, ..., Z, aa, ab, ...) that is
// not in taken and not reserved.
func nameSource(taken map[string]bool) func() []byte {
	const first = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$"
	const rest = first + "0123456789"
	n := 0
	return func() []byte {
		for {
			name := []byte{first[n%len(first)]}
			for i := n / len(first); i > 0; i = (i - 1) / len(rest) {
				name = append(name, rest[(i-1)%len(rest)])
			}
			n++
			if !taken[string(name)] && !reserved[string(name)] {
				return name
			}
		}
	}
}
