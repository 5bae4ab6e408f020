package pagespacetest_test

import (
	"testing"

	"github.com/pagespace/pagespace/app/pagespacetest"
)

// pongBot is the code under test: it answers "ping" with "pong" in every channel it joined.
func pongBot(srv *pagespacetest.Server, bot pagespacetest.User, sock *pagespacetest.Socket) {
	for ev := range sock.Events { // until the socket closes, when the test ends
		var m struct {
			Message struct{ PageID, Content string }
		}
		if ev.Name == "new_message" && ev.Decode(0, &m) == nil && m.Message.Content == "ping" {
			srv.Send("POST", "/api/pages/"+m.Message.PageID+"/messages", bot.Token, map[string]string{"content": "pong"})
		}
	}
}

func TestPongBot(t *testing.T) {
	srv := pagespacetest.Start(t) // a real server on 127.0.0.1:0, SQLite in t.TempDir()
	alice, bot := srv.Signup("Alice"), srv.Signup("Pong Bot")
	drive := srv.CreateDrive(alice, "Team")
	srv.AddMember(alice, drive, bot, "MEMBER")
	channel := srv.CreatePage(alice, drive, "CHANNEL", "general", "")

	botSocket, aliceSocket := srv.Socket(bot), srv.Socket(alice)
	botSocket.Join(channel)
	aliceSocket.Join(channel)
	go pongBot(srv, bot, botSocket)
	srv.PostMessage(alice, channel, "ping")
	for _, want := range []string{"ping", "pong"} { // Alice sees her ping, then the answer
		var got struct{ Message struct{ Content string } }
		if err := aliceSocket.Await("new_message").Decode(0, &got); err != nil || got.Message.Content != want {
			t.Fatalf("got %+v (%v), want %q", got, err, want)
		}
	}
}
