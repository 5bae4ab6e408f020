package ot

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrMismatch reports an operation that does not fit: its base length differs from the document
// it is applied to, or two operations given to Compose or Transform do not line up.
var ErrMismatch = errors.New("ot: operation does not fit the document")

// ErrInvalid reports an operation that cannot be decoded from JSON: a malformed array, a zero,
// a fraction, an empty string, invalid UTF-8, a NUL, a number or a length out of range.
var ErrInvalid = errors.New("ot: invalid operation")

// MaxLen bounds every count and every length of an operation, in code points. Decoding rejects
// anything larger, so that sums of lengths never overflow.
const MaxLen = 1<<31 - 1

// Kind is the kind of one component of an operation.
type Kind uint8

// The kinds of components. The zero Kind is no component.
const (
	KindRetain Kind = iota + 1 // skip N code points, keeping them
	KindInsert                 // insert Text (N is its length in code points)
	KindDelete                 // delete N code points
)

// String names the kind: "retain", "insert", "delete" or "none".
func (k Kind) String() string {
	switch k {
	case KindRetain:
		return "retain"
	case KindInsert:
		return "insert"
	case KindDelete:
		return "delete"
	}
	return "none"
}

// Component is one step of an operation. N is always positive; Text is set only for an insert,
// and N is then its length in code points.
type Component struct {
	Kind Kind
	N    int
	Text string
}

// Op is a text operation in ot.js's form: retains, inserts and deletes that walk the whole
// document from start to end. It is always normalised (see the package documentation), so equal
// operations have equal components and Equal compares them.
//
// An Op is an immutable value: the builder methods return a new Op and never change the one they
// are called on, so an Op may be shared and used from several goroutines. The zero Op is the
// operation that does nothing to the empty document.
type Op struct {
	comps     []Component
	baseLen   int
	targetLen int
}

// Retain returns o followed by keeping the next n code points. n = 0 returns o; a negative n
// panics.
func (o Op) Retain(n int) Op {
	if n < 0 {
		panic("ot: negative retain")
	}
	b := o.extend()
	b.retain(n)
	return b.op()
}

// Insert returns o followed by inserting s at the current position. An empty s returns o;
// invalid UTF-8 in s is replaced by U+FFFD so that lengths in code points stay well defined.
func (o Op) Insert(s string) Op {
	b := o.extend()
	b.insert(strings.ToValidUTF8(s, "\uFFFD"))
	return b.op()
}

// Delete returns o followed by deleting the next n code points. n = 0 returns o; a negative n
// panics.
func (o Op) Delete(n int) Op {
	if n < 0 {
		panic("ot: negative delete")
	}
	b := o.extend()
	b.delete(n)
	return b.op()
}

// BaseLen is the length in code points of the documents o applies to.
func (o Op) BaseLen() int { return o.baseLen }

// TargetLen is the length in code points of the documents o produces.
func (o Op) TargetLen() int { return o.targetLen }

// IsNoop reports whether o leaves every document it applies to unchanged (it only retains).
func (o Op) IsNoop() bool {
	return len(o.comps) == 0 || (len(o.comps) == 1 && o.comps[0].Kind == KindRetain)
}

// Len is the number of components of o, a measure of its size for limits.
func (o Op) Len() int { return len(o.comps) }

// Components returns a copy of the components of o, in order.
func (o Op) Components() []Component {
	return append([]Component(nil), o.comps...)
}

// InsertedBytes is the number of bytes of UTF-8 text that o inserts, a measure of its size for
// limits.
func (o Op) InsertedBytes() int {
	n := 0
	for _, c := range o.comps {
		if c.Kind == KindInsert {
			n += len(c.Text)
		}
	}
	return n
}

// Equal reports whether o and p are the same operation. Because operations are normalised, two
// operations that differ in their components differ in effect on some document.
func (o Op) Equal(p Op) bool {
	if len(o.comps) != len(p.comps) {
		return false
	}
	for i := range o.comps {
		if o.comps[i] != p.comps[i] {
			return false
		}
	}
	return true
}

// String is the JSON form of o, for logs and test failures.
func (o Op) String() string {
	b, _ := o.MarshalJSON()
	return string(b)
}

// builder appends components to a slice it owns, keeping the normalised form: adjacent
// components of one kind merged, no empty component, and an insert placed before a delete it
// touches (deleting then inserting at one place is the same edit as inserting then deleting).
type builder struct {
	comps     []Component
	baseLen   int
	targetLen int
}

// extend returns a builder holding a copy of o's components, so o itself stays unchanged.
func (o Op) extend() *builder {
	comps := make([]Component, len(o.comps), len(o.comps)+2)
	copy(comps, o.comps)
	return &builder{comps: comps, baseLen: o.baseLen, targetLen: o.targetLen}
}

func (b *builder) last() *Component {
	if len(b.comps) == 0 {
		return nil
	}
	return &b.comps[len(b.comps)-1]
}

func (b *builder) retain(n int) {
	if n <= 0 {
		return
	}
	b.baseLen += n
	b.targetLen += n
	if l := b.last(); l != nil && l.Kind == KindRetain {
		l.N += n
		return
	}
	b.comps = append(b.comps, Component{Kind: KindRetain, N: n})
}

func (b *builder) delete(n int) {
	if n <= 0 {
		return
	}
	b.baseLen += n
	if l := b.last(); l != nil && l.Kind == KindDelete {
		l.N += n
		return
	}
	b.comps = append(b.comps, Component{Kind: KindDelete, N: n})
}

// insert appends s, whose validity as UTF-8 the caller ensures.
func (b *builder) insert(s string) {
	if s == "" {
		return
	}
	b.insertN(s, utf8.RuneCountInString(s))
}

// insertN appends s of n code points.
func (b *builder) insertN(s string, n int) {
	b.targetLen += n
	k := len(b.comps)
	if k > 0 && b.comps[k-1].Kind == KindDelete {
		// Keep inserts before deletes: merge into an insert before the delete, or slide in front.
		if k > 1 && b.comps[k-2].Kind == KindInsert {
			b.comps[k-2].Text += s
			b.comps[k-2].N += n
			return
		}
		b.comps = append(b.comps, b.comps[k-1])
		b.comps[k-1] = Component{Kind: KindInsert, N: n, Text: s}
		return
	}
	if k > 0 && b.comps[k-1].Kind == KindInsert {
		b.comps[k-1].Text += s
		b.comps[k-1].N += n
		return
	}
	b.comps = append(b.comps, Component{Kind: KindInsert, N: n, Text: s})
}

func (b *builder) add(c Component) {
	switch c.Kind {
	case KindRetain:
		b.retain(c.N)
	case KindInsert:
		b.insertN(c.Text, c.N)
	case KindDelete:
		b.delete(c.N)
	}
}

// op returns the built operation. Its slice is capped at its length so that a later append to a
// copy never writes into it.
func (b *builder) op() Op {
	return Op{comps: b.comps[:len(b.comps):len(b.comps)], baseLen: b.baseLen, targetLen: b.targetLen}
}

func mismatch(what string, want, got int) error {
	return fmt.Errorf("%w: %s (expected length %d, got %d)", ErrMismatch, what, want, got)
}
