package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// apiError is a refusal of the API: the status and the error body (docs/api.md, Errors).
type apiError struct {
	Status  int
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

// codeOf is the error code of err when the API refused ("" for any other error).
func codeOf(err error) string {
	var e *apiError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// client calls the REST API with the agent's key.
type client struct {
	base string // e.g. http://localhost:8080
	key  string
	http *http.Client
}

// call sends body (nil for none) as JSON and decodes a 2xx answer into out (nil to drop it).
func (c *client) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct{ Error apiError }
		_ = json.Unmarshal(data, &e)
		e.Error.Status = resp.StatusCode
		return &e.Error
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, out)
}

// user is who the key signs in as.
type user struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// me returns the agent itself.
func (c *client) me(ctx context.Context) (user, error) {
	var u user
	return u, c.call(ctx, "GET", "/api/auth/me", nil, &u)
}

// drives returns the ids of the drives the agent sees (an agent has one).
func (c *client) drives(ctx context.Context) ([]string, error) {
	var ids []string
	cursor := ""
	for {
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor *string `json:"nextCursor"`
		}
		path := "/api/drives?limit=200"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := c.call(ctx, "GET", path, nil, &page); err != nil {
			return nil, err
		}
		for _, d := range page.Items {
			ids = append(ids, d.ID)
		}
		if page.NextCursor == nil {
			return ids, nil
		}
		cursor = *page.NextCursor
	}
}

// message is the part of a message the agent reads.
type message struct {
	ID       string  `json:"id"`
	PageID   string  `json:"pageId"`
	ParentID *string `json:"parentId"`
	Author   *user   `json:"author"`
	Content  string  `json:"content"`
	Status   string  `json:"status"`
}

// startStream starts a streamed message in pageId (a reply in the thread of parentID, if set).
func (c *client) startStream(ctx context.Context, pageID string, parentID *string) (message, error) {
	var m message
	body := map[string]any{}
	if parentID != nil {
		body["parentId"] = *parentID
	}
	return m, c.call(ctx, "POST", "/api/pages/"+url.PathEscape(pageID)+"/messages/streams", body, &m)
}

// chunk sends chunk seq of a streamed message over REST. A lost connection or a rate limit is
// retried (the same seq again is harmless: the server answers it as a duplicate); a refusal is
// returned (stream_ended when someone stopped it).
func (c *client) chunk(ctx context.Context, m message, seq int, text string) error {
	path := "/api/pages/" + url.PathEscape(m.PageID) + "/messages/" + url.PathEscape(m.ID) + "/chunks"
	wait := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := c.call(ctx, "POST", path, map[string]any{"seq": seq, "text": text}, nil)
		var refused *apiError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &refused) && refused.Code == "rate_limited":
			if ms, ok := refused.Details["retryAfterMs"].(float64); ok {
				wait = time.Duration(ms) * time.Millisecond
			}
		case errors.As(err, &refused), ctx.Err() != nil, attempt == 5:
			return err
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// end completes the streamed message m with seq chunks, or fails it with reason when reason is
// not "".
func (c *client) end(ctx context.Context, m message, seq int, reason string) error {
	base := "/api/pages/" + url.PathEscape(m.PageID) + "/messages/" + url.PathEscape(m.ID)
	if reason != "" {
		return c.call(ctx, "POST", base+"/fail", map[string]any{"reason": reason}, nil)
	}
	return c.call(ctx, "POST", base+"/complete", map[string]any{"seq": seq}, nil)
}

// sleep waits for d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
