// Package migrations holds the versioned database schema, embedded in the binary, and applies
// it to SQLite or PostgreSQL. Each file NNNN_name.sql is one version, applied once in a
// transaction and recorded in schema_migrations. The files are written once for both databases:
// a few placeholders ({{TS}}, {{SERIAL_PK}}, {{FLOAT}}) expand to each dialect's type, so both
// get the same schema behaviour, and {{ROOMS_OF_E}} to a table source r(value) of the room names
// in the JSON array e.rooms (for backfills). AutoMigrate is never used.
package migrations
