package eventlog

import "gorm.io/gorm"

// ForQueries returns the SQL of the index reads that Log.For runs, arguments inlined, for EXPLAIN.
func ForQueries(db *gorm.DB, a Audience, after, upTo int64, limit int) map[string]string {
	var ids []int64
	return map[string]string{
		"byDrive": db.ToSQL(func(tx *gorm.DB) *gorm.DB { return byDrive(tx, a, after, upTo, limit).Scan(&ids) }),
		"byRoom":  db.ToSQL(func(tx *gorm.DB) *gorm.DB { return byRoom(tx, a, after, upTo, limit).Scan(&ids) }),
	}
}
