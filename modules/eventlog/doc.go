// Package eventlog is the outbox every domain write goes through: the domain rows and their
// events are written in one transaction, and only after it commits are the events handed to a
// Publisher, in log order.
//
// Log order equals commit order: event ids are taken under a lock that is held until the
// transaction commits (a transaction-scoped advisory lock on PostgreSQL, which every process on
// the database takes; SQLite's single writer, one transaction at a time). So a reader that has
// seen event N has seen every committed event below N, and "replay after N" is exact. On
// PostgreSQL an event costs one statement: the first of a transaction takes the advisory lock
// before it draws its id, and the last sends the NOTIFY that tells other processes how far to
// read and travels with COMMIT (pgdriver.CommitWith: the log needs a database opened with
// pgdriver.Open), so that the lock is released without waiting for this process.
// The events are then published in id order (see order).
//
// A writer records a Draft: its type, drive, page, actor and rooms, its payload as a typed value
// of its module, and, when the write changes who may see what, an Access (the facts the
// realtime layer applies). The log encodes the payload once, after the fields it adds itself
// (type, at, actorId, driveId, pageId), into the JSON clients receive; rooms and access are
// stored beside it and read back typed.
package eventlog
