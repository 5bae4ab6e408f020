package engineio

import (
	"log/slog"
	"time"
)

// closeMode says what the client is told when a connection closes.
type closeMode int

const (
	// closeGraceful flushes what is queued, then a close packet (polling) or close frame (WebSocket).
	closeGraceful closeMode = iota
	// closeError drops nothing already queued and ends the transport like closeGraceful; the
	// session is forgotten at once.
	closeError
	// closeClient answers a client's close packet: the pending GET, or the next one, gets a noop.
	closeClient
	// closeAbort sends nothing: the transport is cut so that the client reconnects.
	closeAbort
)

var (
	closePacket = []byte{'0' + byte(PacketClose)}
	noopPacket  = []byte{'0' + byte(PacketNoop)}
)

// signal tells a pending GET to look at the connection again.
func (c *Conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// send queues packets contiguously on the current transport: the polling queue (also while an
// upgrade is being probed) or the WebSocket's outbound queue.
func (c *Conn) send(pkts ...Packet) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	var err error
	if t := c.ws; t != nil {
		err = t.writeAll(pkts)
	} else if len(c.queue)+len(pkts) > c.srv.cfg.QueueSize {
		err = errOverflow
	} else {
		c.queue = append(c.queue, pkts...)
		c.signal()
	}
	c.mu.Unlock()
	return c.sendFailed(err)
}

// sendMessages is send for message packets, without an intermediate []Packet.
func (c *Conn) sendMessages(msgs []Message) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	var err error
	if t := c.ws; t != nil {
		err = t.writeMessages(msgs)
	} else if len(c.queue)+len(msgs) > c.srv.cfg.QueueSize {
		err = errOverflow
	} else {
		for _, m := range msgs {
			c.queue = append(c.queue, Packet{Type: PacketMessage, Data: m.Data, Binary: m.Binary})
		}
		c.signal()
	}
	c.mu.Unlock()
	return c.sendFailed(err)
}

// sendFailed closes the connection after a failed send (never with c.mu held) and maps the error.
func (c *Conn) sendFailed(err error) error {
	switch err {
	case nil:
		return nil
	case errOverflow:
		c.closeWith(ReasonQueueFull, closeAbort)
	default:
		c.closeWith(ReasonTransportClose, closeAbort)
	}
	return ErrClosed
}

// closeWith closes the connection once. OnClose runs here, or, if a handler call is running, right
// after it returns.
func (c *Conn) closeWith(reason string, mode closeMode) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.reason = reason
	c.req = nil
	if c.done != nil {
		close(c.done)
	}
	c.srv.heartbeats.Cancel(&c.hb)
	switch mode {
	case closeAbort:
		c.abortive = true
		c.queue = nil
	case closeClient:
		c.final = noopPacket
		c.queue = nil
	default:
		c.final = closePacket
	}
	// A polling session closed gracefully, or by the client's close packet, with no GET pending
	// is kept for one more GET: the rest and the close packet, or the noop that answers the
	// client's close. A client's GET sent with its close POST may be handled after it.
	linger := (mode == closeGraceful || mode == closeClient) && c.ws == nil && !c.getActive
	if linger {
		c.linger = time.AfterFunc(c.srv.cfg.PingTimeout, func() { c.srv.remove(c) })
	}
	c.signal()
	ws, probe := c.ws, c.probe
	c.probe = nil
	fire := !c.busy
	if fire {
		c.closeNotified = true
	}
	c.mu.Unlock()

	c.srv.open.Add(-1)
	c.srv.release(c)
	if !linger {
		c.srv.remove(c)
	}
	if probe != nil {
		probe.abort()
	}
	if ws != nil {
		if mode == closeAbort {
			ws.abort()
		} else {
			ws.closeGracefully()
		}
	}
	c.srv.log.Debug("engineio: session closed", slog.String("sid", c.id), slog.String("reason", reason))
	if fire {
		c.notifyClose(reason)
	}
}

func (c *Conn) stopLinger() {
	c.mu.Lock()
	t := c.linger
	c.mu.Unlock()
	if t != nil {
		t.Stop()
	}
}

func (c *Conn) notifyClose(reason string) {
	defer c.srv.wg.Done()
	c.srv.h.OnClose(c, reason)
}

// finishCall ends a handler call and delivers an OnClose that was held back by it.
func (c *Conn) finishCall() {
	c.mu.Lock()
	c.busy = false
	fire := c.closed && !c.closeNotified
	if fire {
		c.closeNotified = true
	}
	reason := c.reason
	c.mu.Unlock()
	if fire {
		c.notifyClose(reason)
	}
}

// open delivers OnOpen; the connection was created busy so that no OnClose can overtake it.
func (c *Conn) open() {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.srv.h.OnOpen(c)
	c.finishCall()
}

func (c *Conn) deliver(m Message) {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.busy = true
	c.mu.Unlock()
	c.srv.h.OnMessage(c, m)
	c.finishCall()
}

// onPacket handles a packet read from the active transport. It reports false for a protocol
// violation, after which the connection is closed.
func (c *Conn) onPacket(p Packet) bool {
	switch p.Type {
	case PacketMessage:
		c.deliver(Message{Binary: p.Binary, Data: p.Data})
	case PacketPong:
		c.onPong()
	case PacketClose:
		c.closeWith(ReasonTransportClose, closeClient)
	case PacketPing:
		// In protocol v4 only the server pings.
		c.closeWith(ReasonTransportError, closeError)
		return false
	default:
		// open, upgrade and noop carry nothing on an established transport.
	}
	return true
}

// The heartbeat is a deadline per connection in the server's heartbeat queue rather than a
// goroutine or a timer, so that an idle connection costs neither a stack nor a timer: it falls due
// after PingInterval to send a ping, then after PingTimeout to close the connection unless a pong
// moved it to the next ping (upstream's schedule).

// startHeartbeat arms the first ping. c.mu must be held.
func (c *Conn) startHeartbeat() {
	c.hbDue = time.Now().Add(c.srv.cfg.PingInterval)
	c.srv.heartbeats.Schedule(&c.hb, c, c.hbDue)
}

// heartbeat runs when the connection's heartbeat falls due.
func (c *Conn) heartbeat() {
	cfg := c.srv.cfg
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	// A firing that a pong overtook (it moved the deadline while this one was being taken off
	// the queue) is stale: the deadline is scheduled again, which is a no-op if the pong did it.
	if time.Now().Before(c.hbDue) {
		c.srv.heartbeats.Schedule(&c.hb, c, c.hbDue)
		c.mu.Unlock()
		return
	}
	if c.waitingPong {
		c.mu.Unlock()
		c.closeWith(ReasonPingTimeout, closeError)
		return
	}
	c.waitingPong = true
	c.pingDue = c.hbDue
	c.hbDue = time.Now().Add(cfg.PingTimeout)
	c.srv.heartbeats.Schedule(&c.hb, c, c.hbDue)
	c.mu.Unlock()
	_ = c.send(Packet{Type: PacketPing})
}

// admit runs before a request uses c; it reports whether c serves requests: open, or closed and
// kept for one more GET (linger). A client that has missed the heartbeat's deadline is closed
// here (ReasonPingTimeout), so that the request's outcome does not depend on whether the
// heartbeat's timer has run yet.
func (c *Conn) admit(now time.Time) bool {
	c.mu.Lock()
	if c.closed {
		kept := c.linger != nil
		c.mu.Unlock()
		return kept
	}
	expired := !c.hbDue.IsZero() && c.missedPing(now)
	c.mu.Unlock()
	if expired {
		c.closeWith(ReasonPingTimeout, closeError)
		return false
	}
	return true
}

// missedPing reports whether the heartbeat's deadline has passed: PingTimeout after the ping was
// sent, or, for a polling client that has not fetched it (it is still queued, or not yet queued
// and no GET waits for it), PingTimeout after it was due: such a client has been silent for
// PingInterval + PingTimeout, however late the timer runs. c.mu must be held.
func (c *Conn) missedPing(now time.Time) bool {
	timeout := c.srv.cfg.PingTimeout
	if c.waitingPong {
		if !now.Before(c.hbDue) {
			return true
		}
		return c.ws == nil && !now.Before(c.pingDue.Add(timeout)) && queuedPing(c.queue)
	}
	return c.ws == nil && !c.getActive && !now.Before(c.hbDue.Add(timeout))
}

// queuedPing reports whether q holds a ping.
func queuedPing(q []Packet) bool {
	for _, p := range q {
		if p.Type == PacketPing {
			return true
		}
	}
	return false
}

// onPong re-arms the heartbeat for the next ping when a ping is outstanding; other pongs are
// ignored.
func (c *Conn) onPong() {
	d := c.srv.cfg.PingInterval
	c.mu.Lock()
	if c.waitingPong && !c.closed {
		c.waitingPong = false
		c.hbDue = time.Now().Add(d)
		c.srv.heartbeats.Schedule(&c.hb, c, c.hbDue)
	}
	c.mu.Unlock()
}
