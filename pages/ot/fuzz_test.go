package ot_test

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/pagespace/pagespace/pages/ot"
)

// FuzzParseJSON: the decoder never panics; what it accepts is valid JSON that encoding/json reads
// as the same items (after normalisation), and it re-encodes to a form it decodes to the same op.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`[]`, `[5,"abc",-2,10]`, `["\ud83d\udc4b"]`, `[1,1]`, `[-1,"a"]`, `[0]`, `[1.0]`, `[""]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		op, err := ot.ParseJSON(data)
		if err != nil {
			if !errors.Is(err, ot.ErrInvalid) {
				t.Fatalf("error is not ErrInvalid: %v", err)
			}
			return
		}
		checkNormal(t, op)
		var items []any
		if err := json.Unmarshal(data, &items); err != nil {
			t.Fatalf("accepted %q, which encoding/json rejects: %v", data, err)
		}
		var rebuilt ot.Op
		for _, it := range items {
			switch v := it.(type) {
			case float64:
				if v > 0 {
					rebuilt = rebuilt.Retain(int(v))
				} else {
					rebuilt = rebuilt.Delete(int(-v))
				}
			case string:
				if !utf8.ValidString(v) {
					t.Fatalf("accepted invalid UTF-8 in %q", data)
				}
				rebuilt = rebuilt.Insert(v)
			default:
				t.Fatalf("accepted %T in %q", it, data)
			}
		}
		if !rebuilt.Equal(op) {
			t.Fatalf("%q: decoded %v, encoding/json reads %v", data, op, rebuilt)
		}
		out, err := json.Marshal(op)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ot.ParseJSON(out)
		if err != nil || !back.Equal(op) {
			t.Fatalf("%q re-encoded as %s decodes to %v, %v", data, out, back, err)
		}
	})
}

// FuzzTransformCompose: from bytes that drive a document and three operations, TP1 holds,
// composition agrees with applying in turn, and invert undoes.
func FuzzTransformCompose(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte("the quick brown fox jumps over the lazy dog"))
	f.Add([]byte{16, 17, 18, 19, 20, 1, 2, 3, 0, 0, 1, 1, 2, 2, 3, 3, 200, 100, 50})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &byteSource{data: data}
		doc := randDoc(r, 20)
		n := runes(doc)
		a, b := randOp(r, n), randOp(r, n)
		c := randOp(r, a.TargetLen())

		ap, bp, err := ot.Transform(a, b)
		if err != nil {
			t.Fatal(err)
		}
		if x, y := mustApply(t, bp, mustApply(t, a, doc)), mustApply(t, ap, mustApply(t, b, doc)); x != y {
			t.Fatalf("TP1: doc %q a %v b %v: %q vs %q", doc, a, b, x, y)
		}
		ac, err := ot.Compose(a, c)
		if err != nil {
			t.Fatal(err)
		}
		if x, y := mustApply(t, ac, doc), mustApply(t, c, mustApply(t, a, doc)); x != y {
			t.Fatalf("compose: doc %q a %v c %v: %q vs %q", doc, a, c, x, y)
		}
		inv, err := a.Invert(doc)
		if err != nil {
			t.Fatal(err)
		}
		if back := mustApply(t, inv, mustApply(t, a, doc)); back != doc {
			t.Fatalf("invert: doc %q a %v: %q", doc, a, back)
		}
	})
}
