package agenda

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Errors the agenda returns. The web package maps each to an HTTP status and a problem
// type; wrapped errors keep their identity (errors.Is).
var (
	ErrNotFound = errors.New("not found")
	// ErrConflict: the request is valid but the state does not allow it (starting a
	// closed meeting, a duplicate email).
	ErrConflict = errors.New("conflict")
	// ErrForbidden: the actor is known but may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated: the actor must sign in first.
	ErrUnauthenticated = errors.New("sign-in required")
	// ErrBadCredentials: wrong email or password, or an unknown, expired or used token.
	ErrBadCredentials = errors.New("bad credentials")
	// ErrInvalid is the identity of every *ValidationError.
	ErrInvalid = errors.New("invalid")
)

// FieldError is one problem with one field of the input. Row is the 1-based data row of
// an imported file (0 when not an import).
type FieldError struct {
	Row     int    `json:"row,omitempty"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e FieldError) String() string {
	if e.Row > 0 {
		return fmt.Sprintf("row %d: %s: %s", e.Row, e.Field, e.Message)
	}
	return e.Field + ": " + e.Message
}

// ValidationError lists what is wrong with an input. It matches ErrInvalid.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.String()
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Fields: []FieldError{{Field: field, Message: fmt.Sprintf(format, args...)}}}
}

// checker collects field errors.
type checker struct {
	row    int
	prefix string
	errs   []FieldError
}

func (c *checker) add(field, format string, args ...any) {
	c.errs = append(c.errs, FieldError{Row: c.row, Field: c.prefix + field, Message: fmt.Sprintf(format, args...)})
}

// text checks a required or optional text field's presence and length, in
// characters, as a form's maxlength counts them: a Welsh name with ŵ and ŷ that a form
// lets through is not refused for the bytes its letters take.
func (c *checker) text(field, v string, required bool, maxLen int) {
	switch {
	case required && strings.TrimSpace(v) == "":
		c.add(field, "is required")
	case utf8.RuneCountInString(v) > maxLen:
		c.add(field, "is longer than %d characters", maxLen)
	}
}

func (c *checker) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return &ValidationError{Fields: c.errs}
}

// conflict wraps ErrConflict with a message for the person who hit it.
func conflict(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrConflict)
}

// notFound wraps ErrNotFound with what was not found.
func notFound(what string, id int64) error {
	return fmt.Errorf("%s %d: %w", what, id, ErrNotFound)
}
