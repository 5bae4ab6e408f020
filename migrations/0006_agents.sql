-- Agents: a user row of kind 'agent' that belongs to one drive (agent_drive_id) and signs in only
-- with API keys. Being a user, an agent authors, is a member and shows in presence unchanged.
-- Only the sha256 of a key is stored: keys are 256-bit random, so a fast hash is not guessable.
ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'user' CHECK (kind IN ('user', 'agent'));
ALTER TABLE users ADD COLUMN agent_drive_id TEXT REFERENCES drives(id) ON DELETE CASCADE;
CREATE INDEX users_agent_drive ON users (agent_drive_id);

CREATE TABLE agent_keys (
    id           TEXT PRIMARY KEY,
    agent_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_at   {{TS}} NOT NULL,
    last_used_at {{TS}}
);
CREATE INDEX agent_keys_agent ON agent_keys (agent_id);
