package minutes

import (
	"errors"
	"fmt"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/voting"
)

// Errors the minutes return. Callers compare with errors.Is; the web layer maps each
// to an HTTP status.
var (
	// ErrNotFound: no such meeting, minutes or version, or none the actor may see (the
	// public sees published minutes only).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the request is valid but the minutes' state does not allow it:
	// drafting minutes of a meeting that has not closed, editing approved minutes,
	// approving them twice, publishing a draft, correcting unpublished minutes.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the input is wrong (an unknown item, text too long, no reason given).
	ErrInvalid = errors.New("invalid")
	// ErrForbidden: the actor is known but may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated: the actor must sign in first.
	ErrUnauthenticated = errors.New("sign-in required")
)

func conflict(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrConflict)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalid)
}

// forbid is ErrUnauthenticated for the public and ErrForbidden for a signed-in user.
func forbid(actor agenda.Actor, doing string) error {
	if actor.Anonymous() {
		return fmt.Errorf("%s: %w", doing, ErrUnauthenticated)
	}
	return fmt.Errorf("%s: %w", doing, ErrForbidden)
}

// fromDomain gives an agenda or voting error this package's identity where it has one.
func fromDomain(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, agenda.ErrNotFound), errors.Is(err, voting.ErrNotFound):
		return fmt.Errorf("%v: %w", err, ErrNotFound)
	case errors.Is(err, agenda.ErrForbidden), errors.Is(err, voting.ErrForbidden):
		return fmt.Errorf("%v: %w", err, ErrForbidden)
	case errors.Is(err, agenda.ErrUnauthenticated), errors.Is(err, voting.ErrUnauthenticated):
		return fmt.Errorf("%v: %w", err, ErrUnauthenticated)
	case errors.Is(err, agenda.ErrInvalid):
		return fmt.Errorf("%v: %w", err, ErrInvalid)
	case errors.Is(err, agenda.ErrConflict), errors.Is(err, voting.ErrConflict):
		return fmt.Errorf("%v: %w", err, ErrConflict)
	}
	return err
}
