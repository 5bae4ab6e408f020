package realtime_test

import (
	"strings"
	"testing"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
)

// newAgent creates an agent in driveID as admin and returns it as a user whose token is its key.
func (r *rt) newAgent(admin apptest.User, driveID, name, role string) (apptest.User, string) {
	r.t.Helper()
	m := r.Do("POST", "/api/drives/"+driveID+"/agents", admin.Token, map[string]any{"name": name, "role": role}).Expect(201).Map()
	agent := m["agent"].(map[string]any)
	key := m["key"].(map[string]any)
	token := m["token"].(string)
	if !strings.HasPrefix(token, "psk_") || !strings.HasPrefix(token, key["prefix"].(string)) {
		r.t.Fatalf("token %q, key %v", token, key)
	}
	return apptest.User{ID: agent["id"].(string), Name: name, Token: token}, key["id"].(string)
}

// agentWorld is an owner's drive with one page of type typ and an agent (MEMBER) in it.
type agentWorld struct {
	r            *rt
	owner, agent apptest.User
	drive, page  string
	keyID        string // the agent's key
}

func newAgentWorld(t *testing.T, typ string, opts ...func(*app.Config)) agentWorld {
	t.Helper()
	return start(t, opts...).agentWorld(typ)
}

// agentWorld makes an agentWorld on the running server.
func (r *rt) agentWorld(typ string) agentWorld {
	r.t.Helper()
	w := agentWorld{r: r, owner: r.Signup("Olive")}
	w.drive = r.CreateDrive(w.owner, "home")
	w.page = r.CreatePage(w.owner, w.drive, typ, "general", "")
	w.agent, w.keyID = r.newAgent(w.owner, w.drive, "Helper", "MEMBER")
	return w
}

// TestAgentKeyOnlyItsDrive: an agent's key acts in its drive with its role, and nowhere else:
// another drive answers 404 on REST and on socket joins, it cannot make drives, and nobody can
// add it to another drive or grant it a page there.
func TestAgentKeyOnlyItsDrive(t *testing.T) {
	w := newAgentWorld(t, "CHANNEL")
	r, owner, drive, ch, agent := w.r, w.owner, w.drive, w.page, w.agent
	other := r.Signup("Oscar")
	foreign := r.CreateDrive(other, "elsewhere")
	fch := r.CreatePage(other, foreign, "CHANNEL", "theirs", "")
	r.AddMember(other, foreign, owner, "ADMIN") // the agent's creator manages the other drive too

	r.Do("POST", "/api/pages/"+ch+"/messages", agent.Token, map[string]any{"content": "hello"}).Expect(201)
	r.Do("GET", "/api/drives/"+drive, agent.Token, nil).Expect(200)
	agents := r.Do("GET", "/api/drives/"+drive+"/agents", owner.Token, nil).Expect(200).Map()["items"].([]any)
	if k := agents[0].(map[string]any)["keys"].([]any)[0].(map[string]any); k["lastUsedAt"] == nil {
		t.Fatalf("a used key without lastUsedAt: %v", k)
	}

	members := r.Do("GET", "/api/drives/"+drive+"/members", owner.Token, nil).Expect(200).Map()["items"].([]any)
	kinds := map[string]any{}
	for _, m := range members {
		m := m.(map[string]any)
		kinds[m["userId"].(string)] = m["kind"]
	}
	if kinds[agent.ID] != "agent" || kinds[owner.ID] != "user" {
		t.Fatalf("member kinds %v", kinds)
	}

	r.Do("GET", "/api/drives/"+foreign, agent.Token, nil).Expect(404)
	r.Do("GET", "/api/pages/"+fch+"/messages", agent.Token, nil).Expect(404)
	r.Do("POST", "/api/pages/"+fch+"/messages", agent.Token, map[string]any{"content": "hi"}).Expect(404)
	r.Do("POST", "/api/pages/"+fch+"/messages/streams", agent.Token, nil).Expect(404)
	theirs := r.Do("POST", "/api/pages/"+fch+"/messages/streams", other.Token, nil).Expect(201).ID()
	r.Do("GET", "/api/pages/"+fch+"/messages/"+theirs, agent.Token, nil).Expect(404)
	r.Do("POST", "/api/pages/"+fch+"/messages/"+theirs+"/stop", agent.Token, nil).Expect(404)
	r.Do("POST", "/api/drives", agent.Token, map[string]any{"name": "mine"}).Expect(403)
	r.Do("GET", "/api/drives/"+drive+"/agents", agent.Token, nil).Expect(403) // a MEMBER manages nothing
	r.Do("POST", "/api/drives/"+foreign+"/members", owner.Token, map[string]any{"userId": agent.ID, "role": "MEMBER"}).Expect(404)
	r.Do("PUT", "/api/pages/"+fch+"/permissions/"+agent.ID, owner.Token,
		map[string]any{"canView": true, "canEdit": true, "canShare": false, "canDelete": false}).Expect(404)
	r.Do("POST", "/api/auth/login", "", map[string]any{"email": agent.ID + "@agents.invalid", "password": "whatever1"}).Expect(401)

	s := r.dial(agent)
	if ack := s.call("join_drive", drive); ack["ok"] != true {
		t.Fatalf("join own drive: %v", ack)
	}
	s.join(ch)
	for _, room := range [][2]string{{"join_drive", foreign}, {"join_page", fch}} {
		ack := s.call(room[0], room[1])
		if e, _ := ack["error"].(map[string]any); ack["ok"] != false || e["code"] != "not_found" {
			t.Fatalf("%s %s: %v", room[0], room[1], ack)
		}
	}
	ack := s.call("stream_chunk", map[string]any{"messageId": theirs, "seq": 1, "text": "mine"})
	if e, _ := ack["error"].(map[string]any); ack["ok"] != false || e["code"] != "not_found" {
		t.Fatalf("stream_chunk to another drive's message: %v", ack)
	}
}

// TestAgentRevocation: revoking the key disconnects the sockets it opened at once and its REST
// calls get 401, while another key of the same agent goes on; removing the agent ends the rest.
func TestAgentRevocation(t *testing.T) {
	w := newAgentWorld(t, "CHANNEL")
	r, owner, drive, ch, agent, keyID := w.r, w.owner, w.drive, w.page, w.agent, w.keyID
	k2 := r.Do("POST", "/api/drives/"+drive+"/agents/"+agent.ID+"/keys", owner.Token, nil).Expect(201).Map()
	second := apptest.User{ID: agent.ID, Name: agent.Name, Token: k2["token"].(string)}

	list := r.Do("GET", "/api/drives/"+drive+"/agents", owner.Token, nil).Expect(200).Map()["items"].([]any)
	if len(list) != 1 || len(list[0].(map[string]any)["keys"].([]any)) != 2 {
		t.Fatalf("agents %v", list)
	}
	if strings.Contains(string(r.Do("GET", "/api/drives/"+drive+"/agents", owner.Token, nil).Body), agent.Token) {
		t.Fatal("the listing shows the key")
	}

	s1, s2 := r.dial(agent), r.dial(second)
	s1.join(ch)
	s2.join(ch)
	r.Do("DELETE", "/api/drives/"+drive+"/agents/"+agent.ID+"/keys/"+keyID, owner.Token, nil).Expect(204)
	if ev := s1.await("access_revoked"); payload(ev)["room"] != "user:"+agent.ID || payload(ev)["reason"] != "key_revoked" {
		t.Fatalf("access_revoked %v", payload(ev))
	}
	waitClosed(t, s1)
	r.Do("GET", "/api/pages/"+ch+"/messages", agent.Token, nil).Expect(401)
	r.Do("GET", "/api/pages/"+ch+"/messages", second.Token, nil).Expect(200)
	if ack := s2.call("join_drive", drive); ack["ok"] != true {
		t.Fatalf("the other key's socket: %v", ack)
	}

	r.Do("DELETE", "/api/drives/"+drive+"/agents/"+agent.ID, owner.Token, nil).Expect(204)
	waitClosed(t, s2)
	r.Do("GET", "/api/pages/"+ch+"/messages", second.Token, nil).Expect(401)
	for _, m := range r.Do("GET", "/api/drives/"+drive+"/members", owner.Token, nil).Expect(200).Map()["items"].([]any) {
		if m.(map[string]any)["userId"] == agent.ID {
			t.Fatal("the removed agent is still a member")
		}
	}
}

// waitClosed waits for the server to end the socket's connection.
func waitClosed(t *testing.T, s *sock) {
	t.Helper()
	select {
	case <-s.Done:
	case <-ctxT(t).Done():
		t.Fatal("the socket is still connected")
	}
}

// TestAgentInPresence: an agent shows as one in page viewers and drive presence.
func TestAgentInPresence(t *testing.T) {
	w := newAgentWorld(t, "DOCUMENT")
	r, owner, drive, doc, agent := w.r, w.owner, w.drive, w.page, w.agent

	a := r.dial(agent)
	a.join(doc)
	o := r.dial(owner)
	ack := o.call("join_drive", drive)
	found := false
	for _, m := range ack["members"].([]any) {
		m := m.(map[string]any)
		if m["userId"] == agent.ID {
			found = m["isAgent"] == true
		} else if _, ok := m["isAgent"]; ok {
			t.Fatalf("a person shown as an agent: %v", m)
		}
	}
	if !found {
		t.Fatalf("members %v", ack["members"])
	}
	ack = o.join(doc)
	viewers, _ := ack["viewers"].([]any)
	for _, v := range viewers {
		v := v.(map[string]any)
		if v["userId"] == agent.ID && v["isAgent"] == true {
			return
		}
	}
	t.Fatalf("viewers %v", ack)
}

// TestAgentGoesWithItsDrive: deleting the drive removes its agents (and what they wrote with it);
// their keys then answer 401.
func TestAgentGoesWithItsDrive(t *testing.T) {
	w := newAgentWorld(t, "CHANNEL")
	w.r.Do("POST", "/api/drives/"+w.drive+"/members", w.owner.Token, map[string]any{"userId": w.agent.ID, "role": "ADMIN"}).Expect(409)
	w.r.Do("PATCH", "/api/drives/"+w.drive+"/members/"+w.agent.ID, w.owner.Token, map[string]any{"role": "ADMIN"}).Expect(200)
	w.r.Do("POST", "/api/pages/"+w.page+"/messages", w.agent.Token, map[string]any{"content": "hello"}).Expect(201)
	w.r.CreatePage(w.agent, w.drive, "DOCUMENT", "by the agent", "")
	w.r.Do("DELETE", "/api/drives/"+w.drive, w.owner.Token, nil).Expect(204)
	w.r.Do("GET", "/api/auth/me", w.agent.Token, nil).Expect(401)
}
