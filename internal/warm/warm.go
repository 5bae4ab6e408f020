// Package warm runs short tasks on goroutines kept for reuse. A goroutine starts with a small
// stack and grows it by copying as its calls deepen; a server that starts one per inbound packet
// (to keep its read loops' stacks small) pays that growth on every packet: a tenth of its CPU
// during a connect storm. A Pool keeps a few goroutines parked after their task, their stacks
// grown, and hands them the next tasks; when none is idle, a task gets a goroutine of its own as
// before, which then joins the idle ones if there is room.
package warm

import (
	"sync"
	"sync/atomic"
)

// Pool runs tasks on reused goroutines. The zero value is not usable; see New.
type Pool struct {
	maxIdle int32
	work    chan func() // unbuffered: a send succeeds only when an idle worker waits for it
	idle    atomic.Int32
	quit    chan struct{}
	once    sync.Once
}

// New returns a pool that keeps at most maxIdle goroutines waiting for work.
func New(maxIdle int) *Pool {
	return &Pool{maxIdle: int32(maxIdle), work: make(chan func()), quit: make(chan struct{})}
}

// Go runs fn on a goroutine: an idle one of the pool's, or a new one. It does not wait for fn.
func (p *Pool) Go(fn func()) {
	select {
	case p.work <- fn:
	default:
		go p.worker(fn)
	}
}

func (p *Pool) worker(fn func()) {
	for {
		fn()
		if p.idle.Add(1) > p.maxIdle {
			p.idle.Add(-1)
			return
		}
		select {
		case fn = <-p.work:
			p.idle.Add(-1)
		case <-p.quit:
			p.idle.Add(-1)
			return
		}
	}
}

// Close lets the idle goroutines end, and those busy end after their task. Go still runs tasks
// after Close, each on a goroutine that ends with it.
func (p *Pool) Close() { p.once.Do(func() { close(p.quit) }) }

// Idle is how many goroutines wait for work.
func (p *Pool) Idle() int { return int(p.idle.Load()) }
