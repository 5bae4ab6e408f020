package ot_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/pagespace/pagespace/pages/ot"
)

func parse(tb testing.TB, s string) ot.Op {
	tb.Helper()
	op, err := ot.ParseJSON([]byte(s))
	if err != nil {
		tb.Fatalf("parse %s: %v", s, err)
	}
	return op
}

func TestBuilderNormalises(t *testing.T) {
	var zero ot.Op
	cases := []struct {
		name string
		op   ot.Op
		want string
	}{
		{"zero", zero, `[]`},
		{"empty components vanish", zero.Retain(0).Insert("").Delete(0), `[]`},
		{"retains merge", zero.Retain(2).Retain(3), `[5]`},
		{"inserts merge", zero.Insert("a").Insert("é"), `["aé"]`},
		{"deletes merge", zero.Delete(1).Delete(2), `[-3]`},
		{"insert moves before delete", zero.Retain(1).Delete(2).Insert("x"), `[1,"x",-2]`},
		{"insert merges across delete", zero.Insert("a").Delete(2).Insert("b"), `["ab",-2]`},
		{"insert after delete after retain", zero.Delete(1).Retain(1).Insert("b"), `[-1,1,"b"]`},
		{"invalid UTF-8 replaced", zero.Insert("a\xffb"), `["a�b"]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkNormal(t, c.op)
			if got := c.op.String(); got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
	// Building never changes the op built on.
	base := zero.Retain(1).Insert("a")
	_ = base.Insert("b")
	_ = base.Delete(1)
	if base.String() != `[1,"a"]` {
		t.Fatalf("builder changed its receiver: %v", base)
	}
}

func TestLengthsInCodePoints(t *testing.T) {
	var zero ot.Op
	// "👋" is 1 code point, 2 UTF-16 units, 4 bytes; "e\u0301" is 2 code points.
	op := zero.Retain(1).Insert("👋e\u0301").Delete(1).Retain(1)
	if op.BaseLen() != 3 || op.TargetLen() != 5 || op.InsertedBytes() != 4+1+2 || op.Len() != 4 {
		t.Fatalf("%v: base %d target %d bytes %d len %d", op, op.BaseLen(), op.TargetLen(), op.InsertedBytes(), op.Len())
	}
	got, err := op.Apply("中🙂x")
	if err != nil || got != "中👋e\u0301x" {
		t.Fatalf("apply: %q %v", got, err)
	}
}

func TestApply(t *testing.T) {
	cases := []struct {
		doc, op, want string
		err           error
	}{
		{"", `[]`, "", nil},
		{"", `["abc"]`, "abc", nil},
		{"abc", `[-3]`, "", nil},
		{"abc", `[3]`, "abc", nil},
		{"héllo", `[1,-1,"e",3]`, "hello", nil},
		{"👋🙂", `[1,"x",1]`, "👋x🙂", nil},
		{"abc", `[2]`, "", ot.ErrMismatch},
		{"abc", `[4]`, "", ot.ErrMismatch},
		{"👋", `[4]`, "", ot.ErrMismatch}, // 4 bytes, one code point
		{"", `[1]`, "", ot.ErrMismatch},
		{"a\xffb", `[1,-1,1]`, "ab", nil}, // an invalid byte is one code point
		{"a\xffb", `[3,"!"]`, "a\xffb!", nil},
	}
	for _, c := range cases {
		got, err := parse(t, c.op).Apply(c.doc)
		if !errors.Is(err, c.err) || (err == nil && got != c.want) {
			t.Errorf("apply %s to %q: %q, %v; want %q, %v", c.op, c.doc, got, err, c.want, c.err)
		}
	}
}

func TestTransformTies(t *testing.T) {
	a, b := parse(t, `[1,"A",1]`), parse(t, `[1,"B",1]`)
	ap, bp, err := ot.Transform(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustApply(t, bp, mustApply(t, a, "xy")); got != "xABy" {
		t.Fatalf("a's insert should come first: %q", got)
	}
	if got := mustApply(t, ap, mustApply(t, b, "xy")); got != "xABy" {
		t.Fatalf("b·a' = %q", got)
	}
}

func TestTransformCases(t *testing.T) {
	cases := []struct {
		name, doc, a, b, want string
	}{
		{"both delete the same", "abc", `[1,-1,1]`, `[1,-1,1]`, "ac"},
		{"overlapping deletes", "abcdef", `[1,-3,2]`, `[2,-3,1]`, "af"},
		{"insert inside a deleted range", "abcd", `[-4]`, `[2,"X",2]`, "X"},
		{"delete all against insert at end", "ab", `[-2]`, `[2,"!"]`, "!"},
		{"emoji positions", "👋🙂👍", `[1,-1,1]`, `[2,"é",1]`, "👋é👍"},
		{"empty document", "", `["a"]`, `["b"]`, "ab"},
		{"noop", "abc", `[3]`, `[1,"x",-1,1]`, "axc"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := parse(t, c.a), parse(t, c.b)
			ap, bp, err := ot.Transform(a, b)
			if err != nil {
				t.Fatal(err)
			}
			x := mustApply(t, bp, mustApply(t, a, c.doc))
			y := mustApply(t, ap, mustApply(t, b, c.doc))
			if x != c.want || y != c.want {
				t.Fatalf("a·b' = %q, b·a' = %q, want %q", x, y, c.want)
			}
		})
	}
}

// Transforming past a composition is not transforming past its parts when inserts tie (see the
// documentation of Transform): the server must walk the ops one by one, as clients do.
func TestTransformPastCompositionCanDiffer(t *testing.T) {
	doc := "xy"
	a, b1, b2 := parse(t, `[2,"A"]`), parse(t, `[2,"B"]`), parse(t, `[-2,1]`)
	step, _, _ := ot.Transform(a, b1)
	step, _, _ = ot.Transform(step, b2)
	b, err := ot.Compose(b1, b2)
	if err != nil {
		t.Fatal(err)
	}
	whole, _, _ := ot.Transform(a, b)
	after := mustApply(t, b, doc)
	if got := mustApply(t, step, after); got != "AB" {
		t.Fatalf("step by step: %q", got)
	}
	if got := mustApply(t, whole, after); got != "BA" {
		t.Fatalf("past the composition: %q", got)
	}
}

func TestCompose(t *testing.T) {
	cases := []struct{ a, b, want string }{
		{`["abc"]`, `[1,-1,1]`, `["ac"]`},
		{`[3]`, `[-3]`, `[-3]`},
		{`["x",-2]`, `[-1]`, `[-2]`},
		{`[1,"a",1]`, `[3,"b"]`, `[1,"a",1,"b"]`},
		{`[-1,1]`, `["z",1]`, `["z",-1,1]`},
	}
	for _, c := range cases {
		got, err := ot.Compose(parse(t, c.a), parse(t, c.b))
		if err != nil || got.String() != c.want {
			t.Errorf("compose %s, %s = %v, %v; want %s", c.a, c.b, got, err, c.want)
		}
	}
	if _, err := ot.Compose(parse(t, `["ab"]`), parse(t, `[3]`)); !errors.Is(err, ot.ErrMismatch) {
		t.Fatalf("mismatch: %v", err)
	}
}

func TestIsNoop(t *testing.T) {
	for s, want := range map[string]bool{`[]`: true, `[7]`: true, `["a"]`: false, `[-1]`: false, `[1,"a"]`: false} {
		if got := parse(t, s).IsNoop(); got != want {
			t.Errorf("%s: %v", s, got)
		}
	}
}

func TestDiff(t *testing.T) {
	cases := []struct{ old, new, want string }{
		{"", "", `[]`},
		{"abc", "abc", `[3]`},
		{"", "abc", `["abc"]`},
		{"abc", "", `[-3]`},
		{"hello world", "hello brave world", `[6,"brave ",5]`},
		{"aaa", "aaaa", `[3,"a"]`},
		{"héllo", "hello", `[1,"e",-1,3]`},
		{"👋🙂", "👋👍🙂", `[1,"👍",1]`},
		// Same first byte, different code point: the prefix never splits a code point.
		{"é", "è", `["è",-1]`},
		{"abcXdef", "abcYZdef", `[3,"YZ",-1,3]`},
	}
	for _, c := range cases {
		op := ot.Diff(c.old, c.new)
		if op.String() != c.want {
			t.Errorf("Diff(%q, %q) = %v, want %s", c.old, c.new, op, c.want)
		}
		if got := mustApply(t, op, c.old); got != c.new {
			t.Errorf("Diff(%q, %q) applies to %q", c.old, c.new, got)
		}
	}
}

func TestTransformPosition(t *testing.T) {
	op := parse(t, `[2,"XY",-2,2]`) // "abcdef" → "abXYef"
	cases := []struct {
		pos, after, before int
	}{
		{0, 0, 0},
		{1, 1, 1},
		{2, 4, 2}, // insert exactly at the caret
		{3, 4, 4}, // inside the deleted range: after the replacement
		{4, 4, 4},
		{5, 5, 5},
		{6, 6, 6},
		{99, 6, 6}, // clamped
		{-1, 0, 0},
	}
	for _, c := range cases {
		if got := ot.TransformPosition(c.pos, op, true); got != c.after {
			t.Errorf("pos %d after: %d, want %d", c.pos, got, c.after)
		}
		if got := ot.TransformPosition(c.pos, op, false); got != c.before {
			t.Errorf("pos %d before: %d, want %d", c.pos, got, c.before)
		}
	}
}

func TestJSONDecodeStrict(t *testing.T) {
	good := map[string]string{
		`[]`:                          `[]`,
		` [ 5 , "abc" , -2 , 10 ] `:   `[5,"abc",-2,10]`,
		`[1,1]`:                       `[2]`,
		`[-1,"a"]`:                    `["a",-1]`,
		`["a","b"]`:                   `["ab"]`,
		`["\u00e9\ud83d\udc4b"]`:      `["é👋"]`,
		`["\"\\\/\b\f\n\r\t"]`:        `["\"\\/\b\f\n\r\t"]`,
		`[2147483647]`:                `[2147483647]`,
		`[-2147483647]`:               `[-2147483647]`,
		"[\"\u2028\"]":                `["\u2028"]`,
		`["<&>"]`:                     `["\u003c\u0026\u003e"]`,
		"[\n1\r,\t\"x\"]":             `[1,"x"]`,
		`[1,"a",-1,"b"]`:              `[1,"ab",-1]`,
		`[1, "a", -1, 1, "b", -1, 1]`: `[1,"a",-1,1,"b",-1,1]`,
	}
	for in, want := range good {
		op, err := ot.ParseJSON([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		checkNormal(t, op)
		if op.String() != want {
			t.Errorf("%s: %v, want %s", in, op, want)
		}
	}
	bad := []string{
		``, `null`, `{}`, `"a"`, `5`, `[`, `]`, `[1,]`, `[,1]`, `[1 2]`, `[1]]`, `[1] x`, `[] []`,
		`[0]`, `[-0]`, `[01]`, `[1.0]`, `[1.5]`, `[1e3]`, `[1E3]`, `[-]`, `[+1]`, `[- 1]`,
		`[2147483648]`, `[-2147483648]`, `[99999999999999999999]`,
		`[""]`, `[null]`, `[true]`, `[[1]]`, `[{"a":1}]`,
		`["\u0000"]`, "[\"\x00\"]", "[\"a\nb\"]", `["\ud800"]`, `["\udc00"]`, `["\ud800\u0041"]`,
		`["\ud800x"]`, `["\x"]`, `["\u12"]`, `["\u12g4"]`, `["abc`, `["\`,
		"[\"\xff\"]", "[\"\xc3\"]", "[\"\xed\xa0\x80\"]", "\xef\xbb\xbf[]",
		`[2147483647,2147483647]`, `[-2147483647,-1]`,
	}
	for _, in := range bad {
		var op ot.Op
		if err := op.UnmarshalJSON([]byte(in)); !errors.Is(err, ot.ErrInvalid) {
			t.Errorf("%q: %v", in, err)
		}
		// encoding/json checks the syntax first, then hands well-formed values to us.
		if err := json.Unmarshal([]byte(in), &op); err == nil {
			t.Errorf("%q accepted through encoding/json", in)
		}
	}
	// A failed decode leaves the op as it was.
	op := parse(t, `[1,"a"]`)
	if err := op.UnmarshalJSON([]byte(`[0]`)); err == nil || op.String() != `[1,"a"]` {
		t.Fatalf("op changed on error: %v %v", op, err)
	}
}

func TestJSONInStruct(t *testing.T) {
	var msg struct {
		Version int   `json:"version"`
		Op      ot.Op `json:"op"`
	}
	if err := json.Unmarshal([]byte(`{"version":3,"op":[2,"é",-1]}`), &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Op.String() != `[2,"é",-1]` {
		t.Fatalf("%v", msg.Op)
	}
	out, err := json.Marshal(msg)
	if err != nil || string(out) != `{"version":3,"op":[2,"é",-1]}` {
		t.Fatalf("%s %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"version":3,"op":null}`), &msg); !errors.Is(err, ot.ErrInvalid) {
		t.Fatalf("null op: %v", err)
	}
}
