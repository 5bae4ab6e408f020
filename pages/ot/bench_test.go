package ot_test

import (
	"strings"
	"testing"

	"github.com/pagespace/pagespace/internal/traces"
	"github.com/pagespace/pagespace/pages/ot"
)

// benchDoc is about 100 KB of mostly ASCII text with some accents and emoji.
func benchDoc() string {
	var sb strings.Builder
	for sb.Len() < 100_000 {
		sb.WriteString("The quick brown fox jumps over the lazy dog; déjà vu 👋. ")
	}
	return sb.String()
}

// typing is the op of one keystroke in the middle of a document of n code points.
func typing(n int) ot.Op {
	var op ot.Op
	return op.Retain(n / 2).Insert("x").Retain(n - n/2)
}

// scattered is an op with about k edits spread over a document of n code points.
func scattered(n, k, seed int) ot.Op {
	var op ot.Op
	step := n / k
	for i := 0; i+step <= n; i += step {
		op = op.Retain(step/2 - seed%3).Insert("é").Delete(1).Retain(step - step/2 + seed%3 - 1)
	}
	return op.Retain(n - op.BaseLen())
}

func BenchmarkApply100KB(b *testing.B) {
	doc := benchDoc()
	op := typing(runes(doc))
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := op.Apply(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTransformKeystrokes(b *testing.B) {
	n := runes(benchDoc())
	x, y := typing(n), typing(n).Retain(0)
	for b.Loop() {
		if _, _, err := ot.Transform(x, y); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTransform1000Edits(b *testing.B) {
	n := runes(benchDoc())
	x, y := scattered(n, 1000, 0), scattered(n, 1000, 1)
	for b.Loop() {
		if _, _, err := ot.Transform(x, y); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkComposeKeystrokes(b *testing.B) {
	n := runes(benchDoc())
	x := typing(n)
	y := typing(x.TargetLen())
	for b.Loop() {
		if _, err := ot.Compose(x, y); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompose1000Edits(b *testing.B) {
	n := runes(benchDoc())
	x := scattered(n, 1000, 0)
	y := scattered(x.TargetLen(), 1000, 1)
	for b.Loop() {
		if _, err := ot.Compose(x, y); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDiff100KB(b *testing.B) {
	doc := benchDoc()
	edited := doc[:50_000] + "inserted text" + doc[50_010:]
	for b.Loop() {
		ot.Diff(doc, edited)
	}
}

func BenchmarkMarshalUnmarshal(b *testing.B) {
	op := scattered(runes(benchDoc()), 100, 0)
	for b.Loop() {
		data, err := op.MarshalJSON()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ot.ParseJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTraceAutomergePaper applies the 259,778 edits of automerge-paper one op at a time,
// as a server keeping its content snapshot as a string would (reported per edit).
func BenchmarkTraceAutomergePaper(b *testing.B) {
	tr, err := traces.Load("automerge-paper")
	if err != nil {
		b.Fatal(err)
	}
	ops := make([]ot.Op, len(tr.Txns))
	n := runes(tr.StartContent)
	for i, tx := range tr.Txns {
		if ops[i], err = tx.Op(n); err != nil {
			b.Fatal(err)
		}
		n = ops[i].TargetLen()
	}
	b.ResetTimer()
	for b.Loop() {
		doc := tr.StartContent
		for _, op := range ops {
			if doc, err = op.Apply(doc); err != nil {
				b.Fatal(err)
			}
		}
		if doc != tr.EndContent {
			b.Fatal("wrong end")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ops)), "ns/edit")
}
