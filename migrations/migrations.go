package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

//go:embed *.sql
var files embed.FS

// Migration is one schema version.
type Migration struct {
	Version int
	Name    string
	SQL     string // with placeholders
}

// All returns the embedded migrations in version order.
func All() ([]Migration, error) {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migrations: bad file name %q", name)
		}
		b, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: rest, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := range out {
		if out[i].Version != i+1 {
			return nil, fmt.Errorf("migrations: versions must run 1..n without gaps, found %d", out[i].Version)
		}
	}
	return out, nil
}

// Expand replaces the dialect placeholders for "sqlite" or "postgres".
func Expand(sql, dialect string) string {
	var r *strings.Replacer
	if dialect == "postgres" {
		r = strings.NewReplacer("{{TS}}", "TIMESTAMPTZ", "{{SERIAL_PK}}", "BIGSERIAL PRIMARY KEY", "{{FLOAT}}", "DOUBLE PRECISION",
			"{{ROOMS_OF_E}}", "json_array_elements_text(e.rooms::json) AS r(value)")
	} else {
		r = strings.NewReplacer("{{TS}}", "TIMESTAMP", "{{SERIAL_PK}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{FLOAT}}", "REAL",
			"{{ROOMS_OF_E}}", "json_each(e.rooms) AS r")
	}
	return r.Replace(sql)
}

type schemaMigration struct {
	Version   int `gorm:"primaryKey"`
	Name      string
	AppliedAt time.Time
}

func (schemaMigration) TableName() string { return "schema_migrations" }

// Up applies every migration not yet recorded and returns the versions it applied. On
// PostgreSQL an advisory lock keeps two processes starting together from racing.
func Up(ctx context.Context, db *gorm.DB) ([]int, error) {
	all, err := All()
	if err != nil {
		return nil, err
	}
	dialect := db.Dialector.Name()
	db = db.WithContext(ctx)
	if dialect == "postgres" {
		// A session-level lock needs one connection for lock, work and unlock.
		var applied []int
		err := db.Connection(func(conn *gorm.DB) error {
			if err := conn.Exec("SELECT pg_advisory_lock(7249001)").Error; err != nil {
				return err
			}
			defer conn.Exec("SELECT pg_advisory_unlock(7249001)")
			var err error
			applied, err = apply(conn, all, dialect)
			return err
		})
		return applied, err
	}
	return apply(db, all, dialect)
}

func apply(db *gorm.DB, all []Migration, dialect string) ([]int, error) {
	if err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ` + Expand("{{TS}}", dialect) + ` NOT NULL)`).Error; err != nil {
		return nil, fmt.Errorf("migrations: create schema_migrations: %w", err)
	}
	var done []int
	if err := db.Model(&schemaMigration{}).Pluck("version", &done).Error; err != nil {
		return nil, fmt.Errorf("migrations: read versions: %w", err)
	}
	have := map[int]bool{}
	for _, v := range done {
		have[v] = true
	}
	for _, v := range done {
		if v > len(all) {
			return nil, fmt.Errorf("migrations: database is at version %d, newer than this binary (%d)", v, len(all))
		}
	}
	var applied []int
	for _, m := range all {
		if have[m.Version] {
			continue
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			for _, stmt := range splitStatements(Expand(m.SQL, dialect)) {
				if err := tx.Exec(stmt).Error; err != nil {
					return fmt.Errorf("%w\n%s", err, stmt)
				}
			}
			return tx.Create(&schemaMigration{Version: m.Version, Name: m.Name, AppliedAt: time.Now().UTC()}).Error
		})
		if err != nil {
			return applied, fmt.Errorf("migrations: apply %04d_%s: %w", m.Version, m.Name, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// splitStatements splits a migration on semicolons that end a line. Migrations keep semicolons
// out of string literals, so this is enough.
func splitStatements(sql string) []string {
	var out []string
	for _, part := range strings.Split(sql, ";\n") {
		if s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(part), ";")); s != "" {
			out = append(out, s)
		}
	}
	return out
}
