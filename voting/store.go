package voting

import (
	"context"
	"time"
)

// A Store keeps keys, polls, ballots and each meeting's log. Every method that changes
// the log changes it in the same transaction as the rows it logs, so that a committed
// ballot is always in the log and nothing is in the log that was not committed.
// voting/sqlstore implements it for PostgreSQL and SQLite.
type Store interface {
	// CreateKey stores a newly enrolled key; ErrConflict if its public key is enrolled.
	CreateKey(ctx context.Context, k Key) error
	// Key returns a key by id, ErrNotFound if there is none.
	Key(ctx context.Context, id KeyID) (Key, error)
	// UserKeys returns a user's keys, newest first.
	UserKeys(ctx context.Context, user int64) ([]Key, error)
	// ApproveKey records a clerk's approval; ErrKeyRevoked if the key was revoked.
	ApproveKey(ctx context.Context, id KeyID, by int64, at time.Time) (Key, error)
	// RevokeKey revokes a key; revoking a revoked key keeps the first revocation.
	RevokeKey(ctx context.Context, id KeyID, by int64, at time.Time) (Key, error)

	// OpenPoll stores a new poll, assigning p.ID, and logs its opening in the log of
	// p.Meeting named origin (created on first use). It returns the log index.
	OpenPoll(ctx context.Context, origin string, p *PollOpening) (int64, error)
	// ClosePoll records that a poll closed and logs it; ErrPollClosed if it had.
	ClosePoll(ctx context.Context, c PollClosing) (int64, error)
	// SetResult stores a closed poll's final result (after a casting vote, say).
	SetResult(ctx context.Context, poll int64, r Result) error
	// Poll returns a poll, ErrNotFound if there is none.
	Poll(ctx context.Context, id int64) (Poll, error)
	// MeetingPolls returns a meeting's polls in the order they opened.
	MeetingPolls(ctx context.Context, meeting int64) ([]Poll, error)

	// SubmitBallot stores an accepted ballot and logs it. The caller has checked the
	// signature, key, eligibility and poll; the store checks, inside its transaction,
	// what a concurrent writer could change: the poll must not have closed (a casting
	// vote: must have), else ErrPollClosed (ErrPollOpen); a ballot already stored (the
	// same bytes) is returned as it was stored, with dup true, and nothing is written; a
	// ballot reusing a nonce of the same voter in the poll fails with ErrReplay.
	SubmitBallot(ctx context.Context, in BallotSubmission) (b StoredBallot, dup bool, err error)
	// Ballots returns a poll's ballots in log order.
	Ballots(ctx context.Context, poll int64) ([]StoredBallot, error)
	// RecordRefusal keeps a refused ballot attempt for the clerk and the audit trail.
	RecordRefusal(ctx context.Context, r Refusal) error

	// Log returns the log store of a meeting, for reading (tree heads, proofs, leaves).
	Log(meeting int64) LogStore
	// SaveCheckpoint keeps a signed checkpoint of a meeting's log at size.
	SaveCheckpoint(ctx context.Context, meeting, size int64, signed []byte, at time.Time) error
	// LatestCheckpoint returns the signed checkpoint of the largest size kept,
	// ErrNotFound if none.
	LatestCheckpoint(ctx context.Context, meeting int64) ([]byte, error)
}

// BallotSubmission is a checked ballot ready to store.
type BallotSubmission struct {
	Signed     SignedBallot
	Ballot     Ballot // Signed, parsed
	Key        KeyID
	ReceivedAt time.Time
}

// StoredBallot is a ballot as stored: where it is in the log, and when it arrived.
type StoredBallot struct {
	ID         int64
	Signed     SignedBallot
	Ballot     Ballot
	Key        KeyID
	Index      int64 // in the meeting's log
	ReceivedAt time.Time
}

// Refusal is a ballot the server refused, and why.
type Refusal struct {
	Meeting int64
	Poll    int64
	Voter   int64 // 0 when the ballot did not parse
	Reason  string
	Hash    [32]byte // of the submitted bytes
	At      time.Time
}
