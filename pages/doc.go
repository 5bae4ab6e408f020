// Package pages owns the page tree of a drive: creating, reading and updating pages, their
// order among siblings (float positions), moving them, the trash (a page is trashed with its
// whole subtree and restored the same way), permanent deletion, and the revision history of
// title and content, and live co-editing of a DOCUMENT's content (document.go). It owns the
// tables pages, page_revisions and doc_ops.
//
// One file per concern: create.go, content.go (reading and updating a page, its revisions),
// move.go, trash.go (trash, restore, permanent deletion, the trash list), tree.go (the tree's
// queries and its listing), document.go and batch.go (live co-editing), http.go (the routes).
//
// Access is never decided here: every check asks the permissions resolver (Page for one page,
// Drive for a whole tree), inside the write's transaction for writes. A page the caller may not
// view is "not found"; a page it may view but not change is "forbidden".
//
// Rules that the API documentation repeats:
//   - Creating a root page needs the MEMBER, ADMIN or OWNER role (a non-member is answered "drive
//     not found", as the root level is for members); creating a child needs edit on
//     the parent. Making a page private (on create or with PATCH isPrivate) needs the share right
//     (drive managers always have it), so a member cannot lock itself out of its own page.
//   - Every successful PATCH increments revision and stores the new title and content in
//     page_revisions; a move does not change the revision. expectedRevision makes the write
//     conditional (409 with details.currentRevision when stale); without it, the last write wins.
//   - Trash (DELETE) and restore need the delete right on the page. Trashing marks every
//     descendant not yet in the trash with trash_root_id = the page; restore brings back exactly
//     those rows, to the old parent, or to the drive root when that parent is still trashed.
//     A trashed page answers 404 unless ?includeTrashed=true and the caller may restore it.
//   - A visible page whose parent the caller cannot see is shown with parentId null and
//     "detached": true (tree listing, single page, write answers, trash listing; events likewise,
//     per recipient, by permissions.Audience), so that hidden pages' ids do not leak.
//   - The tree is at most MaxDepth levels deep; positions are numbers within ±1e15, ties between
//     siblings are broken by id. Moves need edit on the page and on the new parent (at the root:
//     the MEMBER role or above), stay in the drive, and refuse cycles with 400. A move that
//     would let someone see the page who cannot now (permissions.Resolver.MoveWidens) also
//     needs share on the page (403 share_required). Changes to the shape of a drive's tree are
//     serialised per drive (an advisory lock on PostgreSQL), after the drive's access lock.
//   - A PATCH that changes nothing answers 200 with the page as it is: no revision, no event.
//   - An id that cannot be an id (NUL bytes, invalid UTF-8, over 128 bytes) is not found,
//     answered without a query.
//
// Every write goes through the event log in the same transaction: page_created, page_updated,
// page_moved, page_deleted (trash, or "permanent": true) and page_restored, addressed to the
// rooms page:<id> and drive:<driveId>, and doc_op, addressed to page:<id> only. Events about a subtree are one event about its root that
// lists every affected id in pageIds (each recipient sees the ids of the pages it may view).
//
// # Live co-editing
//
// A DOCUMENT's content has a version, pages.doc_version: the number of ops applied to it.
// Submit transforms an op based on an older version past the stored ops after it (pages/ot,
// the submitted op first on ties), applies it, and stores the op row (with its inverse), the
// new content and version and a doc_op event in one transaction whose access check holds the
// drive's shared access lock and whose page row is locked (PostgreSQL), so ops on one document
// are serialised and none commits after a revocation of its author. The ops that arrive at a
// document while a transaction of its ops runs are committed together by the next one (group
// commit, batch.go: one row lock, content write and commit for the group, each op still checked,
// transformed, stored and recorded on its own), and the content of the documents edited last is
// kept in memory by version, so that a transaction reads the row's version, not its content.
// doc_ops keeps the newest
// DocConfig.KeepOps ops of each document; an op or a catch-up based on an older version is
// ErrTooOld. (page_id, client_id, seq) is unique: a resubmitted op returns the version it
// became. Every DocConfig.RevisionEvery ops make a revision with page_updated, the
// coalesced news for watchers of the drive, and so is a pause of DocConfig.PauseRevision
// (a timer per document in the process that took its last op; Close makes the pending ones). A PATCH of content is an op too (clientId "rest"),
// merged with the ops since the caller's docVersion when it sends one (rebase).
package pages
