// Package modules is the seam every domain module plugs into: the Module interface, the error
// kinds every module returns and their HTTP mapping, request helpers (strict JSON binding,
// validation, pagination, rate limits), the wire time format, the realtime rooms (Room), and the
// caller's identity in a context.Context.
//
// Every handler works the same way (handler.go): Read takes the path ids (Param, with the
// module's not-found sentinel) and the body, the service is called with the request's context,
// and Reply or Done answers; ServeList, ServeWrite and ServeItemWrite do all of it for the
// common shapes. Services read the caller from the context (UserID), never from a parameter.
//
// It depends on nothing else in the project; everything else may depend on it.
package modules
