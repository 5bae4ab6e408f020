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
