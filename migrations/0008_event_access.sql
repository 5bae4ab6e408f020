-- What an event changes about who may see what (eventlog.Access as JSON), set by the module that
-- records it; NULL for the events that change no one's access. The realtime layer applies it,
-- in every process, before delivering the event.
ALTER TABLE events ADD COLUMN access TEXT;
