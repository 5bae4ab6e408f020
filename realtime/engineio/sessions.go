package engineio

import (
	"sync"
	"unsafe"

	"github.com/olahol/melody"
)

// sessionShards is how many parts the session index is split into, so that melody's write
// loops, which look their transport up after every frame (wsSent), rarely share a lock's cache
// line on a machine with several cores.
const sessionShards = 32

// sessionIndex maps melody sessions to their transports. It is on the delivery path (one lookup
// per frame written), where a sync.Map's lookup, an interface hashed through a trie, cost about
// 3 % of the server's CPU in a broadcast profile; a map keyed by the pointer costs a fraction.
type sessionIndex struct {
	shards [sessionShards]sessionShard
}

type sessionShard struct {
	mu sync.RWMutex
	m  map[*melody.Session]*wsTransport
	_  [32]byte // a shard per 64-byte cache line (24 + 8 + 32)
}

func (x *sessionIndex) shard(sess *melody.Session) *sessionShard {
	// Heap pointers are at least 8-byte aligned; sessions are larger than 64 bytes, so bits
	// above the sixth differ between any two of them.
	return &x.shards[(uintptr(unsafe.Pointer(sess))>>6)%sessionShards]
}

func (x *sessionIndex) get(sess *melody.Session) *wsTransport {
	sh := x.shard(sess)
	sh.mu.RLock()
	t := sh.m[sess]
	sh.mu.RUnlock()
	return t
}

func (x *sessionIndex) put(sess *melody.Session, t *wsTransport) {
	sh := x.shard(sess)
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = make(map[*melody.Session]*wsTransport)
	}
	sh.m[sess] = t
	sh.mu.Unlock()
}

func (x *sessionIndex) remove(sess *melody.Session) {
	sh := x.shard(sess)
	sh.mu.Lock()
	delete(sh.m, sess)
	sh.mu.Unlock()
}

// all returns every transport in the index.
func (x *sessionIndex) all() []*wsTransport {
	var out []*wsTransport
	for i := range x.shards {
		sh := &x.shards[i]
		sh.mu.RLock()
		for _, t := range sh.m {
			out = append(out, t)
		}
		sh.mu.RUnlock()
	}
	return out
}
