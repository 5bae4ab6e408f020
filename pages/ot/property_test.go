package ot_test

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/pagespace/pagespace/pages/ot"
)

// iterations per property; each uses a fresh random document and operations.
const iterations = 20000

func TestPropertyTP1(t *testing.T) {
	r := newRand(1)
	for i := range iterations {
		doc := randDoc(r, 30)
		a, b := randOp(r, runes(doc)), randOp(r, runes(doc))
		ap, bp, err := ot.Transform(a, b)
		if err != nil {
			t.Fatalf("%d: transform %v, %v: %v", i, a, b, err)
		}
		checkNormal(t, ap)
		checkNormal(t, bp)
		left := mustApply(t, bp, mustApply(t, a, doc))
		right := mustApply(t, ap, mustApply(t, b, doc))
		if left != right {
			t.Fatalf("%d: doc %q a %v b %v: a·b' = %q, b·a' = %q", i, doc, a, b, left, right)
		}
	}
}

func TestPropertyCompose(t *testing.T) {
	r := newRand(3)
	for i := range iterations {
		doc := randDoc(r, 30)
		a := randOp(r, runes(doc))
		b := randOp(r, a.TargetLen())
		ab, err := ot.Compose(a, b)
		if err != nil {
			t.Fatalf("%d: compose %v, %v: %v", i, a, b, err)
		}
		checkNormal(t, ab)
		if ab.BaseLen() != a.BaseLen() || ab.TargetLen() != b.TargetLen() {
			t.Fatalf("%d: lengths of %v", i, ab)
		}
		want := mustApply(t, b, mustApply(t, a, doc))
		if got := mustApply(t, ab, doc); got != want {
			t.Fatalf("%d: doc %q a %v b %v: composed %v gives %q, in turn %q", i, doc, a, b, ab, got, want)
		}
	}
}

func TestPropertyInvert(t *testing.T) {
	r := newRand(4)
	for i := range iterations {
		doc := randDoc(r, 30)
		a := randOp(r, runes(doc))
		inv, err := a.Invert(doc)
		if err != nil {
			t.Fatal(err)
		}
		checkNormal(t, inv)
		after := mustApply(t, a, doc)
		if back := mustApply(t, inv, after); back != doc {
			t.Fatalf("%d: doc %q a %v inverse %v gives %q", i, doc, a, inv, back)
		}
		again, err := inv.Invert(after)
		if err != nil {
			t.Fatal(err)
		}
		if !again.Equal(a) {
			t.Fatalf("%d: inverse of inverse of %v is %v", i, a, again)
		}
		// Undo of a composition: compose with its inverse is the identity on doc.
		id, err := ot.Compose(a, inv)
		if err != nil {
			t.Fatal(err)
		}
		if got := mustApply(t, id, doc); got != doc {
			t.Fatalf("%d: a·a⁻¹ gives %q", i, got)
		}
	}
}

// refPosition is TransformPosition computed the slow way: lay out the target, each code point
// tagged with where it came from, and count those that land before pos.
func refPosition(pos int, op ot.Op, after bool) int {
	n, b := 0, 0
	for _, c := range op.Components() {
		switch c.Kind {
		case ot.KindRetain:
			for range c.N {
				if b < pos {
					n++
				}
				b++
			}
		case ot.KindInsert:
			if b < pos || (b == pos && after) {
				n += c.N
			}
		case ot.KindDelete:
			b += c.N
		}
	}
	return n
}

func TestPropertyTransformPosition(t *testing.T) {
	r := newRand(5)
	for i := range iterations {
		doc := randDoc(r, 30)
		op := randOp(r, runes(doc))
		for pos := -1; pos <= runes(doc)+1; pos++ {
			for _, after := range []bool{false, true} {
				got := ot.TransformPosition(pos, op, after)
				want := refPosition(max(0, min(pos, op.BaseLen())), op, after)
				if got != want {
					t.Fatalf("%d: pos %d after %v op %v: %d, want %d", i, pos, after, op, got, want)
				}
				if got < 0 || got > op.TargetLen() {
					t.Fatalf("%d: pos %d out of range: %d", i, pos, got)
				}
			}
		}
	}
}

// A caret on a letter stays on that letter: tag every code point uniquely and follow it.
func TestPropertyTransformPositionFollowsText(t *testing.T) {
	r := newRand(6)
	for i := range iterations {
		n := r.IntN(20)
		doc := make([]rune, n)
		for k := range doc {
			doc[k] = rune(0x4E00 + k) // distinct CJK ideographs
		}
		op := randOp(r, n)
		out := []rune(mustApply(t, op, string(doc)))
		for pos := 0; pos < n; pos++ {
			np := ot.TransformPosition(pos, op, true)
			if idx := indexRune(out, doc[pos]); idx >= 0 && idx != np {
				t.Fatalf("%d: op %v: code point %d moved to %d, caret to %d", i, op, pos, idx, np)
			}
			if pos == 0 {
				continue
			}
			np = ot.TransformPosition(pos, op, false)
			if idx := indexRune(out, doc[pos-1]); idx >= 0 && idx != np-1 {
				t.Fatalf("%d: op %v: code point %d moved to %d, caret (before) to %d", i, op, pos-1, idx, np)
			}
		}
	}
}

func indexRune(rs []rune, r rune) int {
	for i, x := range rs {
		if x == r {
			return i
		}
	}
	return -1
}

func TestPropertyJSONRoundTrip(t *testing.T) {
	r := newRand(7)
	for i := range iterations {
		op := randOp(r, r.IntN(40))
		data, err := json.Marshal(op)
		if err != nil {
			t.Fatal(err)
		}
		var back ot.Op
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("%d: %s: %v", i, data, err)
		}
		if !back.Equal(op) || back.BaseLen() != op.BaseLen() || back.TargetLen() != op.TargetLen() {
			t.Fatalf("%d: %v came back as %v", i, op, back)
		}
		// The form is plain JSON that any decoder reads: numbers and strings in order.
		var items []any
		if err := json.Unmarshal(data, &items); err != nil || len(items) != op.Len() {
			t.Fatalf("%d: %s as []any: %v %v", i, data, items, err)
		}
	}
}

func TestPropertyDiff(t *testing.T) {
	r := newRand(8)
	for i := range iterations {
		old := randDoc(r, 30)
		var new string
		switch r.IntN(3) {
		case 0:
			new = randDoc(r, 30)
		default: // an edit of old, as a whole-text save usually is
			new = mustApply(t, randOp(r, runes(old)), old)
		}
		op := ot.Diff(old, new)
		checkNormal(t, op)
		if got := mustApply(t, op, old); got != new {
			t.Fatalf("%d: Diff(%q, %q) = %v gives %q", i, old, new, op, got)
		}
		if old == new && !op.IsNoop() {
			t.Fatalf("%d: Diff of equal texts %v", i, op)
		}
	}
}

// Mismatched inputs fail with ErrMismatch everywhere.
func TestPropertyMismatch(t *testing.T) {
	r := newRand(9)
	for range 500 {
		doc := randDoc(r, 10)
		n := runes(doc)
		op := randOp(r, n+1+r.IntN(3))
		if _, err := op.Apply(doc); !errors.Is(err, ot.ErrMismatch) {
			t.Fatalf("apply %v to %q: %v", op, doc, err)
		}
		if _, err := op.Invert(doc); !errors.Is(err, ot.ErrMismatch) {
			t.Fatalf("invert: %v", err)
		}
		other := randOp(r, n)
		if _, _, err := ot.Transform(op, other); !errors.Is(err, ot.ErrMismatch) {
			t.Fatalf("transform: %v", err)
		}
		if _, err := ot.Compose(other, randOp(r, other.TargetLen()+1)); !errors.Is(err, ot.ErrMismatch) {
			t.Fatalf("compose: %v", err)
		}
	}
}

// Diff on arbitrary bytes, invalid UTF-8 included: the op always fits old, and gives new exactly
// when new is valid UTF-8. Texts share bytes often, so prefixes and suffixes cut through
// multi-byte sequences.
func TestPropertyDiffBytes(t *testing.T) {
	r := newRand(10)
	alphabet := []byte("ab\xc3\xa9\xa8\xe2\x82\xac\xad\xf0\x9f\x91\x8b\xff")
	gen := func() string {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	for i := range iterations {
		old, new := gen(), gen()
		if r.IntN(2) == 0 {
			new = old[:r.IntN(len(old)+1)] + new + old[r.IntN(len(old)+1):]
		}
		op := ot.Diff(old, new)
		checkNormal(t, op)
		got, err := op.Apply(old)
		if err != nil {
			t.Fatalf("%d: Diff(%q, %q) = %v: %v", i, old, new, op, err)
		}
		if utf8.ValidString(new) && got != new {
			t.Fatalf("%d: Diff(%q, %q) = %v gives %q", i, old, new, op, got)
		}
	}
}
