package messages

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// A streamed message is started empty (status streaming), filled by numbered chunks, and ended:
// completed or failed by its author, stopped by anyone who may post in the channel, or
// interrupted (silent for IdleTimeout, its agent key revoked, its agent removed). Only the start
// and the end are events (new_message, message_updated); chunks are not. Each chunk is appended
// to the row by one conditional update (seq must follow stream_seq), so the row always holds
// every chunk accepted, in order, whichever process accepted it, and a reader of the message
// gets its content up to streamSeq. Accepted chunks go to the page's sockets as ephemeral
// deltas through Deltas.

// StreamConfig holds the limits of streamed messages; zero values take the defaults.
type StreamConfig struct {
	// IdleTimeout (STREAM_IDLE_TIMEOUT, default 60s): a stream without a chunk for this long is
	// interrupted.
	IdleTimeout time.Duration
	// ChunkRate (STREAM_CHUNK_RATE, default 50) is the chunks a second one author may send, per
	// process, in bursts of up to ChunkBurst (default twice the rate).
	ChunkRate  float64
	ChunkBurst int
	// MaxBytes (STREAM_MAX_BYTES, default 65536) is the most bytes of UTF-8 a streamed message
	// may hold.
	MaxBytes int
}

// Defaults fills in the zero values.
func (c *StreamConfig) Defaults() {
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = time.Minute
	}
	if c.ChunkRate <= 0 {
		c.ChunkRate = 50
	}
	if c.ChunkBurst <= 0 {
		c.ChunkBurst = int(2 * c.ChunkRate)
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 64 << 10
	}
}

// Limits of one chunk.
const (
	MaxChunkBytes = 8192    // bytes of text
	maxSeq        = 1 << 53 // exact in JavaScript
)

// Deltas passes accepted chunks on to the sockets watching their page (realtime.Broker). Its
// methods return at once, never waiting on a socket, and are safe for concurrent use.
type Deltas interface {
	// StreamChunk hands on chunk seq of messageID, a message of pageID: text, which starts offset
	// code points into the message's content.
	StreamChunk(pageID, messageID string, seq, offset int64, text string)
	// StreamEnding sends at once what is still pending for messageID: its stream is ending.
	StreamEnding(messageID string)
}

// Errors of streamed messages.
var (
	ErrSeqGap          = &modules.Error{Kind: modules.KindConflict, Code: "seq_gap", Message: "a chunk is missing before this one"}
	ErrSeqBehind       = modules.E(modules.KindConflict, "seq is behind the last chunk accepted")
	ErrStreamEnded     = &modules.Error{Kind: modules.KindConflict, Code: "stream_ended", Message: "the message is no longer streaming"}
	ErrMessageTooLong  = &modules.Error{Kind: modules.KindTooLarge, Code: "message_too_long", Message: "the message would exceed its size limit"}
	ErrChunkTooLarge   = modules.E(modules.KindTooLarge, "a chunk's text is at most "+strconv.Itoa(MaxChunkBytes)+" bytes")
	ErrChunkRate       = modules.E(modules.KindRateLimited, "too many chunks; slow down")
	ErrNotStreamAuthor = modules.E(modules.KindForbidden, "only the author of a streamed message can add to it or end it")
)

// StartInput is the body that starts a streamed message.
type StartInput struct {
	ParentID *string `json:"parentId"`
}

// ChunkInput is one chunk: its sequence number (the first is 1) and its text.
type ChunkInput struct {
	Seq  *int64  `json:"seq"`
	Text *string `json:"text"`
}

// ChunkResult answers a chunk: the last sequence number accepted, and whether this chunk was one
// accepted before (and so ignored).
type ChunkResult struct {
	Seq       int64 `json:"seq"`
	Duplicate bool  `json:"duplicate,omitempty"`
}

// CompleteInput is the body of a complete: optionally the seq of the author's last chunk.
type CompleteInput struct {
	Seq *int64 `json:"seq"`
}

// FailInput is the body of a fail: why the author gave up.
type FailInput struct {
	Reason string `json:"reason"`
}

// StartStream starts a streamed message as the caller: empty, status streaming (a reply when
// ParentID is set). It records new_message. Errors: those of Post.
func (s *Service) StartStream(ctx context.Context, pageID string, in StartInput) (View, error) {
	var v modules.Validator
	checkParentID(&v, in.ParentID)
	if err := v.Err(); err != nil {
		return View{}, err
	}
	m := Message{Status: StatusStreaming}
	if id, _ := modules.IdentityFrom(ctx); id.KeyID != "" {
		m.StreamKeyID = &id.KeyID
	}
	out, err := s.create(ctx, pageID, in.ParentID, m)
	if err != nil {
		return View{}, fmt.Errorf("messages: start stream: %w", err)
	}
	return out, nil
}

// AppendChunk appends a chunk to the caller's streaming message. pageID "" finds the page from
// the message (a socket's chunk names only the message). A seq already accepted is ignored
// (Duplicate); the next one must be the last accepted plus one. Errors: ErrPageNotFound,
// ErrNotChannel, ErrNotFound, ErrCannotPost, ErrNotStreamAuthor, ErrStreamEnded (details.status),
// ErrSeqGap (details.expectedSeq), ErrMessageTooLong (details.maxBytes), ErrChunkTooLarge,
// ErrChunkRate (RetryAfter), invalid_request.
func (s *Service) AppendChunk(ctx context.Context, pageID, messageID string, in ChunkInput) (ChunkResult, error) {
	if err := checkChunk(in); err != nil {
		return ChunkResult{}, err
	}
	uid := modules.UserID(ctx)
	if ok, wait := s.chunks.Take(uid); !ok {
		return ChunkResult{}, ErrChunkRate.Retry(wait)
	}
	seq, text := *in.Seq, *in.Text
	var res ChunkResult
	offset := int64(-1)
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, _ *eventlog.Recorder) error {
		derived := pageID == ""
		if derived {
			var err error
			if pageID, err = pageOfMessage(tx, messageID); err != nil {
				return err
			}
		}
		pa, err := channel(ctx, s.r.In(tx), uid, pageID)
		if derived && errors.Is(err, ErrPageNotFound) {
			return ErrNotFound // whether the message exists is not the caller's to know
		}
		if err != nil {
			return err
		}
		if !pa.Edit {
			return ErrCannotPost
		}
		length, appended, err := s.append(tx, pageID, messageID, uid, seq, text)
		if err != nil {
			return err
		}
		if appended {
			offset, res.Seq = length-int64(utf8.RuneCountInString(text)), seq
			return nil
		}
		res, err = s.refusal(tx, pageID, messageID, uid, seq)
		return err
	})
	if err != nil {
		return ChunkResult{}, fmt.Errorf("messages: chunk: %w", err)
	}
	if offset >= 0 && s.deltas != nil {
		s.deltas.StreamChunk(pageID, messageID, seq, offset, text)
	}
	return res, nil
}

// append adds text to the message as chunk seq, if it is the author's streaming message, seq
// follows its last chunk and the text fits. It returns the content's length in code points after
// the append, and whether it happened.
func (s *Service) append(tx *gorm.DB, pageID, messageID, uid string, seq int64, text string) (int64, bool, error) {
	var length []int64
	err := tx.Raw("UPDATE messages SET content = content || ?, stream_seq = ?, updated_at = ? "+
		"WHERE id = ? AND page_id = ? AND author_id = ? AND status = ? AND deleted_at IS NULL AND stream_seq = ? "+
		"AND "+byteLength(tx)+" + ? <= ? RETURNING length(content)",
		text, seq, modules.Now(), messageID, pageID, uid, StatusStreaming, seq-1, len(text), s.cfg.MaxBytes).
		Scan(&length).Error
	if err != nil || len(length) == 0 {
		return 0, false, err
	}
	return length[0], true, nil
}

// byteLength is the SQL for the length of messages.content in bytes (SQLite's length counts the
// characters of text, and its octet_length is newer than the embedded library).
func byteLength(tx *gorm.DB) string {
	if tx.Dialector.Name() == "postgres" {
		return "octet_length(content)"
	}
	return "length(CAST(content AS BLOB))"
}

// refusal says why chunk seq was not appended (append changed nothing): a duplicate (no error),
// or the error.
func (s *Service) refusal(tx *gorm.DB, pageID, messageID, uid string, seq int64) (ChunkResult, error) {
	var m Message
	err := tx.Where("id = ? AND page_id = ? AND deleted_at IS NULL", messageID, pageID).Take(&m).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ChunkResult{}, ErrNotFound
	case err != nil:
		return ChunkResult{}, err
	case m.AuthorID == nil || *m.AuthorID != uid:
		return ChunkResult{}, ErrNotStreamAuthor
	case m.Status != StatusStreaming:
		return ChunkResult{}, ErrStreamEnded.WithDetails(map[string]any{"status": m.Status})
	case seq <= m.StreamSeq:
		return ChunkResult{Seq: m.StreamSeq, Duplicate: true}, nil
	case seq > m.StreamSeq+1:
		return ChunkResult{}, ErrSeqGap.WithDetails(map[string]any{"expectedSeq": m.StreamSeq + 1})
	}
	return ChunkResult{}, ErrMessageTooLong.WithDetails(map[string]any{"maxBytes": s.cfg.MaxBytes})
}

// pageOfMessage returns the page of a message (ErrNotFound when there is no such message).
func pageOfMessage(tx *gorm.DB, messageID string) (string, error) {
	var pages []string
	if err := tx.Model(&Message{}).Where("id = ?", messageID).Limit(1).Pluck("page_id", &pages).Error; err != nil {
		return "", err
	}
	if len(pages) == 0 {
		return "", ErrNotFound
	}
	return pages[0], nil
}

// checkChunk checks a chunk: seq from 1 to 2^53, text present (empty is a keep-alive), at most
// MaxChunkBytes, without control characters other than newlines and tabs.
func checkChunk(in ChunkInput) error {
	var v modules.Validator
	v.Check(in.Seq != nil && *in.Seq >= 1 && *in.Seq <= maxSeq, "seq", "must be a whole number from 1 to 2^53")
	v.Check(in.Text != nil, "text", "is required")
	if in.Text != nil {
		if len(*in.Text) > MaxChunkBytes {
			return ErrChunkTooLarge
		}
		v.Text("text", *in.Text, 0, MaxChunkBytes, true)
	}
	return v.Err()
}

// ending is how a stream ends: its status and reason, and who may end it so.
type ending struct {
	status, reason string
	authorOnly     bool   // complete and fail; stop is for anyone who may post in the channel
	lastSeq        *int64 // complete: the author's last chunk, which the message must hold
	stop           bool   // tell the author (stream_stopped)
}

// Complete ends the caller's streaming message as complete, and records message_updated. With
// Seq, the message must hold exactly the chunks up to it. Errors: those of AppendChunk's checks,
// and ErrSeqBehind.
func (s *Service) Complete(ctx context.Context, pageID, messageID string, in CompleteInput) (View, error) {
	if in.Seq != nil && (*in.Seq < 0 || *in.Seq > maxSeq) {
		return View{}, modules.Invalid("seq must be a whole number from 0 to 2^53", map[string]any{"fields": map[string]string{"seq": "must be a whole number from 0 to 2^53"}})
	}
	return s.end(ctx, pageID, messageID, ending{status: StatusComplete, authorOnly: true, lastSeq: in.Seq})
}

// Fail ends the caller's streaming message as error with a reason, and records message_updated.
func (s *Service) Fail(ctx context.Context, pageID, messageID string, in FailInput) (View, error) {
	reason := strings.TrimSpace(in.Reason)
	var v modules.Validator
	v.Text("reason", reason, 1, 500, false)
	if err := v.Err(); err != nil {
		return View{}, err
	}
	return s.end(ctx, pageID, messageID, ending{status: StatusError, reason: reason, authorOnly: true})
}

// Stop ends a streaming message as stopped, by anyone who may post in the channel; it records
// message_updated, and stream_stopped for the author. Errors: ErrPageNotFound, ErrNotChannel,
// ErrNotFound, ErrCannotPost, ErrStreamEnded.
func (s *Service) Stop(ctx context.Context, pageID, messageID string) (View, error) {
	return s.end(ctx, pageID, messageID, ending{status: StatusStopped, stop: true})
}

// end ends the streaming message messageID of the channel as e says, as the caller.
func (s *Service) end(ctx context.Context, pageID, messageID string, e ending) (View, error) {
	uid := modules.UserID(ctx)
	if s.deltas != nil {
		s.deltas.StreamEnding(messageID)
	}
	var out View
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		pa, m, err := s.lockInChannel(ctx, tx, uid, pageID, messageID)
		if err != nil {
			return err
		}
		if e.authorOnly && (m.AuthorID == nil || *m.AuthorID != uid) {
			return ErrNotStreamAuthor
		}
		if !pa.Edit {
			return ErrCannotPost
		}
		if m.Status != StatusStreaming {
			return ErrStreamEnded.WithDetails(map[string]any{"status": m.Status})
		}
		if e.lastSeq != nil && *e.lastSeq > m.StreamSeq {
			return ErrSeqGap.WithDetails(map[string]any{"expectedSeq": m.StreamSeq + 1})
		}
		if e.lastSeq != nil && *e.lastSeq < m.StreamSeq {
			return ErrSeqBehind.WithDetails(map[string]any{"streamSeq": m.StreamSeq})
		}
		if e.stop {
			if e.reason, err = stoppedBy(tx, uid); err != nil {
				return err
			}
		}
		if out, err = finish(tx, rec, pa.DriveID, uid, m, e.status, e.reason); err != nil {
			return err
		}
		if e.stop && m.AuthorID != nil {
			rec.Record(eventlog.Draft{Type: EventStreamStopped, ActorID: uid, Rooms: []modules.Room{modules.UserRoom(*m.AuthorID)},
				Payload: StreamStopped{PageID: pageID, MessageID: m.ID, By: uid}})
		}
		return nil
	})
	if err != nil {
		return View{}, fmt.Errorf("messages: end stream: %w", err)
	}
	return out, nil
}

// stoppedBy is the status reason of a stream the user stopped: "stopped by <name>" (the name
// read as the author's is for the message view, selectRows).
func stoppedBy(tx *gorm.DB, uid string) (string, error) {
	var names []string
	if err := tx.Table("users").Where("id = ?", uid).Limit(1).Pluck("name", &names).Error; err != nil || len(names) == 0 {
		return "stopped", err
	}
	return "stopped by " + names[0], nil
}

// errNotStreaming is finish's answer when the stream ended meanwhile (another process's sweep).
var errNotStreaming = errors.New("messages: the stream has already ended")

// finish ends the streaming message m as status, with reason, and records message_updated as
// actor ("" for none) in the drive driveID.
func finish(tx *gorm.DB, rec *eventlog.Recorder, driveID, actor string, m Message, status, reason string) (View, error) {
	res := tx.Model(&Message{}).Where("id = ? AND status = ?", m.ID, StatusStreaming).
		Updates(map[string]any{"status": status, "status_reason": reason, "updated_at": modules.Now()})
	if res.Error != nil {
		return View{}, res.Error
	}
	if res.RowsAffected == 0 {
		return View{}, errNotStreaming
	}
	r, err := loadRow(tx, m.ID)
	if err != nil {
		return View{}, err
	}
	out := r.view()
	rec.Record(eventlog.PageDraft(EventMessageUpdated, actor, driveID, m.PageID, MessageUpdated{Message: out}))
	return out, nil
}

// streamingRows selects streaming messages with the literal the partial indexes on them are
// declared with (a parameter would not let the planner use them).
const streamingRows = "status = '" + StatusStreaming + "'"

// SweepIdle interrupts the streams silent for longer than IdleTimeout (reason "silent for N s")
// and returns how many it ended. Every process may sweep: each stream is ended once, by whichever
// sweep locks it first, and a chunk that arrives meanwhile keeps its stream alive.
func (s *Service) SweepIdle(ctx context.Context) (int, error) {
	cutoff := modules.Now().Add(-s.cfg.IdleTimeout)
	var ids []string
	err := s.db.WithContext(ctx).Model(&Message{}).
		Where(streamingRows+" AND updated_at < ? AND deleted_at IS NULL", cutoff).
		Order("updated_at").Limit(100).Pluck("id", &ids).Error
	if err != nil {
		return 0, fmt.Errorf("messages: sweep: %w", err)
	}
	reason := "silent for " + strconv.FormatFloat(s.cfg.IdleTimeout.Seconds(), 'f', -1, 64) + " s"
	ended := 0
	for _, id := range ids {
		_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
			var m Message
			err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).
				Where("id = ? AND status = ? AND updated_at < ?", id, StatusStreaming, cutoff).Take(&m).Error
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil // ended, or a chunk came, meanwhile
			}
			if err != nil {
				return err
			}
			// The page's drive, for the event; under its shared access lock, as any write.
			pa, err := s.r.In(tx).Page(ctx, "", m.PageID)
			if err != nil {
				return err
			}
			if _, err := finish(tx, rec, pa.DriveID, "", m, StatusInterrupted, reason); err != nil {
				return err
			}
			ended++
			return nil
		})
		if err != nil {
			return ended, fmt.Errorf("messages: sweep: %w", err)
		}
	}
	return ended, nil
}

// InterruptStreams ends, in tx, the streaming messages of authorID in driveID (only those
// started with the agent key keyID, when set) as interrupted with reason, recording their
// message_updated as actorID with rec. The permissions service calls it from the transactions
// that revoke a key or remove an agent (whose messages are all in its drive), so the messages
// end with their author's access.
func (s *Service) InterruptStreams(ctx context.Context, tx *gorm.DB, rec *eventlog.Recorder, actorID, driveID, authorID, keyID, reason string) error {
	q := tx.WithContext(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).
		Where(streamingRows+" AND author_id = ? AND deleted_at IS NULL", authorID)
	if keyID != "" {
		q = q.Where("stream_key_id = ?", keyID)
	}
	var streams []Message
	if err := q.Order("created_at, id").Find(&streams).Error; err != nil {
		return fmt.Errorf("messages: interrupt streams: %w", err)
	}
	for _, m := range streams {
		if _, err := finish(tx, rec, driveID, actorID, m, StatusInterrupted, reason); err != nil {
			return fmt.Errorf("messages: interrupt streams: %w", err)
		}
	}
	return nil
}

// StreamText returns a message's content, stream_seq, status and editedAt (the rest of the
// Message is left empty), without an access check: for the broker, which sends the text only
// to the sockets of the message's page. Errors: ErrNotFound (also for a tombstone).
func (s *Service) StreamText(ctx context.Context, messageID string) (Message, error) {
	var m Message
	err := s.db.WithContext(ctx).Select("content", "stream_seq", "status", "edited_at").
		Where("id = ? AND deleted_at IS NULL", messageID).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Message{}, ErrNotFound
	}
	if err != nil {
		return Message{}, fmt.Errorf("messages: stream text: %w", err)
	}
	return m, nil
}
