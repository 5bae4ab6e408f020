package pages

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/pages/ot"
	"gorm.io/gorm"
)

// Group commit of live editing. Each op used to be a transaction of its own: the access check,
// the page row locked and read, the content rewritten, the op and its event inserted, and a
// commit that waits for the disk; ops to one document queued on its row lock, one commit each.
// Now the ops that arrive at a document while a transaction of its ops runs wait in its queue
// and are committed together by the next one: one row lock, one content write and one commit for
// all of them, each op still checked (access, resubmission, base version), transformed, stored
// and recorded as its own version and doc_op event, in arrival order. An op that is refused
// (forbidden, too old, mismatched, too large) changes nothing and does not affect the others; a
// database failure fails the whole group, as it would have failed each op.

// maxBatch bounds the ops of one transaction, so that one commit stays short.
const maxBatch = 200

// batchTimeout bounds one group's transaction, which runs for every waiting submitter at once
// and so under none of their contexts.
const batchTimeout = 30 * time.Second

// submission is one op waiting to be committed, and then its outcome.
type submission struct {
	userID, clientID string
	base, seq        int64
	op               ot.Op

	done    chan struct{} // closed with the outcome set
	version int64
	eventID int64
	err     error
}

// batches holds the queue of each document that has ops waiting or committing; a goroutine per
// such document commits its queue, group by group, and ends when it is empty.
type batches struct {
	mu      sync.Mutex
	queues  map[string][]*submission // pageID → waiting ops; present while its goroutine runs
	running sync.WaitGroup
	closed  bool
}

var errClosing = modules.E(modules.KindUnavailable, "the server is stopping")

// enqueue adds sub to its document's queue, starting the document's committer if none runs.
func (b *batches) enqueue(s *Service, pageID string, sub *submission) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosing
	}
	q, running := b.queues[pageID]
	b.queues[pageID] = append(q, sub)
	if !running {
		b.running.Add(1)
		go s.commitQueue(pageID)
	}
	return nil
}

// take removes up to maxBatch waiting ops of pageID; with none, it forgets the queue, and the
// committer ends.
func (b *batches) take(pageID string) []*submission {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := b.queues[pageID]
	if len(q) == 0 {
		delete(b.queues, pageID)
		return nil
	}
	n := min(len(q), maxBatch)
	group := q[:n:n]
	b.queues[pageID] = q[n:]
	return group
}

// close refuses new ops and waits for the committers to finish what is queued.
func (b *batches) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.running.Wait()
}

// commitQueue commits pageID's queue group by group until it is empty.
func (s *Service) commitQueue(pageID string) {
	defer s.batches.running.Done()
	for {
		group := s.batches.take(pageID)
		if len(group) == 0 {
			return
		}
		s.commitGroup(pageID, group)
		for _, sub := range group {
			close(sub.done)
		}
	}
}

// commitGroup commits a group of ops to one document in one transaction and sets each one's
// outcome.
func (s *Service) commitGroup(pageID string, group []*submission) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	var after cachedDoc
	events, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		for _, sub := range group {
			sub.version, sub.err = 0, nil // a retried function starts afresh
		}
		var err error
		after, err = s.applyGroup(ctx, tx, rec, pageID, group)
		return err
	})
	for _, sub := range group {
		switch {
		case err != nil:
			sub.err = err
		case sub.err == nil && len(events) > 0:
			sub.eventID = events[len(events)-1].ID
		}
	}
	if err == nil && after.version > 0 {
		s.contents.put(pageID, after) // committed: the next group need not read it
		s.afterOp(pageID)
	}
}

// group is what applyGroup knows while it applies a group.
type group struct {
	pageID string
	start  int64            // the document's version before the group
	stored []DocOp          // the stored ops up to start that the group's bases need, oldest first
	mine   []DocOp          // the ops the group applied, after start
	known  map[opKey]int64  // {clientId, seq} → version, of the group's ops applied before
	may    map[string]error // userID → nil when the user may edit, or why not
}

type opKey struct {
	clientID string
	seq      int64
}

// applyGroup checks, transforms, applies and stores each op of the group in tx, then writes the
// content once. A refused op gets its error and is skipped. It returns the document after the
// group (version 0 when no op was applied).
func (s *Service) applyGroup(ctx context.Context, tx *gorm.DB, rec *eventlog.Recorder, pageID string, subs []*submission) (cachedDoc, error) {
	g := group{pageID: pageID, may: map[string]error{}}
	// The access checks come first: they take the drive's access lock, before the page's row.
	for _, sub := range subs {
		if _, seen := g.may[sub.userID]; seen {
			continue
		}
		pa, err := documentAccess(ctx, s.access.In(tx), sub.userID, pageID)
		switch {
		case err != nil && modules.As(err) == nil:
			return cachedDoc{}, err // the database failed, not the check
		case err == nil && !pa.Edit:
			err = ErrForbidden
		}
		g.may[sub.userID] = err
	}
	d, err := s.lockContent(tx, pageID)
	if err != nil {
		if modules.As(err) != nil {
			for _, sub := range subs {
				sub.err = err
			}
			return cachedDoc{}, nil
		}
		return cachedDoc{}, err
	}
	g.start = d.DocVersion
	if err := g.load(tx, subs); err != nil {
		return cachedDoc{}, err
	}
	content := d.Content
	now := modules.Now()
	for _, sub := range subs {
		if sub.err = g.may[sub.userID]; sub.err != nil {
			continue
		}
		if v, ok := g.known[opKey{sub.clientID, sub.seq}]; ok {
			sub.version = v
			continue
		}
		op, err := g.rebase(sub)
		if err != nil {
			sub.err = err
			continue
		}
		next, err := op.Apply(content)
		switch {
		case err != nil:
			sub.err = ErrOpMismatch
			continue
		case len(next) > MaxContent:
			sub.err = ErrDocTooLarge
			continue
		}
		version := g.start + int64(len(g.mine)) + 1
		if err := s.storeOp(tx, rec, pageID, d.DriveID, version, sub.userID, op, content, sub.clientID, sub.seq, now); err != nil {
			return cachedDoc{}, err
		}
		content = next
		sub.version = version
		g.known[opKey{sub.clientID, sub.seq}] = version
		g.mine = append(g.mine, DocOp{Version: version, Op: op, UserID: sub.userID, ClientID: sub.clientID, Seq: sub.seq})
	}
	if len(g.mine) == 0 {
		return cachedDoc{}, nil
	}
	version := g.start + int64(len(g.mine))
	changes := map[string]any{"content": content, "doc_version": version, "updated_at": now}
	// A revision every RevisionEvery ops: when the group crosses a multiple, of the content
	// after the group.
	snapshot := version/s.doc.RevisionEvery > g.start/s.doc.RevisionEvery
	if snapshot {
		changes["revision"] = d.Revision + 1
		changes["revision_doc_version"] = version
	}
	if err := tx.Model(&row{}).Where("id = ?", pageID).Updates(changes).Error; err != nil {
		return cachedDoc{}, fmt.Errorf("pages: store content: %w", err)
	}
	if snapshot {
		if err := s.snapshot(ctx, tx, rec, pageID, g.mine[len(g.mine)-1].UserID); err != nil {
			return cachedDoc{}, err
		}
	}
	return cachedDoc{version: version, content: content}, nil
}

// load reads, in two queries for the whole group, the versions of the group's ops that were
// applied before (resubmissions) and the stored ops their bases need.
func (g *group) load(tx *gorm.DB, subs []*submission) error {
	g.known = map[opKey]int64{}
	q := tx.Model(&opRow{}).Select("client_id, seq, version").Where("page_id = ?", g.pageID)
	var cond *gorm.DB
	base := g.start
	for _, sub := range subs {
		c := tx.Where("client_id = ? AND seq = ?", sub.clientID, sub.seq)
		if cond == nil {
			cond = c
		} else {
			cond = cond.Or(c)
		}
		base = min(base, sub.base)
	}
	var prev []opRow
	if err := q.Where(cond).Find(&prev).Error; err != nil {
		return fmt.Errorf("pages: find resubmitted ops: %w", err)
	}
	for _, r := range prev {
		g.known[opKey{r.ClientID, r.Seq}] = r.Version
	}
	if base >= g.start {
		return nil
	}
	var rows []opRow
	if err := tx.Where("page_id = ? AND version > ? AND version <= ?", g.pageID, base, g.start).Order("version").Find(&rows).Error; err != nil {
		return fmt.Errorf("pages: read ops: %w", err)
	}
	g.stored = make([]DocOp, len(rows))
	for i, r := range rows {
		var err error
		if g.stored[i], err = r.docOp(); err != nil {
			return err
		}
	}
	return nil
}

// rebase transforms sub's op past the ops after its base: those stored before the group and
// those the group applied. Errors: invalid input (a base ahead), ErrTooOld, ErrOpMismatch.
func (g *group) rebase(sub *submission) (ot.Op, error) {
	current := g.start + int64(len(g.mine))
	if sub.base > current {
		return ot.Op{}, modules.Invalid("version is ahead of the document", map[string]any{"version": current})
	}
	var after []DocOp
	if sub.base < g.start {
		need := int(g.start - sub.base)
		// stored holds the newest ops up to start that are kept: older ones were pruned.
		if need > len(g.stored) || g.stored[len(g.stored)-need].Version != sub.base+1 {
			return ot.Op{}, ErrTooOld
		}
		after = g.stored[len(g.stored)-need:]
	}
	op := sub.op
	for _, applied := range slices.Concat(after, g.mine[max(0, sub.base-g.start):]) {
		var err error
		if op, _, err = ot.Transform(op, applied.Op); err != nil {
			return ot.Op{}, ErrOpMismatch
		}
	}
	return op, nil
}

// cachedDoc is a document's content at a version.
type cachedDoc struct {
	version int64
	content string
}

// maxCached is how many documents' contents the service keeps in memory.
const maxCached = 32

// contents keeps the content of the documents edited last, as committed, so that a group of ops
// reads the page row's version and not its whole content (up to 1 MB) when nothing else wrote
// it. Every write of a page's content increments its doc_version, so a cached content is current
// exactly when its version is the row's (read under the row lock); another process's writes
// change the version and the content is read again.
type contents struct {
	mu   sync.Mutex
	docs map[string]cachedDoc
}

func (c *contents) get(pageID string) (cachedDoc, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.docs[pageID]
	return d, ok
}

func (c *contents) put(pageID string, d cachedDoc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.docs == nil {
		c.docs = map[string]cachedDoc{}
	}
	if _, ok := c.docs[pageID]; !ok && len(c.docs) >= maxCached {
		for id := range c.docs { // evict any one
			delete(c.docs, id)
			break
		}
	}
	c.docs[pageID] = d
}

// lockContent is lockDoc with the content taken from the cache when it is current.
func (s *Service) lockContent(tx *gorm.DB, pageID string) (docRow, error) {
	d, err := lockColumns(tx, pageID, "id, drive_id, type, revision, doc_version, trashed_at")
	if err != nil {
		return d, err
	}
	if c, ok := s.contents.get(pageID); ok && c.version == d.DocVersion {
		d.Content = c.content
		return d, nil
	}
	if err := tx.Model(&row{}).Select("content").Where("id = ?", pageID).Take(&d.Content).Error; err != nil {
		return d, fmt.Errorf("pages: read content: %w", err)
	}
	return d, nil
}
