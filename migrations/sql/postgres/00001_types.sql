-- The common schema declares times as DATETIME, which SQLite's driver reads back as
-- time.Time. In PostgreSQL the same name is a domain over timestamptz.
-- +goose Up
CREATE DOMAIN datetime AS timestamptz;

-- +goose Down
DROP DOMAIN datetime;
