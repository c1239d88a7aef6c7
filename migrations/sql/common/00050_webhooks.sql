-- Outbound webhooks: the endpoints a council's clerks configure, the dispatcher's cursor
-- into each meeting's journal, the outbox of deliveries and the log of every attempt.
-- Ids are INTEGER PRIMARY KEY (identity columns in PostgreSQL, added by
-- postgres/00051), but a delivery's id is the random, time-ordered text it is sent
-- with. Times are DATETIME, in UTC.
-- +goose Up
CREATE TABLE webhook_endpoints (
    id                         INTEGER PRIMARY KEY,
    council_id                 INTEGER NOT NULL REFERENCES councils (id) ON DELETE CASCADE,
    url                        TEXT NOT NULL,
    description                TEXT NOT NULL DEFAULT '',
    -- The HMAC key requests are signed with, and the one the last rotation replaced,
    -- which also signs until previous_secret_expires_at.
    secret                     TEXT NOT NULL,
    previous_secret            TEXT NOT NULL DEFAULT '',
    previous_secret_expires_at DATETIME,
    -- JSON: the event types the endpoint receives.
    event_types                TEXT NOT NULL,
    active                     BOOLEAN NOT NULL DEFAULT TRUE,
    created_by                 INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at                 DATETIME NOT NULL,
    updated_at                 DATETIME NOT NULL
);
CREATE INDEX webhook_endpoints_council ON webhook_endpoints (council_id);

-- The last journal sequence number of each meeting the dispatcher has dealt with. It
-- moves in the transaction that creates the deliveries of the events it passes.
CREATE TABLE webhook_cursors (
    meeting_id INTEGER PRIMARY KEY REFERENCES meetings (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL
);

-- One journal event for one endpoint. A pending delivery is due at next_attempt_at;
-- a worker that takes it sets claim and locked_until, and it is due again if the lease
-- runs out before the worker records the outcome.
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    endpoint_id      INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    council_id       INTEGER NOT NULL,
    meeting_id       INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    seq              BIGINT NOT NULL,
    type             TEXT NOT NULL,
    -- The JSON body, the same on every attempt.
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  DATETIME,
    claim            TEXT,
    locked_until     DATETIME,
    last_attempt_at  DATETIME,
    last_status_code INTEGER,
    last_error       TEXT NOT NULL DEFAULT '',
    delivered_at     DATETIME,
    created_at       DATETIME NOT NULL,
    UNIQUE (endpoint_id, meeting_id, seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id)
    WHERE status = 'pending' AND locked_until IS NULL;
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (locked_until)
    WHERE locked_until IS NOT NULL;
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_meeting ON webhook_deliveries (meeting_id, seq);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);

-- The delivery log: every attempt, with what came of it.
CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    at          DATETIME NOT NULL,
    duration_ms BIGINT NOT NULL DEFAULT 0,
    status_code INTEGER,
    error       TEXT NOT NULL DEFAULT '',
    -- The start of the response's body.
    response    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_cursors;
DROP TABLE webhook_endpoints;
