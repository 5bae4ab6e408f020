// Package apispec holds the machine-readable descriptions of pagespace's public contract, embedded
// in the binary: openapi.json (OpenAPI 3.1, the REST API of docs/api.md) and asyncapi.json
// (AsyncAPI 3, the Socket.IO events, payloads and acks of docs/realtime.md). The server serves
// them at /api/openapi.json and /api/asyncapi.json and renders the first as a page at /api/docs.
//
// The Markdown documents stay the prose contract; these files are the same contract for
// machines. They are kept true by the tests: package apicheck validates every answer and socket
// event the end-to-end tests receive against them, and app's tests check that every served
// route and every event name is described.
package apispec

import (
	_ "embed"
)

//go:embed openapi.json
var openAPI []byte

//go:embed asyncapi.json
var asyncAPI []byte

// OpenAPI is the OpenAPI 3.1 document of the REST API. Callers must not modify it.
func OpenAPI() []byte { return openAPI }

// AsyncAPI is the AsyncAPI 3 document of the socket protocol. Callers must not modify it.
func AsyncAPI() []byte { return asyncAPI }
