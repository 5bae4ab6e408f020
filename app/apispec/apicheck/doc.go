// Package apicheck validates what a server answers against pagespace's machine-readable
// descriptions (package apispec): an HTTP answer against openapi.json (its status must be one the
// route documents, its body must match that answer's schema) and a Socket.IO event or ack against
// asyncapi.json. The test harnesses (app/apptest and app/pagespacetest) run every answer their
// tests receive through it, so a description that drifts from the server fails the tests.
//
// The schemas are JSON Schema 2020-12, the dialect of OpenAPI 3.1 and of the AsyncAPI documents'
// payloads; github.com/santhosh-tekuri/jsonschema/v6 validates them. The descriptions are
// compiled once per process; validators are safe for concurrent use.
package apicheck
