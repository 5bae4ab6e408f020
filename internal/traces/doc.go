// Package traces loads the real-world editing traces kept in the repository's testdata/traces
// (see its README.md for their origin, licence and format) and maps them onto the operations of
// package ot, for tests and benchmarks of co-editing. It is test support: nothing in the server
// imports it.
//
// A sequential trace is one writer: Txn.Op turns each transaction into an operation on the
// document as it stands.
//
// A concurrent trace records, for each transaction, the transactions its writer had seen. Replay
// maps it onto one central server (the Jupiter model) that receives every transaction at once,
// in file order: transaction i becomes server version i+1. Each writer's view when typing is the
// server's stream up to a point plus all of its own transactions (the trace has that shape;
// NewReplay checks it). Replay keeps, for each writer, the server operations it has not yet seen,
// expressed against its view; a transaction's operation on that view (Step.Local) is transformed
// past them to give the operation on the server's document (Step.Op), and they are transformed
// past it in turn, as a client transforms incoming operations past its own unacknowledged ones.
//
// For a replay through the real server with ot.js-style clients (one op in flight), Step.Base
// and Step.AtBase give a mapping that keeps every client synchronised when its writer types:
// deliver to the writer's client the server's ops up to Base (its previous op's ack included),
// have it edit with AtBase and send it against Base, and wait for the ack. The server transforms
// it past the ops after Base and must apply Step.Op. pages/ot's TestTraceConcurrentClients runs
// exactly that against an in-memory server.
//
//	tr, err := traces.Load("friendsforever")
//	r, err := traces.NewReplay(tr)
//	for !r.Done() {
//		step, err := r.Next()
//		// step.Deliver: server ops the writer receives first, each on its view in turn
//		// step.Local: the transaction on the writer's view; step.Op: the same on server version step.Index
//	}
//	rest := r.Finish() // per writer, the ops it has not yet received
package traces
