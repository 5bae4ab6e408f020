package ot

import (
	"strings"
	"unicode/utf8"
)

// Apply returns doc with o applied. It fails with ErrMismatch when doc's length in code points
// is not o.BaseLen(). Invalid UTF-8 in doc counts one code point per invalid byte and is kept
// as is where o retains it.
func (o Op) Apply(doc string) (string, error) {
	// One pass: walking the components checks the length on the way (a document shorter than the
	// op runs out, a longer one has bytes left), so no separate count is needed.
	var b strings.Builder
	b.Grow(len(doc) + o.InsertedBytes())
	pos, walked := 0, 0
	for _, c := range o.comps {
		switch c.Kind {
		case KindRetain, KindDelete:
			end, short := skip(doc, pos, c.N)
			if short > 0 {
				return "", mismatch("apply", o.baseLen, walked+c.N-short)
			}
			if c.Kind == KindRetain {
				b.WriteString(doc[pos:end])
			}
			pos = end
			walked += c.N
		case KindInsert:
			b.WriteString(c.Text)
		}
	}
	if pos != len(doc) {
		return "", mismatch("apply", o.baseLen, walked+countRunes(doc[pos:]))
	}
	return b.String(), nil
}

// Invert returns the operation that undoes o, given the document o applies to (the deleted text
// comes back from it): Invert(doc) applied to o.Apply(doc) gives doc. It fails with ErrMismatch
// when doc does not fit o.
func (o Op) Invert(doc string) (Op, error) {
	if n := countRunes(doc); n != o.baseLen {
		return Op{}, mismatch("invert", o.baseLen, n)
	}
	b := &builder{comps: make([]Component, 0, len(o.comps))}
	pos := 0
	for _, c := range o.comps {
		switch c.Kind {
		case KindRetain:
			b.retain(c.N)
			pos, _ = skip(doc, pos, c.N)
		case KindInsert:
			b.delete(c.N)
		case KindDelete:
			end, _ := skip(doc, pos, c.N)
			b.insert(strings.ToValidUTF8(doc[pos:end], "\uFFFD"))
			pos = end
		}
	}
	return b.op(), nil
}

// Diff returns an operation that turns old into new: it keeps their common prefix and suffix and
// replaces what lies between, counted in code points. It is minimal for a single edit (one
// insert, one delete or one replaced range), which is what a whole-text save usually is. For
// documents of valid UTF-8, Diff(old, new).Apply(old) is new.
func Diff(old, new string) Op {
	// Common prefix, rune by rune, compared as bytes so two different invalid bytes differ.
	p, pr := 0, 0
	for p < len(old) && p < len(new) {
		_, w := utf8.DecodeRuneInString(old[p:])
		_, w2 := utf8.DecodeRuneInString(new[p:])
		if w != w2 || old[p:p+w] != new[p:p+w] {
			break
		}
		p += w
		pr++
	}
	// Common suffix, not reaching into the prefix of either.
	so, sn, sr := len(old), len(new), 0
	for so > p && sn > p {
		_, w := utf8.DecodeLastRuneInString(old[p:so])
		_, w2 := utf8.DecodeLastRuneInString(new[p:sn])
		if w != w2 || old[so-w:so] != new[sn-w:sn] {
			break
		}
		so -= w
		sn -= w
		sr++
	}
	b := &builder{comps: make([]Component, 0, 4)}
	b.retain(pr)
	b.insert(strings.ToValidUTF8(new[p:sn], "\uFFFD"))
	b.delete(utf8.RuneCountInString(old[p:so]))
	b.retain(sr)
	return b.op()
}

// skip returns the byte offset n code points after byte offset i in s, and how many of the n
// code points s was too short for.
func skip(s string, i, n int) (int, int) {
	for n > 0 && i < len(s) {
		// Runs of ASCII, the common case, a word at a time.
		for n >= 8 && i+8 <= len(s) && isASCII8(s[i:i+8]) {
			i += 8
			n -= 8
		}
		if n == 0 || i >= len(s) {
			break
		}
		if s[i] < utf8.RuneSelf {
			i++
		} else {
			_, w := utf8.DecodeRuneInString(s[i:])
			i += w
		}
		n--
	}
	return i, n
}

// countRunes is utf8.RuneCountInString, faster on mostly ASCII text.
func countRunes(s string) int {
	n, i := 0, 0
	for i < len(s) {
		if i+8 <= len(s) && isASCII8(s[i:i+8]) {
			i += 8
			n += 8
			continue
		}
		if s[i] < utf8.RuneSelf {
			i++
		} else {
			_, w := utf8.DecodeRuneInString(s[i:])
			i += w
		}
		n++
	}
	return n
}

func isASCII8(s string) bool {
	_ = s[7]
	x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	return x&0x8080808080808080 == 0
}
