-- Drive presence: when each user's last socket closed, shown as the user's lastSeenAt while they
-- are offline (also after a restart). Written when a process sees a user's last socket go, or
-- when a dead process's lease runs out.
CREATE TABLE user_presence (
    user_id      TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    last_seen_at {{TS}} NOT NULL
);
