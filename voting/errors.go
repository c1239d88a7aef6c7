package voting

import (
	"errors"
	"fmt"
)

// Errors returned by the voting package. Callers compare with errors.Is; the web layer
// maps each to an HTTP status.
var (
	// ErrMalformed reports bytes that are not a valid encoding: a ballot, a log entry, a
	// checkpoint, a key or a record.
	ErrMalformed = errors.New("malformed")
	// ErrBadSignature reports a signature that does not verify with the given key.
	ErrBadSignature = errors.New("bad signature")
	// ErrReplay reports a ballot whose nonce the voter has already used in the poll for a
	// different ballot. Resubmitting the very same ballot is not a replay: it is answered
	// with the first receipt.
	ErrReplay = errors.New("ballot replayed")
	// ErrWrongPoll reports a ballot for another meeting, item or poll, or one that
	// carries another poll's challenge.
	ErrWrongPoll = errors.New("ballot is for another poll")
	// ErrPollClosed reports a ballot for a poll that is not open: closed, past its
	// closing time, or not yet opened.
	ErrPollClosed = errors.New("poll is not open")
	// ErrPollOpen reports an operation that needs a closed poll, such as a final tally.
	ErrPollOpen = errors.New("poll is still open")
	// ErrInvalidChoice reports a choice that is not one of the poll's options.
	ErrInvalidChoice = errors.New("choice is not one of the poll's options")
	// ErrNotEligible reports a voter who may not vote in the poll; the error wraps an
	// *IneligibleError that says why.
	ErrNotEligible = errors.New("not eligible to vote")
	// ErrKeyRevoked reports a key that was revoked before the ballot was cast.
	ErrKeyRevoked = errors.New("key revoked")
	// ErrKeyNotApproved reports a key that a clerk has not (yet) approved.
	ErrKeyNotApproved = errors.New("key not approved by the clerk")
	// ErrWrongKey reports a key that does not belong to the ballot's signer.
	ErrWrongKey = errors.New("key does not belong to the signer")
	// ErrNoTie reports a casting vote given when there is no equality of votes that a
	// casting vote could resolve.
	ErrNoTie = errors.New("no equality of votes for a casting vote to resolve")
	// ErrNoCastingVote reports a casting vote under rules that give none.
	ErrNoCastingVote = errors.New("the rules give no casting vote")
	// ErrNotPresiding reports a casting vote from someone other than the person presiding.
	ErrNotPresiding = errors.New("casting vote not given by the person presiding")
	// ErrInvalidPoll reports a poll definition that cannot be decided: unknown method,
	// missing or repeated options.
	ErrInvalidPoll = errors.New("invalid poll")
	// ErrBadProof reports an inclusion or consistency proof, or a checkpoint, that does
	// not verify.
	ErrBadProof = errors.New("proof does not verify")
	// ErrNotFound reports a poll, ballot, key or log entry that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrKeyFileExposed reports a private key file that others than its owner may read.
	ErrKeyFileExposed = errors.New("private key file is readable by others")
	// ErrConflict reports a request that the state of things does not allow (a poll on an
	// item that is not the current one, a second poll while one is open), or a write that
	// lost a race, such as a log append at a size that another writer has already taken.
	ErrConflict = errors.New("conflict")
	// ErrStale reports a ballot checked against a meeting's journal sequence number
	// that the store recalled rather than read (Store.RecalledSeqAndKey), where the
	// journal has moved on by the time the ballot would commit; it is not stored. The
	// service checks such a ballot again against the journal as it is, so the error
	// does not reach the sender.
	ErrStale = fmt.Errorf("%w: the meeting has moved on since the ballot was checked", ErrConflict)
	// ErrNamedVote reports a count of hands in a recorded (named) vote, which takes
	// each member's vote by name.
	ErrNamedVote = errors.New("a recorded vote takes names, not a count")
	// ErrOverCount reports votes beyond those who may give them: a count of hands
	// larger than the number of eligible members present who have not voted by ballot,
	// or a ballot from a member who has not voted when the count already covers every
	// member who had not.
	ErrOverCount = errors.New("more votes than members who may give them")
	// ErrInquorate reports a poll that cannot open because the quorum is not present.
	ErrInquorate = errors.New("the quorum is not present")
	// ErrForbidden reports a signed-in user who may not do what they asked.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated reports a request from the public that needs a signed-in user.
	ErrUnauthenticated = errors.New("sign-in required")
)
