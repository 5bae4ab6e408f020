package modules

import (
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/labstack/echo/v4"
)

// Pagination defaults of every list.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// PageRequest is a parsed ?limit=&cursor= pair.
type PageRequest struct {
	Limit  int
	Cursor string
}

// ParsePage reads limit and cursor from the query string, rejecting bad limits.
func ParsePage(c echo.Context) (PageRequest, error) {
	p := PageRequest{Limit: DefaultLimit, Cursor: c.QueryParam("cursor")}
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return p, Invalid("limit must be a whole number from 1 to "+strconv.Itoa(MaxLimit), nil)
		}
		p.Limit = n
	}
	return p, nil
}

// EncodeCursor makes an opaque cursor of v.
func EncodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor made by EncodeCursor into v, a pointer to a struct. Anything
// EncodeCursor cannot have made is invalid_request: bad base64, another JSON shape, a missing,
// extra or repeated field, a wrong type, or a string that is neither empty nor id-shaped
// (ValidID), so that no cursor content reaches a query unchecked.
func DecodeCursor(s string, v any) error {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) == 0 || decodeStrict(b, v, true) != nil {
		return Invalid("invalid cursor", nil)
	}
	return nil
}

// List is the body of every paginated response.
type List[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

// NewList builds a List from up to limit+1 fetched rows: the extra row only says that more
// exist, and cursorOf makes the cursor from the last row returned.
func NewList[R any, T any](rows []R, limit int, convert func(R) T, cursorOf func(R) any) List[T] {
	out := List[T]{Items: make([]T, 0, min(len(rows), limit))}
	for i, r := range rows {
		if i == limit {
			c := EncodeCursor(cursorOf(rows[i-1]))
			out.NextCursor = &c
			break
		}
		out.Items = append(out.Items, convert(r))
	}
	return out
}
