-- Socket.IO connection-state-recovery sessions: which rooms a pid was in, so that a client that
-- reconnects (even to a restarted server) gets its rooms back and the events it missed.
CREATE TABLE realtime_sessions (
    pid           TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    rooms         TEXT NOT NULL,
    since_event   BIGINT NOT NULL,
    updated_at    {{TS}} NOT NULL
);
CREATE INDEX realtime_sessions_updated ON realtime_sessions (updated_at);
