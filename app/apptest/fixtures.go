package apptest

// Fixtures built on the contract's routes, so every test sets up state the way a client would.

import (
	"net/url"
	"slices"
	"strconv"
)

// Grant puts an explicit grant for grantee on the page, acting as u.
func (e *Env) Grant(u User, pageID string, grantee User, view, edit, share, del bool) {
	e.T.Helper()
	r := e.Do("PUT", "/api/pages/"+pageID+"/permissions/"+grantee.ID, u.Token,
		map[string]any{"canView": view, "canEdit": edit, "canShare": share, "canDelete": del})
	if r.Status != 200 && r.Status != 201 {
		e.T.Fatalf("grant: status %d; body %s", r.Status, r.Body)
	}
}

// World is a drive with one user of every role in it (owner, admin, member, viewer) and an
// outsider who is no member, the cast most access tests need.
type World struct {
	Env                                    *Env
	Drive                                  string
	Owner, Admin, Member, Viewer, Outsider User
}

// NewWorld signs up Olive Owner, Adam Admin, Mia Member, Vic Viewer and Otto Outsider and makes
// a drive "Team" owned by Olive with Adam, Mia and Vic as ADMIN, MEMBER and VIEWER.
func (e *Env) NewWorld() *World {
	e.T.Helper()
	w := &World{Env: e,
		Owner: e.Signup("Olive Owner"), Admin: e.Signup("Adam Admin"), Member: e.Signup("Mia Member"),
		Viewer: e.Signup("Vic Viewer"), Outsider: e.Signup("Otto Outsider")}
	w.Drive = e.CreateDrive(w.Owner, "Team")
	e.AddMember(w.Owner, w.Drive, w.Admin, "ADMIN")
	e.AddMember(w.Owner, w.Drive, w.Member, "MEMBER")
	e.AddMember(w.Owner, w.Drive, w.Viewer, "VIEWER")
	return w
}

// Page creates a page of type typ at the root of the drive, as the owner, and returns its id.
func (w *World) Page(typ, title string) string {
	w.Env.T.Helper()
	return w.Env.CreatePage(w.Owner, w.Drive, typ, title, "")
}

// SetRole changes the role of member in the drive, acting as admin.
func (e *Env) SetRole(admin User, driveID string, member User, role string) {
	e.T.Helper()
	e.Do("PATCH", "/api/drives/"+driveID+"/members/"+member.ID, admin.Token, map[string]any{"role": role}).Expect(200)
}

// Trash moves a page to the trash, acting as u.
func (e *Env) Trash(u User, pageID string) {
	e.T.Helper()
	e.Do("DELETE", "/api/pages/"+pageID, u.Token, nil).Expect(204)
}

// Event is one item of GET /api/events.
type Event struct {
	EventID string         `json:"eventId"`
	Type    string         `json:"type"`
	Payload map[string]any `json:"payload"`
}

// LatestEvent is the newest event id, to read events after so that a test sees only what
// follows.
func (e *Env) LatestEvent() string {
	e.T.Helper()
	id, err := e.App.Events().Latest(e.T.Context())
	if err != nil {
		e.T.Fatalf("latest event: %v", err)
	}
	return strconv.FormatInt(id, 10)
}

// EventsAfter returns every event u may see after the event id ("0" for all), following
// cursors, keeping only the given types (all when none are given).
func (e *Env) EventsAfter(u User, after string, types ...string) []Event {
	e.T.Helper()
	var out []Event
	for {
		var l struct {
			Items      []Event `json:"items"`
			NextCursor *string `json:"nextCursor"`
		}
		e.Do("GET", "/api/events?limit=200&after="+url.QueryEscape(after), u.Token, nil).Expect(200).JSON(&l)
		for _, ev := range l.Items {
			if len(types) == 0 || slices.Contains(types, ev.Type) {
				out = append(out, ev)
			}
		}
		if l.NextCursor == nil {
			return out
		}
		after = *l.NextCursor
	}
}
