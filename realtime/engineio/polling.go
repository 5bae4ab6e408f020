package engineio

import (
	"errors"
	"io"
	"mime"
	"net/http"
)

func writePayload(w http.ResponseWriter, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}

func (s *Server) handshakePolling(w http.ResponseWriter, r *http.Request) {
	c := s.newConn(r, "polling")
	if !s.reserve(c) {
		writeTooMany(w)
		return
	}
	if !s.register(c, nil) {
		s.release(c)
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	c.open()
	// The handshake answer holds the open packet only; whatever OnOpen sent waits for the next GET.
	writePayload(w, AppendPacket(nil, s.openPacket(c, []string{"websocket"})))
}

// serveGet answers a long-polling GET: everything queued, or what ends the session, or a noop
// while an upgrade is under way; otherwise it waits.
func (c *Conn) serveGet(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if !c.closed && c.transport != "polling" {
		c.mu.Unlock()
		writeError(w, CodeBadRequest)
		return
	}
	if c.getActive {
		c.mu.Unlock()
		c.closeWith(ReasonTransportError, closeError)
		writeError(w, CodeBadRequest)
		return
	}
	c.getActive = true
	probe := c.probe
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.getActive = false
		c.mu.Unlock()
	}()

	if probe != nil {
		// The client may have sent its upgrade packet before this GET: wait until everything it
		// sent on the probe before the GET is read (fence.go), so that the answer does not depend
		// on which of the two connections the server reads first.
		if !c.awaitFence(probe, r) {
			c.closeWith(ReasonTransportError, closeError)
			return
		}
		c.mu.Lock()
		upgraded := !c.closed && c.transport != "polling"
		c.mu.Unlock()
		if upgraded {
			writeError(w, CodeBadRequest)
			return
		}
	}

	for {
		c.mu.Lock()
		switch {
		case c.closed:
			pkts, final, abortive := c.queue, c.final, c.abortive
			c.queue, c.final = nil, nil
			c.mu.Unlock()
			c.stopLinger()
			c.srv.remove(c)
			if abortive || final == nil {
				// No close packet: to the client this is a lost transport, and it reconnects.
				http.Error(w, "session closed", http.StatusServiceUnavailable)
				return
			}
			body := EncodePayload(pkts)
			if len(pkts) > 0 {
				body = append(body, recordSeparator)
			}
			writePayload(w, append(body, final...))
			return
		case len(c.queue) > 0:
			pkts := c.queue
			c.queue = nil
			c.mu.Unlock()
			writePayload(w, EncodePayload(pkts))
			return
		case c.probed || c.transport != "polling":
			// An upgrade is under way: end this poll so that the client can pause polling.
			c.mu.Unlock()
			writePayload(w, noopPacket)
			return
		}
		c.mu.Unlock()
		select {
		case <-c.wake:
		case <-c.done:
		case <-r.Context().Done():
			// The client gave up on the poll: upstream treats this as a transport error.
			c.closeWith(ReasonTransportError, closeError)
			return
		}
	}
}

// servePost reads the packets of a POST body.
func (c *Conn) servePost(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		writeError(w, CodeUnknownSID)
		return
	case c.transport != "polling":
		c.mu.Unlock()
		writeError(w, CodeBadRequest)
		return
	case c.postActive:
		c.mu.Unlock()
		c.closeWith(ReasonTransportError, closeError)
		writeError(w, CodeBadRequest)
		return
	}
	c.postActive = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.postActive = false
		c.mu.Unlock()
	}()

	// Protocol v4 clients always send text (binary as base64); upstream refuses raw binary bodies.
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/octet-stream" {
		c.closeWith(ReasonTransportError, closeError)
		writeError(w, CodeBadRequest)
		return
	}
	max := c.srv.cfg.MaxPayload
	if r.ContentLength > max {
		c.closeWith(ReasonTransportError, closeError)
		http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		c.closeWith(ReasonTransportError, closeError)
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
			return
		}
		writeError(w, CodeBadRequest)
		return
	}
	pkts, err := DecodePayload(body)
	if err != nil {
		c.closeWith(ReasonParseError, closeError)
		writeError(w, CodeBadRequest)
		return
	}
	for _, p := range pkts {
		if !c.onPacket(p) {
			writeError(w, CodeBadRequest)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	_, _ = io.WriteString(w, "ok")
}
