// Package tasks owns the task items of TASK_LIST pages: create, update, complete, assign,
// reorder and delete, listed in position order with keyset pagination. Every write goes through
// the event log, recording task_created, task_updated, task_completed or task_deleted for
// page:<pageId> and drive:<driveId> in the same transaction.
//
// Rules, all decided by permissions.Resolver:
//   - reading needs view access to the list; a page the caller cannot view, a trashed page, or
//     an unknown id answers 404. A page that is not a TASK_LIST answers 404 "page is not a
//     task list".
//   - every write (create, update, delete) needs edit access (403 otherwise).
//   - an assignee must be a user who may view the page (400 otherwise); a user who loses access
//     stays assigned until someone changes it.
//
// Status is todo, in_progress or done; completedAt is set when a task becomes done and cleared
// when it leaves done. A change of status to done records task_updated and then task_completed
// in the same transaction, so a client that only follows task_updated still sees every change.
// Position is a number; tasks list by (position, id), a new task goes to the end (the largest
// position plus one), and a client reorders with Move ("put it after that task"), which picks
// the position and renumbers the list when the gap between the neighbours has run out (move.go).
// A PATCH of position is taken as given.
package tasks
