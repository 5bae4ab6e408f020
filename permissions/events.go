package permissions

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
)

// maxScan bounds how many of the caller's candidate events one /api/events request reads (those
// of the caller's drives and rooms, which their Audience may still refuse, e.g. private pages);
// the cursor lets it go on.
const maxScan = 2000

// Audience is where userID's events are: the drives in which the user may see something (as a
// member, or through a grant on one of its pages, expired or not: the Audience of each event
// decides) and the rooms
// that events reach the user by (the user's own and the member drives'). Two indexed queries,
// whatever the size of the log.
func (r *Resolver) Audience(ctx context.Context, userID string) (eventlog.Audience, error) {
	db := r.db.WithContext(ctx)
	var member, granted []string
	if err := db.Model(&Member{}).Where("user_id = ?", userID).Pluck("drive_id", &member).Error; err != nil {
		return eventlog.Audience{}, fmt.Errorf("permissions: audience: %w", err)
	}
	if err := db.Model(&pageNode{}).Distinct("drive_id").
		Where("id IN (?)", db.Model(&Grant{}).Select("page_id").Where("user_id = ?", userID)).
		Pluck("drive_id", &granted).Error; err != nil {
		return eventlog.Audience{}, fmt.Errorf("permissions: audience: %w", err)
	}
	a := eventlog.Audience{Rooms: []modules.Room{modules.UserRoom(userID)}}
	for _, d := range member {
		a.Rooms = append(a.Rooms, modules.DriveRoom(d))
	}
	a.Drives = append(member, granted...)
	slices.Sort(a.Drives)
	a.Drives = slices.Compact(a.Drives)
	return a, nil
}

// EventsHandler serves GET /api/events.
type EventsHandler struct {
	log *eventlog.Log
	r   *Resolver
}

// NewEventsHandler returns the handler.
func NewEventsHandler(log *eventlog.Log, r *Resolver) *EventsHandler {
	return &EventsHandler{log: log, r: r}
}

var _ modules.Module = (*EventsHandler)(nil)

// Mount registers the route.
func (h *EventsHandler) Mount(r modules.Routes) { r.Authed.GET("/events", h.list) }

type eventItem struct {
	EventID string          `json:"eventId"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

type eventList struct {
	Items      []eventItem `json:"items"`
	NextCursor *string     `json:"nextCursor"`
	// LastEventID is the last event id read, seen or not: poll again with after=lastEventId.
	LastEventID string `json:"lastEventId"`
	// LatestEventID is the newest event id in the log, seen or not.
	LatestEventID string `json:"latestEventId"`
}

func (h *EventsHandler) list(c echo.Context) error {
	ctx := c.Request().Context()
	page, err := modules.ParsePage(c)
	if err != nil {
		return err
	}
	after := int64(0)
	raw := c.QueryParam("after")
	if page.Cursor != "" {
		raw = page.Cursor
	}
	if raw != "" {
		after, err = strconv.ParseInt(raw, 10, 64)
		if err != nil || after < 0 {
			return modules.Invalid("after must be an eventId (a decimal number)", nil)
		}
	}
	latest, err := h.log.Latest(ctx)
	if err != nil {
		return err
	}
	if after > latest && latest > 0 {
		return modules.Invalid("after is beyond the newest event", map[string]any{"latestEventId": strconv.FormatInt(latest, 10)})
	}
	if after > 0 {
		oldest, err := h.log.Oldest(ctx)
		if err != nil {
			return err
		}
		// An empty log with after > 0 means everything was pruned (ids are never reused).
		if oldest > after+1 || (oldest == 0 && latest == 0) {
			return (&modules.Error{Kind: modules.KindConflict, Code: "events_expired",
				Message: "events after this id are past retention; refetch state over REST"}).
				WithDetails(map[string]any{"oldestEventId": strconv.FormatInt(oldest, 10)})
		}
	}
	userID := modules.UserID(ctx)
	audience, err := h.r.Audience(ctx, userID)
	if err != nil {
		return err
	}
	views := h.r.Views(userID)
	out := eventList{Items: []eventItem{}}
	scanned, cursor := 0, after
	// Only the events of the caller's drives and rooms are read (eventlog.Log.For), so the cost
	// follows what the caller may see, whatever others write; the Audience then decides each one.
	for len(out.Items) < page.Limit && scanned < maxScan && cursor < latest {
		batch, through, err := h.log.For(ctx, audience, cursor, latest, min(500, maxScan-scanned))
		if err != nil {
			return err
		}
		full := false
		for _, e := range batch {
			scanned++
			cursor = e.ID
			if e.LiveOnly() {
				continue
			}
			sight, ok, err := AudienceOf(e).Show(ctx, userID, views)
			if err != nil {
				return err
			}
			if ok {
				out.Items = append(out.Items, eventItem{EventID: e.EventID(), Type: e.Type, Payload: sight.Payload})
				if full = len(out.Items) == page.Limit; full {
					break
				}
			}
		}
		if !full {
			cursor = through // nothing else up to through concerns the caller
		}
	}
	out.LastEventID = strconv.FormatInt(cursor, 10)
	out.LatestEventID = strconv.FormatInt(latest, 10)
	if cursor < latest {
		next := out.LastEventID
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}
