// Package modules is the seam every domain module plugs into: the Module interface, the error
// kinds every module returns and their HTTP mapping, request helpers (strict JSON binding,
// validation, pagination, rate limits), the wire time format, the realtime rooms (Room), and the
// caller's identity in a context.Context.
//
// It depends on nothing else in the project; everything else may depend on it.
package modules
