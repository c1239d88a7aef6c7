-- Councils, people, committees, meetings and everything a meeting records, with the
-- per-meeting event journal. Ids are INTEGER PRIMARY KEY: a rowid in SQLite, an identity
-- column in PostgreSQL (added by postgres/00003). Times are DATETIME, in UTC.
-- +goose Up
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL DEFAULT '',
    is_admin      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    DATETIME NOT NULL
);

CREATE TABLE councils (
    id         INTEGER PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    created_at DATETIME NOT NULL
);

-- A person's role in a council: clerk, officer or councillor.
CREATE TABLE council_roles (
    council_id INTEGER NOT NULL REFERENCES councils (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('clerk', 'officer', 'councillor')),
    title      TEXT NOT NULL DEFAULT '',
    party      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (council_id, user_id)
);
CREATE INDEX council_roles_user ON council_roles (user_id);

CREATE TABLE committees (
    id           INTEGER PRIMARY KEY,
    council_id   INTEGER NOT NULL REFERENCES councils (id) ON DELETE CASCADE,
    slug         TEXT NOT NULL,
    name         TEXT NOT NULL,
    profile_name TEXT NOT NULL,
    -- JSON: the preset's rules with the committee's overrides applied.
    profile      TEXT NOT NULL,
    -- JSON: only the overrides, so that a preset's later correction still applies.
    overrides    TEXT NOT NULL DEFAULT '{}',
    created_at   DATETIME NOT NULL,
    UNIQUE (council_id, slug)
);

CREATE TABLE committee_members (
    committee_id INTEGER NOT NULL REFERENCES committees (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('chair', 'vice_chair', 'member', 'substitute')),
    PRIMARY KEY (committee_id, user_id)
);
CREATE INDEX committee_members_user ON committee_members (user_id);

CREATE TABLE meetings (
    id                INTEGER PRIMARY KEY,
    committee_id      INTEGER NOT NULL REFERENCES committees (id) ON DELETE CASCADE,
    title             TEXT NOT NULL,
    starts_at         DATETIME NOT NULL,
    location          TEXT NOT NULL DEFAULT '',
    published         BOOLEAN NOT NULL DEFAULT FALSE,
    status            TEXT NOT NULL DEFAULT 'scheduled'
                      CHECK (status IN ('scheduled', 'in_progress', 'adjourned', 'closed')),
    session           TEXT NOT NULL DEFAULT 'public' CHECK (session IN ('public', 'private')),
    private_paragraph INTEGER,
    current_item_id   INTEGER,
    last_seq          BIGINT NOT NULL DEFAULT 0,
    started_at        DATETIME,
    closed_at         DATETIME,
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL
);
CREATE INDEX meetings_committee ON meetings (committee_id, starts_at);
CREATE INDEX meetings_starts ON meetings (starts_at, id);

CREATE TABLE items (
    id                  INTEGER PRIMARY KEY,
    meeting_id          INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    position            INTEGER NOT NULL,
    number              TEXT NOT NULL,
    title               TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    kind                TEXT NOT NULL DEFAULT 'standard' CHECK (kind IN ('standard', 'planning', 'exempt')),
    exempt_paragraph    INTEGER,
    whole_item_presence BOOLEAN NOT NULL DEFAULT FALSE,
    papers              TEXT NOT NULL DEFAULT '[]',
    status              TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'current', 'done')),
    started_at          DATETIME,
    ended_at            DATETIME,
    notes               TEXT NOT NULL DEFAULT '',
    decision            TEXT NOT NULL DEFAULT '',
    created_at          DATETIME NOT NULL
);
CREATE INDEX items_meeting ON items (meeting_id, position);

CREATE TABLE apologies (
    meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    reason     TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    PRIMARY KEY (meeting_id, user_id)
);

CREATE TABLE substitutions (
    meeting_id    INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    substitute_id INTEGER NOT NULL REFERENCES users (id),
    member_id     INTEGER NOT NULL REFERENCES users (id),
    created_at    DATETIME NOT NULL,
    PRIMARY KEY (meeting_id, substitute_id),
    UNIQUE (meeting_id, member_id)
);

CREATE TABLE declarations (
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
CREATE INDEX declarations_meeting ON declarations (meeting_id, item_id);

CREATE TABLE motions (
    id          INTEGER PRIMARY KEY,
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    item_id     INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    amends_id   INTEGER REFERENCES motions (id),
    text        TEXT NOT NULL,
    proposer_id INTEGER REFERENCES users (id),
    seconder_id INTEGER REFERENCES users (id),
    status      TEXT NOT NULL DEFAULT 'proposed'
                CHECK (status IN ('proposed', 'seconded', 'carried', 'lost', 'withdrawn', 'fallen')),
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE INDEX motions_item ON motions (item_id);

-- One row per continuous stretch of presence in one mode. A change of mode closes the
-- open row and opens another, so presence for any item is derived from these intervals
-- and the item's start and end.
CREATE TABLE attendance (
    id              INTEGER PRIMARY KEY,
    meeting_id      INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    mode            TEXT NOT NULL CHECK (mode IN ('in_room', 'remote_voting', 'remote_non_voting', 'proxy')),
    proxy_holder_id INTEGER REFERENCES users (id),
    source          TEXT NOT NULL DEFAULT 'clerk' CHECK (source IN ('clerk', 'presence')),
    arrived_at      DATETIME NOT NULL,
    left_at         DATETIME
);
CREATE INDEX attendance_meeting ON attendance (meeting_id, user_id);

CREATE TABLE speakers (
    id           INTEGER PRIMARY KEY,
    meeting_id   INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    item_id      INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    capacity     TEXT NOT NULL CHECK (capacity IN ('objector', 'applicant', 'agent', 'supporter', 'parish_council', 'ward_member', 'other')),
    organisation TEXT NOT NULL DEFAULT '',
    email        TEXT NOT NULL DEFAULT '',
    seconds      INTEGER NOT NULL DEFAULT 180,
    position     INTEGER NOT NULL,
    created_at   DATETIME NOT NULL
);
CREATE INDEX speakers_item ON speakers (item_id, position);

-- The journal: every change to a meeting, in order. Never updated, never deleted while
-- the meeting exists.
CREATE TABLE events (
    meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    type       TEXT NOT NULL,
    at         DATETIME NOT NULL,
    actor_id   INTEGER,
    private    BOOLEAN NOT NULL DEFAULT FALSE,
    data       TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (meeting_id, seq)
);

-- Browser sessions; id is the SHA-256 of the cookie's value.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Bearer tokens for the CLI and integrations; hash is the SHA-256 of the token.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   DATETIME NOT NULL,
    expires_at   DATETIME,
    last_used_at DATETIME
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Invitations (set a password) and sign-in links; hash is the SHA-256 of the link's token.
CREATE TABLE links (
    hash       TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('invite', 'signin')),
    redirect   TEXT NOT NULL DEFAULT '',
    reusable   BOOLEAN NOT NULL DEFAULT FALSE,
    created_by INTEGER REFERENCES users (id),
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    used_at    DATETIME
);
CREATE INDEX links_user ON links (user_id);

-- +goose Down
DROP TABLE links;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE events;
DROP TABLE speakers;
DROP TABLE attendance;
DROP TABLE motions;
DROP TABLE declarations;
DROP TABLE substitutions;
DROP TABLE apologies;
DROP TABLE items;
DROP TABLE meetings;
DROP TABLE committee_members;
DROP TABLE committees;
DROP TABLE council_roles;
DROP TABLE councils;
DROP TABLE users;
