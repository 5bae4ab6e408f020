package realtime

import (
	"fmt"
	"net/http"
	"sync/atomic"
)

type metrics struct {
	connects     atomic.Int64
	refused      atomic.Int64
	events       atomic.Int64
	delivered    atomic.Int64
	dropped      atomic.Int64
	kicks        atomic.Int64
	recovered    atomic.Int64
	rateLimited  atomic.Int64
	resolves     atomic.Int64
	stale        atomic.Int64 // resolutions made stale by an access change and done again
	presenceSent atomic.Int64
	deltas       atomic.Int64
	deltaFills   atomic.Int64
	logReads     atomic.Int64 // events read back from the log (catchUp)
}

// ServeMetrics writes the broker's metrics in the Prometheus text format.
func (b *Broker) ServeMetrics(w http.ResponseWriter, _ *http.Request) {
	b.mu.Lock()
	users, rooms := len(b.clients), 0
	for _, conns := range b.clients {
		for c := range conns {
			c.mu.Lock()
			rooms += len(c.rooms)
			c.mu.Unlock()
		}
	}
	last := b.last
	b.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	put := func(name, typ, help string, v int64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %d\n", name, help, name, typ, name, v)
	}
	put("pagespace_realtime_connections", "gauge", "Open Engine.IO connections.", int64(b.srv.Count()))
	put("pagespace_realtime_users", "gauge", "Users with at least one socket.", int64(users))
	put("pagespace_realtime_rooms_joined", "gauge", "Page and drive room memberships of all sockets.", int64(rooms))
	put("pagespace_realtime_connects_total", "counter", "Sockets connected.", b.metrics.connects.Load())
	put("pagespace_realtime_refused_total", "counter", "Connections refused for the per-user limit.", b.metrics.refused.Load())
	put("pagespace_realtime_events_total", "counter", "Log events dispatched.", b.metrics.events.Load())
	put("pagespace_realtime_deliveries_total", "counter", "Events delivered to sockets.", b.metrics.delivered.Load())
	put("pagespace_realtime_dropped_sockets_total", "counter", "Sockets disconnected because their outbound queue was full.", b.metrics.dropped.Load())
	put("pagespace_realtime_access_revoked_total", "counter", "Room removals after a permission change.", b.metrics.kicks.Load())
	put("pagespace_realtime_recovered_total", "counter", "Sessions recovered with replay.", b.metrics.recovered.Load())
	put("pagespace_realtime_rate_limited_total", "counter", "Client events refused by the rate limit.", b.metrics.rateLimited.Load())
	put("pagespace_realtime_access_resolutions_total", "counter", "Drive access resolutions (cache misses).", b.metrics.resolves.Load())
	put("pagespace_realtime_stale_resolutions_total", "counter", "Access resolutions made stale by an access change applied meanwhile, and done again.", b.metrics.stale.Load())
	put("pagespace_realtime_presence_events_total", "counter", "presence_changed events sent to sockets.", b.metrics.presenceSent.Load())
	put("pagespace_realtime_message_deltas_total", "counter", "message_delta events sent (each to all the page's sockets here).", b.metrics.deltas.Load())
	put("pagespace_realtime_delta_fills_total", "counter", "Streamed messages read from the database for chunks the bus did not bring in time.", b.metrics.deltaFills.Load())
	put("pagespace_realtime_log_reads_total", "counter", "Events the dispatcher read from the log: committed by other processes, or missed by this one's publisher.", b.metrics.logReads.Load())
	put("pagespace_realtime_last_event_id", "gauge", "Last event id dispatched.", last)
	if k := b.cluster; k != nil {
		k.mu.Lock()
		peers, lag, reconnects, lost := len(k.peers), k.lagMillis, k.reconnects, k.lost
		k.mu.Unlock()
		put("pagespace_realtime_bus_leases", "gauge", "Other processes whose lease (heartbeat) is current.", int64(peers))
		put("pagespace_realtime_bus_relay_lag_milliseconds", "gauge", "Time from send to receipt of the last ephemeral message from another process (clocks permitting).", lag)
		put("pagespace_realtime_bus_reconnects_total", "counter", "Reconnects of the listening connection.", reconnects)
		put("pagespace_realtime_bus_lost_total", "counter", "Ephemeral messages not sent or not handled (a full queue, a database error); state is shared again.", lost)
	}
}
