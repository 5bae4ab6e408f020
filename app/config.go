package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/pagespace/pagespace/messages"
	"github.com/pagespace/pagespace/modules/auth"
	"github.com/pagespace/pagespace/pages"
	"github.com/pagespace/pagespace/realtime"
	"gorm.io/gorm"
)

// Config is every setting of the server. DefaultConfig gives the zero-set-up values.
type Config struct {
	Addr            string        // ADDR, default ":8080"
	DatabaseURL     string        // DATABASE_URL; a postgres:// URL selects PostgreSQL, empty selects SQLite
	DataDir         string        // DATA_DIR, default "./data": the SQLite file and the generated JWT key
	JWTSecret       string        // JWT_SECRET; empty: generated once and kept in DataDir
	AccessTokenTTL  time.Duration // ACCESS_TOKEN_TTL, default 15m
	RefreshTokenTTL time.Duration // REFRESH_TOKEN_TTL, default 720h
	AllowedOrigins  []string      // ALLOWED_ORIGINS, comma-separated; CORS and the WebSocket Origin check
	LogLevel        slog.Level    // LOG_LEVEL: debug, info, warn, error
	BodyLimit       int64         // BODY_LIMIT bytes, default 1 MB
	EventRetention  time.Duration // EVENT_RETENTION, default 168h (7 days)
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT, default 15s
	AuthRateLimit   int           // AUTH_RATE_LIMIT: signup/login/refresh/account-deletion requests per minute per client IP, default 30; 0 turns it off
	PprofAddr       string        // PPROF_ADDR; empty (the default) serves no profiles

	// PasswordRateLimit is PASSWORD_RATE_LIMIT: password checks (login, account deletion) per
	// minute per account, default 10; 0 turns it off.
	PasswordRateLimit int
	// PasswordHashMemory is PASSWORD_HASH_MEMORY: bytes the password hashes running at once may
	// take (each argon2id hash needs PasswordHash.Memory KiB), default 64 MiB.
	PasswordHashMemory int64
	// MemberEmailRateLimit is MEMBER_EMAIL_RATE_LIMIT: members added by email per minute, per
	// client address and per acting user, default 30; 0 turns it off.
	MemberEmailRateLimit int
	// ReadHeaderTimeout (READ_HEADER_TIMEOUT, default 10s) bounds the wait for a request's
	// headers, ReadBodyTimeout (READ_BODY_TIMEOUT, default 30s) the wait for its body, and
	// IdleTimeout (IDLE_TIMEOUT, default 120s) a keep-alive connection between requests. None of
	// them cuts a long-poll waiting for packets or an open WebSocket.
	ReadHeaderTimeout time.Duration
	ReadBodyTimeout   time.Duration
	IdleTimeout       time.Duration

	// Realtime holds the socket limits; the WS_* settings fill part of it.
	Realtime realtime.Config
	// Doc holds the live editing settings (ops kept per document, ops per revision); its zero
	// value takes the defaults.
	Doc pages.DocConfig
	// Stream holds the limits of streamed messages (STREAM_*); its zero value takes the defaults.
	Stream messages.StreamConfig

	// PasswordHash is not an environment setting; tests lower it to keep signups fast.
	PasswordHash auth.HashParams
	// LogOutput is where logs go (default: standard error).
	LogOutput io.Writer
	// InstrumentDB, when set, is called with the database handle once it is open, before the
	// migrations run or anything else uses it: a hook for instrumentation (GORM callbacks, with
	// which tests count statements). Not an environment setting.
	InstrumentDB func(*gorm.DB)
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Addr:            ":8080",
		DataDir:         "./data",
		AccessTokenTTL:  15 * time.Minute,
		RefreshTokenTTL: 30 * 24 * time.Hour,
		LogLevel:        slog.LevelInfo,
		BodyLimit:       1 << 20,
		EventRetention:  7 * 24 * time.Hour,
		ShutdownTimeout: 15 * time.Second,
		AuthRateLimit:   30,
		PasswordHash:    auth.DefaultHashParams,

		PasswordRateLimit:    10,
		PasswordHashMemory:   auth.DefaultHashMemory,
		MemberEmailRateLimit: 30,
		ReadHeaderTimeout:    10 * time.Second,
		ReadBodyTimeout:      30 * time.Second,
		IdleTimeout:          120 * time.Second,
	}
}

// setting describes one environment variable, for parsing and for --help.
type setting struct {
	env, def, help string
	set            func(c *Config, v string) error
}

var settings = []setting{
	{"ADDR", ":8080", "listen address", func(c *Config, v string) error { c.Addr = v; return nil }},
	{"DATABASE_URL", "(embedded SQLite)", "postgres://user:pass@host:5432/db selects PostgreSQL", func(c *Config, v string) error {
		if !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
			return errors.New("must be a postgres:// URL (leave it unset for the embedded SQLite)")
		}
		c.DatabaseURL = v
		return nil
	}},
	{"DATA_DIR", "./data", "directory for the SQLite file and the generated JWT key", func(c *Config, v string) error { c.DataDir = v; return nil }},
	{"JWT_SECRET", "(generated, kept in DATA_DIR)", "HS256 signing key for access tokens, at least 32 bytes", func(c *Config, v string) error {
		if len(v) < 32 {
			return errors.New("must be at least 32 bytes")
		}
		c.JWTSecret = v
		return nil
	}},
	{"ACCESS_TOKEN_TTL", "15m", "access token lifetime (Go duration)", durationSetting(func(c *Config) *time.Duration { return &c.AccessTokenTTL })},
	{"REFRESH_TOKEN_TTL", "720h", "refresh token lifetime", durationSetting(func(c *Config) *time.Duration { return &c.RefreshTokenTTL })},
	{"ALLOWED_ORIGINS", "(none: same origin only)", "comma-separated origins allowed for CORS and WebSocket upgrades", func(c *Config, v string) error {
		c.AllowedOrigins = nil
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				c.AllowedOrigins = append(c.AllowedOrigins, strings.TrimRight(o, "/"))
			}
		}
		return nil
	}},
	{"LOG_LEVEL", "info", "debug, info, warn or error", func(c *Config, v string) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	}},
	{"BODY_LIMIT", "1048576", "largest request body in bytes", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 {
			return errors.New("must be a number of bytes, at least 1024")
		}
		c.BodyLimit = n
		return nil
	}},
	{"EVENT_RETENTION", "168h", "how long the event log keeps events (replay window)", durationSetting(func(c *Config) *time.Duration { return &c.EventRetention })},
	{"AUTH_RATE_LIMIT", "30", "signup/login/refresh/account-deletion requests per minute per client IP (0: off)", limitSetting(func(c *Config) *int { return &c.AuthRateLimit })},
	{"PASSWORD_RATE_LIMIT", "10", "password checks (login, account deletion) per minute per account (0: off)", limitSetting(func(c *Config) *int { return &c.PasswordRateLimit })},
	{"PASSWORD_HASH_MEMORY", "67108864", "bytes the password hashes running at once may use (one argon2id hash takes 19 MiB)", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1<<20 {
			return errors.New("must be a number of bytes, at least 1048576")
		}
		c.PasswordHashMemory = n
		return nil
	}},
	{"MEMBER_EMAIL_RATE_LIMIT", "30", "members added by email per minute, per client IP and per acting user (0: off)", limitSetting(func(c *Config) *int { return &c.MemberEmailRateLimit })},
	{"WS_MAX_CONNECTIONS_PER_USER", "20", "open sockets per user", intSetting(func(c *Config) *int { return &c.Realtime.MaxConnsPerUser })},
	{"WS_MAX_ROOMS", "200", "page and drive rooms one socket may join", intSetting(func(c *Config) *int { return &c.Realtime.MaxRoomsPerConn })},
	{"WS_EVENT_RATE", "20", "client events per second per socket (burst twice that)", rateSetting(func(c *Config) (*float64, *int) {
		return &c.Realtime.EventRate, &c.Realtime.EventBurst
	})},
	{"PPROF_ADDR", "(off)", "address of a separate net/http/pprof listener, e.g. 127.0.0.1:6060 (for profiling only)", func(c *Config, v string) error { c.PprofAddr = v; return nil }},
	{"SHUTDOWN_TIMEOUT", "15s", "how long SIGTERM waits for in-flight work", durationSetting(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{"READ_HEADER_TIMEOUT", "10s", "how long a client may take to send a request's headers", durationSetting(func(c *Config) *time.Duration { return &c.ReadHeaderTimeout })},
	{"READ_BODY_TIMEOUT", "30s", "how long a client may take to send a request's body (408 and the connection closed beyond)", durationSetting(func(c *Config) *time.Duration { return &c.ReadBodyTimeout })},
	{"IDLE_TIMEOUT", "120s", "how long an idle keep-alive connection stays open between requests", durationSetting(func(c *Config) *time.Duration { return &c.IdleTimeout })},
	{"WS_DOC_OP_RATE", "50", "doc_op events (live editing ops) per second per socket (burst twice that)", rateSetting(func(c *Config) (*float64, *int) {
		return &c.Realtime.DocOpRate, &c.Realtime.DocOpBurst
	})},
	{"DOC_KEEP_OPS", "1000", "live editing ops kept per document for catch-up (older versions answer too_old)", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return errors.New("must be a whole number, 1 or more")
		}
		c.Doc.KeepOps = n
		return nil
	}},
	{"DOC_REVISION_EVERY", "100", "every this many live editing ops of a document make a revision and a page_updated event", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return errors.New("must be a whole number, 1 or more")
		}
		c.Doc.RevisionEvery = n
		return nil
	}},
	{"DOC_PAUSE_REVISION", "10s", "a document with edits no revision holds becomes a revision (and page_updated) after this long without an op", durationSetting(func(c *Config) *time.Duration { return &c.Doc.PauseRevision })},
	{"PRESENCE_IDLE_AFTER", "5m", "a connected user without activity pings for this long shows as idle in drive presence", durationSetting(func(c *Config) *time.Duration { return &c.Realtime.IdleAfter })},
	{"STREAM_IDLE_TIMEOUT", "60s", "a streamed message without a chunk for this long is marked interrupted", durationSetting(func(c *Config) *time.Duration { return &c.Stream.IdleTimeout })},
	{"STREAM_CHUNK_RATE", "50", "chunks of streamed messages per second per author (burst twice that)", rateSetting(func(c *Config) (*float64, *int) {
		return &c.Stream.ChunkRate, &c.Stream.ChunkBurst
	})},
	{"STREAM_MAX_BYTES", "65536", "the largest streamed message, in bytes of UTF-8", intSetting(func(c *Config) *int { return &c.Stream.MaxBytes })},
	{"WS_MAX_UNAUTHENTICATED_PER_ADDRESS", "50", "Engine.IO sessions one client address may hold open before they authenticate", intSetting(func(c *Config) *int { return &c.Realtime.MaxUnauthenticatedPerAddr })},
}

// rateSetting reads a rate a second, a positive number, and sets the burst to twice it.
func rateSetting(fields func(*Config) (*float64, *int)) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || n <= 0 {
			return errors.New("must be a positive number")
		}
		rate, burst := fields(c)
		*rate, *burst = n, int(2*n)+1
		return nil
	}
}

// limitSetting reads a rate limit: a whole number a minute, 0 for none.
func limitSetting(field func(*Config) *int) func(*Config, string) error {
	return wholeSetting(0, field)
}

// intSetting reads a count of 1 or more.
func intSetting(field func(*Config) *int) func(*Config, string) error { return wholeSetting(1, field) }

func wholeSetting(least int, field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < least {
			return fmt.Errorf("must be a whole number, %d or more", least)
		}
		*field(c) = n
		return nil
	}
}

func durationSetting(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("must be a positive duration such as 15m or 24h")
		}
		*field(c) = d
		return nil
	}
}

// Command is what the process was asked to do.
type Command string

// The commands.
const (
	CmdServe   Command = "serve"
	CmdMigrate Command = "migrate"
	CmdHelp    Command = "help"
)

// Load reads the command line and environment into a Config. Flags mirror the settings
// (--addr, --database-url, ...) and win over the environment.
func Load(args []string, getenv func(string) string) (Config, Command, error) {
	cfg := DefaultConfig()
	for _, s := range settings {
		if v := getenv(s.env); v != "" {
			if err := s.set(&cfg, v); err != nil {
				return cfg, "", fmt.Errorf("%s: %w", s.env, err)
			}
		}
	}
	fs := flag.NewFlagSet("pagespace", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	help := fs.Bool("help", false, "")
	fs.BoolVar(help, "h", false, "")
	for _, s := range settings {
		s := s
		fs.Func(strings.ToLower(strings.ReplaceAll(s.env, "_", "-")), s.help, func(v string) error { return s.set(&cfg, v) })
	}
	if err := fs.Parse(args); err != nil {
		return cfg, "", err
	}
	if *help {
		return cfg, CmdHelp, nil
	}
	switch rest := fs.Args(); {
	case len(rest) == 0 || rest[0] == "serve":
		return cfg, CmdServe, nil
	case rest[0] == "migrate":
		return cfg, CmdMigrate, nil
	case rest[0] == "help":
		return cfg, CmdHelp, nil
	default:
		return cfg, "", fmt.Errorf("unknown command %q (try --help)", rest[0])
	}
}

// Usage writes the --help text.
func Usage(w io.Writer) {
	fmt.Fprint(w, `pagespace: a self-hosted realtime collaboration server.

Usage:
  pagespace [flags] [serve]   serve the API, the web UI and the socket endpoint (default)
  pagespace [flags] migrate   apply database migrations and exit
  pagespace --help            this text

Settings (environment variable, or the flag --lower-case-name=value):
`)
	for _, s := range settings {
		fmt.Fprintf(w, "  %-18s %s (default %s)\n", s.env, s.help, s.def)
	}
}
