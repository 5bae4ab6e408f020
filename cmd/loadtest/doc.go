// Command loadtest measures pagespace end to end: it builds and starts the server as a separate
// process pinned to one CPU, opens N authenticated Socket.IO sockets in one CHANNEL page room
// from the other CPU, posts messages over REST at a fixed rate and reports delivery latency
// (from the moment each POST was sent to its receipt on each socket), lost and duplicated
// deliveries, the server's CPU time and memory (RSS per idle connection), and its CPU time per
// socket to connect and join: from just before the first dial until the last frame the joins
// caused (pagespace's viewers_updated), read within 100 ms of it ("connect+join CPU",
// connect_cpu_us in the RESULT line; /proc counts in ticks of 10 ms, so use hundreds of
// sockets or more).
//
// With -procs N (N ≥ 2, PostgreSQL) it starts N server processes on one database, posts
// through the first and spreads the sockets over the others, so every delivery crosses
// processes (NOTIFY, then a read of the log): the latency to compare with one process.
//
// With -baseline it measures instead a minimal hand-written server doing a real server's least
// work (this binary re-executed with -serve-baseline, on the database pagespace set up: the
// access token verified at connect, one access query at join, one insert per message, one
// pre-encoded WebSocket frame per socket of the page's room; baseline.go), with the same client
// code, so that the two servers' figures compare. Both verify a token at connect and run one
// access query at join; pagespace also does the Engine.IO and Socket.IO handshakes and its
// presence, which are part of its cost.
//
// With -baseline-melody the baseline serves its WebSockets through melody, pagespace's session
// layer (baseline_melody.go: melody's defaults but for the settings pagespace also makes; the
// frame bytes encoded once and given to every session's Session.Write), instead of plain gorilla
// connections: the difference between the two baselines is melody's share of the cost.
//
//	go run ./cmd/loadtest -n 1000 -rate 20 -duration 30s      # active, pagespace
//	go run ./cmd/loadtest -n 1000 -rate 20 -duration 30s -baseline
//	go run ./cmd/loadtest -n 1000 -rate 20 -duration 30s -baseline-melody
//	go run ./cmd/loadtest -idle -n 10000                       # memory per idle socket
//	go run ./cmd/loadtest -n 1000 -rate 20 -duration 30s -procs 3  # across processes
//
// Everything runs on 127.0.0.1; every run is bounded by -timeout and kills what it started.
package main
