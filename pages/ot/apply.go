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
	// Common prefix and suffix in bytes, then moved off any code point they would split: no valid
	// multi-byte code point contains a byte that can start one, so a cut before such a byte counts
	// the same in pieces as in the whole (invalid bytes count one each either way).
	p, m := 0, min(len(old), len(new))
	for p+8 <= m && load64(old[p:]) == load64(new[p:]) {
		p += 8
	}
	for p < m && old[p] == new[p] {
		p++
	}
	for p > 0 && ((p < len(old) && !utf8.RuneStart(old[p])) || (p < len(new) && !utf8.RuneStart(new[p]))) {
		p--
	}
	so, sn := len(old), len(new) // the suffix starts here in each
	for so >= p+8 && sn >= p+8 && load64(old[so-8:]) == load64(new[sn-8:]) {
		so -= 8
		sn -= 8
	}
	for so > p && sn > p && old[so-1] == new[sn-1] {
		so--
		sn--
	}
	for (so < len(old) && !utf8.RuneStart(old[so])) || (sn < len(new) && !utf8.RuneStart(new[sn])) {
		so++
		sn++
	}
	b := &builder{comps: make([]Component, 0, 4)}
	b.retain(countRunes(old[:p]))
	b.insert(strings.ToValidUTF8(new[p:sn], "\uFFFD"))
	b.delete(countRunes(old[p:so]))
	b.retain(countRunes(old[so:]))
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

func isASCII8(s string) bool { return load64(s)&0x8080808080808080 == 0 }

// load64 reads the first 8 bytes of s as one little-endian word (the compiler makes it one load).
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
