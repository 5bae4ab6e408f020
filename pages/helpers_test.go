package pages_test

import (
	"net/url"
	"testing"

	"github.com/pagespace/pagespace/app/apptest"
)

// page is a decoded page body.
type page struct {
	ID        string  `json:"id"`
	ParentID  *string `json:"parentId"`
	DriveID   string  `json:"driveId"`
	Title     string  `json:"title"`
	Type      string  `json:"type"`
	Position  float64 `json:"position"`
	IsPrivate bool    `json:"isPrivate"`
	Content   string  `json:"content"`
	Revision  int64   `json:"revision"`
	CreatedAt string  `json:"createdAt"`
	UpdatedAt string  `json:"updatedAt"`
	TrashedAt *string `json:"trashedAt"`
	Detached  bool    `json:"detached"`
	PageCount int64   `json:"pageCount"`
	Access    struct{ CanView, CanEdit, CanShare, CanDelete bool }
}

type list struct {
	Items      []page  `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

func getPage(t *testing.T, env *apptest.Env, u apptest.User, id string) page {
	t.Helper()
	var p page
	env.Do("GET", "/api/pages/"+id, u.Token, nil).Expect(200).JSON(&p)
	return p
}

func create(t *testing.T, env *apptest.Env, u apptest.User, driveID string, body map[string]any) page {
	t.Helper()
	var p page
	env.Do("POST", "/api/drives/"+driveID+"/pages", u.Token, body).Expect(201).JSON(&p)
	return p
}

// tree returns the whole visible tree, following cursors.
func tree(t *testing.T, env *apptest.Env, u apptest.User, driveID string) []page {
	t.Helper()
	var out []page
	cursor := ""
	for {
		var l list
		env.Do("GET", "/api/drives/"+driveID+"/pages?limit=200&cursor="+url.QueryEscape(cursor), u.Token, nil).Expect(200).JSON(&l)
		out = append(out, l.Items...)
		if l.NextCursor == nil {
			return out
		}
		cursor = *l.NextCursor
	}
}

func ids(ps []page) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

// findEvents returns the events of a type about a page.
func findEvents(evs []apptest.Event, typ, pageID string) []apptest.Event {
	var out []apptest.Event
	for _, e := range evs {
		if e.Type == typ && e.Payload["pageId"] == pageID {
			out = append(out, e)
		}
	}
	return out
}

// count returns how many rows of table match where.
func count(t *testing.T, env *apptest.Env, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := env.App.DB().Table(table).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
