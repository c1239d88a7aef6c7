package minutes

import (
	"context"

	"github.com/chamber/chamber/agenda"
)

// Store runs the minutes' transactions. Update runs fn in a read-write transaction
// that commits when fn returns nil and rolls back otherwise; View runs fn in a
// read-only one. Every write the Service makes, with the journal events it appends,
// is one Update. agenda/minutes/sqlstore implements it for PostgreSQL and SQLite.
type Store interface {
	Update(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
}

// Tx is the minutes' persistence inside one transaction. Errors wrap this package's
// ErrNotFound and ErrConflict where those apply.
type Tx interface {
	// Minutes returns one version of a meeting's minutes, or the latest when version
	// is 0; ErrNotFound if there is none. Inside Update it locks the meeting's minutes
	// until the transaction ends, so that writers to them queue.
	Minutes(ctx context.Context, meetingID int64, version int) (Minutes, error)
	// Versions returns the headers of every version of a meeting's minutes, oldest
	// first; none is not an error.
	Versions(ctx context.Context, meetingID int64) ([]Header, error)
	// CreateMinutes stores a new version of a meeting's minutes; ErrConflict if the
	// version exists, ErrNotFound if the meeting does not.
	CreateMinutes(ctx context.Context, m *Minutes) error
	// UpdateMinutes replaces a stored version's header and document; ErrNotFound if
	// it is not stored.
	UpdateMinutes(ctx context.Context, m *Minutes) error
	// AppendEvent appends e to its meeting's journal with the meeting's next sequence
	// number, which it sets, as the agenda does.
	AppendEvent(ctx context.Context, e *agenda.Event) error
}
