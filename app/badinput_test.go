package app_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/pagespace/pagespace/app/apptest"
)

// route is one REST route with the string inputs a client controls: path parameters (written
// {name} in path), query parameters and body fields. body is a valid body that the bad value
// goes into, one field at a time.
type route struct {
	method, path string
	public       bool
	query        []string
	body         map[string]any
	fields       []string
	// overlong is the length that exceeds every limit of the body's fields (default 20,000).
	overlong int
	// ok, when set, is the status the route answers to body as it is, checked after the bad
	// values so that their refusal is known to come from the bad value.
	ok int
}

// badValue is a string no route may accept, as a URL-escaped path or query value and as a raw
// JSON string literal (so that invalid UTF-8 reaches the server as it is, not as U+FFFD).
type badValue struct {
	name     string
	url      string
	json     func(overlong int) string
	overlong bool
}

var badValues = []badValue{
	{name: "NUL", url: "a%00b", json: func(int) string { return `"a\u0000b"` }},
	{name: "raw NUL in URL", url: "%00"},
	{name: "invalid UTF-8", url: "a%ffb", json: func(int) string { return "\"a\xffb\"" }},
	{name: "truncated UTF-8", url: "a%e2%82", json: func(int) string { return "\"a\xe2\x82\"" }},
	{name: "lone surrogate escape", json: func(int) string { return `"a\ud800b"` }},
	{name: "overlong", url: strings.Repeat("x", 5000), overlong: true,
		json: func(n int) string { return `"` + strings.Repeat("x", n) + `"` }},
}

// everyRoute makes a world with something of every kind in it and returns the routes of the
// API with their inputs, and the ids that fill their path parameters.
func everyRoute(env *apptest.Env) (*apptest.World, map[string]string, []route) {
	w := env.NewWorld()
	doc := w.Page("DOCUMENT", "doc")
	ch := w.Page("CHANNEL", "chat")
	tl := w.Page("TASK_LIST", "todo")
	msg := env.Do("POST", "/api/pages/"+ch+"/messages", w.Owner.Token, map[string]any{"content": "hi"}).Expect(201).ID()
	task := env.Do("POST", "/api/pages/"+tl+"/tasks", w.Owner.Token, map[string]any{"title": "t"}).Expect(201).ID()
	ids := map[string]string{"driveId": w.Drive, "pageId": doc, "channelId": ch, "taskListId": tl,
		"messageId": msg, "taskId": task, "userId": w.Member.ID, "revision": "1"}

	folder := w.Page("FOLDER", "folder")
	newcomers := []apptest.User{env.Signup("New One"), env.Signup("New Two")}
	taskBody := map[string]any{"title": "t", "description": "d", "status": "todo", "priority": "low",
		"assigneeId": w.Owner.ID, "dueDate": "2030-01-02T00:00:00Z"}
	taskFields := []string{"title", "description", "status", "priority", "assigneeId", "dueDate"}

	page := []string{"limit", "cursor"}
	routes := []route{
		{method: "POST", path: "/api/auth/signup", public: true, ok: 201,
			body: map[string]any{"email": "new@example.com", "password": "correct horse", "name": "New"}, fields: []string{"email", "password", "name"}},
		{method: "POST", path: "/api/auth/login", public: true, ok: 200,
			body: map[string]any{"email": w.Owner.Email, "password": "correct horse"}, fields: []string{"email", "password"}},
		{method: "POST", path: "/api/auth/refresh", public: true, ok: 200,
			body: map[string]any{"refreshToken": w.Viewer.RefreshToken}, fields: []string{"refreshToken"}},
		{method: "POST", path: "/api/auth/logout", public: true, ok: 204, body: map[string]any{"refreshToken": "x"}, fields: []string{"refreshToken"}},
		{method: "DELETE", path: "/api/auth/me", body: map[string]any{"password": "wrong password"}, fields: []string{"password"}},

		{method: "GET", path: "/api/drives", query: page},
		{method: "POST", path: "/api/drives", ok: 201, body: map[string]any{"name": "D"}, fields: []string{"name"}},
		{method: "GET", path: "/api/drives/{driveId}"},
		{method: "PATCH", path: "/api/drives/{driveId}", ok: 200, body: map[string]any{"name": "D"}, fields: []string{"name"}},
		{method: "DELETE", path: "/api/drives/{driveId}"},
		{method: "GET", path: "/api/drives/{driveId}/members", query: page},
		{method: "POST", path: "/api/drives/{driveId}/members", ok: 201,
			body: map[string]any{"userId": newcomers[0].ID, "role": "VIEWER"}, fields: []string{"userId", "role"}},
		{method: "POST", path: "/api/drives/{driveId}/members", ok: 201,
			body: map[string]any{"email": newcomers[1].Email, "role": "VIEWER"}, fields: []string{"email"}},
		{method: "PATCH", path: "/api/drives/{driveId}/members/{userId}", ok: 200, body: map[string]any{"role": "VIEWER"}, fields: []string{"role"}},
		{method: "DELETE", path: "/api/drives/{driveId}/members/{userId}"},
		{method: "GET", path: "/api/pages/{pageId}/permissions", query: page},
		{method: "PUT", path: "/api/pages/{pageId}/permissions/{userId}", ok: 201,
			body:   map[string]any{"canView": true, "canEdit": false, "canShare": false, "canDelete": false, "expiresAt": "2999-01-01T00:00:00Z"},
			fields: []string{"expiresAt"}},
		{method: "DELETE", path: "/api/pages/{pageId}/permissions/{userId}"},
		{method: "GET", path: "/api/events", query: []string{"after", "limit", "cursor"}},

		{method: "GET", path: "/api/drives/{driveId}/pages", query: page},
		{method: "POST", path: "/api/drives/{driveId}/pages", ok: 201,
			body: map[string]any{"title": "t", "type": "DOCUMENT", "parentId": folder, "content": "c"}, fields: []string{"title", "type", "parentId"}},
		{method: "POST", path: "/api/drives/{driveId}/pages", overlong: 1<<20 + 1, ok: 201,
			body: map[string]any{"title": "t", "type": "DOCUMENT", "content": "c"}, fields: []string{"content"}},
		{method: "GET", path: "/api/drives/{driveId}/trash", query: page},
		{method: "GET", path: "/api/pages/{pageId}", query: []string{"includeTrashed"}},
		{method: "PATCH", path: "/api/pages/{pageId}", ok: 200, body: map[string]any{"title": "t"}, fields: []string{"title"}},
		{method: "PATCH", path: "/api/pages/{pageId}", overlong: 1<<20 + 1, ok: 200, body: map[string]any{"content": "c"}, fields: []string{"content"}},
		{method: "DELETE", path: "/api/pages/{pageId}", query: []string{"permanent"}},
		{method: "POST", path: "/api/pages/{pageId}/move", ok: 200, body: map[string]any{"parentId": folder, "position": 1}, fields: []string{"parentId"}},
		{method: "POST", path: "/api/pages/{pageId}/restore"},
		{method: "GET", path: "/api/pages/{pageId}/revisions", query: page},
		{method: "GET", path: "/api/pages/{pageId}/revisions/{revision}"},

		{method: "GET", path: "/api/pages/{channelId}/messages", query: []string{"parentId", "limit", "cursor"}},
		{method: "POST", path: "/api/pages/{channelId}/messages", ok: 201,
			body: map[string]any{"content": "c", "parentId": msg}, fields: []string{"content", "parentId"}},
		{method: "PATCH", path: "/api/pages/{channelId}/messages/{messageId}", ok: 200, body: map[string]any{"content": "c"}, fields: []string{"content"}},
		{method: "DELETE", path: "/api/pages/{channelId}/messages/{messageId}"},

		{method: "GET", path: "/api/pages/{taskListId}/tasks", query: []string{"status", "assigneeId", "limit", "cursor"}},
		{method: "POST", path: "/api/pages/{taskListId}/tasks", ok: 201, body: taskBody, fields: taskFields},
		{method: "PATCH", path: "/api/pages/{taskListId}/tasks/{taskId}", ok: 200, body: taskBody, fields: taskFields},
		{method: "DELETE", path: "/api/pages/{taskListId}/tasks/{taskId}"},
	}
	return w, ids, routes
}

// TestBadInputEveryRoute sends NUL, invalid UTF-8, unpaired surrogates and overlong strings in
// every string input of every route, and every body key in another case and twice, on the
// database the tests run on: each must get a 4xx JSON error, never a 500 (PostgreSQL refuses
// NUL and invalid UTF-8 in text, where SQLite stores them).
func TestBadInputEveryRoute(t *testing.T) {
	env := apptest.Start(t)
	w, ids, routes := everyRoute(env)

	// check sends one request and requires a 4xx JSON error; want, when set, is the exact code.
	check := func(t *testing.T, rt route, path string, body any, wantStatus int, wantCode string) {
		t.Helper()
		token := w.Owner.Token
		if rt.public {
			token = ""
		}
		r := env.Do(rt.method, path, token, body)
		code := r.ErrorCode()
		if r.Status < 400 || r.Status > 499 || code == "" || !json.Valid(r.Body) {
			t.Fatalf("status %d, body %.300s: want a 4xx JSON error", r.Status, r.Body)
		}
		if wantStatus != 0 && (r.Status != wantStatus || code != wantCode) {
			t.Fatalf("status %d %s, want %d %s; body %.300s", r.Status, code, wantStatus, wantCode, r.Body)
		}
	}
	expand := func(path, bad, value string) string {
		for name, id := range ids {
			v := id
			if name == bad {
				v = value
			}
			path = strings.ReplaceAll(path, "{"+name+"}", v)
		}
		return path
	}

	for _, rt := range routes {
		rt := rt
		for name := range ids {
			if !strings.Contains(rt.path, "{"+name+"}") {
				continue
			}
			for _, bv := range badValues {
				if bv.url == "" {
					continue
				}
				t.Run(rt.method+" "+rt.path+" path "+name+" "+bv.name, func(t *testing.T) {
					check(t, rt, expand(rt.path, name, bv.url), rt.body, 404, "not_found")
				})
			}
		}
		for _, q := range rt.query {
			for _, bv := range badValues {
				if bv.url == "" {
					continue
				}
				t.Run(rt.method+" "+rt.path+" query "+q+" "+bv.name, func(t *testing.T) {
					check(t, rt, expand(rt.path, "", "")+"?"+url.QueryEscape(q)+"="+bv.url, rt.body, 400, "invalid_request")
				})
			}
		}
		for _, f := range rt.fields {
			for _, bv := range badValues {
				if bv.json == nil {
					continue
				}
				t.Run(rt.method+" "+rt.path+" body "+f+" "+bv.name, func(t *testing.T) {
					n := rt.overlong
					if n == 0 {
						n = 20000
					}
					const marker = "\"bad-value-marker\""
					body := map[string]any{}
					for k, v := range rt.body {
						body[k] = v
					}
					body[f] = "bad-value-marker"
					raw, _ := json.Marshal(body)
					raw = bytes.Replace(raw, []byte(marker), []byte(bv.json(n)), 1)
					if bv.overlong {
						check(t, rt, expand(rt.path, "", ""), raw, 0, "")
					} else {
						check(t, rt, expand(rt.path, "", ""), raw, 400, "invalid_request")
					}
				})
			}
		}
		// Keys match exactly (encoding/json alone would take "Title" for "title") and once.
		for key := range rt.body {
			t.Run(rt.method+" "+rt.path+" body key "+key+" in another case", func(t *testing.T) {
				body := map[string]any{}
				for k, v := range rt.body {
					body[k] = v
				}
				delete(body, key)
				body[strings.ToUpper(key[:1])+key[1:]] = rt.body[key]
				check(t, rt, expand(rt.path, "", ""), body, 400, "invalid_request")
			})
			t.Run(rt.method+" "+rt.path+" body key "+key+" twice", func(t *testing.T) {
				raw, _ := json.Marshal(rt.body)
				v, _ := json.Marshal(rt.body[key])
				raw = append(append(append(raw[:len(raw)-1], `,"`+key+`":`...), v...), '}')
				check(t, rt, expand(rt.path, "", ""), raw, 400, "invalid_request")
			})
		}
		if rt.ok != 0 {
			t.Run(rt.method+" "+rt.path+" good body", func(t *testing.T) {
				token := w.Owner.Token
				if rt.public {
					token = ""
				}
				if r := env.Do(rt.method, expand(rt.path, "", ""), token, rt.body); r.Status != rt.ok {
					t.Fatalf("status %d, want %d; body %.300s", r.Status, rt.ok, r.Body)
				}
			})
		}
	}
}

// TestMalformedCursors takes a real cursor from every list that pages with one, and sends it
// changed in every way EncodeCursor could not have made it: another JSON shape, a field missing,
// extra, repeated, renamed or of the wrong type, a string that is not id-shaped, bad base64.
// Each gets 400 invalid_request; the cursor as it came still works.
func TestMalformedCursors(t *testing.T) {
	env := apptest.Start(t)
	w := env.NewWorld()
	env.CreateDrive(w.Owner, "second")
	doc := w.Page("DOCUMENT", "doc")
	for _, title := range []string{"one", "two"} {
		env.Do("PATCH", "/api/pages/"+doc, w.Owner.Token, map[string]any{"title": title}).Expect(200)
		env.Trash(w.Owner, w.Page("DOCUMENT", title))
	}
	env.Grant(w.Owner, doc, w.Outsider, true, false, false, false)
	env.Grant(w.Owner, doc, env.Signup("Grantee"), true, false, false, false)
	ch := w.Page("CHANNEL", "chat")
	tl := w.Page("TASK_LIST", "todo")
	for i := range 2 {
		env.Do("POST", "/api/pages/"+ch+"/messages", w.Owner.Token, map[string]any{"content": "m"}).Expect(201)
		env.Do("POST", "/api/pages/"+tl+"/tasks", w.Owner.Token, map[string]any{"title": "t", "position": i}).Expect(201)
	}
	lists := map[string]string{
		"drives":    "/api/drives",
		"members":   "/api/drives/" + w.Drive + "/members",
		"grants":    "/api/pages/" + doc + "/permissions",
		"tree":      "/api/drives/" + w.Drive + "/pages",
		"trash":     "/api/drives/" + w.Drive + "/trash",
		"revisions": "/api/pages/" + doc + "/revisions",
		"messages":  "/api/pages/" + ch + "/messages",
		"tasks":     "/api/pages/" + tl + "/tasks",
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, list := range lists {
		t.Run(name, func(t *testing.T) {
			var first struct{ NextCursor *string }
			r := env.Do("GET", list+"?limit=1", w.Owner.Token, nil)
			if err := json.Unmarshal(r.Body, &first); r.Status != 200 || err != nil || first.NextCursor == nil {
				t.Fatalf("first page: %d %s", r.Status, r.Body)
			}
			good := *first.NextCursor
			plain, err := base64.RawURLEncoding.DecodeString(good)
			if err != nil {
				t.Fatalf("cursor %q: %v", good, err)
			}
			var fields map[string]any
			if err := json.Unmarshal(plain, &fields); err != nil {
				t.Fatalf("cursor %s: %v", plain, err)
			}
			with := func(change func(m map[string]any)) string {
				m := map[string]any{}
				for k, v := range fields {
					m[k] = v
				}
				change(m)
				b, _ := json.Marshal(m)
				return enc(string(b))
			}
			bad := map[string]string{
				"empty object": enc("{}"), "array": enc("[]"), "null": enc("null"), "string": enc(`"x"`),
				"number": enc("1"), "trailing value": enc(string(plain) + "{}"),
				"invalid UTF-8": enc(strings.Replace(string(plain), `"`, "\"\xff", 1)),
				"extra field":   with(func(m map[string]any) { m["x"] = 1 }),
				"padded base64": good + "==", "standard base64": base64.StdEncoding.EncodeToString(plain) + "+/",
			}
			for k, v := range fields {
				bad["no "+k] = with(func(m map[string]any) { delete(m, k) })
				bad[k+" renamed"] = with(func(m map[string]any) { delete(m, k); m[strings.ToUpper(k)] = v })
				bad[k+" twice"] = enc(strings.TrimSuffix(string(plain), "}") + `,"` + k + `":` + string(must(json.Marshal(v))) + "}")
				if _, isString := v.(string); isString {
					bad[k+" a number"] = with(func(m map[string]any) { m[k] = 5 })
					bad[k+" with a control character"] = with(func(m map[string]any) { m[k] = "a\x01b" })
					bad[k+" with NUL"] = with(func(m map[string]any) { m[k] = "a\x00b" })
					bad[k+" overlong"] = with(func(m map[string]any) { m[k] = strings.Repeat("x", 300) })
				} else {
					bad[k+" a string"] = with(func(m map[string]any) { m[k] = "5" })
					bad[k+" an object"] = with(func(m map[string]any) { m[k] = map[string]any{} })
				}
			}
			for name, c := range bad {
				r := env.Do("GET", list+"?limit=1&cursor="+url.QueryEscape(c), w.Owner.Token, nil)
				if r.Status != 400 || r.ErrorCode() != "invalid_request" {
					t.Errorf("%s (%s): status %d, body %.200s; want 400 invalid_request", name, c, r.Status, r.Body)
				}
			}
			if r := env.Do("GET", list+"?limit=1&cursor="+url.QueryEscape(good), w.Owner.Token, nil); r.Status != 200 {
				t.Errorf("good cursor: %d %s", r.Status, r.Body)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
