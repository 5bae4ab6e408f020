// Package agent is the example agent of pagespace (docs/agents.md): a program that works in a
// drive with an agent key, needs no model, and answers any message that names it ("@Helper") in
// the channels it can see. It shows the whole path an agent of your own takes:
//
//   - REST with the key as a bearer token: who it is (GET /api/auth/me), the drives and their
//     channels, a streamed message started, completed or failed;
//   - one socket with the key as its CONNECT token: join_drive for the messages of every channel
//     of the drive (or join_page for the channels given), agent_status in the page it answers
//     in (thinking, then a pretend tool step with its progress, then idle), stream_chunk for each
//     word (REST when the socket is down: a chunk is numbered, so sending it twice is harmless),
//     and stream_stopped, which stops the answer at once;
//   - reconnecting with {token, pid, offset} after a drop, so that the server restores the rooms
//     and replays the messages missed meanwhile.
//
// Run is the whole program (cmd/example-agent parses flags around it); a Config's hooks let a
// test watch and pace it. Run's goroutines all end before it returns.
package agent
