// Command loadtest measures pagespace end to end: it builds and starts the server as a separate
// process pinned to one CPU, opens N authenticated Socket.IO sockets in one CHANNEL page room
// from the other CPU, posts messages over REST at a fixed rate and reports delivery latency
// (from the moment each POST was sent to its receipt on each socket), lost and duplicated
// deliveries, and the server's CPU time and memory (RSS per idle connection).
//
// With -procs N (N ≥ 2, PostgreSQL) it starts N server processes on one database, posts
// through the first and spreads the sockets over the others, so every delivery crosses
// processes (NOTIFY, then a read of the log): the latency to compare with one process.
//
// With -baseline it measures instead a minimal hand-written server doing a real server's least
// work (this binary re-executed with -serve-baseline, on the database pagespace set up: the
// access token verified at connect, one access query at join, one insert per message, one
// pre-encoded WebSocket frame per socket of the page's room; baseline.go), with the same client
// code, so that the two servers' figures compare.
//
//	go run ./cmd/loadtest -n 1000 -rate 20 -duration 30s      # active, pagespace
//	go run ./cmd/loadtest -n 1000 -rate 20 -duration 30s -baseline
//	go run ./cmd/loadtest -idle -n 10000                       # memory per idle socket
//	go run ./cmd/loadtest -n 1000 -rate 20 -duration 30s -procs 3  # across processes
//
// Everything runs on 127.0.0.1; every run is bounded by -timeout and kills what it started.
package main
