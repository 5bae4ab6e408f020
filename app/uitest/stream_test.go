package uitest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/pagespace/pagespace/app/apptest"
)

// streamingAgent is an agent of a drive, driven from the test over REST with its key.
type streamingAgent struct {
	t       *testing.T
	env     *apptest.Env
	key     string
	channel string
	msg     string // the message being streamed
	seq     int
	sent    strings.Builder // the text of the chunks accepted
}

func newStreamingAgent(t *testing.T, env *apptest.Env, owner apptest.User, drive, channel, name string) *streamingAgent {
	t.Helper()
	var made struct{ Token string }
	env.Do("POST", "/api/drives/"+drive+"/agents", owner.Token, map[string]any{"name": name, "role": "MEMBER"}).Expect(201).JSON(&made)
	return &streamingAgent{t: t, env: env, key: made.Token, channel: channel}
}

func (a *streamingAgent) status(body map[string]any) {
	a.t.Helper()
	a.env.Do("PUT", "/api/pages/"+a.channel+"/agent-status", a.key, body).Expect(200)
}

func (a *streamingAgent) start() {
	a.t.Helper()
	a.msg = a.env.Do("POST", "/api/pages/"+a.channel+"/messages/streams", a.key, nil).Expect(201).ID()
}

// chunk sends the next chunk and reports the error code of a refusal ("" when accepted).
func (a *streamingAgent) chunk(text string) string {
	a.t.Helper()
	r := a.env.Do("POST", "/api/pages/"+a.channel+"/messages/"+a.msg+"/chunks", a.key, map[string]any{"seq": a.seq + 1, "text": text})
	if r.Status != 200 {
		return r.ErrorCode()
	}
	a.seq++
	a.sent.WriteString(text)
	return ""
}

// msgText is the text shown for the message with id.
func msgText(id string) string {
	return fmt.Sprintf(`(document.querySelector('.msg[data-id=%q] .msg-text') || {}).textContent`, id)
}

// An agent streams an answer into a channel open in the browsers of Alice (the owner) and Bob (a
// viewer): its status shows above the composer (thinking, then a tool with its progress), the
// answer grows in place with a Stop button for Alice only, Bob's network drops for a few chunks
// and his copy catches up, Alice stops it, the agent's next chunk is refused, and both show
// exactly the text the agent had sent, marked stopped by Alice. The status goes when the agent
// clears it.
func TestStreamedAnswer(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t)
	alice, bob, drive, a, b := team(t, root, env)
	env.SetRole(alice, drive, bob, "VIEWER")
	channel := env.CreatePage(alice, drive, "CHANNEL", "general", "")
	env.PostMessage(alice, channel, "@Helper what is in the plan?")
	agent := newStreamingAgent(t, env, alice, drive, channel, "Helper")

	a.signIn(env, alice, "/p/"+channel)
	b.signIn(env, bob, "/p/"+channel)
	a.run("alice in the channel", waitText(".msg-text", "what is in the plan"), live)
	b.run("bob in the channel", waitText(".msg-text", "what is in the plan"), live)
	b.eval(`window.__noReload = "kept"; ""`)

	// The status line: thinking, then a tool with its progress and detail.
	agent.status(map[string]any{"state": "thinking"})
	a.run("alice sees it thinking", waitText(".agent-status .agent-line", "Helper is thinking…"),
		waitFor(`document.querySelector(".agent-status progress") === null`))
	agent.status(map[string]any{"state": "running_tool", "tool": "read_plan", "progress": 0.4, "detail": "page 2 of 5"})
	a.run("alice sees the tool", waitText(".agent-line.running_tool", "Helper is running read_plan"),
		waitText(".agent-line .muted", "page 2 of 5"),
		waitFor(`document.querySelector(".agent-line progress").value === 0.4`),
		waitFor(`document.querySelector('.agent-line progress').getAttribute("aria-label") === "Progress of read_plan"`))
	b.run("bob too, said politely", waitText(".agent-line", "Helper is running read_plan"),
		waitFor(`[...document.querySelectorAll('.channel [aria-live="polite"]')].some(e => e.textContent === "Helper is running read_plan")`))

	// The answer grows in place.
	agent.start()
	b.run("the stream starts", waitFor(fmt.Sprintf(`document.querySelector('.msg[data-id=%q] .streaming') !== null`, agent.msg)))
	words := strings.Fields("The plan has three parts: the streamed answers, the agents' status above the composer, and the example agent that answers when named.")
	for _, w := range words[:6] {
		if code := agent.chunk(w + " "); code != "" {
			t.Fatalf("chunk refused: %s", code)
		}
	}
	a.run("alice sees it grow", waitFor(fmt.Sprintf(`%s === %q`, msgText(agent.msg), agent.sent.String())))
	b.run("bob sees it grow", waitFor(fmt.Sprintf(`%s === %q`, msgText(agent.msg), agent.sent.String())),
		waitFor(fmt.Sprintf(`document.querySelector('.msg[data-id=%q]').getAttribute("aria-busy") === "true"`, agent.msg)))
	if n := b.eval(`String(document.querySelectorAll(".msg .stop").length)`); n != "0" {
		t.Errorf("bob, a viewer, has %s Stop buttons", n)
	}
	agent.status(map[string]any{"state": "running_tool", "tool": "read_plan", "progress": 0.8, "detail": "page 4 of 5"})
	a.run("the progress moves", waitFor(`document.querySelector(".agent-line progress").value === 0.8`))
	a.shot("desktop-70-streaming")
	a.a11y("a streaming answer")
	b.run("bob on a phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateTouch), waitText(".agent-line", "read_plan"))
	b.theme("dark")
	b.shot("phone-70-streaming")
	if w := b.eval(`String(document.documentElement.scrollWidth)`); w != "375" {
		t.Errorf("the channel scrolls sideways on a phone: %s px wide", w)
	}
	b.theme("light")
	b.run("bob back on a desktop", chromedp.EmulateViewport(1280, 800))

	// Bob's network drops for a few chunks: his copy catches up when it is back.
	b.setOffline(true)
	b.run("bob is offline", waitFor(`document.querySelector('.conn[data-status="connected"]') === null`))
	for _, w := range words[6:10] {
		agent.chunk(w + " ")
	}
	b.setOffline(false)
	b.run("bob is back", live)
	agent.chunk(words[10] + " ")
	b.run("bob caught up", waitFor(fmt.Sprintf(`%s === %q`, msgText(agent.msg), agent.sent.String())))

	// Alice stops it: the agent's next chunk is refused, and the text is what was accepted.
	a.run("alice's view has it all", waitFor(fmt.Sprintf(`%s === %q`, msgText(agent.msg), agent.sent.String())))
	a.run("alice stops it", chromedp.Click(chromedp.CSS(fmt.Sprintf(`.msg[data-id=%q] button.stop`, agent.msg))),
		waitText(".stream-state.stopped", "Stopped by Alice Able"), waitFor(`document.querySelector(".msg .stop") === null`))
	if code := agent.chunk(words[11]); code != "stream_ended" {
		t.Errorf("a chunk after the stop: %q, want stream_ended", code)
	}
	var final struct{ Content, Status string }
	env.Do("GET", "/api/pages/"+channel+"/messages/"+agent.msg, alice.Token, nil).Expect(200).JSON(&final)
	if final.Status != "stopped" || final.Content != agent.sent.String() {
		t.Errorf("the message is %s with %q, want stopped with %q", final.Status, final.Content, agent.sent.String())
	}
	for _, tb := range []*tab{a, b} {
		tb.run("the final text", waitText(".stream-state.stopped", "Stopped by Alice Able"),
			waitFor(fmt.Sprintf(`%s === %q`, msgText(agent.msg), agent.sent.String())),
			waitFor(fmt.Sprintf(`!document.querySelector('.msg[data-id=%q]').hasAttribute("aria-busy")`, agent.msg)))
	}
	b.run("bob is told how it ended", waitFor(`[...document.querySelectorAll('.channel [aria-live="polite"]')].some(e => e.textContent.includes("(Stopped by Alice Able)"))`))

	// The agent clears its status: the line goes.
	env.Do("DELETE", "/api/pages/"+channel+"/agent-status", agent.key, nil).Expect(204)
	a.run("the status goes", waitFor(`document.querySelector(".agent-status").children.length === 0`))
	b.run("for bob too", waitFor(`document.querySelector(".agent-status").children.length === 0`))
	a.shot("desktop-71-stopped")
	if v := b.eval(`String(window.__noReload)`); v != "kept" {
		t.Fatalf("bob's page reloaded (marker %q)", v)
	}
	a.clean()
	b.clean()
}
