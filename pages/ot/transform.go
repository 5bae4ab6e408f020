package ot

// cursor walks the components of an operation, handing out parts of them.
type cursor struct {
	comps []Component
	i     int
	head  Component // what is left of comps[i]; Kind 0 past the end
}

func newCursor(o Op) *cursor {
	c := &cursor{comps: o.comps, i: -1}
	c.next()
	return c
}

func (c *cursor) next() {
	c.i++
	if c.i < len(c.comps) {
		c.head = c.comps[c.i]
	} else {
		c.head = Component{}
	}
}

// take removes the first n code points of the head (all of it if shorter) and returns them.
func (c *cursor) take(n int) Component {
	h := c.head
	if n >= h.N {
		c.next()
		return h
	}
	part := Component{Kind: h.Kind, N: n}
	if h.Kind == KindInsert {
		i, _ := skip(h.Text, 0, n)
		part.Text = h.Text[:i]
		c.head.Text = h.Text[i:]
	}
	c.head.N -= n
	return part
}

// Compose returns the operation that has the effect of a followed by b: for every document d that
// a applies to, Compose(a, b).Apply(d) equals b.Apply(a.Apply(d)). It fails with ErrMismatch
// when b.BaseLen() is not a.TargetLen().
func Compose(a, b Op) (Op, error) {
	if a.targetLen != b.baseLen {
		return Op{}, mismatch("compose", a.targetLen, b.baseLen)
	}
	out := &builder{comps: make([]Component, 0, len(a.comps)+len(b.comps))}
	ca, cb := newCursor(a), newCursor(b)
	for ca.head.Kind != 0 || cb.head.Kind != 0 {
		switch {
		case ca.head.Kind == KindDelete: // deleted by a: b never saw it
			out.add(ca.take(ca.head.N))
		case cb.head.Kind == KindInsert: // inserted by b: a never saw it
			out.add(cb.take(cb.head.N))
		case ca.head.Kind == 0 || cb.head.Kind == 0:
			// The lengths were checked, so this is unreachable with well-formed operations.
			return Op{}, mismatch("compose", a.targetLen, b.baseLen)
		default:
			n := min(ca.head.N, cb.head.N)
			x, y := ca.take(n), cb.take(n)
			switch {
			case x.Kind == KindRetain && y.Kind == KindRetain:
				out.retain(n)
			case x.Kind == KindRetain && y.Kind == KindDelete:
				out.delete(n)
			case x.Kind == KindInsert && y.Kind == KindRetain:
				out.insertN(x.Text, n)
			case x.Kind == KindInsert && y.Kind == KindDelete:
				// inserted by a, deleted by b: nothing
			}
		}
	}
	return out.op(), nil
}

// Transform takes two operations a and b made concurrently on the same document and returns
// a' and b' such that b' applies after a and a' applies after b, with the same result:
// b'.Apply(a.Apply(d)) equals a'.Apply(b.Apply(d)) (TP1). It fails with ErrMismatch when a and b
// have different base lengths.
//
// Ties: when a and b insert at the same position, a's text comes first. Pass the operation that
// is being brought onto the server's history as a, and the operation the server already applied
// as b (ot.js's convention). The server keeps the first result:
//
//	for _, applied := range opsSinceClientVersion { // one by one, in version order
//		clientOp, _, err = ot.Transform(clientOp, applied)
//	}
//
// and a client holding an unacknowledged operation calls pending, serverOp, err =
// ot.Transform(pending, serverOp) when a server operation arrives, so both sides break ties
// alike. This is also the rule under which the concurrent editing traces replay to their final
// text (see the package documentation).
//
// Transform past each operation in turn, as the other side does: transforming past a composition
// satisfies TP1 too but can order tied inserts differently. With d = "xy", a = [2,"A"] and
// b1 = [2,"B"], b2 = [-2,1], a past b1 then b2 gives "AB" while a past Compose(b1, b2) = ["B",-2]
// gives "BA": the composition no longer knows that "B" was typed at the end. So the server must
// not compose the ops since a client's version to save work.
func Transform(a, b Op) (aPrime, bPrime Op, err error) {
	if a.baseLen != b.baseLen {
		return Op{}, Op{}, mismatch("transform", a.baseLen, b.baseLen)
	}
	ap := &builder{comps: make([]Component, 0, len(a.comps)+len(b.comps))}
	bp := &builder{comps: make([]Component, 0, len(a.comps)+len(b.comps))}
	ca, cb := newCursor(a), newCursor(b)
	for ca.head.Kind != 0 || cb.head.Kind != 0 {
		switch {
		case ca.head.Kind == KindInsert: // a's insert first: a wins ties
			x := ca.take(ca.head.N)
			ap.insertN(x.Text, x.N)
			bp.retain(x.N)
		case cb.head.Kind == KindInsert:
			y := cb.take(cb.head.N)
			ap.retain(y.N)
			bp.insertN(y.Text, y.N)
		case ca.head.Kind == 0 || cb.head.Kind == 0:
			return Op{}, Op{}, mismatch("transform", a.baseLen, b.baseLen)
		default:
			n := min(ca.head.N, cb.head.N)
			x, y := ca.take(n), cb.take(n)
			switch {
			case x.Kind == KindRetain && y.Kind == KindRetain:
				ap.retain(n)
				bp.retain(n)
			case x.Kind == KindDelete && y.Kind == KindRetain:
				ap.delete(n)
			case x.Kind == KindRetain && y.Kind == KindDelete:
				bp.delete(n)
			case x.Kind == KindDelete && y.Kind == KindDelete:
				// deleted by both: already gone on either side
			}
		}
	}
	return ap.op(), bp.op(), nil
}

// TransformPosition returns where position pos (a caret, or one end of a selection, in code
// points before the op) lies after op. Text deleted around it pulls it back; text inserted before
// it pushes it on. Text inserted exactly at pos pushes it on when after is true (the caret of the
// user who typed it) and leaves it in front when after is false (other users' carets, so that
// someone typing at your caret does not move it). pos is first clamped to [0, op.BaseLen()].
func TransformPosition(pos int, op Op, after bool) int {
	pos = max(0, min(pos, op.baseLen))
	b, t := 0, 0 // code points of the base and of the target walked so far
	for _, c := range op.comps {
		switch c.Kind {
		case KindRetain:
			if b+c.N > pos {
				return t + pos - b
			}
			b += c.N
			t += c.N
		case KindInsert:
			if b == pos && !after {
				return t
			}
			t += c.N // inserted before pos, or at it with after
		case KindDelete:
			b = min(b+c.N, pos) // a deletion around pos pulls it to where the deletion starts
		}
	}
	return t
}
