package uitest_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pagespace/pagespace/app/apptest"
)

// taskOrder waits until the titles of the tasks on screen are exactly want, in order ("a|b|c").
func taskOrder(want string) chromedp.Action[chromedp.Void] {
	return waitFor(fmt.Sprintf(`[...document.querySelectorAll(".tasks .task .task-title")].map(e => e.textContent).join("|") === %q`, want))
}

// inTask runs js with task bound to the row of the task titled title.
func inTask(title, js string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(waitText(".task-title", title), chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`(() => { const task = [...document.querySelectorAll(".tasks .task")].find(li => li.querySelector(".task-title").textContent === %q); %s })()`, title, js)))
}

// taskHas waits until the row of the task titled title matches the JavaScript condition on task.
func taskHas(title, cond string) chromedp.Action[chromedp.Void] {
	return waitFor(fmt.Sprintf(`(() => { const task = [...document.querySelectorAll(".tasks .task")].find(li => li.querySelector(".task-title").textContent === %q); return !!task && (%s); })()`, title, cond))
}

// setField sets the control labelled label in the open task editor.
func setField(label, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`[...document.querySelectorAll(".task-editor label")].find(l => l.textContent === %q).control.value = %q`, label, value))
}

// setFilter chooses value in the filter labelled label, as a person would (a change event).
func setFilter(label, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`(() => { const c = [...document.querySelectorAll(".task-filters label")].find(l => l.textContent === %q).control; c.value = %q; c.dispatchEvent(new Event("change")); })()`, label, value))
}

// A and B on one task list: A adds tasks and B sees them at once; B completes and assigns one
// and A sees it; A edits one, reorders by keyboard and by drag, and both lists follow and keep
// the order across a reload; filters by status and assignee; a failed add keeps its title; a
// viewer sees the list live but cannot change it. Screenshots at 1280×800 and 375 px.
func TestLiveTasks(t *testing.T) {
	root := browser(t)
	env := apptest.Start(t)
	alice, bob, carol := env.Signup("Alice Able"), env.Signup("Bob Baker"), env.Signup("Carol Clark")
	drive := env.CreateDrive(alice, "Team")
	list := env.CreatePage(alice, drive, "TASK_LIST", "Launch", "")
	env.AddMember(alice, drive, bob, "MEMBER")
	env.AddMember(alice, drive, carol, "VIEWER")

	a := newTab(t, root, env.URL, "alice", true)
	b := newTab(t, root, env.URL, "bob", true)
	a.run("viewport", chromedp.EmulateViewport(1280, 800))
	b.run("viewport", chromedp.EmulateViewport(1280, 800))
	a.signIn(env, alice, "/p/"+list)
	b.signIn(env, bob, "/p/"+list)
	a.run("alice on the list", waitText("main h1", "Launch"), waitText(".tasks .empty", "No tasks yet. Add the first one"), live)
	b.run("bob on the list", waitText("main h1", "Launch"), waitText(".tasks .empty", "No tasks yet"), live)
	b.eval(`window.__noReload = "kept"; ""`)

	// Alice adds three tasks; each shows once for her and at once for Bob.
	add := func(title string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(chromedp.SendKeys(chromedp.CSS(`.task-add input`), title), chromedp.KeyEvent(kb.Enter),
			taskHas(title, `!task.classList.contains("pending")`), waitFor(`document.querySelector(".task-add input").value === ""`))
	}
	a.run("alice adds tasks", add("Write the spec"), add("Review it"), add("Ship it"),
		taskOrder("Write the spec|Review it|Ship it"), waitText(".task-count", "3 tasks"))
	b.run("bob sees them live", taskOrder("Write the spec|Review it|Ship it"))

	// Bob completes one and assigns another to Alice, with a due date and a priority.
	b.run("bob completes a task", inTask("Review it", `task.querySelector(".check").click()`),
		taskHas("Review it", `task.classList.contains("done") && !task.classList.contains("pending")`))
	b.run("bob assigns a task", inTask("Ship it", `task.querySelector(".task-title").click()`),
		waitFor(`document.activeElement.closest(".task-editor") !== null`),
		setField("Assignee", alice.ID), setField("Due date", "2030-01-31"), setField("Priority", "high"),
		clickText(".task-editor button", "Save"), waitGone(".task-editor", ""),
		taskHas("Ship it", `task.textContent.includes("Alice Able") && task.textContent.includes("Due Jan 31, 2030")`))
	a.run("alice sees both", taskHas("Review it", `task.querySelector(".check").checked`),
		waitText(".task-list [aria-live]", "Bob Baker completed “Review it”."),
		taskHas("Ship it", `task.querySelector(".chip.who").textContent === "AAAlice Able" && task.textContent.includes("High")`))

	// Alice edits a title and a description; Bob sees the edit.
	a.run("alice edits", inTask("Write the spec", `task.querySelector(".task-title").click()`),
		waitFor(`document.activeElement.matches(".task-editor input")`),
		chromedp.Evaluate[chromedp.Void](`document.activeElement.value = ""`),
		chromedp.SendKeys(chromedp.CSS(`.task-editor input`), "Write the full spec"),
		setField("Description", "Two pages, with examples."))
	a.shot("desktop-30-task-editor")
	a.a11y("the task editor")
	a.run("alice saves", clickText(".task-editor button", "Save"), waitGone(".task-editor", ""),
		taskHas("Write the full spec", `task.textContent.includes("Two pages, with examples.")`),
		waitFor(`document.activeElement.textContent === "Write the full spec"`))
	b.run("bob sees the edit", taskHas("Write the full spec", `task.textContent.includes("Two pages")`))

	// Reorder by keyboard: Alt+↑ twice on "Ship it" takes it to the top, announced.
	a.run("alice moves a task up by keyboard", inTask("Ship it", `task.querySelector(".task-title").focus()`),
		chromedp.KeyEvent(kb.ArrowUp, chromedp.KeyModifiers(chromedp.ModifierAlt)),
		taskOrder("Write the full spec|Ship it|Review it"),
		waitFor(`document.activeElement.textContent === "Ship it"`),
		chromedp.KeyEvent(kb.ArrowUp, chromedp.KeyModifiers(chromedp.ModifierAlt)),
		taskOrder("Ship it|Write the full spec|Review it"),
		waitText(".task-list [aria-live]", "Moved “Ship it” to position 1 of 3."),
		waitFor(`document.querySelectorAll(".task.pending").length === 0`))
	b.run("bob sees the new order", taskOrder("Ship it|Write the full spec|Review it"))

	// Reorder by drag: the handle of "Ship it" dropped below the last task.
	var box [4]float64
	if err := json.Unmarshal([]byte(a.eval(`(() => {
		const rows = [...document.querySelectorAll(".tasks .task")];
		const h = rows[0].querySelector(".handle").getBoundingClientRect();
		const last = rows[rows.length - 1].getBoundingClientRect();
		return JSON.stringify([h.x + h.width / 2, h.y + h.height / 2, h.x + h.width / 2, last.bottom - 4]);
	})()`)), &box); err != nil {
		t.Fatalf("handle position: %v", err)
	}
	down := func(p *input.DispatchMouseEventParams) {
		p.Button, p.Buttons, p.ClickCount = input.MouseButtonLeft, 1, 1
	}
	up := func(p *input.DispatchMouseEventParams) { p.Button, p.ClickCount = input.MouseButtonLeft, 1 }
	a.run("alice drags a task", chromedp.MouseEvent(chromedp.MousePressed, box[0], box[1], down),
		chromedp.MouseEvent(chromedp.MouseMoved, box[0], box[1]+20, down), chromedp.MouseEvent(chromedp.MouseMoved, box[2], box[3], down),
		waitFor(`document.querySelector(".task.dragging") !== null && document.querySelector(".task.drop-after") !== null`))
	a.shot("desktop-31-task-drag")
	a.run("alice drops it at the end", chromedp.MouseEvent(chromedp.MouseReleased, box[2], box[3], up),
		taskOrder("Write the full spec|Review it|Ship it"), waitFor(`document.querySelectorAll(".task.pending, .task.dragging, .drop-after, .drop-before").length === 0`))
	b.run("bob sees the drag", taskOrder("Write the full spec|Review it|Ship it"))
	a.run("the order survives a reload", chromedp.Reload(), waitText("main h1", "Launch"), taskOrder("Write the full spec|Review it|Ship it"))

	// Filters: by status, by assignee, both cleared.
	b.run("bob filters done", setFilter("Status", "done"), taskOrder("Review it"), waitText(".task-count", "1 of 3 tasks"))
	b.run("bob filters not done", setFilter("Status", "open"), taskOrder("Write the full spec|Ship it"))
	b.run("bob filters by assignee", setFilter("Status", ""), setFilter("Assignee", alice.ID), taskOrder("Ship it"))
	b.shot("desktop-32-task-filter")
	b.a11y("the filtered task list")
	b.run("bob clears the filters", clickText(".task-filters button", "Clear filters"), taskOrder("Write the full spec|Review it|Ship it"))

	// Bob's network drops while Alice completes a task. His own edit meanwhile fails, says why
	// and keeps what he typed; back online, his list catches up and the edit goes through.
	b.setOffline(true)
	b.run("bob is offline", waitFor(`document.querySelector('.conn[data-status="connected"]') === null`))
	a.run("alice completes a task", inTask("Write the full spec", `task.querySelector(".check").click()`),
		taskHas("Write the full spec", `task.classList.contains("done") && !task.classList.contains("pending")`))
	b.run("bob edits offline", inTask("Ship it", `task.querySelector(".task-title").click()`),
		setField("Description", "Kept while offline"), clickText(".task-editor button", "Save"),
		waitText(".task-editor .form-error", "Can't reach the server"),
		waitFor(`document.querySelector(".task-editor textarea").value === "Kept while offline"`))
	b.shot("desktop-33-task-edit-failed")
	b.setOffline(false)
	b.run("bob catches up", live, taskHas("Write the full spec", `task.querySelector(".check").checked`),
		clickText(".task-editor button", "Save"), waitGone(".task-editor", ""),
		taskHas("Ship it", `task.textContent.includes("Kept while offline")`))
	a.run("alice sees bob's edit", taskHas("Ship it", `task.textContent.includes("Kept while offline")`))

	// A refused add (the network is gone) says why and keeps the title.
	a.run("alice is live again", live)
	a.setOffline(true)
	a.run("alice adds offline", chromedp.SendKeys(chromedp.CSS(`.task-add input`), "Book the room"), chromedp.KeyEvent(kb.Enter),
		waitText(".task-add .form-error", "Not added: Can't reach the server"),
		waitFor(`document.querySelector(".task-add input").value === "Book the room"`), taskOrder("Write the full spec|Review it|Ship it"))
	a.run("alice completes a task offline", inTask("Ship it", `task.querySelector(".check").click()`),
		waitText(".task-list .form-error", "“Ship it” was not marked done: Can't reach the server"),
		taskHas("Ship it", `!task.querySelector(".check").checked && !task.classList.contains("pending")`))
	a.shot("desktop-34-task-not-added")
	a.setOffline(false)
	a.run("alice adds it back online", live, chromedp.Focus(chromedp.CSS(`.task-add input`)), chromedp.KeyEvent(kb.Enter),
		taskOrder("Write the full spec|Review it|Ship it|Book the room"), waitGone(".task-add .form-error", "Not added"))
	b.run("bob sees it", taskOrder("Write the full spec|Review it|Ship it|Book the room"))

	// A viewer: the list, live, and nothing to change it with.
	c := newTab(t, root, env.URL, "carol", true)
	c.run("phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateTouch))
	if _, err := chromedp.Call(c.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatalf("dark theme: %v", err)
	}
	c.signIn(env, carol, "/p/"+list)
	c.run("carol reads the list", waitText("main h1", "Launch"), live, taskOrder("Write the full spec|Review it|Ship it|Book the room"),
		waitText(".task-list", "You can see these tasks but not change them."))
	if got := c.eval(`String(document.querySelectorAll(".task-add, .handle, button.task-title, .check:not(:disabled)").length)`); got != "0" {
		t.Errorf("a viewer has %s controls that change tasks", got)
	}
	a.run("alice deletes a task", inTask("Book the room", `task.querySelector(".task-title").click()`),
		clickText(".task-editor button", "Delete…"), clickText(".confirm button", "Delete"),
		taskOrder("Write the full spec|Review it|Ship it"))
	c.run("carol sees it go", taskOrder("Write the full spec|Review it|Ship it"),
		waitText(".task-list [aria-live]", "Alice Able deleted “Book the room”."))
	c.shot("phone-30-tasks-read-only")
	c.a11y("the read-only task list")
	if w := c.eval(`String(document.documentElement.scrollWidth)`); w != "375" {
		t.Errorf("the read-only task list scrolls sideways: %s px wide", w)
	}

	// Bob on a phone: the list and the editor fit.
	b.run("bob on a phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateTouch), taskOrder("Write the full spec|Review it|Ship it"))
	b.shot("phone-31-tasks")
	b.run("bob opens the editor", inTask("Ship it", `task.querySelector(".task-title").click()`), waitFor(`document.querySelector(".task-editor") !== null`))
	b.run("bob scrolls to the editor's buttons", chromedp.Evaluate[chromedp.Void](`document.querySelector(".task-editor").scrollIntoView({block: "end"})`))
	b.shot("phone-32-task-editor")
	b.a11y("the task editor on a phone")
	if w := b.eval(`String(document.documentElement.scrollWidth)`); w != "375" {
		t.Errorf("the task list scrolls sideways on a phone: %s px wide", w)
	}
	if v := b.eval(`String(window.__noReload)`); v != "kept" {
		t.Fatalf("bob's page reloaded (marker %q)", v)
	}
	a.clean()
	b.clean()
	c.clean()
}
