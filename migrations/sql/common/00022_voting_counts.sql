-- Shows of hands counted in the room and signed by the clerk, and who submitted each
-- refused ballot. A poll keeps its last count (JSON) and the number of hands in it, so
-- that ballots and tallies read them with the poll.
-- +goose Up
CREATE TABLE room_counts (
    id          INTEGER PRIMARY KEY,
    poll_id     INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    recorder_id INTEGER NOT NULL REFERENCES users (id),
    nonce       TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE, -- hex SHA-256 of the count's bytes
    count       TEXT NOT NULL,        -- the signed bytes, base64
    signature   TEXT NOT NULL,
    key_id      TEXT NOT NULL REFERENCES voting_keys (id),
    counted_at  DATETIME NOT NULL,    -- the clerk's clock
    received_at DATETIME NOT NULL,
    log_index   BIGINT NOT NULL,
    UNIQUE (poll_id, recorder_id, nonce),
    UNIQUE (meeting_id, log_index)
);
CREATE INDEX room_counts_poll ON room_counts (poll_id, log_index);

ALTER TABLE polls ADD COLUMN room_count TEXT; -- JSON: the last count
ALTER TABLE polls ADD COLUMN room_hands INTEGER NOT NULL DEFAULT 0;

ALTER TABLE ballot_refusals ADD COLUMN submitted_by INTEGER REFERENCES users (id);

-- +goose Down
ALTER TABLE ballot_refusals DROP COLUMN submitted_by;
ALTER TABLE polls DROP COLUMN room_hands;
ALTER TABLE polls DROP COLUMN room_count;
DROP TABLE room_counts;
