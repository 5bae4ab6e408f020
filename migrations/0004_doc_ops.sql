-- Live co-editing of DOCUMENT pages: the document's version (the number of ops applied to its
-- content since it was created; pages.content is always the text at that version) and the ops
-- themselves, one row per version, kept for catch-up ("the ops after version v") and for
-- transforming ops based on an older version. Old rows are pruned (the newest N per document
-- stay); an op based on a pruned version is refused with too_old. (client_id, seq) makes a
-- resubmitted op find the version it became instead of being applied twice. inverse undoes op
-- (on the text op made), so that the text at a kept version can be rebuilt from the current one.
ALTER TABLE pages ADD COLUMN doc_version BIGINT NOT NULL DEFAULT 0;
-- The doc_version of the page's latest revision: a document whose doc_version is ahead of it has
-- edits that no revision holds yet (a revision is made after a pause in typing, or every N ops).
ALTER TABLE pages ADD COLUMN revision_doc_version BIGINT NOT NULL DEFAULT 0;

CREATE TABLE doc_ops (
    page_id    TEXT NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    version    BIGINT NOT NULL,
    op         TEXT NOT NULL,
    inverse    TEXT NOT NULL,
    user_id    TEXT,
    client_id  TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    created_at {{TS}} NOT NULL,
    PRIMARY KEY (page_id, version)
);
CREATE UNIQUE INDEX doc_ops_client ON doc_ops (page_id, client_id, seq);
