package modules

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// encoding/json is lenient where a request must not be: it matches object keys to struct fields
// case-insensitively, lets a key repeat (the last one wins), and turns invalid UTF-8 and
// unpaired UTF-16 surrogate escapes into U+FFFD. It also decodes \u0000, which PostgreSQL
// refuses in text while SQLite stores it. The walker below goes over a JSON text that
// encoding/json has already decoded into a value of type t and refuses all of that, naming the
// field, so that one rule holds for every body on both databases. (encoding/json/v2 has these
// checks, but needs GOEXPERIMENT=jsonv2 in this Go version.)

// jsonInner is implemented by Optional: the walker checks the value inside it against its type.
type jsonInner interface{ jsonValueType() reflect.Type }

// walker reads one JSON text token by token next to the Go type it was decoded into.
type walker struct {
	dec  *json.Decoder
	data []byte
	prev int64
	// cursor requires every field of a struct to be present and every string to be an id or
	// empty: a cursor is only ever what EncodeCursor wrote.
	cursor bool
}

// checkStrict reports the first problem of data (one valid JSON value, already decoded into a
// value of type t) as an invalid_request error, or nil.
func checkStrict(data []byte, t reflect.Type, cursor bool) error {
	w := &walker{dec: json.NewDecoder(bytes.NewReader(data)), data: data, cursor: cursor}
	if err := w.value(t, ""); err != nil {
		return err
	}
	// Outside strings JSON is ASCII, so the walk has seen every byte that could be invalid;
	// this only keeps the promise should that ever change.
	if !utf8.Valid(data) {
		return Invalid("request body must be valid UTF-8", nil)
	}
	return nil
}

// token reads the next token and the raw bytes it came from (with any separator before it).
func (w *walker) token() (json.Token, []byte, error) {
	tok, err := w.dec.Token()
	end := w.dec.InputOffset()
	raw := w.data[w.prev:end]
	w.prev = end
	return tok, raw, err
}

func (w *walker) value(t reflect.Type, field string) error {
	nullable := t == nil || t.Kind() == reflect.Pointer
	t = target(t)
	tok, raw, err := w.token()
	if err != nil {
		return Invalid("malformed JSON", nil)
	}
	switch tok := tok.(type) {
	case string:
		if p := textProblem(raw); p != "" {
			return fieldProblem(field, p)
		}
		if w.cursor && tok != "" && !ValidID(tok) {
			return Invalid("invalid cursor", nil)
		}
	case json.Delim:
		if tok == '[' {
			return w.array(t, field)
		}
		return w.object(t, field)
	default:
		// A cursor holds null only where EncodeCursor wrote a nil pointer.
		if w.cursor && (tok == nil && !nullable || t != nil && t.Kind() == reflect.Struct) {
			return Invalid("invalid cursor", nil)
		}
	}
	return nil
}

func (w *walker) object(t reflect.Type, field string) error {
	var fields map[string]reflect.Type
	if t != nil && t.Kind() == reflect.Struct {
		fields = map[string]reflect.Type{}
		structFields(t, fields)
	}
	seen := map[string]bool{}
	for w.dec.More() {
		tok, raw, err := w.token()
		if err != nil {
			return Invalid("malformed JSON", nil)
		}
		key, _ := tok.(string)
		name := key
		if field != "" {
			name = field + "." + key
		}
		if p := textProblem(raw); p != "" {
			return Invalid("a field name "+p, nil)
		}
		if seen[key] {
			return Invalid("field "+strconv.Quote(name)+" is given twice", nil)
		}
		seen[key] = true
		var ft reflect.Type
		switch {
		case fields != nil:
			var ok bool
			if ft, ok = fields[key]; !ok {
				// Keys are case-sensitive: "Content" is not "content".
				return Invalid("unknown field "+strconv.Quote(name), nil)
			}
		case t != nil && t.Kind() == reflect.Map:
			ft = t.Elem()
		}
		if err := w.value(ft, name); err != nil {
			return err
		}
	}
	if _, _, err := w.token(); err != nil { // the closing brace
		return Invalid("malformed JSON", nil)
	}
	if w.cursor && fields != nil && len(seen) != len(fields) {
		return Invalid("invalid cursor", nil)
	}
	return nil
}

func (w *walker) array(t reflect.Type, field string) error {
	var et reflect.Type
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		et = t.Elem()
	}
	for i := 0; w.dec.More(); i++ {
		if err := w.value(et, field+"["+strconv.Itoa(i)+"]"); err != nil {
			return err
		}
	}
	if _, _, err := w.token(); err != nil { // the closing bracket
		return Invalid("malformed JSON", nil)
	}
	return nil
}

// target is the type whose keys a JSON value is checked against: t without pointers, the value
// type of an Optional, and nil (any keys) for a type that decodes itself.
func target(t reflect.Type) reflect.Type {
	for t != nil {
		switch {
		case t.Kind() == reflect.Pointer:
			t = t.Elem()
		case t.Implements(reflect.TypeFor[jsonInner]()):
			t = reflect.Zero(t).Interface().(jsonInner).jsonValueType()
		case reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()),
			reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()),
			t.Kind() == reflect.Interface:
			return nil
		default:
			return t
		}
	}
	return nil
}

// structFields adds the JSON names of t's fields as encoding/json sees them: the tag's name or
// the field's, "-" skipped, untagged embedded structs flattened (an outer field wins).
func structFields(t reflect.Type, into map[string]reflect.Type) {
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				embedded = append(embedded, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		into[name] = f.Type
	}
	for _, et := range embedded {
		inner := map[string]reflect.Type{}
		structFields(et, inner)
		for k, v := range inner {
			if _, taken := into[k]; !taken {
				into[k] = v
			}
		}
	}
}

// textProblem checks the raw bytes of one JSON string token (possibly after a separator) for
// what encoding/json would decode silently: invalid UTF-8, \u0000 and unpaired surrogate
// escapes. The bytes are known to be valid JSON.
func textProblem(raw []byte) string {
	i := bytes.IndexByte(raw, '"')
	if i < 0 {
		return ""
	}
	s := raw[i+1:]
	if !utf8.Valid(s) {
		return "must be valid UTF-8"
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		i++
		if i >= len(s) || s[i] != 'u' {
			continue
		}
		r := hex4(s[i+1:])
		i += 4
		switch {
		case r == 0:
			return "must not contain NUL (U+0000)"
		case r >= 0xDC00 && r <= 0xDFFF:
			return "must be valid UTF-16: an unpaired surrogate escape"
		case r >= 0xD800 && r < 0xDC00:
			if i+6 >= len(s) || s[i+1] != '\\' || s[i+2] != 'u' {
				return "must be valid UTF-16: an unpaired surrogate escape"
			}
			if lo := hex4(s[i+3:]); utf16.DecodeRune(r, lo) == utf8.RuneError {
				return "must be valid UTF-16: an unpaired surrogate escape"
			}
			i += 6
		}
	}
	return ""
}

// hex4 reads four hex digits, or -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 32)
	if err != nil {
		return -1
	}
	return rune(n)
}

func fieldProblem(field, problem string) error {
	if field == "" {
		return Invalid("request body "+problem, nil)
	}
	return Invalid("field "+strconv.Quote(field)+" "+problem, map[string]any{"fields": map[string]string{field: problem}})
}
