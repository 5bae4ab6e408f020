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
// the log; the cached view's timer queues the same re-resolution for its user, in order, as a
// job.
//
// The dispatcher's queue holds typed jobs: an event committed here, a catch-up to an id
// committed elsewhere (read from the log), a grant's expiry.
//
// # The lock and generations
//
// The broker's lock (b.mu) orders dispatch, joins and recovery, and no database work is done
// while it is held: one slow query must not stall every socket. Access checks use a cache per
// user and drive (one permissions.DriveView, three queries), filled on join and re-resolved by
// the events whose facts concern it, so delivering an event costs no query per recipient (and a
// join_page of a page a cached view lists, no query to find the page's drive). Each
// drive has a generation. Applying a change of access to a drive bumps it and drops the cached
// views of the users concerned, under the lock; their new views are then read outside it, and
// the kicks and the event's delivery happen under it again. A join resolves its view outside the
// lock, noting the generation, and under the lock joins only if the generation is unchanged;
// otherwise it resolves again. So a join is still ordered before or after each revocation as a
// whole: its check and its join cannot straddle one. Delivery decides for every recipient
// before emitting to any; a recipient whose view is not cached makes it let go of the lock,
// resolve, and decide again. Only the dispatcher bumps generations and it handles one job at a
// time, so events still go out in log order per room, and no event reaches a room after the
// revocation that removed its socket from it. A slow query holds back what depends on it (the
// join, the recovery, or the dispatcher's own next events) and nothing else.
//
// The broker has a lifetime context that Shutdown cancels; every timeout derives from it.
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
// Every connection gets a pid stored in realtime_sessions with the rooms it joins; a save returns
// once its row is written, and the rows saved at once share one statement (sessions.go). A
// client that
// reconnects with {pid, offset} gets its rooms back (re-checked) and the events after offset from
// the log, in order and exactly once, before any live event: the log is read and access resolved
// outside the lock, up to the last dispatched id; then, under the lock, if no event was
// dispatched and no access change applied meanwhile, the rooms are joined and the events emitted
// (else the newer events are read too, or the plan is made again). This works across restarts within the log's
// retention; beyond it the client gets a fresh session and refetches over REST.
package realtime
