-- A poll that closed on an equality may end without its casting vote: the member
-- presiding left, or declined to give it. The declaration is kept as logged (JSON),
-- with its place in the log, beside the final result it leads to.
-- +goose Up
ALTER TABLE polls ADD COLUMN casting_declined TEXT;
ALTER TABLE polls ADD COLUMN casting_declined_index BIGINT;

-- +goose Down
ALTER TABLE polls DROP COLUMN casting_declined_index;
ALTER TABLE polls DROP COLUMN casting_declined;
