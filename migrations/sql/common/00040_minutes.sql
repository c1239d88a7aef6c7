-- Minutes: every version of each meeting's minutes. Version 1 is drafted from the
-- meeting's records once it has closed, edited by the clerk, approved at a later
-- meeting and published; each correction after that is a further version, published
-- as it is made. Rows are never deleted, and a published row is never updated.
-- +goose Up
CREATE TABLE minutes (
    meeting_id          INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    version             INTEGER NOT NULL CHECK (version > 0),
    status              TEXT NOT NULL CHECK (status IN ('draft', 'approved', 'published')),
    -- JSON: where the version stands (who drafted, edited, approved and published it,
    -- and what a correction changed), with people named as they were named then.
    header              TEXT NOT NULL,
    -- JSON: the minutes themselves, in the form numbered by format.
    document            TEXT NOT NULL,
    format              INTEGER NOT NULL,
    drafted_at          DATETIME NOT NULL,
    drafted_by          INTEGER REFERENCES users (id) ON DELETE SET NULL,
    approved_at         DATETIME,
    approved_by         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    approved_meeting_id INTEGER REFERENCES meetings (id) ON DELETE SET NULL,
    published_at        DATETIME,
    published_by        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    updated_at          DATETIME NOT NULL,
    PRIMARY KEY (meeting_id, version)
);
CREATE INDEX minutes_published ON minutes (published_at, meeting_id);

-- +goose Down
DROP TABLE minutes;
