package tasks_test

// Fixtures built on the contract's routes (apptest), so state is set up the way a client would.

import (
	"strconv"
	"testing"

	"github.com/pagespace/pagespace/app/apptest"
)

// world is a drive with one user per role and an outsider.
type world struct {
	env                                    *apptest.Env
	owner, admin, member, viewer, outsider apptest.User
	drive                                  string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := apptest.Start(t)
	w := &world{env: env,
		owner: env.Signup("Olive Owner"), admin: env.Signup("Adam Admin"), member: env.Signup("Mia Member"),
		viewer: env.Signup("Vic Viewer"), outsider: env.Signup("Otto Outsider")}
	w.drive = env.CreateDrive(w.owner, "Team")
	env.AddMember(w.owner, w.drive, w.admin, "ADMIN")
	env.AddMember(w.owner, w.drive, w.member, "MEMBER")
	env.AddMember(w.owner, w.drive, w.viewer, "VIEWER")
	return w
}

func (w *world) page(t *testing.T, typ, title string) string {
	t.Helper()
	return w.env.CreatePage(w.owner, w.drive, typ, title, "")
}

func grant(t *testing.T, env *apptest.Env, u apptest.User, pageID string, grantee apptest.User, view, edit bool) {
	t.Helper()
	env.Grant(u, pageID, grantee, view, edit, false, false)
}

func setRole(t *testing.T, env *apptest.Env, admin apptest.User, driveID string, m apptest.User, role string) {
	t.Helper()
	env.Do("PATCH", "/api/drives/"+driveID+"/members/"+m.ID, admin.Token, map[string]any{"role": role}).Expect(200)
}

func trash(t *testing.T, env *apptest.Env, u apptest.User, pageID string) {
	t.Helper()
	env.Do("DELETE", "/api/pages/"+pageID, u.Token, nil).Expect(204)
}

// event is one item of GET /api/events.
type event struct {
	EventID string         `json:"eventId"`
	Type    string         `json:"type"`
	Payload map[string]any `json:"payload"`
}

// latestEvent is the id to read events after, so a test sees only what follows.
func latestEvent(t *testing.T, env *apptest.Env) string {
	t.Helper()
	id, err := env.App.Events().Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return strconv.FormatInt(id, 10)
}

// eventsAfter returns the events u may see after the id, of the given types (all when none).
func eventsAfter(t *testing.T, env *apptest.Env, u apptest.User, after string, types ...string) []event {
	t.Helper()
	var out []event
	for {
		var l struct {
			Items      []event `json:"items"`
			NextCursor *string `json:"nextCursor"`
		}
		env.Do("GET", "/api/events?limit=200&after="+after, u.Token, nil).Expect(200).JSON(&l)
		for _, e := range l.Items {
			if len(types) == 0 || contains(types, e.Type) {
				out = append(out, e)
			}
		}
		if l.NextCursor == nil {
			return out
		}
		after = *l.NextCursor
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
