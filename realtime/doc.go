// Package realtime is the embedded realtime broker: the Socket.IO v4 wire protocol (subpackages
// engineio and socketio), sessions, the room index, presence, typing, cursors and agent
// statuses, replay of missed events, kicks, and the bus that links several processes.
//
// # Delivery
//
// The broker is the event log's Publisher. Committed events are queued and one dispatcher
// goroutine handles them strictly in log order. For each event it first applies what the event
// changes about access (a member removed, a grant revoked, a page made private, moved or
// trashed): the cached access of the users concerned is recomputed, and sockets leave the rooms
// they may no longer see with access_revoked. Then the event is emitted, encoded once, to the
// sockets of its rooms that may view it, with its eventId as the Socket.IO recovery offset. A
// socket never sees an event committed after a revocation that removed it from the event's room.
//
// Room joins take the same lock as the dispatcher, so a join is ordered before or after each
// event as a whole: the permission check and the join cannot straddle a revocation.
//
// Access checks use a cache per user and drive (one permissions.DriveView, three queries),
// filled on join and invalidated by events that change the tree or permissions of that drive,
// so delivering an event costs no query per recipient.
//
// # Streamed messages
//
// Chunks of streamed messages are not events: the messages package hands each accepted chunk
// to the broker (StreamChunk), which coalesces them into message_delta events per message (at
// most 20 a second, in order, each following on from the last) for the page's room, shares them
// with the other processes over the bus, and reads the message from the database when a chunk
// it needs did not come (deltas.go).
//
// # Recovery
//
// Every connection gets a pid stored in realtime_sessions with the rooms it joins. A client that
// reconnects with {pid, offset} gets its rooms back (re-checked) and the events after offset from
// the log, in order and exactly once, before any live event: the replay runs under the
// dispatcher lock up to the last dispatched id. This works across restarts within the log's
// retention; beyond it the client gets a fresh session and refetches over REST.
package realtime
