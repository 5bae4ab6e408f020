package realtime

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/pages/ot"
	"github.com/pagespace/pagespace/realtime/socketio"
)

// Docs is live editing of documents (pages.Service, through an adapter in app). Its errors are
// *modules.Error values whose public codes the acks carry. Safe for concurrent use.
type Docs interface {
	// Open returns the content and version of a DOCUMENT page the user may view.
	Open(ctx context.Context, userID, pageID string) (version int64, content string, err error)
	// Submit applies op, based on version base; it returns the version the op became and the
	// id of the last event its transaction recorded (0 for an op applied before, which records
	// none). It may return before that event was dispatched.
	Submit(ctx context.Context, userID, pageID string, base int64, op ot.Op, clientID string, seq int64) (version, eventID int64, err error)
	// OpsSince returns the current version and the ops after since (code too_old when they are
	// no longer kept).
	OpsSince(ctx context.Context, userID, pageID string, since int64) (int64, []DocOp, error)
}

// DocOp is one op as doc_ops answers it.
type DocOp struct {
	Version  int64  `json:"version"`
	Op       ot.Op  `json:"op"`
	UserID   string `json:"userId"`
	ClientID string `json:"clientId"`
	Seq      int64  `json:"seq"`
}

// SetDocs sets the live editing service; call it before serving. Without it the doc_* events
// answer not_found.
func (b *Broker) SetDocs(d Docs) { b.docs = d }

// docTimeout bounds one doc_* call, the wait for its dispatch included.
const docTimeout = 30 * time.Second

// Limits of doc_selection: ranges per update, updates per second per socket (and burst).
const (
	maxRanges     = 100
	selectionRate = 20
)

func (b *Broker) registerDocHandlers() {
	b.ns.On("doc_open", b.handler(b.docOpen))
	b.ns.On("doc_op", b.limited(b.docOp, docOpLimit))
	b.ns.On("doc_ops", b.handler(b.docOps))
	b.ns.On("doc_selection", b.limited(b.docSelection, selectionLimit))
}

func (b *Broker) docOpen(c *client, args socketio.Args, ack socketio.AckFunc) {
	pageID, valid := idArg(args, "pageId")
	if !valid {
		fail(ack, "invalid_request", "doc_open takes {pageId}")
		return
	}
	if b.docs == nil {
		fail(ack, "not_found", "page not found")
		return
	}
	ctx, cancel := b.within(docTimeout)
	defer cancel()
	if !inPage(c, pageID) {
		if _, joined := b.enterPage(ctx, c, pageID, ack); !joined {
			return
		}
	}
	// Read after the join: every op committed after this read is delivered to the socket.
	version, content, err := b.docs.Open(ctx, c.userID, pageID)
	if err != nil {
		b.failErr(ack, err)
		return
	}
	ok(ack, map[string]any{"pageId": pageID, "version": version, "content": content})
}

type docOpIn struct {
	PageID   string          `json:"pageId"`
	Version  *int64          `json:"version"`
	Op       json.RawMessage `json:"op"`
	ClientID string          `json:"clientId"`
	Seq      *int64          `json:"seq"`
}

func (b *Broker) docOp(c *client, args socketio.Args, ack socketio.AckFunc) {
	var in docOpIn
	if args.Len() < 1 || !decodeArg(args, 0, &in) || !modules.ValidID(in.PageID) || in.Version == nil || in.Seq == nil || len(in.Op) == 0 {
		fail(ack, "invalid_request", "doc_op takes {pageId, version, op, clientId, seq}")
		return
	}
	op, err := ot.ParseJSON(in.Op)
	if err != nil {
		fail(ack, "invalid_request", "op: "+err.Error())
		return
	}
	if b.docs == nil || !inPage(c, in.PageID) {
		fail(ack, "not_found", "open the document first (doc_open)")
		return
	}
	// The socket's own ops are not sent back to it: the ack stands for them.
	c.mu.Lock()
	if c.docClients == nil {
		c.docClients = map[string]struct{}{}
	}
	if len(c.docClients) < 16 {
		c.docClients[in.ClientID] = struct{}{}
	}
	c.mu.Unlock()
	ctx, cancel := b.within(docTimeout)
	defer cancel()
	version, eventID, err := b.docs.Submit(ctx, c.userID, in.PageID, *in.Version, op, in.ClientID, *in.Seq)
	if err != nil {
		b.failErr(ack, err)
		return
	}
	if eventID == 0 {
		// Applied before: its event and those of the ops before it were committed before this
		// submission's read, so they are at most the log's latest.
		if eventID, err = b.events.Latest(ctx); err != nil {
			b.failErr(ack, err)
			return
		}
	}
	// The ack goes after every op before it was queued to this socket, or not at all: when the
	// dispatch did not get that far in time (or the server is stopping), the transport is closed
	// instead, and the client reconnects, catches up and sends the op again, which is then
	// acknowledged without being applied twice.
	if !b.dispatched(ctx, eventID) {
		c.s.CloseTransport(socketio.ReasonTransportError)
		return
	}
	ok(ack, map[string]any{"version": version})
}

func (b *Broker) docOps(c *client, args socketio.Args, ack socketio.AckFunc) {
	var in struct {
		PageID string `json:"pageId"`
		Since  *int64 `json:"since"`
	}
	if args.Len() < 1 || !decodeArg(args, 0, &in) || !modules.ValidID(in.PageID) || in.Since == nil {
		fail(ack, "invalid_request", "doc_ops takes {pageId, since}")
		return
	}
	if b.docs == nil {
		fail(ack, "not_found", "page not found")
		return
	}
	ctx, cancel := b.within(docTimeout)
	defer cancel()
	version, ops, err := b.docs.OpsSince(ctx, c.userID, in.PageID, *in.Since)
	if err != nil {
		b.failErr(ack, err)
		return
	}
	if ops == nil {
		ops = []DocOp{}
	}
	ok(ack, map[string]any{"version": version, "ops": ops})
}

// ownDocOp reports whether c submitted the doc_op event e (its clientId is one of c's).
func ownDocOp(c *client, clientID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, own := c.docClients[clientID]
	return own
}

// selRange is one selection: anchor and head in code points.
type selRange struct {
	Anchor int64 `json:"anchor"`
	Head   int64 `json:"head"`
}

// selections remembers which sockets showed a selection on which page, so that leaving the
// page clears it for the others.
type selections struct {
	mu    sync.Mutex
	pages map[*client]map[string]struct{}
}

func (b *Broker) docSelection(c *client, args socketio.Args, ack socketio.AckFunc) {
	var in struct {
		PageID  string     `json:"pageId"`
		Version *int64     `json:"version"`
		Ranges  []selRange `json:"ranges"`
	}
	if args.Len() < 1 || !decodeArg(args, 0, &in) || !modules.ValidID(in.PageID) || in.Version == nil || in.Ranges == nil {
		fail(ack, "invalid_request", "doc_selection takes {pageId, version, ranges:[{anchor, head}]}")
		return
	}
	if len(in.Ranges) > maxRanges {
		fail(ack, "payload_too_large", "at most 100 ranges")
		return
	}
	for _, r := range in.Ranges {
		if r.Anchor < 0 || r.Head < 0 || *in.Version < 0 {
			fail(ack, "invalid_request", "versions, anchors and heads are 0 or more")
			return
		}
	}
	if b.docs == nil || !inPage(c, in.PageID) {
		fail(ack, "not_found", "open the document first (doc_open)")
		return
	}
	version, ranges, err := b.currentSelection(c, in.PageID, *in.Version, in.Ranges)
	if err != nil {
		b.failErr(ack, err)
		return
	}
	b.sel.mu.Lock()
	if b.sel.pages[c] == nil {
		b.sel.pages[c] = map[string]struct{}{}
	}
	b.sel.pages[c][in.PageID] = struct{}{}
	b.sel.mu.Unlock()
	b.relay(c.s, modules.PageRoom(in.PageID).String(), "doc_selection", map[string]any{"pageId": in.PageID, "userId": c.userID,
		"name": c.name, "version": version, "ranges": ranges})
	ok(ack, map[string]any{"version": version})
}

// currentSelection brings ranges at version to the document's current version, through the
// ops since (the sender's own ops push a caret they insert at forward, as its editor does;
// others' leave it in front). Errors: not_found, too_old, invalid_request (a version ahead).
func (b *Broker) currentSelection(c *client, pageID string, version int64, ranges []selRange) (int64, []selRange, error) {
	ctx, cancel := b.within(docTimeout)
	defer cancel()
	current, ops, err := b.docs.OpsSince(ctx, c.userID, pageID, version)
	if err != nil {
		return 0, nil, err
	}
	if len(ops) == 0 {
		return current, ranges, nil
	}
	out := make([]selRange, len(ranges))
	for i, r := range ranges {
		anchor, head := int(r.Anchor), int(r.Head)
		for _, o := range ops {
			own := o.UserID == c.userID
			anchor = ot.TransformPosition(anchor, o.Op, own)
			head = ot.TransformPosition(head, o.Op, own)
		}
		out[i] = selRange{Anchor: int64(anchor), Head: int64(head)}
	}
	return current, out, nil
}

// clearSelection tells the page's room that c's selection is gone (it left the page), if c
// showed one; pageID "" clears all of c's.
func (b *Broker) clearSelection(c *client, pageID string) {
	b.sel.mu.Lock()
	var pages []string
	for p := range b.sel.pages[c] {
		if pageID == "" || p == pageID {
			pages = append(pages, p)
			delete(b.sel.pages[c], p)
		}
	}
	if len(b.sel.pages[c]) == 0 {
		delete(b.sel.pages, c)
	}
	b.sel.mu.Unlock()
	for _, p := range pages {
		b.relay(c.s, modules.PageRoom(p).String(), "doc_selection", map[string]any{"pageId": p, "userId": c.userID,
			"name": c.name, "version": 0, "ranges": []selRange{}})
	}
}
