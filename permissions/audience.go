package permissions

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
)

// DriveLookup returns one user's resolution of a drive, typically from the caller's cache.
type DriveLookup func(ctx context.Context, driveID string) (DriveView, error)

// Audience is the one rule that decides who may see an event of the log, and what of it: GET
// /api/events, live delivery and recovery replay all ask it. Whatever a user may not list, no
// event shows them:
//
//   - an event addressed to the user's own room is theirs, whole, except drive_deleted, whose
//     userIds show anyone but the owner who deleted the drive only themselves;
//   - an event about a page is for those who may view the page (trashed or not; a page deleted
//     for good, for the drive's OWNER and ADMIN); a grant event only for those who may also list
//     the page's grants (share);
//   - the pages an event names besides its own (the page's parentId, previousParentId, the
//     pageIds of a trash or restore) are shown only when the user may view them: a hidden parent
//     becomes parentId null with detached true (as in the tree listing), hidden ids are left out;
//   - any other drive event is for the drive's members;
//   - an event about several drives (user_deleted) is for the members of those drives, and each
//     sees in driveIds only the drives they are a member of.
//
// An Audience reads its event's payload once (Refs); Show then answers per user. It is not safe
// for concurrent use.
type Audience struct {
	e     eventlog.Event
	whole json.RawMessage
	refs  Refs
	// variants caches redacted payloads by what they leave out, so users who see the same part
	// share one payload; fields is the payload they are made from, read once for the first.
	variants map[string]Sight
	fields   map[string]json.RawMessage
}

// Sight is what one user may see of an event.
type Sight struct {
	// Payload is the event as the user receives it, eventId first.
	Payload json.RawMessage
	// Variant is 0 for the whole event; users with the same Variant get the same Payload.
	Variant int
}

// Refs are the fields of an event's payload that name pages or drives besides the event's own:
// what Show hides from whoever may not see them. A reader that decodes the payload for its own
// purposes too may decode them along (embed Refs) and pass them to NewAudience.
type Refs struct {
	Page *struct {
		ParentID *string `json:"parentId"`
	} `json:"page"`
	PreviousParentID *string  `json:"previousParentId"`
	PageIDs          []string `json:"pageIds"`
	DriveIDs         []string `json:"driveIds"`
}

// AudienceOf returns the audience of e, decoding its Refs.
func AudienceOf(e eventlog.Event) *Audience {
	var refs Refs
	_ = json.Unmarshal([]byte(e.Payload), &refs) // the log holds our own JSON objects
	return NewAudience(e, refs)
}

// NewAudience returns the audience of e, whose payload names refs.
func NewAudience(e eventlog.Event, refs Refs) *Audience {
	return &Audience{e: e, whole: e.JSON(), refs: refs}
}

// Whole is the event as a user who may see all of it receives it.
func (a *Audience) Whole() json.RawMessage { return a.whole }

// isGrantEvent reports whether e describes a page's grants.
func isGrantEvent(typ string) bool {
	return typ == EventPermissionGranted || typ == EventPermissionRevoked
}

// Show returns what userID may see of the event, or false when nothing. drive resolves userID's
// access on a drive; its errors are returned.
func (a *Audience) Show(ctx context.Context, userID string, drive DriveLookup) (Sight, bool, error) {
	if slices.Contains(a.e.Rooms, modules.UserRoom(userID)) {
		if a.e.Type == EventDriveDeleted {
			return a.showDriveDeleted(userID), true, nil
		}
		return Sight{Payload: a.whole}, true, nil
	}
	if a.e.DriveID == nil {
		return a.showDrives(ctx, drive)
	}
	v, err := drive(ctx, *a.e.DriveID)
	if err != nil {
		return Sight{}, false, err
	}
	if a.e.PageID == nil {
		return Sight{Payload: a.whole}, v.Role != NoRole, nil
	}
	pageID := *a.e.PageID
	if !v.SeesPage(pageID) {
		return Sight{}, false, nil
	}
	if isGrantEvent(a.e.Type) {
		// Only those who may list the page's grants; a page deleted for good: its managers.
		pa, exists := v.Pages[pageID]
		mayList := pa.Share || !exists && v.Role.Manages()
		return Sight{Payload: a.whole}, mayList, nil
	}
	return a.showPages(v), true, nil
}

// showPages hides the pages other than its own that a page event names and v may not see.
func (a *Audience) showPages(v DriveView) Sight {
	r := a.refs
	hideParent := r.Page != nil && r.Page.ParentID != nil && !v.SeesPage(*r.Page.ParentID)
	hidePrevious := r.PreviousParentID != nil && !v.SeesPage(*r.PreviousParentID)
	var hidden []string
	for _, id := range r.PageIDs {
		if !v.SeesPage(id) {
			hidden = append(hidden, id)
		}
	}
	if !hideParent && !hidePrevious && len(hidden) == 0 {
		return Sight{Payload: a.whole}
	}
	key := "p" + boolKey(hideParent) + boolKey(hidePrevious) + strings.Join(hidden, ",")
	return a.variant(key, func(m map[string]json.RawMessage) {
		if hideParent {
			var page map[string]json.RawMessage
			if json.Unmarshal(m["page"], &page) == nil {
				page["parentId"] = json.RawMessage("null")
				page["detached"] = json.RawMessage("true")
				m["page"] = mustJSON(page)
			}
		}
		if hidePrevious {
			m["previousParentId"] = json.RawMessage("null")
		}
		if len(hidden) > 0 {
			m["pageIds"] = mustJSON(slices.DeleteFunc(slices.Clone(r.PageIDs), func(id string) bool {
				return slices.Contains(hidden, id)
			}))
		}
	})
}

// showDrives answers an event about several drives: for the members of the drives whose rooms it
// names, each seeing only those drives in driveIds.
func (a *Audience) showDrives(ctx context.Context, drive DriveLookup) (Sight, bool, error) {
	member := map[string]bool{}
	anywhere := false
	for _, room := range a.e.Rooms {
		if room.Kind != modules.RoomDrive {
			continue
		}
		v, err := drive(ctx, room.ID)
		if err != nil {
			return Sight{}, false, err
		}
		member[room.ID] = v.Role != NoRole
		anywhere = anywhere || member[room.ID]
	}
	if !anywhere {
		return Sight{}, false, nil
	}
	var shown []string
	for _, id := range a.refs.DriveIDs {
		if member[id] {
			shown = append(shown, id)
		}
	}
	if len(shown) == len(a.refs.DriveIDs) {
		return Sight{Payload: a.whole}, true, nil
	}
	return a.variant("d"+strings.Join(shown, ","), func(m map[string]json.RawMessage) {
		m["driveIds"] = mustJSON(append([]string{}, shown...))
	}), true, nil
}

// showDriveDeleted shows the owner who deleted the drive everyone who lost access, and anyone
// else only themselves: a member may not list the grantees, a grantee not the members, and the
// drive is gone, so its roles can no longer be asked.
func (a *Audience) showDriveDeleted(userID string) Sight {
	if a.e.ActorID != nil && *a.e.ActorID == userID {
		return Sight{Payload: a.whole}
	}
	return a.variant("u"+userID, func(m map[string]json.RawMessage) {
		m["userIds"] = mustJSON([]string{userID})
	})
}

// variant returns the payload that edit makes of the event, made once per key.
func (a *Audience) variant(key string, edit func(map[string]json.RawMessage)) Sight {
	if s, ok := a.variants[key]; ok {
		return s
	}
	if a.fields == nil {
		if err := json.Unmarshal([]byte(a.e.Payload), &a.fields); err != nil {
			return Sight{Payload: a.whole} // never: the log holds our own JSON objects
		}
	}
	m := maps.Clone(a.fields)
	edit(m)
	e := a.e
	e.Payload = string(mustJSON(m))
	if a.variants == nil {
		a.variants = map[string]Sight{}
	}
	s := Sight{Payload: e.JSON(), Variant: len(a.variants) + 1}
	a.variants[key] = s
	return s
}

func boolKey(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
