package migrations

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // PostgreSQL driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // SQLite driver
)

// Dialect names the SQL dialect of a database.
type Dialect string

// The dialects Chamber runs on.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// DB is an open Chamber database. The embedded *sqlx.DB runs writes and transactions.
// On SQLite it holds a single connection (SQLite allows one writer at a time, and queueing
// in the pool is cheaper than retrying SQLITE_BUSY); Reader is a separate pool for
// read-only work. On PostgreSQL Reader is the same pool.
type DB struct {
	*sqlx.DB
	Reader  *sqlx.DB
	Dialect Dialect

	written, read *stmtCache // prepared statements kept (stmts.go); one cache when Reader is DB
}

// Close closes both pools.
func (db *DB) Close() error {
	err := errors.Join(db.written.close(), db.read.close(), db.DB.Close())
	if db.Reader != db.DB {
		err = errors.Join(err, db.Reader.Close())
	}
	return err
}

// Config says which database to open.
type Config struct {
	// URL is a postgres:// or postgresql:// URL. Empty means SQLite in DataDir.
	URL string
	// DataDir holds the SQLite file (chamber.db) when URL is empty.
	DataDir string
	// SQLitePath overrides the SQLite file's path; tests use it.
	SQLitePath string
	Logger     *slog.Logger
	// IdleClose is how long a PostgreSQL connection may stay idle before it is closed;
	// zero keeps the pool's connections open however long the pause. A vote comes
	// after minutes of debate, and its burst needs the connections the last one had:
	// opened afresh, each a new backend with cold caches, they slowed every burst's
	// p99 by a quarter when they had been closed (measured with chamber bench votes).
	IdleClose time.Duration
}

// Open connects to the database described by cfg and applies every pending migration.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	db, err := Connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := Migrate(ctx, db, cfg.Logger); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Connect opens the database without migrating it.
func Connect(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.URL != "" {
		return connectPostgres(ctx, cfg.URL, cfg.IdleClose)
	}
	path := cfg.SQLitePath
	if path == "" {
		if cfg.DataDir == "" {
			return nil, errors.New("open database: neither a database URL nor a data directory given")
		}
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		path = filepath.Join(cfg.DataDir, "chamber.db")
	}
	return connectSQLite(ctx, path)
}

func connectPostgres(ctx context.Context, rawURL string, idleClose time.Duration) (*DB, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("open database: %q is not a postgres:// URL", redact(rawURL))
	}
	// A query with parameters takes one round trip rather than two (lib/pq otherwise
	// prepares it first), unless the URL says otherwise.
	if q := u.Query(); !q.Has("binary_parameters") {
		q.Set("binary_parameters", "yes")
		u.RawQuery = q.Encode()
	}
	db, err := sqlx.Open("postgres", u.String())
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// As many idle as open, and kept (Config.IdleClose): a burst (a vote, say) would
	// otherwise close half the connections as it ends, or the pause before the next
	// would close them all, and the next burst would open them again, a new backend each.
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	db.SetConnMaxIdleTime(idleClose)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", redact(rawURL), err)
	}
	kept := newStmtCache()
	return &DB{DB: db, Reader: db, Dialect: Postgres, written: kept, read: kept}, nil
}

// sqliteDSN turns a file path into a modernc.org/sqlite DSN. WAL lets readers work while
// the writer commits; synchronous(FULL) makes a commit durable before it returns, which a
// vote's acknowledgement relies on; foreign keys are on; a busy connection waits.
func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	q.Set("_time_format", "sqlite")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

func connectSQLite(ctx context.Context, path string) (*DB, error) {
	w, err := sqlx.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	r, err := sqlx.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// Readers stay open: opening one costs far more than a query, and a burst of
	// requests would otherwise open and close them over and over.
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return &DB{DB: w, Reader: r, Dialect: SQLite, written: newStmtCache(), read: newStmtCache()}, nil
}

// redact hides a URL's password for error messages and logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// Redact hides a database or Redis URL's password, for logs.
func Redact(raw string) string { return redact(raw) }

func provider(ctx context.Context, db *DB, logger *slog.Logger) (*goose.Provider, error) {
	fsys, err := dialectFS(db.Dialect)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if logger != nil {
		opts = append(opts, goose.WithSlog(logger))
	}
	dialect := goose.DialectSQLite3
	if db.Dialect == Postgres {
		dialect = goose.DialectPostgres
		// Several nodes may start at once; one migrates while the others wait. The lock is
		// per schema, so that databases in different schemas (tests) do not wait on each
		// other.
		var schema string
		if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			return nil, err
		}
		h := fnv.New64a()
		h.Write([]byte("chamber migrations " + schema))
		locker, err := lock.NewPostgresSessionLocker(
			lock.WithLockID(int64(h.Sum64()&math.MaxInt64)),
			lock.WithLockTimeout(1, 600), // try every second for ten minutes
		)
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, db.DB.DB, fsys, opts...)
}

// Migrate applies every pending migration.
func Migrate(ctx context.Context, db *DB, logger *slog.Logger) error {
	p, err := provider(ctx, db, logger)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Status is one migration and whether it has been applied.
type Status struct {
	Version   int64     `json:"version"`
	Name      string    `json:"name"`
	Applied   bool      `json:"applied"`
	AppliedAt time.Time `json:"applied_at,omitzero"`
}

// StatusOf lists every migration known to the binary and whether db has it.
func StatusOf(ctx context.Context, db *DB) ([]Status, error) {
	p, err := provider(ctx, db, nil)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]Status, 0, len(st))
	for _, s := range st {
		out = append(out, Status{
			Version:   s.Source.Version,
			Name:      filepath.Base(s.Source.Path),
			Applied:   s.State == goose.StateApplied,
			AppliedAt: s.AppliedAt,
		})
	}
	return out, nil
}

// dialectFS is the union of sql/common and the dialect's own directory, flattened into
// one directory as goose expects.
func dialectFS(d Dialect) (fs.FS, error) {
	dirs := []string{"sql/common", "sql/" + string(d)}
	o := overlay{names: map[string]string{}}
	for _, dir := range dirs {
		entries, err := fs.ReadDir(files, dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
				continue
			}
			if prev, dup := o.names[e.Name()]; dup {
				return nil, fmt.Errorf("migration %s is in both %s and %s", e.Name(), prev, dir)
			}
			o.names[e.Name()] = dir
			o.entries = append(o.entries, e)
		}
	}
	slices.SortFunc(o.entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return o, nil
}

type overlay struct {
	names   map[string]string // file name → directory in files
	entries []fs.DirEntry
}

func (o overlay) Open(name string) (fs.File, error) {
	if name == "." {
		return files.Open("sql/common") // a directory; goose only reads it through ReadDir
	}
	dir, ok := o.names[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return files.Open(dir + "/" + name)
}

func (o overlay) ReadDir(name string) ([]fs.DirEntry, error) {
	if name != "." {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	return slices.Clone(o.entries), nil
}

// Ping checks that the database answers, for readiness probes.
func (db *DB) Ping(ctx context.Context) error {
	return db.DB.PingContext(ctx)
}
