package modules

import (
	"strconv"
	"strings"
)

// DollarPlaceholders rewrites the ? placeholders of query as PostgreSQL's $1, $2… for SQL sent
// past GORM, which does this itself. query must hold no other ? (in a string literal, say).
func DollarPlaceholders(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
