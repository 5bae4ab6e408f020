package tasks_test

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/modules"
)

type task struct {
	ID          string
	PageID      string
	Title       string
	Description string
	Status      string
	Priority    string
	AssigneeID  *string
	Assignee    *struct{ ID, Name string }
	DueDate     *string
	Position    float64
	CreatedBy   *string
	CreatedAt   string
	UpdatedAt   string
	CompletedAt *string
}

type taskList struct {
	Items      []task
	NextCursor *string
}

func path(pageID string, rest ...string) string {
	return "/api/pages/" + pageID + "/tasks" + strings.Join(rest, "")
}

func create(t *testing.T, env *apptest.Env, u apptest.User, pageID string, body map[string]any) task {
	t.Helper()
	var out task
	env.Do("POST", path(pageID), u.Token, body).Expect(201).JSON(&out)
	return out
}

func patch(t *testing.T, env *apptest.Env, u apptest.User, pageID, taskID string, body any) task {
	t.Helper()
	var out task
	env.Do("PATCH", path(pageID, "/", taskID), u.Token, body).Expect(200).JSON(&out)
	return out
}

func list(t *testing.T, env *apptest.Env, u apptest.User, pageID, query string) taskList {
	t.Helper()
	var l taskList
	env.Do("GET", path(pageID, query), u.Token, nil).Expect(200).JSON(&l)
	return l
}

func titles(ts []task) string {
	out := make([]string, len(ts))
	for i, x := range ts {
		out[i] = x.Title
	}
	return strings.Join(out, ",")
}

func isWireTime(s *string) bool {
	if s == nil {
		return false
	}
	_, err := time.Parse(modules.TimeLayout, *s)
	return err == nil && strings.HasSuffix(*s, "Z") && len(*s) == len("2006-01-02T15:04:05.000Z")
}

func TestCreateAndList(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	tl := w.Page("TASK_LIST", "sprint")

	a := create(t, env, w.Member, tl, map[string]any{"title": "  write spec  "})
	if a.ID == "" || a.PageID != tl || a.Title != "write spec" || a.Status != "todo" || a.Priority != "none" ||
		a.Description != "" || a.AssigneeID != nil || a.Assignee != nil || a.DueDate != nil || a.CompletedAt != nil ||
		a.Position != 1 || a.CreatedBy == nil || *a.CreatedBy != w.Member.ID || !isWireTime(&a.CreatedAt) {
		t.Fatalf("defaults: %+v", a)
	}
	b := create(t, env, w.Owner, tl, map[string]any{
		"title": "ship", "status": "in_progress", "priority": "urgent", "assigneeId": w.Viewer.ID,
		"dueDate": "2030-01-31T17:00:00+01:00", "description": "line 1\nline 2",
	})
	if b.Status != "in_progress" || b.Priority != "urgent" || b.AssigneeID == nil || *b.AssigneeID != w.Viewer.ID ||
		b.Assignee == nil || b.Assignee.Name != "Vic Viewer" || b.DueDate == nil || *b.DueDate != "2030-01-31T16:00:00.000Z" ||
		b.Description != "line 1\nline 2" || b.Position != 2 {
		t.Fatalf("full create: %+v", b)
	}
	c := create(t, env, w.Admin, tl, map[string]any{"title": "done already", "status": "done"})
	if !isWireTime(c.CompletedAt) || c.Position != 3 {
		t.Fatalf("created done: %+v", c)
	}
	d := create(t, env, w.Member, tl, map[string]any{"title": "first", "position": -5.5})
	e := create(t, env, w.Member, tl, map[string]any{"title": "between", "position": 1.5})
	f := create(t, env, w.Member, tl, map[string]any{"title": "last"})
	if f.Position != 4 {
		t.Fatalf("a new task goes to the end: %v", f.Position)
	}
	_ = d
	_ = e

	l := list(t, env, w.Viewer, tl, "")
	if got := titles(l.Items); got != "first,write spec,between,ship,done already,last" || l.NextCursor != nil {
		t.Fatalf("order: %s", got)
	}
	raw := env.Do("GET", path(tl, "?limit=1"), w.Viewer.Token, nil).Expect(200).Map()
	item := raw["items"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "pageId", "title", "description", "status", "priority", "assigneeId", "assignee", "dueDate", "position", "createdBy", "createdAt", "updatedAt", "completedAt"} {
		if _, ok := item[k]; !ok {
			t.Errorf("task JSON lacks %q: %v", k, item)
		}
	}
}

func TestPaginationAndFilters(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	tl := w.Page("TASK_LIST", "big")
	var want []string
	for i := range 11 {
		body := map[string]any{"title": fmt.Sprintf("t%02d", i)}
		if i%3 == 0 {
			body["status"] = "done"
		}
		if i%2 == 0 {
			body["assigneeId"] = w.Member.ID
		}
		if i == 5 || i == 6 { // equal positions still page exactly once each
			body["position"] = 100
		}
		want = append(want, create(t, env, w.Owner, tl, body).Title)
	}
	var got []string
	cursor := ""
	for n := 0; ; n++ {
		q := "?limit=3"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		l := list(t, env, w.Member, tl, q)
		if len(l.Items) > 3 || n > 5 {
			t.Fatalf("page %d: %d items", n, len(l.Items))
		}
		got = append(got, titles(l.Items))
		if l.NextCursor == nil {
			break
		}
		cursor = *l.NextCursor
	}
	// Positions: 1,2,3,4,5,100,100,101,102,103,104 (t07 follows the largest position).
	if g := strings.Join(got, ","); g != "t00,t01,t02,t03,t04,t05,t06,t07,t08,t09,t10" {
		t.Fatalf("pages: %s", g)
	}

	if g := titles(list(t, env, w.Member, tl, "?status=done").Items); g != "t00,t03,t06,t09" {
		t.Fatalf("status filter: %s", g)
	}
	if g := titles(list(t, env, w.Member, tl, "?assigneeId="+w.Member.ID).Items); g != "t00,t02,t04,t06,t08,t10" {
		t.Fatalf("assignee filter: %s", g)
	}
	if g := titles(list(t, env, w.Member, tl, "?status=done&assigneeId="+w.Member.ID+"&limit=1").Items); g != "t00" {
		t.Fatalf("combined filter: %s", g)
	}
	if l := list(t, env, w.Member, tl, "?assigneeId=nobody"); len(l.Items) != 0 || l.NextCursor != nil {
		t.Fatalf("unknown assignee: %+v", l)
	}
}

func TestReorder(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	tl := w.Page("TASK_LIST", "order")
	a := create(t, env, w.Member, tl, map[string]any{"title": "a"})
	b := create(t, env, w.Member, tl, map[string]any{"title": "b"})
	c := create(t, env, w.Member, tl, map[string]any{"title": "c"})

	// Move c between a and b, then a to the end.
	if got := patch(t, env, w.Member, tl, c.ID, map[string]any{"position": (a.Position + b.Position) / 2}); got.Position != 1.5 {
		t.Fatalf("position %v", got.Position)
	}
	if g := titles(list(t, env, w.Member, tl, "").Items); g != "a,c,b" {
		t.Fatalf("after move: %s", g)
	}
	patch(t, env, w.Member, tl, a.ID, map[string]any{"position": b.Position + 1})
	if g := titles(list(t, env, w.Member, tl, "").Items); g != "c,b,a" {
		t.Fatalf("after move to end: %s", g)
	}
	d := create(t, env, w.Member, tl, map[string]any{"title": "d"})
	if d.Position != 4 {
		t.Fatalf("end after reorder: %v", d.Position)
	}
}

func TestStatusTransitions(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	tl := w.Page("TASK_LIST", "flow")
	x := create(t, env, w.Member, tl, map[string]any{"title": "x"})
	after := env.LatestEvent()

	p := patch(t, env, w.Member, tl, x.ID, map[string]any{"status": "in_progress"})
	if p.Status != "in_progress" || p.CompletedAt != nil {
		t.Fatalf("in progress: %+v", p)
	}
	done := patch(t, env, w.Member, tl, x.ID, map[string]any{"status": "done", "title": "x!"})
	if done.Status != "done" || !isWireTime(done.CompletedAt) || done.Title != "x!" || done.UpdatedAt != *done.CompletedAt {
		t.Fatalf("done: %+v", done)
	}
	// Done again changes nothing: completedAt stays, no event.
	again := patch(t, env, w.Member, tl, x.ID, map[string]any{"status": "done"})
	if *again.CompletedAt != *done.CompletedAt || again.UpdatedAt != done.UpdatedAt {
		t.Fatalf("done again: %+v", again)
	}
	reopened := patch(t, env, w.Member, tl, x.ID, map[string]any{"status": "todo"})
	if reopened.Status != "todo" || reopened.CompletedAt != nil {
		t.Fatalf("reopened: %+v", reopened)
	}
	// An empty PATCH is a no-op.
	if same := patch(t, env, w.Member, tl, x.ID, map[string]any{}); same.UpdatedAt != reopened.UpdatedAt {
		t.Fatalf("empty patch changed the task: %+v", same)
	}

	evs := env.EventsAfter(w.Viewer, after, "task_created", "task_updated", "task_completed", "task_deleted")
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	if g := strings.Join(types, ","); g != "task_updated,task_updated,task_completed,task_updated" {
		t.Fatalf("events: %s", g)
	}
	for i, e := range evs {
		tk := e.Payload["task"].(map[string]any)
		if tk["id"] != x.ID || e.Payload["actorId"] != w.Member.ID || e.Payload["pageId"] != tl || e.Payload["driveId"] != w.Drive {
			t.Fatalf("event %d: %v", i, e.Payload)
		}
	}
	// task_updated and task_completed of one change carry the same task.
	if fmt.Sprint(evs[1].Payload["task"]) != fmt.Sprint(evs[2].Payload["task"]) || evs[2].Payload["task"].(map[string]any)["completedAt"] == nil {
		t.Fatalf("completion payloads: %v / %v", evs[1].Payload, evs[2].Payload)
	}
}

func TestAssigneeAndClearing(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	tl := w.Page("TASK_LIST", "people")
	x := create(t, env, w.Member, tl, map[string]any{"title": "x", "description": "d", "dueDate": "2031-05-01T09:30:00.123456Z"})
	if *x.DueDate != "2031-05-01T09:30:00.123Z" {
		t.Fatalf("due date kept to the millisecond in UTC: %v", *x.DueDate)
	}

	// Outsiders and unknown users cannot be assigned; viewers can (they may view the page).
	for _, id := range []string{w.Outsider.ID, "nobody", modules.NewID(), ""} {
		r := env.Do("PATCH", path(tl, "/", x.ID), w.Member.Token, map[string]any{"assigneeId": id}).Expect(400)
		if !strings.Contains(string(r.Body), "assigneeId") {
			t.Fatalf("error should name assigneeId: %s", r.Body)
		}
		env.Do("POST", path(tl), w.Member.Token, map[string]any{"title": "y", "assigneeId": id}).Expect(400)
	}
	a := patch(t, env, w.Member, tl, x.ID, map[string]any{"assigneeId": w.Viewer.ID})
	if a.AssigneeID == nil || *a.AssigneeID != w.Viewer.ID || a.Assignee == nil || a.Assignee.ID != w.Viewer.ID {
		t.Fatalf("assigned: %+v", a)
	}
	// A user with an explicit grant on the page may be assigned too.
	env.Grant(w.Owner, tl, w.Outsider, true, false, false, false)
	patch(t, env, w.Member, tl, x.ID, map[string]any{"assigneeId": w.Outsider.ID})

	// Null unassigns and clears; absent fields stay.
	cleared := patch(t, env, w.Member, tl, x.ID, map[string]any{"assigneeId": nil, "dueDate": nil, "description": nil})
	if cleared.AssigneeID != nil || cleared.Assignee != nil || cleared.DueDate != nil || cleared.Description != "" || cleared.Title != "x" {
		t.Fatalf("cleared: %+v", cleared)
	}
	set := patch(t, env, w.Member, tl, x.ID, map[string]any{"dueDate": "2032-02-29T00:00:00Z", "priority": "high", "title": "renamed"})
	if *set.DueDate != "2032-02-29T00:00:00.000Z" || set.Priority != "high" || set.Title != "renamed" || set.AssigneeID != nil {
		t.Fatalf("set: %+v", set)
	}

	// On a private page, a member who cannot see it cannot be assigned.
	priv := w.Page("TASK_LIST", "secret")
	env.Do("PATCH", "/api/pages/"+priv, w.Owner.Token, map[string]any{"isPrivate": true}).Expect(200)
	env.Do("POST", path(priv), w.Owner.Token, map[string]any{"title": "y", "assigneeId": w.Member.ID}).Expect(400)
	create(t, env, w.Owner, priv, map[string]any{"title": "y", "assigneeId": w.Admin.ID})
}

func TestValidation(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	tl := w.Page("TASK_LIST", "v")
	other := w.Page("TASK_LIST", "other")
	x := create(t, env, w.Member, tl, map[string]any{"title": "x"})
	y := create(t, env, w.Member, other, map[string]any{"title": "y"})
	tp := path(tl, "/", x.ID)
	cur := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

	cases := []struct {
		name         string
		method, path string
		body         any
		want         int
		field        string
	}{
		{"no body", "POST", path(tl), nil, 400, ""},
		{"malformed", "POST", path(tl), `{"title":`, 400, ""},
		{"array", "POST", path(tl), `[]`, 400, ""},
		{"unknown field", "POST", path(tl), `{"title":"x","done":true}`, 400, ""},
		{"title wrong type", "POST", path(tl), `{"title":1}`, 400, "title"},
		{"position wrong type", "POST", path(tl), `{"title":"x","position":"1"}`, 400, "position"},
		{"position huge", "POST", path(tl), `{"title":"x","position":1e400}`, 400, ""},
		{"missing title", "POST", path(tl), `{}`, 400, "title"},
		{"blank title", "POST", path(tl), map[string]any{"title": "   "}, 400, "title"},
		{"long title", "POST", path(tl), map[string]any{"title": strings.Repeat("t", 501)}, 400, "title"},
		{"multiline title", "POST", path(tl), map[string]any{"title": "a\nb"}, 400, "title"},
		{"long description", "POST", path(tl), map[string]any{"title": "x", "description": strings.Repeat("d", 10001)}, 400, "description"},
		{"bad status", "POST", path(tl), map[string]any{"title": "x", "status": "DONE"}, 400, "status"},
		{"bad priority", "POST", path(tl), map[string]any{"title": "x", "priority": "critical"}, 400, "priority"},
		{"bad due date", "POST", path(tl), map[string]any{"title": "x", "dueDate": "tomorrow"}, 400, "dueDate"},
		{"date without time", "POST", path(tl), map[string]any{"title": "x", "dueDate": "2030-01-01"}, 400, "dueDate"},
		{"due date wrong type", "POST", path(tl), `{"title":"x","dueDate":20300101}`, 400, "dueDate"},
		{"patch malformed", "PATCH", tp, `{"title"`, 400, ""},
		{"patch unknown field", "PATCH", tp, `{"done":true}`, 400, ""},
		{"patch title null", "PATCH", tp, `{"title":null}`, 400, "title"},
		{"patch title wrong type", "PATCH", tp, `{"title":true}`, 400, "title"},
		{"patch status null", "PATCH", tp, `{"status":null}`, 400, "status"},
		{"patch bad status", "PATCH", tp, `{"status":"finished"}`, 400, "status"},
		{"patch priority null", "PATCH", tp, `{"priority":null}`, 400, "priority"},
		{"patch position null", "PATCH", tp, `{"position":null}`, 400, "position"},
		{"patch position wrong type", "PATCH", tp, `{"position":"top"}`, 400, "position"},
		{"patch bad due date", "PATCH", tp, `{"dueDate":"31/01/2030"}`, 400, "dueDate"},
		{"patch assignee wrong type", "PATCH", tp, `{"assigneeId":5}`, 400, "assigneeId"},
		{"patch blank title", "PATCH", tp, `{"title":" "}`, 400, "title"},
		{"patch bogus task", "PATCH", path(tl, "/nope"), `{"title":"z"}`, 404, ""},
		{"patch task of another list", "PATCH", path(tl, "/", y.ID), `{"title":"z"}`, 404, ""},
		{"delete bogus task", "DELETE", path(tl, "/", modules.NewID()), nil, 404, ""},
		{"delete task of another list", "DELETE", path(tl, "/", y.ID), nil, 404, ""},
		{"bad status filter", "GET", path(tl, "?status=open"), nil, 400, "status"},
		{"bad limit", "GET", path(tl, "?limit=-1"), nil, 400, ""},
		{"limit too big", "GET", path(tl, "?limit=1000"), nil, 400, ""},
		{"cursor garbage", "GET", path(tl, "?cursor=***"), nil, 400, ""},
		{"cursor wrong shape", "GET", path(tl, "?cursor="+cur(`{"p":"x","i":"y"}`)), nil, 400, ""},
		{"cursor missing position", "GET", path(tl, "?cursor="+cur(`{"i":"y"}`)), nil, 400, ""},
		{"cursor not an object", "GET", path(tl, "?cursor="+cur(`7`)), nil, 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := env.Do(c.method, c.path, w.Member.Token, c.body).Expect(c.want)
			if r.ErrorCode() == "" || strings.Contains(string(r.Body), "internal") {
				t.Fatalf("error body: %s", r.Body)
			}
			if c.field != "" && !strings.Contains(string(r.Body), c.field) {
				t.Fatalf("error should name %s: %s", c.field, r.Body)
			}
		})
	}
	// Nothing changed.
	l := list(t, env, w.Member, tl, "")
	if len(l.Items) != 1 || l.Items[0].Title != "x" || l.Items[0].UpdatedAt != x.UpdatedAt {
		t.Fatalf("invalid requests changed state: %+v", l.Items)
	}
}

func TestAccess(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	tl := w.Page("TASK_LIST", "sprint")
	x := create(t, env, w.Member, tl, map[string]any{"title": "x"})
	ch := w.Page("CHANNEL", "chat")
	doc := w.Page("DOCUMENT", "doc")
	gone := w.Page("TASK_LIST", "gone")
	g := create(t, env, w.Member, gone, map[string]any{"title": "g"})
	env.Trash(w.Owner, gone)
	tp := path(tl, "/", x.ID)

	cases := []struct {
		name         string
		user         apptest.User
		method, path string
		body         any
		want         int
	}{
		{"viewer lists", w.Viewer, "GET", path(tl), nil, 200},
		{"viewer cannot create", w.Viewer, "POST", path(tl), map[string]any{"title": "v"}, 403},
		{"viewer cannot update", w.Viewer, "PATCH", tp, map[string]any{"status": "done"}, 403},
		{"viewer cannot delete", w.Viewer, "DELETE", tp, nil, 403},
		{"outsider cannot list", w.Outsider, "GET", path(tl), nil, 404},
		{"outsider cannot create", w.Outsider, "POST", path(tl), map[string]any{"title": "o"}, 404},
		{"outsider cannot update", w.Outsider, "PATCH", tp, map[string]any{"status": "done"}, 404},
		{"outsider cannot delete", w.Outsider, "DELETE", tp, nil, 404},
		{"channel", w.Owner, "GET", path(ch), nil, 404},
		{"document", w.Owner, "POST", path(doc), map[string]any{"title": "d"}, 404},
		{"bogus page", w.Owner, "GET", path("bogus"), nil, 404},
		{"trashed list", w.Owner, "GET", path(gone), nil, 404},
		{"trashed update", w.Owner, "PATCH", path(gone, "/", g.ID), map[string]any{"title": "z"}, 404},
		{"no token", apptest.User{}, "POST", path(tl), map[string]any{"title": "n"}, 401},
		{"member updates", w.Member, "PATCH", tp, map[string]any{"priority": "low"}, 200},
		{"admin updates", w.Admin, "PATCH", tp, map[string]any{"priority": "medium"}, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := env.Do(c.method, c.path, c.user.Token, c.body).Expect(c.want)
			want := map[int]string{200: "", 401: "unauthorized", 403: "forbidden", 404: "not_found"}[c.want]
			if r.ErrorCode() != want {
				t.Fatalf("code %q, want %q: %s", r.ErrorCode(), want, r.Body)
			}
		})
	}
	if r := env.Do("GET", path(ch), w.Owner.Token, nil); !strings.Contains(string(r.Body), "not a task list") {
		t.Fatalf("a non-task-list page should say so: %s", r.Body)
	}
	// A view-only grant reads but does not write.
	env.Grant(w.Owner, tl, w.Outsider, true, false, false, false)
	env.Do("GET", path(tl), w.Outsider.Token, nil).Expect(200)
	env.Do("POST", path(tl), w.Outsider.Token, map[string]any{"title": "o"}).Expect(403)
}

func TestDeleteAndEvents(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	tl := w.Page("TASK_LIST", "sprint")
	after := env.LatestEvent()
	x := create(t, env, w.Member, tl, map[string]any{"title": "x", "assigneeId": w.Admin.ID, "priority": "low"})
	env.Do("DELETE", path(tl, "/", x.ID), w.Admin.Token, nil).Expect(204)
	env.Do("DELETE", path(tl, "/", x.ID), w.Admin.Token, nil).Expect(404)
	env.Do("PATCH", path(tl, "/", x.ID), w.Admin.Token, map[string]any{"title": "y"}).Expect(404)
	if l := list(t, env, w.Member, tl, ""); len(l.Items) != 0 {
		t.Fatalf("deleted task listed: %+v", l.Items)
	}

	evs := env.EventsAfter(w.Viewer, after, "task_created", "task_updated", "task_completed", "task_deleted")
	if len(evs) != 2 || evs[0].Type != "task_created" || evs[1].Type != "task_deleted" {
		t.Fatalf("events: %+v", evs)
	}
	for i, actor := range []string{w.Member.ID, w.Admin.ID} {
		p := evs[i].Payload
		tk, _ := p["task"].(map[string]any)
		as, _ := tk["assignee"].(map[string]any)
		if p["eventId"] != evs[i].EventID || p["pageId"] != tl || p["driveId"] != w.Drive || p["actorId"] != actor ||
			p["at"] == nil || tk["id"] != x.ID || tk["title"] != "x" || tk["priority"] != "low" || as["name"] != "Adam Admin" {
			t.Fatalf("event %d payload: %v", i, p)
		}
	}
	var rooms []string
	if err := env.App.DB().Raw("SELECT rooms FROM events WHERE type = 'task_deleted'").Scan(&rooms).Error; err != nil || len(rooms) != 1 {
		t.Fatalf("rooms: %v %v", rooms, err)
	}
	if rooms[0] != fmt.Sprintf(`["page:%s","drive:%s"]`, tl, w.Drive) {
		t.Fatalf("rooms %s", rooms[0])
	}
	if evs := env.EventsAfter(w.Outsider, after, "task_created", "task_deleted"); len(evs) != 0 {
		t.Fatalf("outsider sees task events: %+v", evs)
	}
}

func move(t *testing.T, env *apptest.Env, u apptest.User, pageID, taskID string, after any) task {
	t.Helper()
	var out task
	env.Do("POST", path(pageID, "/", taskID, "/move"), u.Token, map[string]any{"afterId": after}).Expect(200).JSON(&out)
	return out
}

func TestMove(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	tl := w.Page("TASK_LIST", "order")
	ids := map[string]string{}
	for _, n := range []string{"a", "b", "c", "d"} {
		ids[n] = create(t, env, w.Member, tl, map[string]any{"title": n}).ID
	}
	order := func() string { return titles(list(t, env, w.Viewer, tl, "").Items) }

	if m := move(t, env, w.Member, tl, ids["d"], nil); m.Position != 0 || order() != "d,a,b,c" {
		t.Fatalf("to the top: %v %s", m.Position, order())
	}
	if m := move(t, env, w.Member, tl, ids["d"], ids["b"]); m.Position != 2.5 || order() != "a,b,d,c" {
		t.Fatalf("after b: %v %s", m.Position, order())
	}
	if m := move(t, env, w.Member, tl, ids["a"], ids["c"]); m.Position != 4 || order() != "b,d,c,a" {
		t.Fatalf("to the end: %v %s", m.Position, order())
	}

	// A move to where the task is changes nothing and records nothing.
	after := env.LatestEvent()
	if m := move(t, env, w.Member, tl, ids["d"], ids["b"]); m.Position != 2.5 {
		t.Fatalf("no-op move: %+v", m)
	}
	if evs := env.EventsAfter(w.Viewer, after, "task_updated"); len(evs) != 0 {
		t.Fatalf("a no-op move recorded %d events", len(evs))
	}

	// Moving tasks into one gap, again and again, runs out of floats between b and the last
	// task moved there; the list is then renumbered, in order, with an event for each task
	// whose position changed.
	want := []string{"b"}
	for i := range 60 {
		x := create(t, env, w.Member, tl, map[string]any{"title": fmt.Sprintf("x%02d", i)})
		move(t, env, w.Member, tl, x.ID, ids["b"])
		want = append(want[:1], append([]string{x.Title}, want[1:]...)...)
	}
	got := list(t, env, w.Viewer, tl, "?limit=200").Items
	if g, w := titles(got), strings.Join(append(want, "d", "c", "a"), ","); g != w {
		t.Fatalf("after 60 moves into one gap:\n got %s\nwant %s", g, w)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Position <= got[i-1].Position {
			t.Fatalf("positions not increasing at %d: %v then %v", i, got[i-1].Position, got[i].Position)
		}
	}
	last := got[len(got)-1]
	if last.Title != "a" || last.Position == 4 {
		t.Fatalf("the list was never renumbered: a is at %v", last.Position)
	}
	var aMoves int
	for _, e := range env.EventsAfter(w.Viewer, after, "task_updated") {
		if e.Payload["task"].(map[string]any)["id"] == ids["a"] {
			aMoves++
		}
	}
	if aMoves == 0 {
		t.Fatal("a task renumbered without a task_updated event")
	}
}

func TestMoveRefusals(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	tl := w.Page("TASK_LIST", "order")
	other := w.Page("TASK_LIST", "other")
	a := create(t, env, w.Member, tl, map[string]any{"title": "a"})
	b := create(t, env, w.Member, tl, map[string]any{"title": "b"})
	elsewhere := create(t, env, w.Member, other, map[string]any{"title": "z"})
	mp := path(tl, "/", a.ID, "/move")
	cases := []struct {
		name string
		user apptest.User
		path string
		body any
		want int
	}{
		{"no afterId", w.Member, mp, map[string]any{}, 400},
		{"after itself", w.Member, mp, map[string]any{"afterId": a.ID}, 400},
		{"after a task of another list", w.Member, mp, map[string]any{"afterId": elsewhere.ID}, 400},
		{"after an unknown task", w.Member, mp, map[string]any{"afterId": "01HZZZZZZZZZZZZZZZZZZZZZZZ"}, 400},
		{"afterId not a string", w.Member, mp, map[string]any{"afterId": 5}, 400},
		{"viewer", w.Viewer, mp, map[string]any{"afterId": b.ID}, 403},
		{"outsider", w.Outsider, mp, map[string]any{"afterId": b.ID}, 404},
		{"unknown task", w.Member, path(tl, "/", elsewhere.ID, "/move"), map[string]any{"afterId": nil}, 404},
		{"member", w.Member, mp, map[string]any{"afterId": b.ID}, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := env.Do("POST", c.path, c.user.Token, c.body).Expect(c.want)
			if c.want == 400 && !strings.Contains(string(r.Body), "afterId") {
				t.Fatalf("the 400 does not name afterId: %s", r.Body)
			}
		})
	}
	if g := titles(list(t, env, w.Member, tl, "").Items); g != "b,a" {
		t.Fatalf("order: %s", g)
	}
}

// Moves on one list run one at a time: many at once into one gap leave every task in its own
// place (no two at one position), in the order the moves committed.
func TestConcurrentMoves(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	tl := w.Page("TASK_LIST", "busy")
	a := create(t, env, w.Member, tl, map[string]any{"title": "a"})
	create(t, env, w.Member, tl, map[string]any{"title": "b"})
	var movers []string
	for i := range 8 {
		movers = append(movers, create(t, env, w.Member, tl, map[string]any{"title": fmt.Sprintf("m%d", i)}).ID)
	}
	errs := make(chan error, len(movers))
	for _, id := range movers {
		go func() {
			st, body, err := env.Send("POST", path(tl, "/", id, "/move"), w.Member.Token, map[string]any{"afterId": a.ID})
			if err == nil && st != 200 {
				err = fmt.Errorf("move %s: %d %s", id, st, body)
			}
			errs <- err
		}()
	}
	for range movers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got := list(t, env, w.Viewer, tl, "").Items
	if len(got) != 10 || got[0].Title != "a" || got[9].Title != "b" {
		t.Fatalf("order: %s", titles(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Position <= got[i-1].Position {
			t.Fatalf("two tasks share a place: %s at %v, %s at %v", got[i-1].Title, got[i-1].Position, got[i].Title, got[i].Position)
		}
	}
}
