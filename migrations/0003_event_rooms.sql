-- The event feed's index by audience, so that GET /api/events reads what the caller may see and
-- not everybody's events: drive events are found through events (drive_id, id); the rest through
-- this table, one row per user room an event is addressed to, and per drive room other than the
-- event's own drive (user_deleted, which has no drive). Page rooms are not indexed: every page
-- event carries its drive. Rows go when their event is pruned (eventlog.Prune).
CREATE TABLE event_rooms (
    room     TEXT NOT NULL,
    event_id BIGINT NOT NULL,
    PRIMARY KEY (room, event_id)
);

INSERT INTO event_rooms (room, event_id)
SELECT DISTINCT r.value, e.id
FROM events e, {{ROOMS_OF_E}}
WHERE r.value LIKE 'user:%'
   OR (r.value LIKE 'drive:%' AND (e.drive_id IS NULL OR r.value <> 'drive:' || e.drive_id));
