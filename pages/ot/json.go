package ot

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MarshalJSON encodes o in the wire form: an array of positive integers (retain), strings
// (insert) and negative integers (delete), e.g. [5,"abc",-2,10]. The zero Op is [].
func (o Op) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+o.InsertedBytes()+8*len(o.comps))
	b = append(b, '[')
	for i, c := range o.comps {
		if i > 0 {
			b = append(b, ',')
		}
		switch c.Kind {
		case KindRetain:
			b = strconv.AppendInt(b, int64(c.N), 10)
		case KindDelete:
			b = strconv.AppendInt(b, -int64(c.N), 10)
		case KindInsert:
			s, err := json.Marshal(c.Text)
			if err != nil {
				return nil, err
			}
			b = append(b, s...)
		}
	}
	return append(b, ']'), nil
}

// UnmarshalJSON decodes the wire form strictly and normalises it: adjacent components of one kind
// are merged and an insert that follows a delete is moved before it, as the builder methods do.
// It fails with ErrInvalid on anything but an array (null included) of integers other than 0 in
// [-MaxLen, MaxLen] without fraction or exponent, and of non-empty strings of valid UTF-8 without
// NUL or unpaired surrogate escapes; and when the operation's lengths exceed MaxLen. On error o is
// left unchanged.
func (o *Op) UnmarshalJSON(data []byte) error {
	op, err := decode(data)
	if err != nil {
		return err
	}
	*o = op
	return nil
}

// ParseJSON decodes an operation from its wire form, as UnmarshalJSON does.
func ParseJSON(data []byte) (Op, error) { return decode(data) }

type decoder struct {
	data []byte
	i    int
}

func invalid(at int, why string) error {
	return fmt.Errorf("%w: %s at offset %d", ErrInvalid, why, at)
}

func decode(data []byte) (Op, error) {
	d := &decoder{data: data}
	b := &builder{}
	d.space()
	if !d.eat('[') {
		return Op{}, invalid(d.i, "expected an array")
	}
	d.space()
	if !d.eat(']') {
		for {
			if err := d.item(b); err != nil {
				return Op{}, err
			}
			if b.baseLen > MaxLen || b.targetLen > MaxLen {
				return Op{}, invalid(d.i, "operation too long")
			}
			d.space()
			if d.eat(']') {
				break
			}
			if !d.eat(',') {
				return Op{}, invalid(d.i, "expected , or ]")
			}
			d.space()
		}
	}
	d.space()
	if d.i != len(d.data) {
		return Op{}, invalid(d.i, "data after the array")
	}
	return b.op(), nil
}

func (d *decoder) space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) eat(c byte) bool {
	if d.i < len(d.data) && d.data[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *decoder) item(b *builder) error {
	if d.i >= len(d.data) {
		return invalid(d.i, "unexpected end")
	}
	c := d.data[d.i]
	switch {
	case c == '"':
		s, err := d.str()
		if err != nil {
			return err
		}
		b.insert(s)
		return nil
	case c == '-' || (c >= '0' && c <= '9'):
		n, err := d.number()
		if err != nil {
			return err
		}
		if n > 0 {
			b.retain(n)
		} else {
			b.delete(-n)
		}
		return nil
	}
	return invalid(d.i, "expected a number or a string")
}

// number reads a JSON integer other than 0 (and -0) in [-MaxLen, MaxLen].
func (d *decoder) number() (int, error) {
	start := d.i
	d.eat('-')
	digits := d.i
	for d.i < len(d.data) && d.data[d.i] >= '0' && d.data[d.i] <= '9' {
		d.i++
	}
	switch {
	case d.i == digits:
		return 0, invalid(start, "malformed number")
	case d.data[digits] == '0':
		return 0, invalid(start, "zero or leading zero")
	case d.i < len(d.data) && (d.data[d.i] == '.' || d.data[d.i] == 'e' || d.data[d.i] == 'E'):
		return 0, invalid(start, "not an integer")
	case d.i-digits > 10:
		return 0, invalid(start, "number out of range")
	}
	n, err := strconv.ParseInt(string(d.data[start:d.i]), 10, 64)
	if err != nil || n > MaxLen || n < -MaxLen {
		return 0, invalid(start, "number out of range")
	}
	return int(n), nil
}

// str reads a non-empty JSON string of valid UTF-8 without NUL (PostgreSQL refuses NUL in text,
// and the page content never holds it) or unpaired surrogates.
func (d *decoder) str() (string, error) {
	start := d.i
	d.i++ // the opening quote
	var out []byte
	plain := d.i // start of the run not yet copied to out
	for {
		if d.i >= len(d.data) {
			return "", invalid(start, "unterminated string")
		}
		c := d.data[d.i]
		switch {
		case c == '"':
			var s string
			if out == nil {
				s = string(d.data[plain:d.i])
			} else {
				s = string(append(out, d.data[plain:d.i]...))
			}
			d.i++
			if s == "" {
				return "", invalid(start, "empty string")
			}
			return s, nil
		case c < 0x20:
			return "", invalid(d.i, "control character in string")
		case c == '\\':
			out = append(out, d.data[plain:d.i]...)
			r, err := d.escape()
			if err != nil {
				return "", err
			}
			if r == 0 {
				return "", invalid(d.i, "NUL in string")
			}
			out = utf8.AppendRune(out, r)
			plain = d.i
		case c < utf8.RuneSelf:
			d.i++
		default:
			r, w := utf8.DecodeRune(d.data[d.i:])
			if r == utf8.RuneError && w <= 1 {
				return "", invalid(d.i, "invalid UTF-8")
			}
			d.i += w
		}
	}
}

// escape reads one escape sequence (a surrogate pair counts as one) and returns its code point.
func (d *decoder) escape() (rune, error) {
	at := d.i
	if d.i+1 >= len(d.data) {
		return 0, invalid(at, "unterminated escape")
	}
	c := d.data[d.i+1]
	d.i += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, ok := d.hex4()
		if !ok {
			return 0, invalid(at, "malformed \\u escape")
		}
		if utf16.IsSurrogate(r) {
			if r >= 0xDC00 || d.i+1 >= len(d.data) || d.data[d.i] != '\\' || d.data[d.i+1] != 'u' {
				return 0, invalid(at, "unpaired surrogate")
			}
			d.i += 2
			r2, ok := d.hex4()
			if !ok || r2 < 0xDC00 || r2 > 0xDFFF {
				return 0, invalid(at, "unpaired surrogate")
			}
			r = utf16.DecodeRune(r, r2)
		}
		return r, nil
	}
	return 0, invalid(at, "unknown escape")
}

func (d *decoder) hex4() (rune, bool) {
	if d.i+4 > len(d.data) {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.i : d.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	d.i += 4
	return r, true
}
