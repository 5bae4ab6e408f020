package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// toolSteps are the progress of the pretend tool step, shown before the answer.
var toolSteps = []float64{0, 0.5, 1}

// answer answers m: the agent's status shows it thinking, then running a tool step by step,
// then idle; then the answer streams word by word. Someone stopping it (stream_stopped) ends it
// at once.
func (a *agent) answer(ctx context.Context, m message) {
	defer a.replies.Done()
	r := Reply{To: m.ID, PageID: m.PageID}
	r.Status, r.Err = a.stream(ctx, m, &r)
	if r.Err != nil {
		a.log.Warn("agent: answer failed", "to", m.ID, "err", r.Err.Error())
		a.status(ctx, m.PageID, map[string]any{"state": "error", "detail": "could not answer"})
	} else {
		a.log.Info("agent: answered", "to", m.ID, "status", r.Status, "chunks", r.Chunks)
	}
	if a.cfg.OnReply != nil {
		a.cfg.OnReply(r)
	}
}

// stream shows the status and streams the answer, keeping r up to date; it returns how the
// answer ended.
func (a *agent) stream(ctx context.Context, m message, r *Reply) (string, error) {
	a.status(ctx, m.PageID, map[string]any{"state": "thinking"})
	for i, p := range toolSteps {
		if err := a.pace(ctx, *r); err != nil {
			return "error", err
		}
		a.status(ctx, m.PageID, map[string]any{"state": "running_tool", "tool": "look_up", "progress": p,
			"detail": fmt.Sprintf("step %d of %d", i+1, len(toolSteps))})
	}
	a.status(ctx, m.PageID, map[string]any{"state": "idle"})

	s, err := a.api.startStream(ctx, m.PageID, m.ParentID)
	if err != nil {
		return "error", fmt.Errorf("start the answer: %w", err)
	}
	r.MessageID = s.ID
	stopped, stop := context.WithCancel(ctx)
	defer stop()
	a.mu.Lock()
	a.stops[s.ID] = stop
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.stops, s.ID)
		a.mu.Unlock()
	}()

	for i, word := range strings.Fields(answerText(m, a.me.Name)) {
		if i > 0 {
			word = " " + word
		}
		if err := a.pace(stopped, *r); err != nil {
			return a.ended(ctx, s, r, err)
		}
		// Not cancelled by a stop: its answer says whether the server took it.
		if err := a.chunk(ctx, s, r.Chunks+1, word); err != nil {
			return a.ended(ctx, s, r, err)
		}
		r.Chunks++
		r.Text += word
	}
	if err := a.api.end(ctx, s, r.Chunks, ""); err != nil {
		return a.ended(ctx, s, r, err)
	}
	return "complete", nil
}

// ended says how an answer interrupted by err ended: stopped by someone (the stop already ended
// the message), or failed, which the message then says (with a context of its own, since ctx
// may be why: the agent is shutting down).
func (a *agent) ended(ctx context.Context, s message, r *Reply, err error) (string, error) {
	if codeOf(err) == "stream_ended" || ctx.Err() == nil && errors.Is(err, context.Canceled) {
		return "stopped", nil
	}
	reason := "the example agent ran into an error"
	if ctx.Err() != nil {
		reason = "the example agent was shut down"
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if ferr := a.api.end(fctx, s, r.Chunks, reason); ferr != nil && codeOf(ferr) != "stream_ended" {
		a.log.Warn("agent: cannot fail the answer", "message", s.ID, "err", ferr.Error())
	}
	return "error", err
}

// chunk sends a chunk over the socket, or over REST when the socket cannot take it.
func (a *agent) chunk(ctx context.Context, s message, seq int, text string) error {
	if sent, err := a.link.chunk(ctx, s, seq, text); sent {
		return err
	}
	return a.api.chunk(ctx, s, seq, text)
}

// status shows st in the page; a status that cannot be shown is only logged: it is presence, and
// the answer goes on without it.
func (a *agent) status(ctx context.Context, pageID string, st map[string]any) {
	if err := a.link.status(ctx, pageID, st); err != nil && ctx.Err() == nil {
		a.log.Debug("agent: status not shown", "page", pageID, "err", err.Error())
	}
}

// pace waits before the next step of an answer: Config.Pace, or Config.Delay.
func (a *agent) pace(ctx context.Context, r Reply) error {
	if a.cfg.Pace != nil {
		return a.cfg.Pace(ctx, r)
	}
	if a.cfg.Delay <= 0 {
		return ctx.Err()
	}
	return sleep(ctx, a.cfg.Delay)
}

// maxQuoted is how many words of the question the answer repeats.
const maxQuoted = 40

// answerText is what the agent says to m: it has no model, so it greets the author and repeats
// the words of the question.
func answerText(m message, name string) string {
	who := "there"
	if m.Author != nil {
		who = m.Author.Name
	}
	words := strings.Fields(withoutMention(m.Content, name))
	if len(words) > maxQuoted {
		words = append(words[:maxQuoted], "…")
	}
	said := "nothing but my name"
	if len(words) > 0 {
		said = "“" + strings.Join(words, " ") + "”"
	}
	return fmt.Sprintf("Hi %s! I am %s, the example agent. I have no model behind me, so I looked up nothing "+
		"and can only give you your words back, one at a time: you said %s.", who, name, said)
}

// mentions reports whether text names the agent: "@" and its name (in any case), not followed by
// a letter or digit.
func mentions(text, name string) bool {
	return mentionAt(text, name) >= 0
}

// mentionAt is the byte offset of the first mention of name in text, or -1.
func mentionAt(text, name string) int {
	for i := strings.IndexByte(text, '@'); i >= 0 && i < len(text); {
		end := i + 1 + len(name)
		if end <= len(text) && strings.EqualFold(text[i+1:end], name) {
			next, _ := utf8.DecodeRuneInString(text[end:])
			if end == len(text) || !unicode.IsLetter(next) && !unicode.IsDigit(next) {
				return i
			}
		}
		j := strings.IndexByte(text[i+1:], '@')
		if j < 0 {
			return -1
		}
		i += 1 + j
	}
	return -1
}

// withoutMention is text without its first mention of name (and the comma or colon after it).
func withoutMention(text, name string) string {
	if i := mentionAt(text, name); i >= 0 {
		return text[:i] + strings.TrimLeft(text[i+1+len(name):], ",:;")
	}
	return text
}
