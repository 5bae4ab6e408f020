// Package messages owns chat messages on CHANNEL pages: posting, editing, deleting, listing
// newest first with stable keyset pagination, and one level of threads (replies to a top-level
// message). Every write goes through the event log, recording new_message, message_updated or
// message_deleted for page:<pageId> and drive:<driveId> in the same transaction.
//
// Rules, all decided by permissions.Resolver:
//   - reading needs view access to the channel; a page the caller cannot view, a trashed page,
//     or an unknown id answers 404. A page that is not a CHANNEL answers 404 "page is not a
//     channel" (the collection does not exist there).
//   - posting needs edit access (403 otherwise). A reply's parentId must name a live top-level
//     message of the same channel (400 otherwise): threads are one level deep.
//   - only the author edits a message, and only while they may still post in the channel.
//   - the author (while they may post) or a drive OWNER/ADMIN deletes a message.
//
// Deletion never loses replies: a top-level message that has replies becomes a tombstone
// (content cleared, deletedAt set, still listed so its thread stays reachable); any other
// message is removed outright. When the last reply under a tombstone goes, the tombstone goes
// too. message_deleted says which happened with "removed".
//
// Streamed messages (stream.go): an author starts a message empty (status streaming), appends
// numbered chunks, and completes or fails it; anyone who may post stops it; an idle sweep, a key
// revocation or an agent's removal interrupts it. Each chunk is one conditional update of the
// row, so the row holds every accepted chunk whichever process took it; chunks are not events
// (only the start and the end are), and reach sockets as deltas through Deltas (the broker).
// The chunk rate is limited per author and process, the size per message.
//
// Listings are newest first, keyed on (createdAt, id) with time-ordered UUIDv7 ids, so paging
// with nextCursor returns every message that existed when paging began exactly once, in order,
// however many messages are posted meanwhile.
package messages
