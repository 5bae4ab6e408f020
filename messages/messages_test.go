package messages_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/modules"
)

type msg struct {
	ID       string
	PageID   string
	ParentID *string
	Author   *struct {
		ID   string
		Name string
	}
	Content      string
	RepliesCount int
	CreatedAt    string
	UpdatedAt    string
	EditedAt     *string
	DeletedAt    *string
	Status       string
	StreamSeq    int64
	StatusReason string
}

type msgList struct {
	Items      []msg
	NextCursor *string
}

func path(pageID string, rest ...string) string {
	return "/api/pages/" + pageID + "/messages" + strings.Join(rest, "")
}

func post(t *testing.T, env *apptest.Env, u apptest.User, pageID, content string, parentID ...string) msg {
	t.Helper()
	body := map[string]any{"content": content}
	if len(parentID) > 0 {
		body["parentId"] = parentID[0]
	}
	var m msg
	env.Do("POST", path(pageID), u.Token, body).Expect(201).JSON(&m)
	return m
}

func list(t *testing.T, env *apptest.Env, u apptest.User, pageID, query string) msgList {
	t.Helper()
	var l msgList
	env.Do("GET", path(pageID, query), u.Token, nil).Expect(200).JSON(&l)
	return l
}

func ids(ms []msg) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func isWireTime(s string) bool {
	_, err := time.Parse(modules.TimeLayout, s)
	return err == nil && strings.HasSuffix(s, "Z") && len(s) == len("2006-01-02T15:04:05.000Z")
}

func TestPostAndList(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	ch := w.Page("CHANNEL", "general")

	m := post(t, w.Env, w.Member, ch, "  hello\nworld  ")
	if m.ID == "" || m.PageID != ch || m.Content != "hello\nworld" || m.ParentID != nil || m.RepliesCount != 0 ||
		m.Author == nil || m.Author.ID != w.Member.ID || m.Author.Name != "Mia Member" ||
		!isWireTime(m.CreatedAt) || m.CreatedAt != m.UpdatedAt || m.EditedAt != nil || m.DeletedAt != nil {
		t.Fatalf("created message: %+v", m)
	}
	m2 := post(t, w.Env, w.Owner, ch, "second")
	m3 := post(t, w.Env, w.Admin, ch, strings.Repeat("x", 10000))

	l := list(t, w.Env, w.Viewer, ch, "")
	if got, want := ids(l.Items), []string{m3.ID, m2.ID, m.ID}; fmt.Sprint(got) != fmt.Sprint(want) || l.NextCursor != nil {
		t.Fatalf("list: got %v next %v, want %v newest first", got, l.NextCursor, want)
	}
	if l.Items[2].Author.Name != "Mia Member" {
		t.Fatalf("author in list: %+v", l.Items[2])
	}

	// The raw JSON carries the documented field names and nulls.
	raw := w.Env.Do("GET", path(ch, "?limit=1"), w.Member.Token, nil).Expect(200).Map()
	item := raw["items"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "pageId", "parentId", "author", "content", "repliesCount", "createdAt", "updatedAt", "editedAt", "deletedAt"} {
		if _, ok := item[k]; !ok {
			t.Errorf("message JSON lacks %q: %v", k, item)
		}
	}
	if raw["nextCursor"] == nil {
		t.Fatalf("limit=1 of 3 must carry a nextCursor: %v", raw)
	}
}

func TestAccess(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	ch := w.Page("CHANNEL", "general")
	m := post(t, env, w.Member, ch, "hi")
	doc := w.Page("DOCUMENT", "notes")
	tl := w.Page("TASK_LIST", "todo")
	trashed := w.Page("CHANNEL", "old")
	old := post(t, env, w.Member, trashed, "before trash")
	env.Trash(w.Owner, trashed)
	shared := w.Page("CHANNEL", "shared")
	env.Grant(w.Owner, shared, w.Outsider, true, false, false, false)

	cases := []struct {
		name         string
		user         apptest.User
		method, path string
		body         any
		want         int
		code         string
	}{
		{"viewer reads", w.Viewer, "GET", path(ch), nil, 200, ""},
		{"viewer cannot post", w.Viewer, "POST", path(ch), map[string]any{"content": "x"}, 403, "forbidden"},
		{"viewer cannot edit", w.Viewer, "PATCH", path(ch, "/", m.ID), map[string]any{"content": "x"}, 403, "forbidden"},
		{"viewer cannot delete", w.Viewer, "DELETE", path(ch, "/", m.ID), nil, 403, "forbidden"},
		{"outsider cannot read", w.Outsider, "GET", path(ch), nil, 404, "not_found"},
		{"outsider cannot post", w.Outsider, "POST", path(ch), map[string]any{"content": "x"}, 404, "not_found"},
		{"outsider cannot edit", w.Outsider, "PATCH", path(ch, "/", m.ID), map[string]any{"content": "x"}, 404, "not_found"},
		{"outsider cannot delete", w.Outsider, "DELETE", path(ch, "/", m.ID), nil, 404, "not_found"},
		{"bogus page", w.Owner, "GET", path("nope"), nil, 404, "not_found"},
		{"bogus page post", w.Owner, "POST", path(modules.NewID()), map[string]any{"content": "x"}, 404, "not_found"},
		{"document", w.Owner, "GET", path(doc), nil, 404, "not_found"},
		{"document post", w.Member, "POST", path(doc), map[string]any{"content": "x"}, 404, "not_found"},
		{"task list", w.Owner, "GET", path(tl), nil, 404, "not_found"},
		{"trashed read", w.Owner, "GET", path(trashed), nil, 404, "not_found"},
		{"trashed post", w.Owner, "POST", path(trashed), map[string]any{"content": "x"}, 404, "not_found"},
		{"trashed delete", w.Owner, "DELETE", path(trashed, "/", old.ID), nil, 404, "not_found"},
		{"view grant reads", w.Outsider, "GET", path(shared), nil, 200, ""},
		{"view grant cannot post", w.Outsider, "POST", path(shared), map[string]any{"content": "x"}, 403, "forbidden"},
		{"no token", apptest.User{}, "GET", path(ch), nil, 401, "unauthorized"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := env.Do(c.method, c.path, c.user.Token, c.body).Expect(c.want)
			if r.ErrorCode() != c.code {
				t.Fatalf("code %q, want %q: %s", r.ErrorCode(), c.code, r.Body)
			}
		})
	}
	r := env.Do("GET", path(doc), w.Owner.Token, nil)
	if !strings.Contains(string(r.Body), "not a channel") {
		t.Fatalf("a non-channel page should say so: %s", r.Body)
	}
	// A page the caller may not see says "page not found", exactly like a page that does not exist.
	a := env.Do("GET", path(ch), w.Outsider.Token, nil)
	b := env.Do("GET", path(modules.NewID()), w.Outsider.Token, nil)
	if string(a.Body) != string(b.Body) {
		t.Fatalf("hidden and missing pages must answer alike: %s vs %s", a.Body, b.Body)
	}
}

func TestValidation(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	ch := w.Page("CHANNEL", "general")
	other := w.Page("CHANNEL", "other")
	top := post(t, env, w.Member, ch, "top")
	reply := post(t, env, w.Member, ch, "reply", top.ID)
	elsewhere := post(t, env, w.Member, other, "elsewhere")

	badJSONCursor := base64.RawURLEncoding.EncodeToString([]byte(`{"t":"x","i":1}`))
	emptyCursor := base64.RawURLEncoding.EncodeToString([]byte(`{}`))
	cases := []struct {
		name         string
		method, path string
		body         any
		want         int
	}{
		{"no body", "POST", path(ch), nil, 400},
		{"malformed", "POST", path(ch), `{"content":`, 400},
		{"not an object", "POST", path(ch), `["hi"]`, 400},
		{"wrong type", "POST", path(ch), `{"content":5}`, 400},
		{"parentId wrong type", "POST", path(ch), `{"content":"x","parentId":5}`, 400},
		{"unknown field", "POST", path(ch), `{"content":"x","pinned":true}`, 400},
		{"trailing data", "POST", path(ch), `{"content":"x"}{}`, 400},
		{"missing content", "POST", path(ch), `{}`, 400},
		{"null content", "POST", path(ch), `{"content":null}`, 400},
		{"blank content", "POST", path(ch), map[string]any{"content": " \n\t "}, 400},
		{"too long", "POST", path(ch), map[string]any{"content": strings.Repeat("é", 10001)}, 400},
		{"control chars", "POST", path(ch), map[string]any{"content": "a\x00b"}, 400},
		{"empty parentId", "POST", path(ch), map[string]any{"content": "x", "parentId": ""}, 400},
		{"bogus parentId", "POST", path(ch), map[string]any{"content": "x", "parentId": "nope"}, 400},
		{"reply to a reply", "POST", path(ch), map[string]any{"content": "x", "parentId": reply.ID}, 400},
		{"parent in another channel", "POST", path(ch), map[string]any{"content": "x", "parentId": elsewhere.ID}, 400},
		{"wrong content type", "POST", path(ch), nil, 400},
		{"edit malformed", "PATCH", path(ch, "/", top.ID), `{"content"`, 400},
		{"edit unknown field", "PATCH", path(ch, "/", top.ID), `{"content":"x","parentId":null}`, 400},
		{"edit blank", "PATCH", path(ch, "/", top.ID), map[string]any{"content": "   "}, 400},
		{"edit too long", "PATCH", path(ch, "/", top.ID), map[string]any{"content": strings.Repeat("a", 10001)}, 400},
		{"edit bogus id", "PATCH", path(ch, "/nope"), map[string]any{"content": "x"}, 404},
		{"edit message of another channel", "PATCH", path(ch, "/", elsewhere.ID), map[string]any{"content": "x"}, 404},
		{"delete bogus id", "DELETE", path(ch, "/", modules.NewID()), nil, 404},
		{"delete message of another channel", "DELETE", path(ch, "/", elsewhere.ID), nil, 404},
		{"limit zero", "GET", path(ch, "?limit=0"), nil, 400},
		{"limit too big", "GET", path(ch, "?limit=201"), nil, 400},
		{"limit not a number", "GET", path(ch, "?limit=ten"), nil, 400},
		{"cursor garbage", "GET", path(ch, "?cursor=!!!"), nil, 400},
		{"cursor not json", "GET", path(ch, "?cursor=", base64.RawURLEncoding.EncodeToString([]byte("xyz"))), nil, 400},
		{"cursor wrong types", "GET", path(ch, "?cursor=", badJSONCursor), nil, 400},
		{"cursor empty object", "GET", path(ch, "?cursor=", emptyCursor), nil, 400},
		{"thread of bogus parent", "GET", path(ch, "?parentId=nope"), nil, 404},
		{"thread of a reply", "GET", path(ch, "?parentId=", reply.ID), nil, 404},
		{"thread of another channel", "GET", path(ch, "?parentId=", elsewhere.ID), nil, 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r *apptest.Response
			if c.name == "wrong content type" {
				r = doRaw(t, env, w.Member, c.method, c.path, "text/plain", `{"content":"x"}`)
			} else {
				r = env.Do(c.method, c.path, w.Member.Token, c.body)
			}
			r.Expect(c.want)
			if r.ErrorCode() == "" || strings.Contains(string(r.Body), "internal") {
				t.Fatalf("error body: %s", r.Body)
			}
		})
	}
	r := env.Do("POST", path(ch), w.Member.Token, map[string]any{"content": strings.Repeat("a", 10001)}).Expect(400)
	if !strings.Contains(string(r.Body), `"content"`) {
		t.Fatalf("the error should name the field: %s", r.Body)
	}
	// Exactly 10,000 characters (multi-byte too) is fine, and so is a longer body that trims to it.
	post(t, env, w.Member, ch, strings.Repeat("é", 10000))
	post(t, env, w.Member, ch, "  "+strings.Repeat("a", 10000)+"\n")
	// Nothing invalid was written.
	if l := list(t, env, w.Member, ch, "?limit=200"); len(l.Items) != 3 {
		t.Fatalf("want 3 top-level messages, got %d", len(l.Items))
	}
}

func doRaw(t *testing.T, env *apptest.Env, u apptest.User, method, p, contentType, body string) *apptest.Response {
	t.Helper()
	// apptest.Do always sends JSON; this sends another content type through the same client.
	req, err := http.NewRequest(method, env.URL+p, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+u.Token)
	resp, err := env.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &apptest.Response{T: t, Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// TestPaginationWhilePosting pages through a channel while new messages keep arriving: every
// message that existed when paging began appears exactly once, newest first.
func TestPaginationWhilePosting(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	ch := w.Page("CHANNEL", "busy")
	const before = 45
	var existing []string
	for i := range before {
		existing = append(existing, post(t, env, w.Member, ch, fmt.Sprintf("old %d", i)).ID)
	}

	// One poster posts freely; another posts one message after each page, so that new messages
	// land between every two page reads whatever the scheduling.
	stop := make(chan struct{})
	step := make(chan struct{})
	stepped := make(chan struct{})
	var wg sync.WaitGroup
	var freeErr, stepErr error
	var newIDs sync.Map
	postNew := func(text string) error {
		r := env.Do("POST", path(ch), w.Admin.Token, map[string]any{"content": text})
		if r.Status != 201 {
			return fmt.Errorf("post: %d %s", r.Status, r.Body)
		}
		var m msg
		if err := json.Unmarshal(r.Body, &m); err != nil || m.ID == "" {
			return fmt.Errorf("post: body %s: %v", r.Body, err)
		}
		newIDs.Store(m.ID, true)
		return nil
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if freeErr = postNew(fmt.Sprintf("free %d", i)); freeErr != nil {
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-step:
			}
			stepErr = postNew(fmt.Sprintf("step %d", i))
			stepped <- struct{}{}
		}
	}()

	var seen []string
	cursor := ""
	pages := 0
	for {
		q := "?limit=7"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		l := list(t, env, w.Member, ch, q)
		seen = append(seen, ids(l.Items)...)
		pages++
		if l.NextCursor == nil {
			break
		}
		cursor = *l.NextCursor
		step <- struct{}{}
		<-stepped
	}
	close(stop)
	wg.Wait()
	if freeErr != nil || stepErr != nil {
		t.Fatalf("posting: %v %v", freeErr, stepErr)
	}
	if pages < before/7 {
		t.Fatalf("only %d pages", pages)
	}

	count := map[string]int{}
	var old []string
	for _, id := range seen {
		count[id]++
		if count[id] > 1 {
			t.Fatalf("message %s returned twice", id)
		}
		if _, isNew := newIDs.Load(id); !isNew {
			old = append(old, id)
		}
	}
	want := make([]string, before)
	for i, id := range existing {
		want[before-1-i] = id
	}
	if fmt.Sprint(old) != fmt.Sprint(want) {
		t.Fatalf("pre-existing messages, newest first:\n got %v\nwant %v", old, want)
	}
	total := 0
	newIDs.Range(func(any, any) bool { total++; return true })
	if total < pages-1 {
		t.Fatalf("only %d messages posted during %d pages", total, pages)
	}
}

func TestThreads(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	ch := w.Page("CHANNEL", "general")
	top := post(t, env, w.Member, ch, "question")
	other := post(t, env, w.Owner, ch, "unrelated")
	r1 := post(t, env, w.Admin, ch, "answer 1", top.ID)
	r2 := post(t, env, w.Owner, ch, "answer 2", top.ID)
	if r1.ParentID == nil || *r1.ParentID != top.ID {
		t.Fatalf("reply: %+v", r1)
	}

	l := list(t, env, w.Viewer, ch, "")
	if fmt.Sprint(ids(l.Items)) != fmt.Sprint([]string{other.ID, top.ID}) {
		t.Fatalf("top level must not list replies: %v", ids(l.Items))
	}
	if l.Items[1].RepliesCount != 2 || l.Items[0].RepliesCount != 0 {
		t.Fatalf("replies counts: %+v", l.Items)
	}
	th := list(t, env, w.Viewer, ch, "?parentId="+top.ID)
	if fmt.Sprint(ids(th.Items)) != fmt.Sprint([]string{r2.ID, r1.ID}) {
		t.Fatalf("thread: %v", ids(th.Items))
	}
	// Threads paginate like the channel.
	p1 := list(t, env, w.Viewer, ch, "?limit=1&parentId="+top.ID)
	p2 := list(t, env, w.Viewer, ch, "?limit=1&parentId="+top.ID+"&cursor="+*p1.NextCursor)
	if len(p1.Items) != 1 || p1.Items[0].ID != r2.ID || len(p2.Items) != 1 || p2.Items[0].ID != r1.ID || p2.NextCursor != nil {
		t.Fatalf("thread pages: %+v %+v", p1, p2)
	}
	if empty := list(t, env, w.Viewer, ch, "?parentId="+other.ID); len(empty.Items) != 0 || empty.NextCursor != nil {
		t.Fatalf("thread without replies: %+v", empty)
	}
}

func TestEditAndDeleteRights(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	ch := w.Page("CHANNEL", "general")
	m := post(t, env, w.Member, ch, "original")

	// Only the author edits: not another member, not even an admin or the owner.
	for _, u := range []apptest.User{w.Admin, w.Owner, w.Viewer} {
		if r := env.Do("PATCH", path(ch, "/", m.ID), u.Token, map[string]any{"content": "hijack"}).Expect(403); r.ErrorCode() != "forbidden" {
			t.Fatalf("code %s", r.ErrorCode())
		}
	}
	other := w.Env.Signup("Other Member")
	env.AddMember(w.Owner, w.Drive, other, "MEMBER")
	env.Do("PATCH", path(ch, "/", m.ID), other.Token, map[string]any{"content": "hijack"}).Expect(403)

	var e msg
	env.Do("PATCH", path(ch, "/", m.ID), w.Member.Token, map[string]any{"content": " edited "}).Expect(200).JSON(&e)
	if e.Content != "edited" || e.EditedAt == nil || !isWireTime(*e.EditedAt) || e.UpdatedAt != *e.EditedAt || e.CreatedAt != m.CreatedAt {
		t.Fatalf("edited: %+v", e)
	}
	// The same content again changes nothing.
	var same msg
	env.Do("PATCH", path(ch, "/", m.ID), w.Member.Token, map[string]any{"content": "edited"}).Expect(200).JSON(&same)
	if *same.EditedAt != *e.EditedAt {
		t.Fatalf("a no-op edit moved editedAt: %+v", same)
	}

	// Delete: another member and a viewer may not; the author, an admin and the owner may.
	byAdmin := post(t, env, w.Member, ch, "admin deletes this")
	byOwner := post(t, env, w.Member, ch, "owner deletes this")
	env.Do("DELETE", path(ch, "/", m.ID), other.Token, nil).Expect(403)
	env.Do("DELETE", path(ch, "/", m.ID), w.Viewer.Token, nil).Expect(403)
	env.Do("DELETE", path(ch, "/", m.ID), w.Member.Token, nil).Expect(204)
	env.Do("DELETE", path(ch, "/", byAdmin.ID), w.Admin.Token, nil).Expect(204)
	env.Do("DELETE", path(ch, "/", byOwner.ID), w.Owner.Token, nil).Expect(204)
	if l := list(t, env, w.Member, ch, ""); len(l.Items) != 0 {
		t.Fatalf("deleted messages without replies must be gone: %+v", l.Items)
	}
	// Gone means gone: a second delete or an edit is 404.
	env.Do("DELETE", path(ch, "/", m.ID), w.Member.Token, nil).Expect(404)
	env.Do("PATCH", path(ch, "/", m.ID), w.Member.Token, map[string]any{"content": "again"}).Expect(404)

	// An author demoted to VIEWER can no longer edit or delete their messages.
	mine := post(t, env, other, ch, "mine")
	env.SetRole(w.Owner, w.Drive, other, "VIEWER")
	env.Do("PATCH", path(ch, "/", mine.ID), other.Token, map[string]any{"content": "x"}).Expect(403)
	env.Do("DELETE", path(ch, "/", mine.ID), other.Token, nil).Expect(403)
}

// TestDeleteKeepsThreads: deleting a message with replies leaves a tombstone that keeps its
// thread; the tombstone goes when its last reply does.
func TestDeleteKeepsThreads(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	ch := w.Page("CHANNEL", "general")
	top := post(t, env, w.Member, ch, "question")
	r1 := post(t, env, w.Admin, ch, "answer 1", top.ID)
	r2 := post(t, env, w.Owner, ch, "answer 2", top.ID)

	env.Do("DELETE", path(ch, "/", top.ID), w.Member.Token, nil).Expect(204)
	l := list(t, env, w.Viewer, ch, "")
	if len(l.Items) != 1 {
		t.Fatalf("tombstone missing: %+v", l.Items)
	}
	ts := l.Items[0]
	if ts.ID != top.ID || ts.Content != "" || ts.DeletedAt == nil || !isWireTime(*ts.DeletedAt) || ts.RepliesCount != 2 {
		t.Fatalf("tombstone: %+v", ts)
	}
	if th := list(t, env, w.Viewer, ch, "?parentId="+top.ID); len(th.Items) != 2 {
		t.Fatalf("replies of a tombstone must stay: %+v", th.Items)
	}
	// A tombstone cannot be edited, deleted again or replied to.
	env.Do("PATCH", path(ch, "/", top.ID), w.Member.Token, map[string]any{"content": "x"}).Expect(404)
	env.Do("DELETE", path(ch, "/", top.ID), w.Owner.Token, nil).Expect(404)
	env.Do("POST", path(ch), w.Member.Token, map[string]any{"content": "x", "parentId": top.ID}).Expect(400)

	// Removing the replies removes the tombstone with the last one.
	env.Do("DELETE", path(ch, "/", r1.ID), w.Admin.Token, nil).Expect(204)
	if l := list(t, env, w.Viewer, ch, ""); len(l.Items) != 1 || l.Items[0].RepliesCount != 1 {
		t.Fatalf("after first reply: %+v", l.Items)
	}
	env.Do("DELETE", path(ch, "/", r2.ID), w.Owner.Token, nil).Expect(204)
	if l := list(t, env, w.Viewer, ch, ""); len(l.Items) != 0 {
		t.Fatalf("tombstone without replies must go: %+v", l.Items)
	}
	env.Do("GET", path(ch, "?parentId="+top.ID), w.Viewer.Token, nil).Expect(404)

	// Deleting a reply under a live parent leaves the parent alone.
	p := post(t, env, w.Member, ch, "live")
	rr := post(t, env, w.Member, ch, "reply", p.ID)
	env.Do("DELETE", path(ch, "/", rr.ID), w.Member.Token, nil).Expect(204)
	if l := list(t, env, w.Viewer, ch, ""); len(l.Items) != 1 || l.Items[0].ID != p.ID || l.Items[0].RepliesCount != 0 || l.Items[0].DeletedAt != nil {
		t.Fatalf("live parent: %+v", l.Items)
	}
}

// TestConcurrentReplyAndDelete races replies against deleting their parent: a reply either
// lands (and the parent becomes a tombstone) or is refused; no reply is ever lost.
func TestConcurrentReplyAndDelete(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	ch := w.Page("CHANNEL", "general")
	for round := range 8 {
		top := post(t, env, w.Member, ch, fmt.Sprintf("round %d", round))
		var wg sync.WaitGroup
		statuses := make([]int, 4)
		start := make(chan struct{})
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if i == 0 {
					statuses[i] = env.Do("DELETE", path(ch, "/", top.ID), w.Member.Token, nil).Status
					return
				}
				statuses[i] = env.Do("POST", path(ch), w.Admin.Token, map[string]any{"content": "re", "parentId": top.ID}).Status
			}()
		}
		close(start)
		wg.Wait()
		if statuses[0] != 204 {
			t.Fatalf("delete: %d", statuses[0])
		}
		replies := 0
		for _, s := range statuses[1:] {
			switch s {
			case 201:
				replies++
			case 400:
			default:
				t.Fatalf("reply status %d", s)
			}
		}
		r := env.Do("GET", path(ch, "?parentId="+top.ID), w.Member.Token, nil)
		if replies == 0 {
			r.Expect(404)
			continue
		}
		var th msgList
		r.Expect(200).JSON(&th)
		if len(th.Items) != replies {
			t.Fatalf("round %d: %d replies accepted, %d listed", round, replies, len(th.Items))
		}
	}
}

func TestEvents(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	ch := w.Page("CHANNEL", "general")
	after := env.LatestEvent()

	top := post(t, env, w.Member, ch, "hello")
	reply := post(t, env, w.Admin, ch, "hi back", top.ID)
	env.Do("PATCH", path(ch, "/", top.ID), w.Member.Token, map[string]any{"content": "hello!"}).Expect(200)
	env.Do("DELETE", path(ch, "/", top.ID), w.Owner.Token, nil).Expect(204)
	env.Do("DELETE", path(ch, "/", reply.ID), w.Admin.Token, nil).Expect(204)

	types := []string{"new_message", "message_updated", "message_deleted"}
	evs := env.EventsAfter(w.Viewer, after, types...)
	var got []string
	for _, e := range evs {
		got = append(got, e.Type)
	}
	want := []string{"new_message", "new_message", "message_updated", "message_deleted", "message_deleted", "message_deleted"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("event types %v, want %v", got, want)
	}
	actors := []string{w.Member.ID, w.Admin.ID, w.Member.ID, w.Owner.ID, w.Admin.ID, w.Admin.ID}
	msgIDs := []string{top.ID, reply.ID, top.ID, top.ID, reply.ID, top.ID}
	removed := []any{nil, nil, nil, false, true, true}
	for i, e := range evs {
		p := e.Payload
		if p["pageId"] != ch || p["driveId"] != w.Drive || p["actorId"] != actors[i] || p["eventId"] != e.EventID || p["type"] != e.Type {
			t.Fatalf("event %d envelope: %v", i, p)
		}
		m, _ := p["message"].(map[string]any)
		if m == nil || m["id"] != msgIDs[i] || m["pageId"] != ch {
			t.Fatalf("event %d message: %v", i, p)
		}
		if p["removed"] != removed[i] {
			t.Fatalf("event %d removed = %v, want %v", i, p["removed"], removed[i])
		}
	}
	newMsg := evs[0].Payload["message"].(map[string]any)
	author, _ := newMsg["author"].(map[string]any)
	if newMsg["content"] != "hello" || author["id"] != w.Member.ID || author["name"] != "Mia Member" {
		t.Fatalf("new_message payload: %v", newMsg)
	}
	if up := evs[2].Payload["message"].(map[string]any); up["content"] != "hello!" || up["editedAt"] == nil {
		t.Fatalf("message_updated payload: %v", up)
	}
	if del := evs[3].Payload["message"].(map[string]any); del["content"] != "" || del["deletedAt"] == nil || del["repliesCount"] != 1.0 {
		t.Fatalf("message_deleted (tombstone) payload: %v", del)
	}
	if rp := evs[1].Payload["message"].(map[string]any); rp["parentId"] != top.ID {
		t.Fatalf("reply payload: %v", rp)
	}

	// The events log keeps the rooms: page:<id> and drive:<id>.
	var rooms []string
	if err := env.App.DB().Raw("SELECT rooms FROM events WHERE type = 'new_message' ORDER BY id LIMIT 1").Scan(&rooms).Error; err != nil || len(rooms) != 1 {
		t.Fatalf("rooms: %v %v", rooms, err)
	}
	if rooms[0] != fmt.Sprintf(`["page:%s","drive:%s"]`, ch, w.Drive) {
		t.Fatalf("rooms %s", rooms[0])
	}

	// A non-member sees none of them; failed writes record nothing.
	if evs := env.EventsAfter(w.Outsider, after, types...); len(evs) != 0 {
		t.Fatalf("outsider sees %d message events", len(evs))
	}
	mark := env.LatestEvent()
	env.Do("POST", path(ch), w.Viewer.Token, map[string]any{"content": "nope"}).Expect(403)
	env.Do("POST", path(ch), w.Member.Token, map[string]any{"content": ""}).Expect(400)
	if evs := env.EventsAfter(w.Owner, mark, types...); len(evs) != 0 {
		t.Fatalf("failed writes recorded events: %+v", evs)
	}
}
