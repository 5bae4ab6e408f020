-- Streamed messages: a message that its author (typically an agent) starts empty and fills chunk
-- by chunk. status is 'streaming' until the author completes or fails it, someone with edit
-- stops it, or it is interrupted (silent too long, its key revoked, its agent removed); every
-- message posted whole is 'complete'. stream_seq is the sequence number of the last chunk in
-- content: each chunk is appended to content by a conditional update on it (seq = stream_seq + 1),
-- so any process may take any chunk and the row always holds every chunk accepted, in order.
-- status_reason says why a stream ended other than by completing. stream_key_id is the agent key
-- that started the stream (revoking the key interrupts it); NULL for a user's access token.
-- updated_at is the stream's last activity, which the idle sweep reads through messages_streaming.
ALTER TABLE messages ADD COLUMN status TEXT NOT NULL DEFAULT 'complete'
    CHECK (status IN ('complete', 'streaming', 'error', 'stopped', 'interrupted'));
ALTER TABLE messages ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN stream_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN stream_key_id TEXT;
CREATE INDEX messages_streaming ON messages (updated_at) WHERE status = 'streaming';
CREATE INDEX messages_streaming_author ON messages (author_id) WHERE status = 'streaming';
