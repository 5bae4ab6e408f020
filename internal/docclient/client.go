// Package docclient is a Go client for live co-editing of a document (the doc_* events of the
// realtime protocol), for tests and tools. It follows ot.js's client: it is synchronised, or
// awaiting the ack of one op in flight, or awaiting it with a buffer of local edits composed
// meanwhile; remote ops are transformed past the op in flight and the buffer (the local op first
// on ties, as the server does) before they are applied to the local text.
//
// Versions are applied strictly in order: a remote op or an ack whose version is not the next
// one waits until the ones before it arrived, and one already applied is ignored. The server
// sends a socket every op before its own ack; the Go socket client hands acks and events to
// different goroutines, and a reconnect may bring an op both from catch-up and live, so the
// client does not rely on arrival order. A remote op carrying this client's clientId and the seq
// of its op in flight (its own op, seen through catch-up after a reconnect) is that op's ack.
//
// After a reconnect (Reconnect, with a new socket), the client opens the document again, catches
// up with doc_ops from its version, and sends its op in flight again with the same clientId and
// seq: the server acknowledges an op it already applied with the version it became, never
// applying it twice.
//
// A Client is safe for concurrent use. Its goroutines end when its socket closes.
package docclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pagespace/pagespace/internal/sioclient"
	"github.com/pagespace/pagespace/pages/ot"
)

// State is where the client is in ot.js's state machine.
type State int

// The client states.
const (
	Synchronized State = iota
	AwaitingAck
	AwaitingWithBuffer
)

// ErrorAck is an error ack of the server.
type ErrorAck struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *ErrorAck) Error() string { return "docclient: " + e.Code + ": " + e.Message }

// Code returns the error ack's code, or "" when err is not one.
func Code(err error) string {
	var e *ErrorAck
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Remote is an op of another client, as received.
type Remote struct {
	PageID   string `json:"pageId"`
	Version  int64  `json:"version"`
	Op       ot.Op  `json:"op"`
	UserID   string `json:"userId"`
	ClientID string `json:"clientId"`
	Seq      int64  `json:"seq"`
	// Applied is when the client applied it (not on the wire).
	Applied time.Time `json:"-"`
}

type inflight struct {
	op     ot.Op
	seq    int64
	sent   bool      // on the current socket
	edited time.Time // the first local edit the op holds
	sentAt time.Time // first sent
}

// Ack is one of the client's ops the server acknowledged (by an ack, or seen in catch-up after
// a reconnect), with when it happened.
type Ack struct {
	Seq     int64
	Version int64     // the version the op became
	Edited  time.Time // the first local edit the op holds was made
	Sent    time.Time // the op was first sent
	Acked   time.Time // the client applied the ack
}

// arrival is a remote op or an ack, waiting for its version's turn.
type arrival struct {
	remote *Remote
	ack    bool
	seq    int64 // of the acked op
}

// Client edits one document.
type Client struct {
	pageID, clientID string

	mu       sync.Mutex
	opened   bool  // the text and version are known: arrivals may be applied
	hold     int64 // versions after hold wait (Hold)
	sio      *sioclient.Client
	text     string // the local text, but for lazy
	textLen  int    // code points of text
	lazy     *ot.Op // local edits not yet applied to text (see textLocked)
	version  int64
	seq      int64
	inflight *inflight
	buffer   *ot.Op
	waiting  map[int64]arrival
	err      error
	changed  chan struct{} // closed and replaced on every change
	remotes  []Remote      // every remote op applied, in order
	acks     []Ack         // every own op acknowledged, in order
	bufEdit  time.Time     // the first local edit the buffer holds
	wg       sync.WaitGroup
}

// Open opens pageID on the socket s as client clientID (a string unique to this editor; a
// random one is fine).
func Open(ctx context.Context, s *sioclient.Client, pageID, clientID string) (*Client, error) {
	c := &Client{pageID: pageID, clientID: clientID, waiting: map[int64]arrival{}, changed: make(chan struct{}), hold: math.MaxInt64}
	if err := c.attach(ctx, s, true); err != nil {
		return nil, err
	}
	return c, nil
}

type ack struct {
	OK    bool      `json:"ok"`
	Error *ErrorAck `json:"error"`
}

func call(ctx context.Context, s *sioclient.Client, out any, event string, arg any) error {
	raw, err := s.EmitAck(ctx, event, arg)
	if err != nil {
		return err
	}
	if len(raw) == 0 {
		return fmt.Errorf("docclient: %s: empty ack", event)
	}
	var a ack
	if err := json.Unmarshal(raw[0], &a); err != nil {
		return fmt.Errorf("docclient: %s: %w", event, err)
	}
	if !a.OK {
		if a.Error == nil {
			a.Error = &ErrorAck{Code: "unknown"}
		}
		return a.Error
	}
	return json.Unmarshal(raw[0], out)
}

// attach starts using socket s: doc_open, and (fresh) takes the document as it is, or catches
// up from the client's version and sends the op in flight again.
func (c *Client) attach(ctx context.Context, s *sioclient.Client, fresh bool) error {
	c.mu.Lock()
	c.sio = s
	if c.inflight != nil {
		c.inflight.sent = false
	}
	c.mu.Unlock()
	c.wg.Add(1)
	go c.readLoop(s)
	var opened struct {
		Version int64  `json:"version"`
		Content string `json:"content"`
	}
	if err := call(ctx, s, &opened, "doc_open", map[string]string{"pageId": c.pageID}); err != nil {
		return err
	}
	if fresh {
		c.mu.Lock()
		c.text, c.lazy, c.version, c.opened = opened.Content, nil, opened.Version, true
		c.textLen = utf8.RuneCountInString(c.text)
		for v := range c.waiting {
			if v <= c.version {
				delete(c.waiting, v)
			}
		}
		c.drainLocked()
		c.mu.Unlock()
		return nil
	}
	c.mu.Lock()
	since := c.version
	c.mu.Unlock()
	var caught struct {
		Version int64    `json:"version"`
		Ops     []Remote `json:"ops"`
	}
	if err := call(ctx, s, &caught, "doc_ops", map[string]any{"pageId": c.pageID, "since": since}); err != nil {
		return err
	}
	c.mu.Lock()
	for i := range caught.Ops {
		r := caught.Ops[i]
		r.PageID = c.pageID
		c.arriveLocked(r.Version, arrival{remote: &r})
	}
	c.drainLocked()
	c.sendLocked()
	c.mu.Unlock()
	return nil
}

// Reconnect continues on a new socket after the old one was lost.
func (c *Client) Reconnect(ctx context.Context, s *sioclient.Client) error {
	return c.attach(ctx, s, false)
}

func (c *Client) readLoop(s *sioclient.Client) {
	defer c.wg.Done()
	for ev := range s.Events {
		if ev.Name != "doc_op" {
			continue
		}
		var r Remote
		if ev.Decode(0, &r) != nil || r.PageID != c.pageID {
			continue
		}
		c.mu.Lock()
		c.arriveLocked(r.Version, arrival{remote: &r})
		c.drainLocked()
		c.mu.Unlock()
	}
}

// arriveLocked files a version for its turn. Caller holds c.mu.
func (c *Client) arriveLocked(version int64, a arrival) {
	if version <= c.version {
		return // already applied
	}
	if prev, dup := c.waiting[version]; dup && prev.remote != nil {
		return
	}
	c.waiting[version] = a
}

// drainLocked applies the waiting versions that are next in turn. Caller holds c.mu.
func (c *Client) drainLocked() {
	if !c.opened {
		return
	}
	progressed := false
	for {
		a, ok := c.waiting[c.version+1]
		if !ok || c.version >= c.hold {
			break
		}
		delete(c.waiting, c.version+1)
		progressed = true
		own := a.ack || a.remote.ClientID == c.clientID
		if own {
			if c.inflight == nil {
				c.fail(fmt.Errorf("docclient: ack of version %d with no op in flight", c.version+1))
				return
			}
			c.version++
			f := c.inflight
			c.acks = append(c.acks, Ack{Seq: f.seq, Version: c.version, Edited: f.edited, Sent: f.sentAt, Acked: time.Now()})
			c.inflight = nil
			if c.buffer != nil {
				c.inflight = &inflight{op: *c.buffer, seq: c.nextSeq(), edited: c.bufEdit}
				c.buffer = nil
			}
			continue
		}
		if err := c.applyRemoteLocked(*a.remote); err != nil {
			c.fail(err)
			return
		}
	}
	if progressed {
		c.sendLocked()
		c.notify()
	}
}

func (c *Client) applyRemoteLocked(r Remote) error {
	op := r.Op
	var err error
	if c.inflight != nil {
		if c.inflight.op, op, err = ot.Transform(c.inflight.op, op); err != nil {
			return fmt.Errorf("docclient: transform past version %d: %w", r.Version, err)
		}
	}
	if c.buffer != nil {
		var b ot.Op
		if b, op, err = ot.Transform(*c.buffer, op); err != nil {
			return fmt.Errorf("docclient: transform past version %d: %w", r.Version, err)
		}
		c.buffer = &b
	}
	if c.text, err = op.Apply(c.textLocked()); err != nil {
		return fmt.Errorf("docclient: apply version %d: %w", r.Version, err)
	}
	c.textLen = op.TargetLen()
	c.version = r.Version
	r.Applied = time.Now()
	c.remotes = append(c.remotes, r)
	return nil
}

func (c *Client) nextSeq() int64 {
	c.seq++
	return c.seq
}

func (c *Client) fail(err error) {
	if c.err == nil {
		c.err = err
	}
	c.notify()
}

func (c *Client) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// sendLocked sends the op in flight on the current socket unless it was sent there. Caller
// holds c.mu.
func (c *Client) sendLocked() {
	f := c.inflight
	if f == nil || f.sent || c.err != nil {
		return
	}
	f.sent = true
	if f.sentAt.IsZero() {
		f.sentAt = time.Now()
	}
	s, base, op, seq := c.sio, c.version, f.op, f.seq
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		var out struct {
			Version int64 `json:"version"`
		}
		err := call(context.Background(), s, &out, "doc_op", map[string]any{"pageId": c.pageID, "version": base, "op": op, "clientId": c.clientID, "seq": seq})
		c.mu.Lock()
		defer c.mu.Unlock()
		var refused *ErrorAck
		switch {
		case c.sio != s || err != nil && !errors.As(err, &refused):
			// The socket is gone (or the ack was lost with it); Reconnect sends the op again.
		case err != nil:
			c.fail(err)
		default:
			c.arriveLocked(out.Version, arrival{ack: true, seq: seq})
			c.drainLocked()
		}
	}()
}

// Edit applies a local edit, an op on the current text, and sends it (or composes it into the
// buffer while an op is in flight).
func (c *Client) Edit(op ot.Op) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.editLocked(op)
}

func (c *Client) editLocked(op ot.Op) error {
	if c.err != nil {
		return c.err
	}
	if err := c.applyLocal(op); err != nil {
		return fmt.Errorf("docclient: edit: %w", err)
	}
	now := time.Now()
	switch {
	case c.inflight == nil:
		c.inflight = &inflight{op: op, seq: c.nextSeq(), edited: now}
		c.sendLocked()
	case c.buffer == nil:
		c.buffer = &op
		c.bufEdit = now
	default:
		b, err := ot.Compose(*c.buffer, op)
		if err != nil {
			return fmt.Errorf("docclient: compose: %w", err)
		}
		c.buffer = &b
	}
	c.notify()
	return nil
}

// The most components and inserted bytes the composed local edits may have before they are
// applied to the text: composing a keystroke costs the components (and copies the inserted text
// of the component it extends) of what it is composed with; applying costs the whole text.
const (
	lazyLimit = 64
	lazyBytes = 2048
)

// applyLocal applies a local edit to the text. Applying costs the whole text, which a client
// replaying a long trace as fast as it can would pay per keystroke, so edits are composed and
// applied when the text is read or a remote op arrives (or lazyLimit). Caller holds c.mu.
func (c *Client) applyLocal(op ot.Op) error {
	if c.lazy == nil {
		if op.BaseLen() != c.lenLocked() {
			return fmt.Errorf("the op's base length is %d, the text's %d", op.BaseLen(), c.lenLocked())
		}
		c.lazy = &op
	} else {
		l, err := ot.Compose(*c.lazy, op)
		if err != nil {
			return err
		}
		c.lazy = &l
	}
	if c.lazy.Len() > lazyLimit || c.lazy.InsertedBytes() > lazyBytes {
		c.textLocked()
	}
	return nil
}

// textLocked returns the local text, applying the composed local edits first. Caller holds
// c.mu.
func (c *Client) textLocked() string {
	if c.lazy != nil {
		// The edits were checked against the text's length when composed.
		c.text, _ = c.lazy.Apply(c.text)
		c.textLen = c.lazy.TargetLen()
		c.lazy = nil
	}
	return c.text
}

// lenLocked is the local text's length in code points. Caller holds c.mu.
func (c *Client) lenLocked() int {
	if c.lazy != nil {
		return c.lazy.TargetLen()
	}
	return c.textLen
}

// EditWith makes a local edit from the current text: f returns an op on text, applied as Edit
// applies it, with no remote op in between.
func (c *Client) EditWith(f func(text string) ot.Op) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.editLocked(f(c.textLocked()))
}

// Hold makes the client apply no version after v (remote ops and acks wait) until Hold is
// called again with a later one; math.MaxInt64 releases it. A replay of a recorded trace uses
// it to give a writer exactly the view it had; editors have no use for it.
func (c *Client) Hold(v int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hold = v
	c.drainLocked()
}

// Text is the local text.
func (c *Client) Text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.textLocked()
}

// Len is the local text's length in code points.
func (c *Client) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lenLocked()
}

// Version is the last server version the client has applied.
func (c *Client) Version() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

// State is the client's state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.inflight == nil:
		return Synchronized
	case c.buffer == nil:
		return AwaitingAck
	}
	return AwaitingWithBuffer
}

// Err is the error that stopped the client (an error ack, a transform that failed), or nil.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Remotes returns the remote ops applied so far, in version order.
func (c *Client) Remotes() []Remote {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Remote(nil), c.remotes...)
}

// Acks returns the client's ops acknowledged so far, in version order.
func (c *Client) Acks() []Ack {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Ack(nil), c.acks...)
}

// Wait waits until cond holds, the client fails, or ctx ends. cond may call the client's
// methods (State, Version, Text).
func (c *Client) Wait(ctx context.Context, cond func(c *Client) bool) error {
	for {
		c.mu.Lock()
		err, ch := c.err, c.changed // taken before cond: a change after it closes ch
		c.mu.Unlock()
		if err != nil {
			return err
		}
		if cond(c) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("docclient: wait: %w (version %d, state %d)", ctx.Err(), c.Version(), c.State())
		}
	}
}

// WaitSynced waits until nothing is in flight or buffered.
func (c *Client) WaitSynced(ctx context.Context) error {
	return c.Wait(ctx, func(c *Client) bool { return c.State() == Synchronized })
}

// WaitVersion waits until the client has applied version v.
func (c *Client) WaitVersion(ctx context.Context, v int64) error {
	return c.Wait(ctx, func(c *Client) bool { return c.Version() >= v })
}

// Close closes the socket and waits for the client's goroutines.
func (c *Client) Close() {
	c.mu.Lock()
	s := c.sio
	c.mu.Unlock()
	_ = s.Close()
	c.wg.Wait()
}
