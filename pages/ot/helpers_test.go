package ot_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pagespace/pagespace/pages/ot"
)

// pieces are what random text is made of: ASCII, Latin with precomposed and combining accents,
// CJK, emoji (one code point, two UTF-16 units), and joined emoji sequences.
var pieces = []string{
	"a", "b", "c", " ", "\n", "x", "Z", "0",
	"é", "e\u0301", "\u0301", "ß", "ñ",
	"中", "文", "한",
	"👋", "🙂", "👍🏽", "👨\u200d👩\u200d👧", "🏳️\u200d🌈",
	"\U0010FFFF", "\u2028", "<", "&", "\"", "\\",
}

// source hands out small random numbers; rand-backed for property tests, byte-backed for fuzzing.
type source interface {
	IntN(n int) int
}

type byteSource struct {
	data []byte
	i    int
}

func (s *byteSource) IntN(n int) int {
	if s.i >= len(s.data) {
		return 0
	}
	b := int(s.data[s.i])
	s.i++
	return b % n
}

func randText(r source, maxPieces int) string {
	var sb strings.Builder
	n := 1 + r.IntN(maxPieces)
	for range n {
		sb.WriteString(pieces[r.IntN(len(pieces))])
	}
	return sb.String()
}

func randDoc(r source, maxPieces int) string {
	if r.IntN(8) == 0 {
		return ""
	}
	return randText(r, maxPieces)
}

// randOp returns a random operation on documents of length n code points.
func randOp(r source, n int) ot.Op {
	var op ot.Op
	for i := 0; ; i++ {
		left := n - op.BaseLen()
		if i >= 40 {
			return op.Retain(left)
		}
		if left == 0 && r.IntN(3) != 0 {
			return op
		}
		switch k := r.IntN(4); {
		case k == 0 || left == 0:
			op = op.Insert(randText(r, 4))
		case k == 1:
			op = op.Delete(1 + r.IntN(min(left, 5)))
		default:
			op = op.Retain(1 + r.IntN(min(left, 8)))
		}
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

func runes(s string) int { return utf8.RuneCountInString(s) }

func mustApply(tb testing.TB, op ot.Op, doc string) string {
	tb.Helper()
	out, err := op.Apply(doc)
	if err != nil {
		tb.Fatalf("apply %v to %q: %v", op, doc, err)
	}
	return out
}

// checkNormal fails unless op is in normal form: no empty component, no two adjacent of one kind,
// no insert right after a delete, lengths matching the components.
func checkNormal(tb testing.TB, op ot.Op) {
	tb.Helper()
	comps := op.Components()
	base, target := 0, 0
	for i, c := range comps {
		if c.N <= 0 {
			tb.Fatalf("%v: empty component %d", op, i)
		}
		if c.Kind == ot.KindInsert && (c.Text == "" || runes(c.Text) != c.N) {
			tb.Fatalf("%v: insert %d has N %d for %q", op, i, c.N, c.Text)
		}
		if c.Kind != ot.KindInsert && c.Text != "" {
			tb.Fatalf("%v: text on a %v", op, c.Kind)
		}
		if i > 0 && comps[i-1].Kind == c.Kind {
			tb.Fatalf("%v: adjacent %vs at %d", op, c.Kind, i)
		}
		if i > 0 && comps[i-1].Kind == ot.KindDelete && c.Kind == ot.KindInsert {
			tb.Fatalf("%v: insert after delete at %d", op, i)
		}
		switch c.Kind {
		case ot.KindRetain:
			base += c.N
			target += c.N
		case ot.KindInsert:
			target += c.N
		case ot.KindDelete:
			base += c.N
		default:
			tb.Fatalf("%v: kind %v", op, c.Kind)
		}
	}
	if base != op.BaseLen() || target != op.TargetLen() {
		tb.Fatalf("%v: lengths %d→%d, components say %d→%d", op, op.BaseLen(), op.TargetLen(), base, target)
	}
}
