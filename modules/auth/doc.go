// Package auth owns users and login sessions: signup, login, refresh-token rotation with reuse
// detection, logout, password hashing (argon2id), JWT access tokens (HS256 pinned) and the Echo
// middleware that puts the caller's modules.Identity in the request context.
//
// A login session is a refresh-token family. Each refresh spends the presented token and issues
// the next one in the family; presenting a spent token again means it leaked, so the whole family
// is revoked. Access tokens carry the family id as "sid", so realtime can end a session's sockets.
package auth
