package app

import (
	"context"

	"github.com/pagespace/pagespace/messages"
	"github.com/pagespace/pagespace/pages"
	"github.com/pagespace/pagespace/pages/ot"
	"github.com/pagespace/pagespace/realtime"
)

// docs gives the broker live editing of documents (realtime.Docs) from pages.Service.
type docs struct{ svc *pages.Service }

var _ realtime.Docs = docs{}

func (d docs) Open(ctx context.Context, userID, pageID string) (int64, string, error) {
	doc, err := d.svc.Open(ctx, userID, pageID)
	return doc.Version, doc.Content, err
}

func (d docs) Submit(ctx context.Context, userID, pageID string, base int64, op ot.Op, clientID string, seq int64) (int64, int64, error) {
	return d.svc.Submit(ctx, userID, pageID, base, op, clientID, seq)
}

func (d docs) OpsSince(ctx context.Context, userID, pageID string, since int64) (int64, []realtime.DocOp, error) {
	v, ops, err := d.svc.OpsSince(ctx, userID, pageID, since)
	out := make([]realtime.DocOp, len(ops))
	for i, o := range ops {
		out[i] = realtime.DocOp(o)
	}
	return v, out, err
}

// streams gives the broker the streamed messages (realtime.Streams) from messages.Service.
type streams struct{ svc *messages.Service }

var _ realtime.Streams = streams{}

func (s streams) AppendChunk(ctx context.Context, messageID string, seq int64, text string) (int64, bool, error) {
	res, err := s.svc.AppendChunk(ctx, "", messageID, messages.ChunkInput{Seq: &seq, Text: &text})
	return res.Seq, res.Duplicate, err
}

func (s streams) StreamText(ctx context.Context, messageID string) (realtime.StreamedText, error) {
	m, err := s.svc.StreamText(ctx, messageID)
	return realtime.StreamedText{Seq: m.StreamSeq, Content: m.Content, Ended: m.Status != messages.StatusStreaming,
		Edited: m.EditedAt != nil}, err
}
