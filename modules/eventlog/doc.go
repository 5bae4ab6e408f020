// Package eventlog is the outbox every domain write goes through: the domain rows and their
// events are written in one transaction, and only after it commits are the events handed to a
// Publisher, in log order.
//
// Log order equals commit order: event ids are taken under a lock that is held until the
// transaction commits (an in-process mutex, plus a transaction-scoped advisory lock on
// PostgreSQL so that several processes on one database agree). So a reader that has seen event
// N has seen every committed event below N, and "replay after N" is exact.
package eventlog
