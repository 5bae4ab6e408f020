CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    {{TS}} NOT NULL,
    updated_at    {{TS}} NOT NULL
);

CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id   TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  {{TS}} NOT NULL,
    used_at     {{TS}},
    revoked_at  {{TS}},
    created_at  {{TS}} NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE drives (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    owner_id   TEXT NOT NULL REFERENCES users(id),
    created_at {{TS}} NOT NULL,
    updated_at {{TS}} NOT NULL
);

CREATE TABLE drive_members (
    drive_id   TEXT NOT NULL REFERENCES drives(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'MEMBER', 'VIEWER')),
    created_at {{TS}} NOT NULL,
    updated_at {{TS}} NOT NULL,
    PRIMARY KEY (drive_id, user_id)
);
CREATE INDEX drive_members_user ON drive_members (user_id);

CREATE TABLE pages (
    id            TEXT PRIMARY KEY,
    drive_id      TEXT NOT NULL REFERENCES drives(id) ON DELETE CASCADE,
    parent_id     TEXT REFERENCES pages(id) ON DELETE CASCADE,
    title         TEXT NOT NULL,
    type          TEXT NOT NULL CHECK (type IN ('FOLDER', 'DOCUMENT', 'CHANNEL', 'TASK_LIST')),
    position      {{FLOAT}} NOT NULL,
    is_private    BOOLEAN NOT NULL DEFAULT FALSE,
    content       TEXT NOT NULL DEFAULT '',
    revision      BIGINT NOT NULL DEFAULT 1,
    created_by    TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at    {{TS}} NOT NULL,
    updated_at    {{TS}} NOT NULL,
    trashed_at    {{TS}},
    trashed_by    TEXT,
    trash_root_id TEXT
);
CREATE INDEX pages_drive_parent ON pages (drive_id, parent_id, position);
CREATE INDEX pages_parent ON pages (parent_id);
CREATE INDEX pages_trash_root ON pages (trash_root_id);

CREATE TABLE page_revisions (
    page_id    TEXT NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    revision   BIGINT NOT NULL,
    title      TEXT NOT NULL,
    content    TEXT NOT NULL,
    author_id  TEXT,
    created_at {{TS}} NOT NULL,
    PRIMARY KEY (page_id, revision)
);

CREATE TABLE page_permissions (
    page_id    TEXT NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    can_view   BOOLEAN NOT NULL,
    can_edit   BOOLEAN NOT NULL,
    can_share  BOOLEAN NOT NULL,
    can_delete BOOLEAN NOT NULL,
    expires_at {{TS}},
    granted_by TEXT,
    created_at {{TS}} NOT NULL,
    updated_at {{TS}} NOT NULL,
    PRIMARY KEY (page_id, user_id)
);
CREATE INDEX page_permissions_user ON page_permissions (user_id);

CREATE TABLE messages (
    id         TEXT PRIMARY KEY,
    page_id    TEXT NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    author_id  TEXT REFERENCES users(id) ON DELETE SET NULL,
    parent_id  TEXT REFERENCES messages(id) ON DELETE CASCADE,
    content    TEXT NOT NULL,
    created_at {{TS}} NOT NULL,
    updated_at {{TS}} NOT NULL,
    edited_at  {{TS}},
    deleted_at {{TS}}
);
CREATE INDEX messages_page_created ON messages (page_id, created_at, id);
CREATE INDEX messages_parent ON messages (parent_id, created_at, id);

CREATE TABLE tasks (
    id           TEXT PRIMARY KEY,
    page_id      TEXT NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL CHECK (status IN ('todo', 'in_progress', 'done')),
    priority     TEXT NOT NULL DEFAULT 'none' CHECK (priority IN ('none', 'low', 'medium', 'high', 'urgent')),
    assignee_id  TEXT REFERENCES users(id) ON DELETE SET NULL,
    due_date     {{TS}},
    position     {{FLOAT}} NOT NULL,
    created_by   TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at   {{TS}} NOT NULL,
    updated_at   {{TS}} NOT NULL,
    completed_at {{TS}}
);
CREATE INDEX tasks_page_position ON tasks (page_id, position);

CREATE TABLE events (
    id         {{SERIAL_PK}},
    type       TEXT NOT NULL,
    drive_id   TEXT,
    page_id    TEXT,
    actor_id   TEXT,
    rooms      TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at {{TS}} NOT NULL
);
CREATE INDEX events_created ON events (created_at);
CREATE INDEX events_drive ON events (drive_id, id);
