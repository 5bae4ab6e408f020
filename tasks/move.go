package tasks

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/permissions"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

const errAfter = "must be the id of another task of this list, or null for the top"

// MoveInput is the body of a move: the task to follow, null for the top. It is required.
type MoveInput struct {
	AfterID modules.Optional[string] `json:"afterId"`
}

// Move puts a task right after another task of its list, or first when afterID is null, and
// picks the position itself. Clients that PATCH positions halve the gap between neighbours and,
// after some fifty moves into one gap, run out of float precision; Move never does: when no
// number is left between the neighbours (or they share a position) it renumbers the list 1, 2,
// 3, … in its order, in the same transaction, recording task_updated for every task whose
// position changed, then for the moved one. A move to where the task already is records no
// event. Moves on one list go one at a time (the list's rows are locked).
// Errors: ErrPageNotFound, ErrNotTaskList, ErrCannotEdit, ErrNotFound, invalid_request.
func (s *Service) Move(ctx context.Context, pageID, taskID string, in MoveInput) (View, error) {
	uid := modules.UserID(ctx)
	after := in.AfterID.Value
	if !in.AfterID.Set || (!in.AfterID.Null && (after == taskID || !modules.ValidID(after))) {
		return View{}, invalidField("afterId", errAfter)
	}
	if in.AfterID.Null {
		after = ""
	}
	var out View
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		pa, err := editableList(ctx, s.r.In(tx), uid, pageID)
		if err != nil {
			return err
		}
		var order []Task
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Select("id", "position").
			Where("page_id = ?", pageID).Find(&order).Error; err != nil {
			return err
		}
		// Sorted here, not by the query: PostgreSQL sorts before it waits for a row's lock, and
		// hands over the row as the move it waited for left it, in the old row's place.
		slices.SortFunc(order, func(a, b Task) int {
			return cmp.Or(cmp.Compare(a.Position, b.Position), strings.Compare(a.ID, b.ID))
		})
		from := slices.IndexFunc(order, func(t Task) bool { return t.ID == taskID })
		if from < 0 {
			return ErrNotFound
		}
		moved := order[from]
		rest := slices.Delete(slices.Clone(order), from, from+1)
		at := 0
		if after != "" {
			j := slices.IndexFunc(rest, func(t Task) bool { return t.ID == after })
			if j < 0 {
				return invalidField("afterId", errAfter)
			}
			at = j + 1
		}
		if at == from { // already there
			rw, err := loadRow(tx, taskID)
			out = rw.view()
			return err
		}
		now := modules.Now()
		pos, ok := gap(rest, at)
		if !ok {
			for k, t := range slices.Insert(rest, at, moved) {
				p := float64(k + 1)
				if t.ID == taskID {
					pos = p
				} else if t.Position != p {
					if err := setPosition(tx, rec, pa, uid, t.ID, p, now); err != nil {
						return err
					}
				}
			}
		}
		if err := setPosition(tx, rec, pa, uid, taskID, pos, now); err != nil {
			return err
		}
		rw, err := loadRow(tx, taskID)
		out = rw.view()
		return err
	})
	if err != nil {
		return View{}, fmt.Errorf("tasks: move: %w", err)
	}
	return out, nil
}

// gap is a position strictly between rest[at-1] and rest[at] (either may be an end), or false
// when the floats between them have run out.
func gap(rest []Task, at int) (float64, bool) {
	switch {
	case len(rest) == 0:
		return 1, true
	case at == 0:
		hi := rest[0].Position
		p := math.Floor(hi) - 1
		return p, p < hi
	case at == len(rest):
		lo := rest[at-1].Position
		p := math.Floor(lo) + 1
		return p, p > lo
	}
	lo, hi := rest[at-1].Position, rest[at].Position
	p := lo + (hi-lo)/2
	return p, lo < p && p < hi
}

// setPosition moves one task and records its task_updated.
func setPosition(tx *gorm.DB, rec *eventlog.Recorder, pa permissions.PageAccess, actor, id string, pos float64, now time.Time) error {
	if err := tx.Model(&Task{}).Where("id = ?", id).Updates(map[string]any{"position": pos, "updated_at": now}).Error; err != nil {
		return err
	}
	rw, err := loadRow(tx, id)
	if err != nil {
		return err
	}
	rec.Record(draft(EventTaskUpdated, pa, actor, TaskUpdated{Task: rw.view()}))
	return nil
}
