// Package apispec holds the machine-readable descriptions of pagespace's public contract, embedded
// in the binary: openapi.json (OpenAPI 3.1, the REST API of docs/api.md) and asyncapi.json
// (AsyncAPI 3, the Socket.IO events, payloads and acks of docs/realtime.md). The server serves
// them at /api/openapi.json and /api/asyncapi.json and renders the first as a page at /api/docs.
//
// The Markdown documents stay the prose contract; these files are the same contract for
// machines. They are kept true by the tests: package apicheck validates every answer and socket
// event the end-to-end tests receive against them, and app's tests check that every served
// route and every event name is described.
//
// Adding a route: add its operation under "paths" in openapi.json, with every status it answers
// (the generic ones, 400, 401, 404, 408, 413 and 500, by $ref to components/responses), until
// TestOpenAPIDescribesEveryRoute passes; the end-to-end tests then show any answer the
// description gets wrong. Adding a socket event: add its message (with an example) and its
// operation to asyncapi.json and its example to docs/client.md.
package apispec
