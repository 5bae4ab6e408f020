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
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/glebarez/go-sqlite" // database/sql driver "sqlite"
	"github.com/gorilla/websocket"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// The baseline is the least a server can do for the same work: insert the message, encode the
// frame once, hand it to one writer goroutine per socket through a buffered channel. No auth,
// no permission check, no event log, no Socket.IO framing. A socket whose channel is full is
// closed, as pagespace does, so that neither side silently drops a frame.

type baselineConn struct {
	ws  *websocket.Conn
	out chan *websocket.PreparedMessage
}

type baselineServer struct {
	db       *sql.DB
	postgres bool
	mu       sync.RWMutex
	conns    map[*baselineConn]struct{}
	upgrader websocket.Upgrader
	queue    int // frames buffered per socket
}

// serveBaseline runs the baseline server on addr until ctx ends. dbURL is a postgres:// URL
// or "sqlite:<path>".
func serveBaseline(ctx context.Context, addr, dbURL string, queue int) error {
	s := &baselineServer{
		queue: max(1, queue),
		conns: map[*baselineConn]struct{}{},
		// melody's defaults, which pagespace uses: the idle-memory figures compare.
		upgrader: websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024},
	}
	var err error
	if path, ok := strings.CutPrefix(dbURL, "sqlite:"); ok {
		s.db, err = sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)")
		if err == nil {
			s.db.SetMaxOpenConns(1)
			_, err = s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS messages (
				id INTEGER PRIMARY KEY AUTOINCREMENT, page_id TEXT NOT NULL, content TEXT NOT NULL,
				created_at TEXT NOT NULL)`)
		}
	} else {
		s.postgres = true
		s.db, err = sql.Open("pgx", dbURL)
		if err == nil {
			s.db.SetMaxOpenConns(16)
			_, err = s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS messages (
				id BIGSERIAL PRIMARY KEY, page_id TEXT NOT NULL, content TEXT NOT NULL,
				created_at TIMESTAMPTZ NOT NULL)`)
		}
	}
	if err != nil {
		return fmt.Errorf("baseline: database: %w", err)
	}
	defer s.db.Close()

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

func (s *baselineServer) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &baselineConn{ws: ws, out: make(chan *websocket.PreparedMessage, s.queue)}
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	go func() { // the writer
		for pm := range c.out {
			_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if ws.WritePreparedMessage(pm) != nil {
				_ = ws.Close()
				for range c.out { // drain until the reader unregisters and closes
				}
				return
			}
		}
	}()
	// The reader (this goroutine) only notices the end of the connection.
	ws.SetReadLimit(4096)
	for {
		if _, _, err := ws.NextReader(); err != nil {
			break
		}
	}
	s.mu.Lock()
	delete(s.conns, c)
	close(c.out)
	s.mu.Unlock()
	_ = ws.Close()
}

type baselineMessage struct {
	ID        string    `json:"id"`
	PageID    string    `json:"pageId"`
	Content   string    `json:"content"`
	CreatedAt time.Time `json:"createdAt"`
}

func (s *baselineServer) postMessage(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PageID  string `json:"pageId"`
		Content string `json:"content"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil || in.Content == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	m := baselineMessage{PageID: in.PageID, Content: in.Content, CreatedAt: time.Now().UTC()}
	var id int64
	var err error
	if s.postgres {
		err = s.db.QueryRowContext(r.Context(), `INSERT INTO messages (page_id, content, created_at) VALUES ($1, $2, $3) RETURNING id`,
			m.PageID, m.Content, m.CreatedAt).Scan(&id)
	} else {
		err = s.db.QueryRowContext(r.Context(), `INSERT INTO messages (page_id, content, created_at) VALUES (?, ?, ?) RETURNING id`,
			m.PageID, m.Content, m.CreatedAt.Format(time.RFC3339Nano)).Scan(&id)
	}
	if err != nil {
		log.Printf("baseline: insert: %v", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	m.ID = strconv.FormatInt(id, 10)
	frame, _ := json.Marshal(map[string]any{"eventId": m.ID, "type": "new_message", "message": m})
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, frame)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.mu.RLock()
	var slow []*baselineConn
	for c := range s.conns {
		select {
		case c.out <- pm:
		default:
			slow = append(slow, c)
		}
	}
	s.mu.RUnlock()
	for _, c := range slow {
		_ = c.ws.Close() // the reader unregisters it; the client would reconnect and refetch
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(m)
}
