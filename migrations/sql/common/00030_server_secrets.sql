-- Secrets every node of a deployment must share: the key that signs live-room tokens, the
-- key that signs vote-log checkpoints. Made once, by whichever node starts first.
-- +goose Up
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE server_secrets;
