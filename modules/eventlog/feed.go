package eventlog

import (
	"context"
	"fmt"
	"slices"

	"github.com/pagespace/pagespace/modules"
	"gorm.io/gorm"
)

// The event feed's index. A reader who may see a few drives must not pay for the whole log, so
// events are found by whom they concern: drive events through events (drive_id, id), events
// addressed to a user's room, or to drive rooms other than their own drive (user_deleted has no
// drive), through event_rooms (room, event_id). Both are read as index ranges in id order.

// eventRoom is one row of event_rooms: event EventID was addressed to Room.
type eventRoom struct {
	Room    string `gorm:"primaryKey"`
	EventID int64  `gorm:"primaryKey"`
}

// TableName is event_rooms.
func (eventRoom) TableName() string { return "event_rooms" }

// appendIndexRooms adds the event_rooms rows of event id: its user rooms, and its drive rooms
// other than its own drive's (found through events.drive_id already).
func appendIndexRooms(rows []eventRoom, id int64, d Draft) []eventRoom {
	own := modules.DriveRoom(d.DriveID)
	seen := make(map[modules.Room]bool, len(d.Rooms))
	for _, room := range d.Rooms {
		if seen[room] || room == own || room.Kind == modules.RoomPage {
			continue
		}
		seen[room] = true
		rows = append(rows, eventRoom{Room: room.String(), EventID: id})
	}
	return rows
}

// Audience is what one reader's feed is read from.
type Audience struct {
	Drives []string       // events of these drives
	Rooms  []modules.Room // and events addressed to these user or drive rooms
}

// For returns, ascending, up to limit events with after < id <= upTo that belong to one of the
// audience's drives or were addressed to one of its rooms; every other event is skipped without
// being read. through is how far the answer is complete: every such event with id in
// (after, through] is in it, so a reader that has handled them all may go on from through.
func (l *Log) For(ctx context.Context, a Audience, after, upTo int64, limit int) (events []Event, through int64, err error) {
	db := l.db.WithContext(ctx)
	through = upTo
	var ids []int64
	// Each branch stops at limit; past the last id of a full branch, the other branch's ids
	// cannot be kept, since the full branch may have more below them.
	read := func(q func() ([]int64, error)) error {
		got, err := q()
		if err != nil {
			return err
		}
		if len(got) == limit {
			through = min(through, got[len(got)-1])
		}
		ids = append(ids, got...)
		return nil
	}
	if len(a.Drives) > 0 {
		err = read(func() (out []int64, err error) {
			return out, byDrive(db, a, after, upTo, limit).Scan(&out).Error
		})
	}
	if err == nil && len(a.Rooms) > 0 {
		err = read(func() (out []int64, err error) {
			return out, byRoom(db, a, after, upTo, limit).Scan(&out).Error
		})
	}
	if err != nil {
		return nil, 0, fmt.Errorf("eventlog: feed: %w", err)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	n, _ := slices.BinarySearch(ids, through+1)
	ids = ids[:n]
	if len(ids) > limit {
		ids = ids[:limit]
		through = ids[limit-1]
	}
	if len(ids) == 0 {
		return nil, through, nil
	}
	if err := db.Where("id IN ?", ids).Order("id").Find(&events).Error; err != nil {
		return nil, 0, fmt.Errorf("eventlog: feed: %w", err)
	}
	return events, through, nil
}

// byDrive selects the ids of the audience's drive events: a range of events (drive_id, id).
func byDrive(db *gorm.DB, a Audience, after, upTo int64, limit int) *gorm.DB {
	q := db.Model(&Event{})
	if db.Dialector.Name() == "sqlite" {
		// SQLite's planner would rather walk the rowid range in order than sort a few rows, which
		// reads everybody's events: name the index.
		q = q.Table("events INDEXED BY events_drive")
	}
	return q.Select("id").Where("drive_id IN ? AND id > ? AND id <= ?", a.Drives, after, upTo).
		Order("id").Limit(limit)
}

// byRoom selects the ids of the events addressed to the audience's rooms: a range of
// event_rooms (room, event_id).
func byRoom(db *gorm.DB, a Audience, after, upTo int64, limit int) *gorm.DB {
	names := make([]string, len(a.Rooms))
	for i, r := range a.Rooms {
		names[i] = r.String()
	}
	return db.Model(&eventRoom{}).Select("event_id").Where("room IN ? AND event_id > ? AND event_id <= ?", names, after, upTo).
		Order("event_id").Limit(limit)
}
