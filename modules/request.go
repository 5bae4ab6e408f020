package modules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// Bind decodes the JSON request body into v strictly: the body must be one JSON value of the
// right shape, with no unknown fields and nothing after it, object keys that match the fields'
// names exactly (case included) and at most once, and strings of valid UTF-8 without NUL (U+0000)
// or unpaired surrogate escapes. Every failure is an invalid_request error that names the problem
// (or payload_too_large past the body limit).
func Bind(c echo.Context, v any) error {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return Invalid("Content-Type must be application/json", nil)
		}
	}
	return DecodeJSON(req.Body, v)
}

// DecodeJSON is Bind's decoder, for bodies that do not come from an echo.Context (and socket
// event arguments, which follow the same rules).
func DecodeJSON(r io.Reader, v any) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return jsonError(err)
	}
	return decodeStrict(data, v, false)
}

// decodeStrict decodes data into v with Bind's rules; cursor adds DecodeCursor's.
func decodeStrict(data []byte, v any, cursor bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Invalid("request body must hold a single JSON value", nil)
	}
	return checkStrict(data, reflect.TypeOf(v), cursor)
}

func jsonError(err error) error {
	var (
		syntax    *json.SyntaxError
		typ       *json.UnmarshalTypeError
		tooLarge  *http.MaxBytesError
		fieldErr  *FieldError
		unmarshal *json.InvalidUnmarshalError
	)
	switch {
	case errors.Is(err, io.EOF):
		return Invalid("request body is required", nil)
	case errors.As(err, &tooLarge):
		return ErrTooLarge
	case errors.Is(err, os.ErrDeadlineExceeded): // the connection's body read deadline (app)
		return ErrBodyTimeout
	case errors.As(err, &syntax):
		return Invalid(fmt.Sprintf("malformed JSON at byte %d", syntax.Offset), nil)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Invalid("malformed JSON: unexpected end of body", nil)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return Invalid(fmt.Sprintf("request body must be %s", jsonKind(typ.Type.Kind().String())), nil)
		}
		return Invalid(fmt.Sprintf("field %q has the wrong type", field),
			map[string]any{"fields": map[string]string{field: "must be " + jsonKind(typ.Type.Kind().String())}})
	case errors.As(err, &fieldErr):
		return Invalid(fieldErr.Error(), nil)
	case errors.As(err, &unmarshal):
		return fmt.Errorf("modules: bind: %w", err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return Invalid("unknown field "+name, nil)
	default:
		return Invalid("malformed JSON: "+err.Error(), nil)
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "ptr":
		return "a value of the right type"
	default:
		return "a number"
	}
}

// FieldError is returned by custom decoders to name a bad field value.
type FieldError struct {
	Field, Problem string
}

func (e *FieldError) Error() string { return fmt.Sprintf("field %q %s", e.Field, e.Problem) }

// Optional is a JSON field that distinguishes absent, null and a value, for PATCH bodies.
type Optional[T any] struct {
	Set   bool // the key was present
	Null  bool // its value was null
	Value T
}

// UnmarshalJSON is only called when the key is present.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

func (Optional[T]) jsonValueType() reflect.Type { return reflect.TypeFor[T]() }

// Ptr is the value as a pointer: nil when absent or null.
func (o Optional[T]) Ptr() *T {
	if !o.Set || o.Null {
		return nil
	}
	v := o.Value
	return &v
}

// Validator collects per-field problems and reports them together.
type Validator struct {
	fields map[string]string
}

// Check records problem for field unless ok. The first problem of a field wins.
func (v *Validator) Check(ok bool, field, problem string) {
	if ok {
		return
	}
	if v.fields == nil {
		v.fields = map[string]string{}
	}
	if _, dup := v.fields[field]; !dup {
		v.fields[field] = problem
	}
}

// Text checks a string field: valid UTF-8, no control characters other than newlines and tabs
// when multiline, and between min and max characters after trimming.
func (v *Validator) Text(field, s string, min, max int, multiline bool) {
	if !utf8.ValidString(s) {
		v.Check(false, field, "must be valid UTF-8")
		return
	}
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	v.Check(n >= min, field, requiredOrMin(min))
	v.Check(utf8.RuneCountInString(s) <= max, field, "must be at most "+strconv.Itoa(max)+" characters")
	for _, r := range s {
		if r < 0x20 && !(multiline && (r == '\n' || r == '\t' || r == '\r')) || r == 0x7f {
			v.Check(false, field, "must not contain control characters")
			return
		}
	}
}

func requiredOrMin(min int) string {
	if min <= 1 {
		return "is required"
	}
	return "must be at least " + strconv.Itoa(min) + " characters"
}

// Err returns an invalid_request error listing the problems, or nil.
func (v *Validator) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	msg := "invalid request"
	if len(v.fields) == 1 {
		for f, p := range v.fields {
			msg = f + " " + p
		}
	}
	return Invalid(msg, map[string]any{"fields": v.fields})
}
