// Package migrations holds Chamber's SQL schema for PostgreSQL and SQLite and opens a
// migrated database.
//
// Files under sql/common apply to both dialects. Files under sql/postgres and sql/sqlite
// apply to one dialect only; they exist only where the SQL differs (PostgreSQL's identity
// columns and its datetime domain, for instance). Versions are unique across all three
// directories, so each dialect sees one ordered sequence.
package migrations

import "embed"

//go:embed sql
var files embed.FS
