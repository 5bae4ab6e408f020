package realtime

import (
	"github.com/pagespace/pagespace/modules/eventlog"
)

// job is one unit of the dispatcher's queue, run in queue order by its one goroutine.
type job interface {
	run(b *Broker)
}

// eventJob dispatches an event committed by this process.
type eventJob struct{ e eventlog.Event }

// catchUpJob dispatches from the log every event up to upTo, committed by another process.
type catchUpJob struct{ upTo int64 }

// expiryJob re-resolves a user's view of a drive, one of whose grants in it just expired.
// Expiry writes nothing to the log, yet it must revoke as a revocation does, in order with the
// events.
type expiryJob struct{ userID, driveID string }

func (j eventJob) run(b *Broker) {
	e := j.e
	last := b.lastID()
	if e.ID <= last {
		return // already read from the log
	}
	if e.ID > last+1 {
		b.catchUp(e.ID - 1) // committed elsewhere, or an id a rollback skipped
	}
	b.handle(e)
}

func (j catchUpJob) run(b *Broker) { b.catchUp(j.upTo) }

func (j expiryJob) run(b *Broker) {
	ctx, cancel := b.within(stepTimeout)
	defer cancel()
	b.reresolve(ctx, j.driveID, eventlog.UsersChanged("permission_expired", j.userID))
	b.mu.Lock()
	dirty := b.takeDirty()
	b.mu.Unlock()
	b.saveSessions(dirty...)
	b.statuses.recheck()
}

// enqueue adds jobs to the dispatcher's queue and wakes it.
func (b *Broker) enqueue(jobs ...job) {
	b.qmu.Lock()
	b.pending = append(b.pending, jobs...)
	b.qmu.Unlock()
	select {
	case b.queue <- struct{}{}:
	default:
	}
}

func (b *Broker) dispatchLoop() {
	defer close(b.stopped)
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-b.queue:
		}
		for {
			b.qmu.Lock()
			batch := b.pending
			b.pending = nil
			b.qmu.Unlock()
			if len(batch) == 0 {
				break
			}
			for _, j := range batch {
				j.run(b)
			}
		}
	}
}

func (b *Broker) lastID() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// catchUp dispatches from the log every event after the last one up to upTo.
func (b *Broker) catchUp(upTo int64) {
	ctx, cancel := b.within(stepTimeout)
	defer cancel()
	for b.lastID() < upTo {
		events, err := b.events.After(ctx, b.lastID(), 500)
		if err != nil {
			b.log.Error("realtime: catch up", "err", err.Error())
			return
		}
		n := 0
		for _, e := range events {
			if e.ID > upTo {
				break
			}
			b.handle(e)
			b.metrics.logReads.Add(1)
			n++
		}
		if n == 0 {
			b.advance(upTo) // the rest were never committed
			return
		}
	}
}

func (b *Broker) advance(id int64) {
	b.mu.Lock()
	if id > b.last {
		b.last = id
	}
	b.mu.Unlock()
	b.qmu.Lock()
	if id > b.done {
		b.done = id
	}
	b.progress.Broadcast()
	b.qmu.Unlock()
}
