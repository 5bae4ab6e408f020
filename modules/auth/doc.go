// Package auth owns users and login sessions: signup, login, refresh-token rotation with reuse
// detection, logout, password hashing (argon2id), JWT access tokens (HS256 pinned) and the Echo
// middleware that puts the caller's modules.Identity in the request context.
//
// A login session is a refresh-token family. Each refresh spends the presented token and issues
// the next one in the family; presenting a spent token again means it leaked, so the whole family
// is revoked. Access tokens carry the family id as "sid", so realtime can end a session's sockets.
//
// A password check costs an argon2id hash (19 MiB by default), whatever the password. So every
// hash waits for its memory cost within a budget (Config.HashMemory), which bounds the memory a
// burst of signups and logins can take, and the routes that check a password are limited per
// account (Config.PasswordAttempts) besides the per-address limit the app puts in front of them.
package auth
