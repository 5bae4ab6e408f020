package uitest_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/pagespace/pagespace/app/apptest"
)

// An agent made over REST shows in the members view as an agent, without its placeholder email.
func TestAgentInMembersView(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t)
	alice := env.Signup("Alice Able")
	drive := env.CreateDrive(alice, "Team")
	env.Do("POST", "/api/drives/"+drive+"/agents", alice.Token, map[string]any{"name": "Helper Bot", "role": "MEMBER"}).Expect(201)

	a := newTab(t, root, env.URL, "alice", true)
	a.run("viewport", chromedp.EmulateViewport(1280, 800))
	a.signIn(env, alice, "/d/"+drive+"/members")
	line := `[...document.querySelectorAll(".member")].find(e => e.textContent.includes("Helper Bot"))`
	a.run("the agent is listed", waitText("main h1", "Members"), waitText(".member", "Helper Bot"),
		waitFor(line+`.querySelector(".who .muted").textContent === "Agent"`),
		waitFor(`!document.body.textContent.includes("agents.invalid")`))
	a.shot("desktop-60-members-agent")
	a.a11y("the members with an agent")
}
