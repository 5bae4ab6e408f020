package apicheck_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/pagespace/pagespace/app/apispec/apicheck"
)

// The cost of checking one answer: a page of 50 tree nodes, the largest common answer.
func BenchmarkCheckNodeList(b *testing.B) {
	h, err := apicheck.OpenAPI()
	if err != nil {
		b.Fatal(err)
	}
	items := make([]map[string]any, 50)
	for i := range items {
		items[i] = map[string]any{"id": fmt.Sprintf("0193b1c4-6f3b-7d4e-a021-%012d", i), "parentId": nil, "title": "Notes",
			"type": "DOCUMENT", "position": float64(i), "isPrivate": false, "createdAt": "2025-01-31T08:36:49.755Z",
			"updatedAt": "2025-01-31T08:36:49.755Z", "revision": 1}
	}
	body, _ := json.Marshal(map[string]any{"items": items, "nextCursor": nil})
	header := http.Header{"Content-Type": {"application/json"}}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := h.Check("GET", "/api/drives/0193b1c4-4d19-7a2b-8e0f-1a3b5c7d9e21/pages", 200, header, body); err != nil {
			b.Fatal(err)
		}
	}
}
