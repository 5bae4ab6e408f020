package modules

import (
	"strings"

	"github.com/pagespace/pagespace/modules/pgdriver"
	"gorm.io/gorm"
)

// CreateHeld inserts value (a model) in tx as tx.Create does, except in a transaction on
// PostgreSQL: there the INSERT is held back (pgdriver.Defer) and sent in one message with the
// transaction's next statement, which is usually the event log's, carrying COMMIT. The insert
// then costs no round trip of its own, and its error is that next statement's.
//
// Use it for a row that nothing reads before the next statement and that no constraint is
// expected to refuse (the checks that guard it ran already). A model whose insert must read
// values back (database defaults) is inserted at once, as by tx.Create.
func CreateHeld(tx *gorm.DB, value any) error {
	if _, inTx := tx.Statement.ConnPool.(gorm.TxCommitter); !inTx || tx.Dialector.Name() != "postgres" {
		return tx.Create(value).Error
	}
	dry := tx.Session(&gorm.Session{DryRun: true}).Create(value)
	if dry.Error != nil {
		return dry.Error
	}
	stmt := dry.Statement
	sql := stmt.SQL.String()
	if strings.Contains(sql, "RETURNING") {
		return tx.Create(value).Error
	}
	args := append([]any{pgdriver.Defer{}}, stmt.Vars...)
	_, err := tx.Statement.ConnPool.ExecContext(stmt.Context, sql, args...)
	return err
}
