-- A ballot's receipt is signed against the log as it stood when the ballot's
-- transaction committed, which may hold ballots committed with it: receipt_size is
-- that tree's size, so that the same ballot sent again gets the same receipt. NULL,
-- for rows stored before it was kept, means log_index + 1.
-- +goose Up
ALTER TABLE ballots ADD COLUMN receipt_size BIGINT;

-- +goose Down
ALTER TABLE ballots DROP COLUMN receipt_size;
