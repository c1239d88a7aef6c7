-- Declarations of interest also take the Welsh code of conduct's kinds: personal and
-- prejudicial interests (Model Code of Conduct (Wales) Order 2008).
-- +goose Up
ALTER TABLE declarations DROP CONSTRAINT declarations_kind_check;
ALTER TABLE declarations ADD CONSTRAINT declarations_kind_check
    CHECK (kind IN ('pecuniary', 'registrable', 'non_registrable', 'other', 'personal', 'prejudicial'));

-- +goose Down
ALTER TABLE declarations DROP CONSTRAINT declarations_kind_check;
ALTER TABLE declarations ADD CONSTRAINT declarations_kind_check
    CHECK (kind IN ('pecuniary', 'registrable', 'non_registrable', 'other'));
