package permissions_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"gorm.io/gorm"
)

// flood writes n events into the log that concern only other: drive events of its drive, half
// of them also addressed to its user room. It writes through the log directly, as fast as
// possible; what matters is that they are in the log.
func flood(t testing.TB, env *apptest.Env, other apptest.User, driveID string, n int) {
	t.Helper()
	_, err := env.App.Events().Tx(context.Background(), func(tx *gorm.DB, rec *eventlog.Recorder) error {
		for i := range n {
			rooms := []modules.Room{modules.DriveRoom(driveID)}
			if i%2 == 0 {
				rooms = append(rooms, modules.UserRoom(other.ID))
			}
			rec.Record(eventlog.Draft{Type: "drive_updated", DriveID: driveID, ActorID: other.ID, Rooms: rooms,
				Payload: map[string]any{"drive": map[string]any{"id": driveID, "name": fmt.Sprint("d", i)}}})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

type feedPage struct {
	Items []struct {
		EventID string `json:"eventId"`
		Type    string `json:"type"`
	} `json:"items"`
	NextCursor    *string `json:"nextCursor"`
	LastEventID   string  `json:"lastEventId"`
	LatestEventID string  `json:"latestEventId"`
}

// The feed reads the caller's events, not everybody's: however many events others write between
// two of the caller's, one request returns both and reaches the head of the log. Reading the log
// in id order and filtering (at most 2,000 rows a request) stops short, with a cursor to go on.
func TestEventsFeedSkipsOthersEvents(t *testing.T) {
	env := apptest.Start(t)
	other, me := env.Signup("Other"), env.Signup("Me")
	otherDrive := env.CreateDrive(other, "busy")
	mine := env.CreateDrive(me, "mine")
	after := env.LatestEvent()
	flood(t, env, other, otherDrive, 2500)
	env.Do("PATCH", "/api/drives/"+mine, me.Token, map[string]string{"name": "renamed"}).Expect(200)

	var p feedPage
	env.Do("GET", "/api/events?after="+after, me.Token, nil).Expect(200).JSON(&p)
	if len(p.Items) != 1 || p.Items[0].Type != "drive_updated" || p.NextCursor != nil || p.LastEventID != p.LatestEventID {
		t.Fatalf("one page should hold my one event and reach the head of the log: %+v", p)
	}
	// The other user still sees all of theirs, paged.
	if n := len(env.EventsAfter(other, after)); n != 2500 {
		t.Fatalf("other sees %d events, want 2500", n)
	}
}

// BenchmarkEventsFeed is one GET /api/events page for a user with one drive while another user
// has created 0 or 2,000 drives (docs/performance.md has the figures).
func BenchmarkEventsFeed(b *testing.B) {
	for _, drives := range []int{0, 2000} {
		b.Run(fmt.Sprint("others=", drives), func(b *testing.B) {
			env := apptest.Start(b)
			other, me := env.Signup("Other"), env.Signup("Me")
			mine := env.CreateDrive(me, "mine")
			after := env.LatestEvent()
			const workers = 4
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < drives; i += workers {
						env.CreateDrive(other, fmt.Sprint("drive ", i))
					}
				}()
			}
			wg.Wait()
			env.Do("PATCH", "/api/drives/"+mine, me.Token, map[string]string{"name": "renamed"}).Expect(200)
			b.ResetTimer()
			for b.Loop() {
				env.Do("GET", "/api/events?after="+after, me.Token, nil).Expect(200)
			}
		})
	}
}
