package eventlog_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/migrations"
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"gorm.io/gorm"
)

// The feed's reads are index ranges on both databases, never a scan of the events table: the
// plan of each query must name its index and hold no full scan. The log holds many other
// users' events, and statistics are fresh, so that the planner chooses as in production.
func TestFeedQueriesUseTheirIndexes(t *testing.T) {
	env := apptest.Start(t)
	db := env.App.DB()
	log := eventlog.New(db, nil)
	_, err := log.Tx(context.Background(), func(tx *gorm.DB, rec *eventlog.Recorder) error {
		for i := range 3000 {
			d, u := fmt.Sprint("other-drive-", i%300), fmt.Sprint("other-", i%300)
			rec.Record(eventlog.Draft{Type: "test", DriveID: d, Rooms: []modules.Room{modules.DriveRoom(d), modules.UserRoom(u)}})
		}
		for range 5 {
			rec.Record(eventlog.Draft{Type: "test", DriveID: "mine", Rooms: []modules.Room{modules.DriveRoom("mine"), modules.UserRoom("me")}})
		}
		rec.Record(eventlog.Draft{Type: "test", Rooms: []modules.Room{modules.UserRoom("me")}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a := eventlog.Audience{Drives: []string{"mine"}, Rooms: []modules.Room{modules.UserRoom("me"), modules.DriveRoom("mine")}}
	latest, _ := log.Latest(context.Background())
	got, through, err := log.For(context.Background(), a, 0, latest, 500)
	if err != nil || len(got) != 6 || through != latest {
		t.Fatalf("For: %d events through %d (latest %d), %v", len(got), through, latest, err)
	}

	postgres := db.Dialector.Name() == "postgres"
	if postgres {
		err = db.Exec("ANALYZE events; ANALYZE event_rooms").Error
	} else {
		err = db.Exec("ANALYZE").Error
	}
	if err != nil {
		t.Fatal(err)
	}
	wantIndex := map[string]string{"byDrive": "events_drive", "byRoom": "event_rooms"}
	for name, sql := range eventlog.ForQueries(db, a, 0, latest, 500) {
		var plan []string
		if postgres {
			if err := db.Raw("EXPLAIN " + sql).Scan(&plan).Error; err != nil {
				t.Fatal(err)
			}
		} else {
			var rows []struct{ Detail string }
			if err := db.Raw("EXPLAIN QUERY PLAN " + sql).Scan(&rows).Error; err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				plan = append(plan, r.Detail)
			}
		}
		text := strings.Join(plan, "\n")
		t.Logf("%s: %s\n%s", name, sql, text)
		// A full scan reads as "Seq Scan" on PostgreSQL and "SCAN table" on SQLite (a search
		// through an index is "SEARCH table USING INDEX").
		if strings.Contains(text, "Seq Scan") || strings.Contains(text, "SCAN ") && !strings.Contains(text, "SEARCH ") ||
			!strings.Contains(text, wantIndex[name]) {
			t.Errorf("%s: plan of %s\n%s\nwants an index range on %s", name, sql, text, wantIndex[name])
		}
	}
}

// Migration 0003 fills event_rooms for the events already in the log: the rows it writes are
// those the log writes for new events, on both databases.
func TestEventRoomsBackfillMatchesInsert(t *testing.T) {
	env := apptest.Start(t)
	db := env.App.DB()
	log := eventlog.New(db, nil)
	_, err := log.Tx(context.Background(), func(tx *gorm.DB, rec *eventlog.Recorder) error {
		rec.Record(eventlog.Draft{Type: "a", DriveID: "d1", Rooms: []modules.Room{modules.PageRoom("p1"), modules.DriveRoom("d1")}})
		rec.Record(eventlog.Draft{Type: "b", DriveID: "d1", Rooms: []modules.Room{modules.DriveRoom("d1"), modules.UserRoom("u1"), modules.UserRoom("u2")}})
		rec.Record(eventlog.Draft{Type: "c", Rooms: []modules.Room{modules.DriveRoom("d1"), modules.DriveRoom("d2"), modules.UserRoom("u3")}})
		rec.Record(eventlog.Draft{Type: "d", Rooms: []modules.Room{modules.UserRoom("u1")}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Room    string
		EventID int64
	}
	read := func() (rows []row) {
		if err := db.Raw("SELECT room, event_id FROM event_rooms ORDER BY event_id, room").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		return rows
	}
	written := read()
	if len(written) != 6 {
		t.Fatalf("event_rooms written: %v", written)
	}
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	backfill := migrations.Expand(all[2].SQL, db.Dialector.Name())
	backfill = backfill[strings.Index(backfill, "INSERT INTO event_rooms"):]
	if err := db.Exec("DELETE FROM event_rooms").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(backfill).Error; err != nil {
		t.Fatal(err)
	}
	if got := read(); fmt.Sprint(got) != fmt.Sprint(written) {
		t.Fatalf("backfill wrote %v, inserts wrote %v", got, written)
	}
	// Pruning takes the rows with their events.
	if _, err := log.Prune(context.Background(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := read(); len(got) != 0 {
		t.Fatalf("after prune: %v", got)
	}
}
