// Package app is the only place things are wired: configuration with defaults, opening the
// database (embedded SQLite or PostgreSQL), running migrations, the Echo instance and its
// middleware, the one error handler, mounting every module's routes, and start and graceful stop.
// It holds no business rules.
package app
