package engineio

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// A long-polling GET that arrives while a WebSocket probe is attached to its session may have
// been sent after the client's upgrade packet, which the probe's read loop has perhaps not read
// yet: nothing orders two TCP connections. Answering such a GET as it comes would make its
// outcome depend on which goroutine runs first: a noop (200) if the GET is handled before the
// upgrade packet, 400 after. So the GET first waits for a fence: a WebSocket ping written on
// the probe after the GET arrived, and the client's pong. The client answers the ping after
// whatever it had sent before, and the read loop handles frames in order, so once the pong is
// read every frame the client sent before its GET has been handled. A GET sent after the upgrade
// packet therefore always finds the session on WebSocket (400), and one sent before it its usual
// answer. Browsers and WebSocket libraries answer pings by themselves; the cost is one round
// trip for a GET during an upgrade, which official clients make at most once per upgrade. A
// client that answers no ping has its GET wait until the probe ends (at most UpgradeTimeout).
// A second WebSocket for a session being probed waits for the same fence before it is refused,
// so that it is closed after whatever the client's earlier frames on the probe cause.
//
// The probe's answer, 3probe, must reach the client before anything that the frames read after
// 2probe cause. The official suite sends 2probe and 5 together, then a GET that must get 400,
// then a message, and takes the next WebSocket frame for its echo. Handed to melody, 3probe
// would wait for melody's write loop, which may run only after the read loop has handled the
// upgrade packet and the fence has let the GET answer 400: the client would then take 3probe for
// its echo. So the read loop writes 3probe itself, like a fence's ping, before it reads on.
//
// melody (v1.1.4) cannot send a ping on demand and hides gorilla's connection, so the probe's
// network connection is wrapped: until the probe becomes the session's transport, every write
// holds a lock, and the wrapper writes its own frames (pings, 3probe) between gorilla's writes.
// Each frame gorilla writes on a probe (the handshake response, melody's pings and close frames)
// is a single Write call, so no frame of the wrapper's can land inside one. Once the upgrade
// packet arrives, before anything larger is written, the wrapper writes no more frames and
// writes go straight through. An upgraded WebSocket keeps the wrapper (under 100 bytes, an
// atomic load per write; a frame larger than gorilla's write buffer goes out in two writes
// instead of one writev).

// pingFrame is an unmasked WebSocket ping with no payload, as a server writes it.
var pingFrame = []byte{0x89, 0x00}

// probeFrame is the Engine.IO packet 3probe in an unmasked WebSocket text frame.
var probeFrame = []byte{0x81, 0x06, '3', 'p', 'r', 'o', 'b', 'e'}

// errProbeDirect: the probe's writes no longer go through the lock, so the wrapper cannot write.
var errProbeDirect = errors.New("engineio: probe already upgrading")

// probeWriteWait bounds a write of the wrapper's own (a fence's ping, 3probe).
const probeWriteWait = 10 * time.Second

// probeConn is the network connection of a WebSocket probe, and the fences of the GETs that wait
// on it. It is created with the probe, before the connection is hijacked.
type probeConn struct {
	net.Conn               // set at the hijack, before gorilla sees the wrapper
	direct   atomic.Bool   // no more pings: writes need no lock
	mu       sync.Mutex    // held by every write while !direct, and for the fields below
	ready    bool          // the handshake response is written: pings may follow it
	over     bool          // no longer a probe: fences are lifted at once
	pings    int           // pings written (or about to be) for fences
	pongs    int           // pongs read
	fences   []fenceWaiter // GETs waiting, in the order of their pings
}

// fenceWaiter is one GET waiting for the pong to ping number ping (0: not written yet).
type fenceWaiter struct {
	ping int
	ch   chan struct{}
}

// Write writes b whole, never at the same time as a ping.
func (pc *probeConn) Write(b []byte) (int, error) {
	if pc.direct.Load() {
		return pc.Conn.Write(b)
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.Conn.Write(b)
}

// hijacked records the connection gorilla is about to use.
func (pc *probeConn) hijacked(nc net.Conn) {
	pc.mu.Lock()
	pc.Conn = nc
	pc.mu.Unlock()
}

// fence returns a channel that is closed once the client has answered a ping written after this
// call, or once the probe is no longer one (upgraded, dropped or closed). Safe for concurrent use.
func (pc *probeConn) fence() <-chan struct{} {
	ch := make(chan struct{})
	pc.mu.Lock()
	if pc.over {
		pc.mu.Unlock()
		close(ch)
		return ch
	}
	w := fenceWaiter{ch: ch}
	// Once the upgrade packet is being handled (direct), no ping goes out: the fence is lifted
	// when the session is on WebSocket, or when the probe is dropped.
	send := pc.ready && !pc.direct.Load()
	if send {
		pc.pings++
		w.ping = pc.pings
	}
	pc.fences = append(pc.fences, w)
	var err error
	if send {
		err = pc.writeFrame(pingFrame)
	}
	pc.mu.Unlock()
	if err != nil {
		pc.lift()
	}
	return ch
}

// connected runs once the handshake response is written: GETs that came before get their ping.
func (pc *probeConn) connected() {
	pc.mu.Lock()
	pc.ready = true
	var err error
	if !pc.over && len(pc.fences) > 0 && !pc.direct.Load() {
		pc.pings++
		for i := range pc.fences {
			pc.fences[i].ping = pc.pings
		}
		err = pc.writeFrame(pingFrame)
	}
	pc.mu.Unlock()
	if err != nil {
		pc.lift()
	}
}

// writeFrame writes a frame of the wrapper's own between gorilla's writes. pc.mu must be held
// and direct unset.
func (pc *probeConn) writeFrame(frame []byte) error {
	_ = pc.Conn.SetWriteDeadline(time.Now().Add(probeWriteWait))
	_, err := pc.Conn.Write(frame)
	return err
}

// answerProbe writes 3probe before it returns. It runs on the read loop, for 2probe, and
// therefore before any frame that follows 2probe is read. It fails once the upgrade packet has
// been handled (a 2probe after 5 has already failed the probe).
func (pc *probeConn) answerProbe() error {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.direct.Load() {
		return errProbeDirect
	}
	return pc.writeFrame(probeFrame)
}

// onPong releases the GETs whose ping is answered. Pongs pair with pings in order. melody's own
// pings (every wsPingPeriod from the connection's start) are not counted, but a probe lives for
// UpgradeTimeout, far less; an unsolicited pong only hastens the sender's own GET.
func (pc *probeConn) onPong() {
	pc.mu.Lock()
	pc.pongs++
	keep := pc.fences[:0]
	for _, w := range pc.fences {
		if w.ping != 0 && w.ping <= pc.pongs {
			close(w.ch)
		} else {
			keep = append(keep, w)
		}
	}
	clear(pc.fences[len(keep):])
	pc.fences = keep
	pc.mu.Unlock()
}

// upgrading stops the pings before the probe, about to be the session's transport, writes
// anything larger than a control frame; it waits for a ping being written. Fences stay up until
// the session is on WebSocket (or the probe is dropped) and lift is called.
func (pc *probeConn) upgrading() {
	pc.mu.Lock()
	pc.direct.Store(true)
	pc.mu.Unlock()
}

// lift releases every waiting GET and any later one: the probe is no longer a probe.
func (pc *probeConn) lift() {
	pc.mu.Lock()
	pc.over = true
	fences := pc.fences
	pc.fences = nil
	pc.mu.Unlock()
	for _, w := range fences {
		close(w.ch)
	}
}

// awaitFence waits, for a request that arrived while probe was open, until every frame the client
// had sent on the probe before the request has been read (fence.go), or the session has ended.
// It reports false if the client gave up on the request meanwhile.
func (c *Conn) awaitFence(probe *wsTransport, r *http.Request) bool {
	select {
	case <-probe.pc.fence():
	case <-c.done:
	case <-r.Context().Done():
		return false
	}
	return true
}
