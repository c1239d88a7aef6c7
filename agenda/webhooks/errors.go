package webhooks

import (
	"errors"
	"fmt"

	"github.com/chamber/chamber/agenda"
)

// Errors the webhooks return. Callers compare with errors.Is; the web layer maps each
// to an HTTP status.
var (
	// ErrNotFound: no such endpoint or delivery (or the delivery is another
	// endpoint's).
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the input is wrong: a URL that is not https, an unknown event type,
	// a description too long.
	ErrInvalid = errors.New("invalid")
	// ErrConflict: the request is valid but the state does not allow it: too many
	// endpoints, redelivering to an inactive endpoint or a delivery being sent.
	ErrConflict = errors.New("conflict")
	// ErrForbidden: the actor is known but is neither a clerk of the council nor an
	// admin.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated: the actor must sign in first.
	ErrUnauthenticated = errors.New("sign-in required")
	// ErrAddressRefused: a delivery's URL led to an address deliveries may not go to
	// (loopback, private, link-local, …). It is recorded in the delivery log, not
	// returned by Service methods.
	ErrAddressRefused = errors.New("address not allowed for webhooks")
	// ErrBadSignature: Verify found no valid signature, or the timestamp is too far
	// from now.
	ErrBadSignature = errors.New("bad webhook signature")
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalid)
}

func conflict(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrConflict)
}

// forbid is ErrUnauthenticated for the public and ErrForbidden for a signed-in user.
func forbid(actor agenda.Actor, doing string) error {
	if actor.Anonymous() {
		return fmt.Errorf("%s: %w", doing, ErrUnauthenticated)
	}
	return fmt.Errorf("%s: %w", doing, ErrForbidden)
}
