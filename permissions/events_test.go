package permissions_test

import (
	"strings"
	"testing"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/permissions"
)

// expectEvent runs write, then checks that every user in sees gets exactly one event of typ
// (returning its payload as the first of them saw it) and that no user in blind gets it.
func expectEvent(t *testing.T, env *apptest.Env, typ string, sees, blind []apptest.User, write func()) map[string]any {
	t.Helper()
	after := env.LatestEvent()
	write()
	var payload map[string]any
	for _, u := range sees {
		evs := env.EventsAfter(u, after)
		n := 0
		for _, e := range evs {
			if e.Type == typ {
				n++
			}
		}
		e := findEvent(evs, typ)
		if e == nil || n != 1 {
			t.Fatalf("%s: %d %s events after %s, want 1; got %s", u.Name, n, typ, after, jsonString(evs))
		}
		if e.Payload["eventId"] != e.EventID || e.Payload["type"] != typ || e.Payload["at"] == nil {
			t.Fatalf("%s: envelope of %s: %s", u.Name, typ, jsonString(e))
		}
		if payload == nil {
			payload = e.Payload
		} else if jsonString(payload) != jsonString(e.Payload) {
			t.Fatalf("users see different payloads: %s vs %s", jsonString(payload), jsonString(e.Payload))
		}
	}
	for _, u := range blind {
		if e := findEvent(env.EventsAfter(u, after), typ); e != nil {
			t.Fatalf("%s must not see %s: %s", u.Name, typ, jsonString(e))
		}
	}
	return payload
}

// field digs into a payload: field(p, "member", "role").
func field(p map[string]any, path ...string) any {
	var v any = p
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func wantFields(t *testing.T, typ string, p map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		if got := field(p, strings.Split(k, ".")...); got != w {
			t.Errorf("%s: %s = %v, want %v; payload %s", typ, k, got, w, jsonString(p))
		}
	}
}

func TestEvents(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	ada, bob, carol, dan := env.Signup("Ada"), env.Signup("Bob"), env.Signup("Carol"), env.Signup("Dan")
	var drive string

	p := expectEvent(t, env, permissions.EventDriveCreated, []apptest.User{ada}, []apptest.User{bob}, func() {
		drive = env.CreateDrive(ada, "Events")
	})
	wantFields(t, "drive_created", p, map[string]any{"driveId": drive, "actorId": ada.ID, "drive.id": drive, "drive.name": "Events", "drive.ownerId": ada.ID})

	p = expectEvent(t, env, permissions.EventMemberAdded, []apptest.User{ada, bob}, []apptest.User{carol}, func() {
		env.AddMember(ada, drive, bob, "VIEWER")
	})
	wantFields(t, "member_added", p, map[string]any{"driveId": drive, "actorId": ada.ID, "userId": bob.ID,
		"member.userId": bob.ID, "member.name": "Bob", "member.role": "VIEWER"})
	if field(p, "member", "email") != nil {
		t.Errorf("member events must not carry emails: %s", jsonString(p))
	}
	env.AddMember(ada, drive, dan, "MEMBER")

	p = expectEvent(t, env, permissions.EventMemberRoleChanged, []apptest.User{ada, bob, dan}, []apptest.User{carol}, func() {
		env.Do("PATCH", "/api/drives/"+drive+"/members/"+bob.ID, ada.Token, map[string]any{"role": "ADMIN"}).Expect(200)
	})
	wantFields(t, "member_role_changed", p, map[string]any{"userId": bob.ID, "member.role": "ADMIN", "previousRole": "VIEWER", "accessReduced": false})
	p = expectEvent(t, env, permissions.EventMemberRoleChanged, []apptest.User{bob}, nil, func() {
		env.Do("PATCH", "/api/drives/"+drive+"/members/"+bob.ID, ada.Token, map[string]any{"role": "VIEWER"}).Expect(200)
	})
	wantFields(t, "member_role_changed", p, map[string]any{"member.role": "VIEWER", "previousRole": "ADMIN", "accessReduced": true})

	// A private page: Bob (VIEWER) cannot see it, so its permission events do not reach him.
	page := insertPage(t, env, drive, "", true)
	p = expectEvent(t, env, permissions.EventPermissionGranted, []apptest.User{ada, carol}, []apptest.User{bob, dan}, func() {
		env.Grant(ada, page, carol, true, true, false, false)
	})
	wantFields(t, "permission_granted", p, map[string]any{"pageId": page, "driveId": drive, "actorId": ada.ID, "userId": carol.ID,
		"permission.userId": carol.ID, "permission.pageId": page, "permission.name": "Carol", "permission.canView": true,
		"permission.canEdit": true, "permission.canShare": false, "permission.grantedBy": ada.ID, "previous": nil, "accessReduced": true})
	if field(p, "permission", "email") != nil {
		t.Errorf("permission events reach page viewers and must not carry emails: %s", jsonString(p))
	}
	p = expectEvent(t, env, permissions.EventPermissionGranted, []apptest.User{carol}, nil, func() {
		env.Grant(ada, page, carol, true, true, true, true)
	})
	wantFields(t, "permission_granted (widened)", p, map[string]any{"accessReduced": false, "previous.canShare": false, "permission.canShare": true})
	p = expectEvent(t, env, permissions.EventPermissionGranted, []apptest.User{carol}, nil, func() {
		env.Grant(ada, page, carol, true, false, false, false)
	})
	wantFields(t, "permission_granted (narrowed)", p, map[string]any{"accessReduced": true, "permission.canEdit": false})

	// A grantee sees drive events through their user room.
	p = expectEvent(t, env, permissions.EventDriveUpdated, []apptest.User{ada, bob, carol, dan}, nil, func() {
		env.Do("PATCH", "/api/drives/"+drive, ada.Token, map[string]any{"name": "Renamed"}).Expect(200)
	})
	wantFields(t, "drive_updated", p, map[string]any{"drive.name": "Renamed", "driveId": drive})

	p = expectEvent(t, env, permissions.EventPermissionRevoked, []apptest.User{ada, carol}, []apptest.User{bob, dan}, func() {
		env.Do("DELETE", grantPath(page, carol), ada.Token, nil).Expect(204)
	})
	wantFields(t, "permission_revoked", p, map[string]any{"pageId": page, "driveId": drive, "userId": carol.ID, "permission.userId": carol.ID, "accessReduced": true})

	p = expectEvent(t, env, permissions.EventMemberRemoved, []apptest.User{ada, bob, dan}, []apptest.User{carol}, func() {
		env.Do("DELETE", "/api/drives/"+drive+"/members/"+bob.ID, ada.Token, nil).Expect(204)
	})
	wantFields(t, "member_removed", p, map[string]any{"userId": bob.ID, "member.role": "VIEWER", "accessReduced": true, "actorId": ada.ID})

	// After removal Bob sees nothing more of the drive.
	after := env.LatestEvent()
	env.AddMember(ada, drive, carol, "MEMBER")
	if evs := env.EventsAfter(bob, after); len(evs) != 0 {
		t.Fatalf("a removed member still gets drive events: %s", jsonString(evs))
	}

	// Failed writes record nothing.
	before := env.LatestEvent()
	env.Do("PATCH", "/api/drives/"+drive, dan.Token, map[string]any{"name": "x"}).Expect(403)
	env.Do("POST", "/api/drives/"+drive+"/members", ada.Token, map[string]any{"userId": dan.ID, "role": "VIEWER"}).Expect(409)
	env.Do("DELETE", "/api/drives/"+drive+"/members/"+ada.ID, ada.Token, nil).Expect(409)
	env.Do("PATCH", "/api/drives/"+drive+"/members/"+dan.ID, ada.Token, map[string]any{"role": "MEMBER"}).Expect(200) // unchanged
	if got := env.LatestEvent(); got != before {
		t.Fatalf("failed or no-op writes recorded events: %s -> %s", before, got)
	}

	after = env.LatestEvent()
	p = expectEvent(t, env, permissions.EventDriveDeleted, []apptest.User{ada}, []apptest.User{bob}, func() {
		env.Do("DELETE", "/api/drives/"+drive, ada.Token, nil).Expect(204)
	})
	wantFields(t, "drive_deleted", p, map[string]any{"driveId": drive, "drive.name": "Renamed"})
	if ids, _ := p["userIds"].([]any); len(ids) != 3 {
		t.Errorf("drive_deleted names who lost access: %s", jsonString(p))
	}
	// Everyone else who lost access sees only themselves there.
	for _, u := range []apptest.User{carol, dan} {
		e := findEvent(env.EventsAfter(u, after), permissions.EventDriveDeleted)
		if e == nil || jsonString(e.Payload["userIds"]) != jsonString([]string{u.ID}) {
			t.Errorf("%s: drive_deleted %s", u.Name, jsonString(e))
		}
	}
}
