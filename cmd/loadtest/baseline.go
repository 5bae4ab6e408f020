package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/glebarez/go-sqlite" // database/sql driver "sqlite"
	"github.com/gorilla/websocket"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/auth"
)

// The baseline is the least a real server does for the same work, on pagespace's own database
// (its users, drive, page and messages tables, set up by pagespace before the baseline starts):
//   - at connect, the access token is verified (auth.Tokens.Verify, as pagespace does: HS256,
//     expiry, issued-at), from the upgrade request's Authorization header;
//   - at join (a text frame holding the page id), one query: is the user a member of the
//     page's drive, and is the page not in the trash;
//   - per message, the poster's token is verified and the row inserted into pagespace's
//     messages table (its foreign keys and indexes); the frame is encoded once
//     (websocket.PreparedMessage) and handed to the writer goroutine of every socket in the
//     page's room through a buffered channel (a full channel closes the socket, as pagespace
//     does, so that neither side silently drops a frame).
//
// No session check, no per-recipient check, no event log, no presence, no Socket.IO framing.

type baselineConn struct {
	ws     *websocket.Conn
	userID string
	out    chan *websocket.PreparedMessage
}

type baselineServer struct {
	db       *sql.DB
	postgres bool
	tokens   *auth.Tokens
	mu       sync.RWMutex
	conns    map[*baselineConn]struct{}
	rooms    map[string]map[*baselineConn]struct{} // page id → sockets that joined it
	upgrader websocket.Upgrader
	queue    int // frames buffered per socket
}

// serveBaseline runs the baseline server on addr until ctx ends. dbURL is a postgres:// URL
// or "sqlite:<path>" of a database pagespace has set up with JWT_SECRET jwtSecret.
func serveBaseline(ctx context.Context, addr, dbURL string, queue int) error {
	s := &baselineServer{
		queue:  max(1, queue),
		tokens: auth.NewTokens([]byte(jwtSecret), 0),
		conns:  map[*baselineConn]struct{}{},
		rooms:  map[string]map[*baselineConn]struct{}{},
		// melody's defaults: the idle-memory figures compare with a plain melody server.
		upgrader: websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024},
	}
	// pagespace's own settings (app/db.go).
	driver, dsn, conns := "pgx", dbURL, 20
	if path, ok := strings.CutPrefix(dbURL, "sqlite:"); ok {
		driver, conns = "sqlite", 8
		dsn = "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	}
	s.postgres = driver == "pgx"
	db, err := sql.Open(driver, dsn)
	if err == nil {
		defer db.Close()
		db.SetMaxOpenConns(conns)
		err = db.PingContext(ctx)
	}
	if err != nil {
		return fmt.Errorf("baseline: database: %w", err)
	}
	s.db = db

	if addr := os.Getenv("PPROF_ADDR"); addr != "" {
		// net/http/pprof's handlers on a listener of their own, as pagespace serves them.
		go func() { _ = http.ListenAndServe(addr, pprofMux()) }()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("GET /ws", s.serveWS)
	mux.HandleFunc("POST /messages", s.postMessage)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		s.mu.Lock()
		for c := range s.conns {
			_ = c.ws.Close()
		}
		s.mu.Unlock()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// userOf verifies the request's bearer token and returns its user, or answers 401.
func (s *baselineServer) userOf(w http.ResponseWriter, r *http.Request) (string, bool) {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	id, _, err := s.tokens.Verify(token)
	if err != nil {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return "", false
	}
	return id.UserID, true
}

// rebind turns the ? placeholders of query into PostgreSQL's $n.
func (s *baselineServer) rebind(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *baselineServer) serveWS(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.userOf(w, r)
	if !ok {
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &baselineConn{ws: ws, userID: userID, out: make(chan *websocket.PreparedMessage, s.queue)}
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	go c.write()
	s.read(r.Context(), c)
	s.mu.Lock()
	delete(s.conns, c)
	for _, room := range s.rooms {
		delete(room, c)
	}
	close(c.out)
	s.mu.Unlock()
	_ = ws.Close()
}

// write is a socket's writer goroutine: it writes the frames queued for it until out closes.
func (c *baselineConn) write() {
	for pm := range c.out {
		_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if c.ws.WritePreparedMessage(pm) != nil {
			_ = c.ws.Close()
			for range c.out { // drain until the reader unregisters and closes
			}
			return
		}
	}
}

// read is a socket's reader (the request's goroutine): every text frame asks to join the page
// it names; the answer is {"joined":id} or {"error":"not_found"}.
func (s *baselineServer) read(ctx context.Context, c *baselineConn) {
	c.ws.SetReadLimit(4096)
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		pageID := string(msg)
		answer := map[string]string{"joined": pageID}
		if err := s.join(ctx, c, pageID); err != nil {
			answer = map[string]string{"error": "not_found"}
			if !errors.Is(err, sql.ErrNoRows) {
				log.Printf("baseline: join: %v", err)
				answer["error"] = "internal"
			}
		}
		frame, _ := json.Marshal(answer)
		pm, err := websocket.NewPreparedMessage(websocket.TextMessage, frame)
		if err != nil {
			return
		}
		s.mu.RLock()
		queued := c.send(pm) // the reader holds c registered: out is open
		s.mu.RUnlock()
		if !queued {
			return
		}
	}
}

// send queues pm without blocking and reports whether there was room. The caller holds s.mu
// (read) with c registered, so that out is not closed meanwhile.
func (c *baselineConn) send(pm *websocket.PreparedMessage) bool {
	select {
	case c.out <- pm:
		return true
	default:
		return false
	}
}

// join checks that c's user may read pageID (one query) and adds c to its room.
func (s *baselineServer) join(ctx context.Context, c *baselineConn, pageID string) error {
	var driveID string
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT p.drive_id FROM pages p
		JOIN drive_members m ON m.drive_id = p.drive_id AND m.user_id = ?
		WHERE p.id = ? AND p.trashed_at IS NULL`), c.userID, pageID).Scan(&driveID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rooms[pageID] == nil {
		s.rooms[pageID] = map[*baselineConn]struct{}{}
	}
	s.rooms[pageID][c] = struct{}{}
	return nil
}

type baselineMessage struct {
	ID        string    `json:"id"`
	PageID    string    `json:"pageId"`
	AuthorID  string    `json:"authorId"`
	Content   string    `json:"content"`
	CreatedAt time.Time `json:"createdAt"`
}

func (s *baselineServer) postMessage(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.userOf(w, r)
	if !ok {
		return
	}
	var in struct {
		PageID  string `json:"pageId"`
		Content string `json:"content"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil || in.Content == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	m := baselineMessage{ID: modules.NewID(), PageID: in.PageID, AuthorID: userID, Content: in.Content, CreatedAt: time.Now().UTC()}
	_, err := s.db.ExecContext(r.Context(), s.rebind(`INSERT INTO messages (id, page_id, author_id, content, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`), m.ID, m.PageID, m.AuthorID, m.Content, m.CreatedAt, m.CreatedAt)
	if err != nil {
		log.Printf("baseline: insert: %v", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	frame, _ := json.Marshal(map[string]any{"type": "new_message", "message": m})
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, frame)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.broadcast(m.PageID, pm)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(m)
}

// broadcast queues pm on every socket of pageID's room; a socket whose queue is full is closed
// (its reader unregisters it; a real client would reconnect and refetch).
func (s *baselineServer) broadcast(pageID string, pm *websocket.PreparedMessage) {
	var slow []*baselineConn
	s.mu.RLock()
	for c := range s.rooms[pageID] {
		if !c.send(pm) {
			slow = append(slow, c)
		}
	}
	s.mu.RUnlock()
	for _, c := range slow {
		_ = c.ws.Close()
	}
}

// pprofMux serves net/http/pprof's profiles (for -pprof with -baseline).
func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	return mux
}
