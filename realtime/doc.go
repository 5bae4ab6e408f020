// Package realtime is the embedded realtime broker: the Socket.IO v4 wire protocol (subpackages
// engineio and socketio), sessions, the room index, presence, typing, cursors and agent
// statuses, replay of missed events, kicks, and the bus that links several processes.
//
// # Delivery
//
// The broker is the event log's Publisher. Committed events are queued and one dispatcher
// goroutine handles them strictly in log order, decoding each payload once (the pages and drives
// it names, for its audience). For each event it first applies what the event changes about
// access. It reads that from the event's typed facts (eventlog.Access), set by the module that
// recorded it, never from its type or payload: a session ended or an account deleted closes the
// user's sockets; a change of some users' access to a drive (a membership, a role, a grant)
// re-resolves those users' cached view of the drive, and a change of the whole drive (a page
// created, moved, made private, trashed, restored or deleted; the drive deleted) every view of
// it the broker holds; sockets then leave the rooms they may no longer be in
// (permissions.DriveView.MayJoin) with access_revoked and the fact's reason. Then the event is
// emitted, encoded once, to the sockets of its rooms that may view it (permissions.Audience, the
// rule GET /api/events applies too), with its eventId as the Socket.IO recovery offset. An event
// that removes pages also reaches the sockets that were in its rooms and the removed pages'
// rooms before it (they may leave them by it), and one that deletes pages for good is shown to
// those who could see its page with the view they had. A socket never sees an event committed
// after a revocation that removed it from the event's room. A grant's expiry writes nothing to
// the log; the cached view's timer queues the same re-resolution for its user, in order.
//
// Room joins take the same lock as the dispatcher, so a join is ordered before or after each
// event as a whole: the permission check and the join cannot straddle a revocation.
//
// Access checks use a cache per user and drive (one permissions.DriveView, three queries),
// filled on join and re-resolved by the events whose facts concern it, so delivering an event
// costs no query per recipient.
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
