// Package pagespacetest is a kit for integration tests against a real pagespace server: it starts
// the whole server in-process on a random loopback port with a fresh database, makes users,
// drives, pages and messages in one line each, and opens Socket.IO clients that await events and
// acks with deadlines. Everything stops when the test ends (t.Cleanup).
//
//	srv := pagespacetest.Start(t)                      // SQLite in t.TempDir()
//	ada := srv.Signup("Ada")                           // a user with tokens
//	drive := srv.CreateDrive(ada, "Team")
//	channel := srv.CreatePage(ada, drive, "CHANNEL", "general", "")
//	sock := srv.Socket(ada)                            // connected, closed at cleanup
//	sock.Join(channel)
//	srv.PostMessage(ada, channel, "hello")
//	ev := sock.Await("new_message")                    // fails the test after Timeout
//
// PostgreSQL instead of SQLite: Start(t, pagespacetest.Postgres(adminURL)) creates a database
// through adminURL (a user allowed to CREATE DATABASE) and drops it at the end.
//
// Contract checks: every HTTP answer received through Server.Client (and so Do, Send and the
// fixtures) is validated against the server's OpenAPI description, and every event and ack a
// Socket receives against its AsyncAPI description (package apispec); a mismatch fails the test.
// A test of your own client thereby also checks that the server keeps its published contract.
//
// Helpers that can fail call t.Fatal and so belong on the test's goroutine; Send and
// Socket.Next return errors instead, for other goroutines. See docs/testing.md.
package pagespacetest
