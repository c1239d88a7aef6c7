-- Declarations of interest also take the Welsh code of conduct's kinds: personal and
-- prejudicial interests (Model Code of Conduct (Wales) Order 2008). SQLite cannot change
-- a CHECK constraint, so the table is made again with the new one. Nothing refers to it.
-- +goose Up
CREATE TABLE declarations_new (
    id           INTEGER PRIMARY KEY,
    meeting_id   INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    item_id      INTEGER REFERENCES items (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    kind         TEXT NOT NULL CHECK (kind IN ('pecuniary', 'registrable', 'non_registrable', 'other', 'personal', 'prejudicial')),
    description  TEXT NOT NULL,
    withdraws    BOOLEAN NOT NULL DEFAULT FALSE,
    dispensation TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL
);
INSERT INTO declarations_new (id, meeting_id, item_id, user_id, kind, description, withdraws, dispensation, created_at)
    SELECT id, meeting_id, item_id, user_id, kind, description, withdraws, dispensation, created_at FROM declarations;
DROP TABLE declarations;
ALTER TABLE declarations_new RENAME TO declarations;
CREATE INDEX declarations_meeting ON declarations (meeting_id, item_id);

-- +goose Down
CREATE TABLE declarations_old (
    id           INTEGER PRIMARY KEY,
    meeting_id   INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    item_id      INTEGER REFERENCES items (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    kind         TEXT NOT NULL CHECK (kind IN ('pecuniary', 'registrable', 'non_registrable', 'other')),
    description  TEXT NOT NULL,
    withdraws    BOOLEAN NOT NULL DEFAULT FALSE,
    dispensation TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL
);
INSERT INTO declarations_old (id, meeting_id, item_id, user_id, kind, description, withdraws, dispensation, created_at)
    SELECT id, meeting_id, item_id, user_id, kind, description, withdraws, dispensation, created_at FROM declarations;
DROP TABLE declarations;
ALTER TABLE declarations_old RENAME TO declarations;
CREATE INDEX declarations_meeting ON declarations (meeting_id, item_id);
