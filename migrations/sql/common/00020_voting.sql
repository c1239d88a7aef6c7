-- Signed votes: members' device keys, polls, ballots and each meeting's Merkle log with
-- its signed checkpoints. Binary values (keys, signatures, ballots, hashes) are standard
-- base64 in TEXT columns; ids are INTEGER PRIMARY KEY (identity columns in PostgreSQL,
-- added by postgres/00021). Times are DATETIME, in UTC.
-- +goose Up
CREATE TABLE voting_keys (
    id          TEXT PRIMARY KEY, -- hex of the first 16 bytes of the key's SHA-256
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    public_key  TEXT NOT NULL UNIQUE,
    label       TEXT NOT NULL DEFAULT '',
    enrolled_at DATETIME NOT NULL,
    approved_at DATETIME,
    approved_by INTEGER REFERENCES users (id),
    revoked_at  DATETIME,
    revoked_by  INTEGER REFERENCES users (id)
);
CREATE INDEX voting_keys_user ON voting_keys (user_id);

-- One Merkle log per meeting; size is its number of entries. An append updates size
-- from the value it read, which serialises writers on the row.
CREATE TABLE vote_logs (
    meeting_id INTEGER PRIMARY KEY REFERENCES meetings (id) ON DELETE CASCADE,
    origin     TEXT NOT NULL UNIQUE,
    size       BIGINT NOT NULL DEFAULT 0
);

-- The log's entries (leaves) and stored hashes (by tlog storage index). Never updated.
CREATE TABLE vote_log_leaves (
    meeting_id INTEGER NOT NULL REFERENCES vote_logs (meeting_id) ON DELETE CASCADE,
    idx        BIGINT NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (meeting_id, idx)
);

CREATE TABLE vote_log_hashes (
    meeting_id INTEGER NOT NULL REFERENCES vote_logs (meeting_id) ON DELETE CASCADE,
    idx        BIGINT NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (meeting_id, idx)
);

CREATE TABLE vote_checkpoints (
    meeting_id INTEGER NOT NULL REFERENCES vote_logs (meeting_id) ON DELETE CASCADE,
    size       BIGINT NOT NULL,
    signed     TEXT NOT NULL, -- the signed note
    created_at DATETIME NOT NULL,
    PRIMARY KEY (meeting_id, size)
);

CREATE TABLE polls (
    id              INTEGER PRIMARY KEY,
    meeting_id      INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    item_id         INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    motion_id       INTEGER REFERENCES motions (id),
    question        TEXT NOT NULL,
    options         TEXT NOT NULL, -- JSON array of option keys
    method          TEXT NOT NULL CHECK (method IN ('majority', 'two_thirds', 'absolute', 'plurality')),
    named           BOOLEAN NOT NULL DEFAULT FALSE,
    live_tally      BOOLEAN NOT NULL DEFAULT FALSE,
    challenge       TEXT NOT NULL,
    opened_at       DATETIME NOT NULL,
    closes_at       DATETIME,
    opened_by       INTEGER REFERENCES users (id),
    membership      INTEGER NOT NULL,
    quorum_required INTEGER NOT NULL,
    present_at_open INTEGER NOT NULL,
    casting_vote    BOOLEAN NOT NULL DEFAULT FALSE,
    presiding_id    INTEGER REFERENCES users (id),
    eligible        TEXT NOT NULL DEFAULT '[]', -- JSON array of user ids, ascending
    overrides       TEXT NOT NULL DEFAULT '[]', -- JSON array of {voter, by, reason}
    opening_index   BIGINT,
    closed_at       DATETIME,
    closing         TEXT, -- JSON: the closing as logged
    closing_index   BIGINT,
    result          TEXT  -- JSON: the final result
);
CREATE INDEX polls_meeting ON polls (meeting_id, id);
CREATE INDEX polls_item ON polls (item_id);

-- Every accepted ballot, changed votes included; the last by log_index counts.
CREATE TABLE ballots (
    id          INTEGER PRIMARY KEY,
    poll_id     INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    voter_id    INTEGER NOT NULL REFERENCES users (id),
    recorder_id INTEGER REFERENCES users (id),
    proxy_id    INTEGER REFERENCES users (id),
    casting     BOOLEAN NOT NULL DEFAULT FALSE,
    choice      TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE, -- hex SHA-256 of the ballot's bytes
    ballot      TEXT NOT NULL,
    signature   TEXT NOT NULL,
    key_id      TEXT NOT NULL REFERENCES voting_keys (id),
    cast_at     DATETIME NOT NULL, -- the signer's clock
    received_at DATETIME NOT NULL,
    log_index   BIGINT NOT NULL,
    UNIQUE (poll_id, voter_id, nonce),
    UNIQUE (meeting_id, log_index)
);
CREATE INDEX ballots_poll ON ballots (poll_id, log_index);

-- Refused attempts, for the clerk's view and the audit trail.
CREATE TABLE ballot_refusals (
    id         INTEGER PRIMARY KEY,
    meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    poll_id    INTEGER REFERENCES polls (id) ON DELETE CASCADE,
    voter_id   INTEGER REFERENCES users (id),
    reason     TEXT NOT NULL,
    hash       TEXT NOT NULL,
    at         DATETIME NOT NULL
);
CREATE INDEX ballot_refusals_poll ON ballot_refusals (poll_id);

-- +goose Down
DROP TABLE ballot_refusals;
DROP TABLE ballots;
DROP TABLE polls;
DROP TABLE vote_checkpoints;
DROP TABLE vote_log_hashes;
DROP TABLE vote_log_leaves;
DROP TABLE vote_logs;
DROP TABLE voting_keys;
