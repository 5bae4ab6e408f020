package realtime

import (
	"context"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/realtime/socketio"
)

// Streams is the streamed messages service (messages.Service, through an adapter in app). Its
// errors are *modules.Error values whose codes (and details) the acks carry. Safe for concurrent
// use.
type Streams interface {
	// AppendChunk appends chunk seq, text, to messageID as the identity in ctx, and hands it on
	// to the broker (StreamChunk). It returns the last seq accepted and whether seq was accepted
	// before (and so ignored).
	AppendChunk(ctx context.Context, messageID string, seq int64, text string) (last int64, duplicate bool, err error)
	// StreamText returns a streamed message as stored; code not_found when it is gone. It checks
	// no access: the broker sends the text only to the sockets of the message's page.
	StreamText(ctx context.Context, messageID string) (StreamedText, error)
}

// StreamedText is a streamed message as the database holds it.
type StreamedText struct {
	Seq     int64  // the last chunk in Content
	Content string // the chunks 1..Seq, joined (unless Edited)
	Ended   bool   // no longer streaming: no more chunks will come
	Edited  bool   // edited since it ended: Content is no longer its chunks
}

// SetStreams sets the streamed messages service; call it before serving. Without it
// stream_chunk answers not_found and gaps in deltas are not filled.
func (b *Broker) SetStreams(s Streams) { b.streams = s }

// StreamChunk hands on an accepted chunk of a streamed message (messages.Deltas): the page's
// sockets here receive it in a message_delta, coalesced, and the other processes through the
// bus. It does not block on sockets.
func (b *Broker) StreamChunk(pageID, messageID string, seq, offset int64, text string) {
	b.deltas.add(piece{PageID: pageID, MessageID: messageID, FromSeq: seq, Seq: seq, Offset: offset, Text: text}, true)
}

// StreamEnding sends what is pending for messageID at once (messages.Deltas): its stream is
// ending, and the message_updated that ends it follows.
func (b *Broker) StreamEnding(messageID string) { b.deltas.end(messageID) }

func (b *Broker) registerStreamHandlers() {
	b.ns.On("stream_chunk", b.limited(b.streamChunk, chunkLimit))
}

// streamChunk is an agent's chunk over its socket, with the rules of the REST chunk route.
func (b *Broker) streamChunk(c *client, args socketio.Args, ack socketio.AckFunc) {
	var in struct {
		MessageID string  `json:"messageId"`
		Seq       *int64  `json:"seq"`
		Text      *string `json:"text"`
	}
	if args.Len() < 1 || !decodeArg(args, 0, &in) || !modules.ValidID(in.MessageID) || in.Seq == nil || in.Text == nil {
		fail(ack, "invalid_request", "stream_chunk takes {messageId, seq, text}")
		return
	}
	if b.streams == nil {
		fail(ack, "not_found", "message not found")
		return
	}
	ctx, cancel := context.WithTimeout(modules.WithIdentity(b.ctx, c.identity()), docTimeout)
	defer cancel()
	last, duplicate, err := b.streams.AppendChunk(ctx, in.MessageID, *in.Seq, *in.Text)
	if err != nil {
		b.failDetailed(ack, err)
		return
	}
	out := map[string]any{"seq": last}
	if duplicate {
		out["duplicate"] = true
	}
	ok(ack, out)
}

// failDetailed is failErr that also carries the error's details (seq_gap's expectedSeq,
// stream_ended's status).
func (b *Broker) failDetailed(ack socketio.AckFunc, err error) {
	e := modules.As(err)
	if e == nil || len(e.Details) == 0 || ack == nil {
		b.failErr(ack, err)
		return
	}
	_ = ack(map[string]any{"ok": false, "error": map[string]any{"code": e.PublicCode(), "message": e.Message, "details": e.Details}})
}

// streamText reads a message's text for a gap the bus left, within a short deadline.
func (b *Broker) streamText(messageID string) (StreamedText, error) {
	if b.streams == nil {
		return StreamedText{}, modules.ErrNotFound
	}
	ctx, cancel := b.within(busTimeout)
	defer cancel()
	return b.streams.StreamText(ctx, messageID)
}
