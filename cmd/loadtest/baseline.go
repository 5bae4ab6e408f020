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
	"strings"
	"time"

	_ "github.com/glebarez/go-sqlite"  // database/sql driver "sqlite"
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
//
// The WebSockets are served by one of two layers (baselineSockets): plain gorilla connections
// with a writer goroutine each, as above (gorillaSockets, baseline_gorilla.go), or, with
// -baseline-melody, melody's sessions given the same frame bytes (melodySockets,
// baseline_melody.go), so that melody's own share of the cost shows.

// baselineSockets is the baseline's WebSocket layer. Its methods are safe concurrently.
type baselineSockets interface {
	// serve upgrades r for userID, whose token is verified, and serves the socket until it ends:
	// each text frame asks to join the page it names (mayRead decides), answered by joinAnswer.
	serve(w http.ResponseWriter, r *http.Request, userID string)
	// broadcast sends frame, a text message, to every socket of pageID's room without blocking;
	// a socket that cannot take it is closed. An error means that nothing was sent.
	broadcast(pageID string, frame []byte) error
	// closeAll closes every socket (at shutdown).
	closeAll()
}

type baselineServer struct {
	db       *sql.DB
	postgres bool
	tokens   *auth.Tokens
	sockets  baselineSockets
	pad      string // added to every message frame (-baseline-pad)
}

// serveBaseline runs the baseline server on addr until ctx ends. dbURL is a postgres:// URL
// or "sqlite:<path>" of a database pagespace has set up with JWT_SECRET jwtSecret. queue is the
// frames buffered per socket; pad is how many bytes to add to each message frame; withMelody
// serves the WebSockets through melody.
func serveBaseline(ctx context.Context, addr, dbURL string, queue, pad int, withMelody bool) error {
	s := &baselineServer{tokens: auth.NewTokens([]byte(jwtSecret), 0), pad: strings.Repeat("x", max(0, pad))}
	if withMelody {
		s.sockets = newMelodySockets(s.mayRead, max(1, queue))
	} else {
		s.sockets = newGorillaSockets(s.mayRead, max(1, queue))
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
		s.sockets.closeAll()
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
	return modules.DollarPlaceholders(query)
}

func (s *baselineServer) serveWS(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.userOf(w, r)
	if !ok {
		return
	}
	s.sockets.serve(w, r, userID)
}

// mayRead reports whether userID may read pageID (one query): nil, sql.ErrNoRows when not, or
// the database's error.
func (s *baselineServer) mayRead(ctx context.Context, userID, pageID string) error {
	var driveID string
	return s.db.QueryRowContext(ctx, s.rebind(`SELECT p.drive_id FROM pages p
		JOIN drive_members m ON m.drive_id = p.drive_id AND m.user_id = ?
		WHERE p.id = ? AND p.trashed_at IS NULL`), userID, pageID).Scan(&driveID)
}

// joinAnswer is the frame that answers a join of pageID that mayRead answered with err:
// {"joined":id}, {"error":"not_found"} or {"error":"internal"}.
func joinAnswer(pageID string, err error) []byte {
	answer := map[string]string{"joined": pageID}
	if err != nil {
		answer = map[string]string{"error": "not_found"}
		if !errors.Is(err, sql.ErrNoRows) {
			log.Printf("baseline: join: %v", err)
			answer["error"] = "internal"
		}
	}
	frame, _ := json.Marshal(answer)
	return frame
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
	body := map[string]any{"type": "new_message", "message": m}
	if s.pad != "" {
		body["pad"] = s.pad
	}
	frame, _ := json.Marshal(body)
	if err := s.sockets.broadcast(m.PageID, frame); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(m)
}

// pprofMux serves net/http/pprof's profiles (for -pprof with -baseline).
func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
