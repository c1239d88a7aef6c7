package webhooks

import (
	"context"
	"time"

	"github.com/chamber/chamber/agenda"
)

// Store runs the webhooks' transactions. Update runs fn in a read-write transaction that
// commits when fn returns nil and rolls back otherwise; View runs fn in a read-only one.
// agenda/webhooks/sqlstore implements it for PostgreSQL and SQLite.
type Store interface {
	Update(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
}

// Tx is the webhooks' persistence inside one transaction. Get methods return an error
// wrapping ErrNotFound when the row does not exist.
type Tx interface {
	// CreateEndpoint stores a new endpoint and sets its ID; ErrNotFound if the council
	// does not exist.
	CreateEndpoint(ctx context.Context, e *Endpoint) error
	GetEndpoint(ctx context.Context, id int64) (Endpoint, error)
	// ListEndpoints lists a council's endpoints by id.
	ListEndpoints(ctx context.Context, councilID int64) ([]Endpoint, error)
	// UpdateEndpoint replaces an endpoint's URL, description, event types, active flag,
	// secrets and update time.
	UpdateEndpoint(ctx context.Context, e Endpoint) error
	// DeleteEndpoint deletes an endpoint with its deliveries and their log.
	DeleteEndpoint(ctx context.Context, id int64) error

	// MeetingsBehind lists up to limit published meetings whose journal has events
	// past their cursor (a meeting without a cursor is at 0), by id.
	MeetingsBehind(ctx context.Context, limit int) ([]int64, error)
	// LockCursor returns a meeting's cursor, creating it at 0, and locks it until the
	// transaction ends. ok is false when another transaction holds it (PostgreSQL; one
	// that is creating it is waited for).
	LockCursor(ctx context.Context, meetingID int64) (seq int64, ok bool, err error)
	SetCursor(ctx context.Context, meetingID, seq int64) error
	// JournalState reads a meeting's council, whether it is published and its last
	// sequence number, all as of one moment.
	JournalState(ctx context.Context, meetingID int64) (JournalState, error)
	// Events returns up to limit events of the meeting with afterSeq < seq <= throughSeq,
	// in order.
	Events(ctx context.Context, meetingID, afterSeq, throughSeq int64, limit int) ([]agenda.Event, error)

	// CreateDelivery stores a new delivery. created is false, and nothing is stored,
	// when the endpoint already has a delivery of that event.
	CreateDelivery(ctx context.Context, d Delivery) (created bool, err error)
	// GetDelivery reads a delivery; inside Update it also locks it (PostgreSQL).
	GetDelivery(ctx context.Context, id string) (Delivery, error)
	// ListDeliveries lists an endpoint's deliveries, newest (greatest id) first.
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)
	// ClaimDue takes up to limit pending deliveries to active endpoints that are due at
	// now and held by no one, the earliest due first: it sets their claim and lease and
	// counts an attempt. On PostgreSQL rows other transactions hold are skipped.
	ClaimDue(ctx context.Context, now, leaseUntil time.Time, claim string, limit int) ([]Delivery, error)
	// ExpiredLeases returns up to limit pending deliveries whose lease ran out at now,
	// and locks them (skipping those others hold, on PostgreSQL).
	ExpiredLeases(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// SettleDelivery writes a delivery's status, attempts, schedule and last outcome,
	// and clears its claim. With claim not empty it changes the delivery only while
	// that claim holds it, and reports whether it did.
	SettleDelivery(ctx context.Context, d Delivery, claim string) (bool, error)
	// CancelPending fails an endpoint's pending deliveries with the given error.
	CancelPending(ctx context.Context, endpointID int64, at time.Time, reason string) error
	// LogAttempt appends an attempt to the delivery log and sets its ID.
	LogAttempt(ctx context.Context, a *Attempt) error
	// Attempts returns a delivery's log, oldest first.
	Attempts(ctx context.Context, deliveryID string) ([]Attempt, error)
	// Prune deletes delivered and failed deliveries created before before, with their
	// log, and says how many.
	Prune(ctx context.Context, before time.Time) (int64, error)
}
