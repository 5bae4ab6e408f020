// Package ot is operational transformation for plain text: the operations that live co-editing
// of a document's content sends, stores and transforms (issue 13). It owns the operation type and
// its algebra (Apply, Compose, Transform, Invert), cursor transformation (TransformPosition),
// turning a whole-text replace into an operation (Diff) and the JSON wire form. It knows nothing
// of pages, versions, databases or sockets: the server and the clients build on it.
//
// # Operations
//
// An Op is ot.js's text operation: a sequence of retain(n), insert(text) and delete(n) that
// walks the whole document from start to end, so its base length (what it retains and deletes)
// must equal the length of the document it applies to, and Apply, Compose and Transform fail
// with ErrMismatch otherwise.
//
//	var op ot.Op
//	op = op.Retain(5).Insert("é👋").Delete(2).Retain(10) // applies to documents of 17 code points
//	doc, err := op.Apply(doc)
//
// # Units
//
// Every position and length is in Unicode code points: not bytes (as Go strings index) and not
// UTF-16 code units (as JavaScript strings index). "é" is one code point when precomposed and two
// when written e + U+0301; an emoji like 👋 is one code point (two UTF-16 units, four bytes); a
// family emoji joined with U+200D is several. A client in JavaScript must convert its indexes,
// e.g. by counting with Array.from or for...of.
//
// # Normal form
//
// Operations are always normalised, so that equal operations compare equal (Equal): adjacent
// components of one kind are merged, no component is empty, and an insert that touches a delete
// comes before it (deleting then inserting at one place is the same edit as inserting first).
// The builder methods and every function of the package return normalised operations; decoding
// from JSON normalises too (it accepts [1,1] as [2] and [-1,"a"] as ["a",-1]), because a client
// library may not normalise exactly as ot.js does and the meaning is the same.
//
// # Ties
//
// Transform(a, b) puts a's text first when a and b insert at the same position. The operation
// being brought onto the server's history goes first and the one the server already applied
// second: the server calls Transform(clientOp, applied) for each op since the client's version
// and keeps the first result; a client calls Transform(pending, serverOp) when a server op
// arrives. Both sides then agree, as in ot.js. Of the two possible rules this is the one under
// which the concurrent traces in testdata/traces replay exactly to their final text: with the
// other, friendsforever ends with two writers' words interleaved where one writer replaced a
// character and kept typing while the other's insert just after that character was in flight.
//
// Both sides transform past the other side's operations one by one, never past their
// composition: composing can turn inserts at different positions into a tie and order them
// differently (see Transform).
//
// # JSON
//
// The wire form is ot.js's: an array whose items are a positive integer n (retain n), a
// non-empty string (insert it) or a negative integer -n (delete n), e.g. [5,"abc",-2,10]. The
// decoder is strict and rejects with ErrInvalid: anything but an array (null too), 0 and -0,
// fractions and exponents (5.0, 1e3), numbers beyond MaxLen, empty strings, invalid UTF-8, NUL
// (U+0000, which PostgreSQL refuses in text and page content never holds), unpaired surrogate
// escapes (\ud800), and anything after the array.
//
// # Limits
//
// Len (components) and InsertedBytes measure an operation for the server's limits; BaseLen and
// TargetLen give the document lengths before and after. Apply costs time linear in the document;
// Compose and Transform linear in the number of components.
//
// # Concurrency
//
// An Op is an immutable value; every function is safe to call from several goroutines.
package ot
