package templates

import (
	"bytes"

	"github.com/tdewolff/parse/v2/js"
)

// arrowFunctions declares as `let name = (...) => {...}` the function declarations an arrow
// function can stand for: those directly in the module's top level or in a function's body, that
// are not generators, use no `this`, `arguments`, `super`, `new.target` or class of their own,
// and are never constructed (`new`, `instanceof`) nor asked for their prototype. The arrows of one
// body are declared together at its top, so that each is set before any statement of the body
// runs, as a declaration would be (creating an arrow runs nothing): a module's functions are all
// set before its own code runs, and so before another module may call one, except in a cycle of
// imports (cyclic), where another module's code may run first: there, exported functions stay
// declarations.
func arrowFunctions(ast *js.AST, cyclic bool) {
	r := &arrowRewriter{keep: constructed(ast), cyclic: cyclic}
	if cyclic {
		for _, v := range exportedVars(ast) {
			r.keep[v] = true
		}
	}
	r.body(&ast.BlockStmt, nil)
}

// arrowRewriter rewrites the bodies of a module; keep holds the variables whose function
// declarations must stay, cyclic whether the module is in a cycle of imports.
type arrowRewriter struct {
	keep   map[*js.Var]bool
	cyclic bool
}

// body rewrites the function declarations of one body, whose function has params (nil for the
// module), and those of the functions within it. A module's exported declarations become one
// `export let` of arrows.
func (r *arrowRewriter) body(body *js.BlockStmt, params *js.Params) {
	var arrows, exported []js.BindingElement
	kept := body.List[:0]
	for _, stmt := range body.List {
		js.Walk(r, stmt)
		if f, ok := stmt.(*js.FuncDecl); ok && r.arrowable(f, body, params) {
			arrows = append(arrows, arrow(f))
			continue
		}
		if e, ok := stmt.(*js.ExportStmt); ok && !r.cyclic && !e.Default {
			if f, ok := e.Decl.(*js.FuncDecl); ok && r.arrowable(f, body, params) {
				exported = append(exported, arrow(f))
				continue
			}
		}
		kept = append(kept, stmt)
	}
	var decls []js.IStmt
	if len(exported) > 0 {
		decls = append(decls, &js.ExportStmt{Decl: &js.VarDecl{TokenType: js.LetToken, List: exported}})
	}
	if len(arrows) > 0 {
		decls = append(decls, &js.VarDecl{TokenType: js.LetToken, List: arrows})
	}
	// After the imports (which come first whatever their place), next to the module's own lets:
	// the minifier joins adjacent declarations.
	at := 0
	for at < len(kept) {
		if _, ok := kept[at].(*js.ImportStmt); !ok {
			break
		}
		at++
	}
	body.List = append(kept[:at:at], append(decls, kept[at:]...)...)
}

// arrow is the binding of f's name to the arrow function that stands for it.
func arrow(f *js.FuncDecl) js.BindingElement {
	return js.BindingElement{Binding: f.Name, Default: &js.ArrowFunc{Async: f.Async, Params: f.Params, Body: f.Body}}
}

// Enter rewrites the bodies of the functions a statement holds (for js.Walk).
func (r *arrowRewriter) Enter(n js.INode) js.IVisitor {
	switch f := n.(type) {
	case *js.FuncDecl:
		r.body(&f.Body, &f.Params)
	case *js.ArrowFunc:
		r.body(&f.Body, &f.Params)
	case *js.MethodDecl:
		r.body(&f.Body, &f.Params)
	default:
		return r
	}
	return nil
}

// Exit is part of js.IVisitor.
func (*arrowRewriter) Exit(js.INode) {}

// arrowable reports whether the declaration f, directly in body, may become an arrow function:
// besides what arrowFunctions says, a let of its name must not clash with a parameter or a var.
func (r *arrowRewriter) arrowable(f *js.FuncDecl, body *js.BlockStmt, params *js.Params) bool {
	if f.Generator || f.Name == nil || r.keep[root(f.Name)] {
		return false
	}
	names := &nameList{}
	if params != nil {
		js.Walk(names, params)
	}
	for _, d := range body.Scope.VarDecls {
		js.Walk(names, d)
	}
	for _, name := range names.list {
		if bytes.Equal(name, f.Name.Data) {
			return false
		}
	}
	own := &ownContext{}
	js.Walk(own, &f.Params)
	js.Walk(own, &f.Body)
	return !own.found
}

// nameList is the js.IVisitor that lists the names of the variables it meets.
type nameList struct{ list [][]byte }

func (l *nameList) Enter(n js.INode) js.IVisitor {
	if v, ok := n.(*js.Var); ok {
		l.list = append(l.list, v.Data)
	}
	return l
}

func (*nameList) Exit(js.INode) {}

// ownContext is the js.IVisitor that finds `this`, `arguments`, `super`, `new.target` or a class
// in a function, outside the non-arrow functions within it (which have their own).
type ownContext struct{ found bool }

func (o *ownContext) Enter(n js.INode) js.IVisitor {
	switch x := n.(type) {
	case *js.FuncDecl, *js.MethodDecl:
		return nil
	case *js.ClassDecl, *js.NewTargetExpr:
		o.found = true
	case *js.LiteralExpr:
		if x.TokenType == js.ThisToken || x.TokenType == js.SuperToken {
			o.found = true
		}
	case *js.Var:
		if bytes.Equal(x.Data, []byte("arguments")) {
			o.found = true
		}
	}
	if o.found {
		return nil
	}
	return o
}

func (*ownContext) Exit(js.INode) {}

// constructed returns the variables that are constructed (`new f`), tested with instanceof, or
// asked for a prototype: an arrow function has none.
func constructed(ast *js.AST) map[*js.Var]bool {
	c := constructs{}
	js.Walk(c, ast)
	return c
}

type constructs map[*js.Var]bool

func (c constructs) Enter(n js.INode) js.IVisitor {
	switch x := n.(type) {
	case *js.NewExpr:
		c.mark(x.X)
	case *js.BinaryExpr:
		if x.Op == js.InstanceofToken {
			c.mark(x.Y)
		}
	case *js.DotExpr:
		if y, ok := x.Y.(js.LiteralExpr); ok && string(y.Data) == "prototype" {
			c.mark(x.X)
		}
	}
	return c
}

func (constructs) Exit(js.INode) {}

func (c constructs) mark(e js.IExpr) {
	if v, ok := e.(*js.Var); ok {
		c[root(v)] = true
	}
}

// exportedVars returns the top-level variables that export lists name.
func exportedVars(ast *js.AST) []*js.Var {
	var out []*js.Var
	for _, stmt := range ast.List {
		e, ok := stmt.(*js.ExportStmt)
		if !ok || e.Module != nil {
			continue
		}
		for _, a := range e.List {
			local := a.Binding
			if a.Name != nil {
				local = a.Name
			}
			for _, v := range ast.BlockStmt.Scope.Declared {
				if bytes.Equal(v.Data, local) {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// root is the declared variable a reference links to.
func root(v *js.Var) *js.Var {
	for v.Link != nil {
		v = v.Link
	}
	return v
}
