package voting

import (
	"context"
	"encoding/hex"
	"encoding/json"
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
	// CouncilKeys returns the keys of everyone who holds a role in a council, newest
	// first.
	CouncilKeys(ctx context.Context, council int64) ([]Key, error)
	// ApproveKey records a clerk's approval; ErrKeyRevoked if the key was revoked.
	ApproveKey(ctx context.Context, id KeyID, by int64, at time.Time) (Key, error)
	// RevokeKey revokes a key; revoking a revoked key keeps the first revocation.
	RevokeKey(ctx context.Context, id KeyID, by int64, at time.Time) (Key, error)

	// OpenPoll stores a new poll, assigning p.ID, logs its opening in the log of
	// p.Meeting (created on first use and then named origin; a log that exists keeps
	// the name it was created with), and appends the event that opened
	// returns for it (called once p.ID is known) to the meeting's journal, all in one
	// transaction. It fails with ErrConflict while another poll of the meeting is open
	// or awaits its casting vote. It returns the log index and the event as journaled.
	OpenPoll(ctx context.Context, origin string, p *PollOpening, opened func(*PollOpening) (VoteEvent, error)) (int64, VoteEvent, error)
	// ClosePoll closes a poll in one transaction. With the meeting's log locked, so
	// that no ballot can arrive meanwhile, it reads the poll and its ballots in log
	// order and calls decide with them; it then logs the closing decide returns,
	// stores it with the final result (nil while a casting vote is awaited) and
	// appends the events to the journal. It fails with ErrPollClosed if the poll had
	// closed, and with decide's error. It returns the log index and the events as
	// journaled.
	ClosePoll(ctx context.Context, poll int64, decide Decide) (int64, []VoteEvent, error)
	// DeclineCasting records that no casting vote will come in a poll that closed on
	// an equality, in one transaction. With the meeting's log locked, so that no
	// casting vote can arrive meanwhile, it reads the poll and its ballots in log order
	// and calls decide with them; it then logs the declaration decide returns, stores
	// it with the final result and appends the events to the journal. It fails with
	// ErrPollOpen if the poll has not closed, with ErrPollClosed if it has its result
	// (a casting vote was given, or none was declared before), and with decide's error.
	// It returns the log index and the events as journaled.
	DeclineCasting(ctx context.Context, poll int64, decide DecideDeclined) (int64, []VoteEvent, error)
	// SetResult stores a closed poll's final result and appends events to the journal,
	// in one transaction; ErrPollOpen if the poll has not closed.
	SetResult(ctx context.Context, poll int64, r Result, events []VoteEvent) ([]VoteEvent, error)
	// Poll returns a poll, ErrNotFound if there is none.
	Poll(ctx context.Context, id int64) (Poll, error)
	// MeetingPolls returns a meeting's polls in the order they opened.
	MeetingPolls(ctx context.Context, meeting int64) ([]Poll, error)
	// OpenPolls returns the polls of every meeting that have not closed.
	OpenPolls(ctx context.Context) ([]Poll, error)

	// SubmitBallot stores an accepted ballot and logs it. The caller has checked the
	// signature, key, eligibility and poll; the store checks, inside its transaction,
	// what a concurrent writer could change: the poll must not have closed (a casting
	// vote: must have, and have no result yet), else ErrPollClosed (ErrPollOpen); a
	// ballot already stored (the same bytes) is returned as it was stored, with dup
	// true, and nothing is written; a ballot reusing a nonce of the same voter in the
	// poll fails with ErrReplay. A casting vote's submission carries the poll's final
	// result and the events that report it, stored and journaled with the ballot.
	SubmitBallot(ctx context.Context, in BallotSubmission) (b StoredBallot, dup bool, err error)
	// BallotByHash returns the ballot whose bytes have the given SHA-256, ErrNotFound
	// if none.
	BallotByHash(ctx context.Context, hash [32]byte) (StoredBallot, error)
	// Ballots returns a poll's ballots in log order.
	Ballots(ctx context.Context, poll int64) ([]StoredBallot, error)
	// Votes returns what the tally reads of a poll's ballots, in log order: Ballots
	// without the signed bytes, for following a poll as it goes.
	Votes(ctx context.Context, poll int64) ([]Vote, error)
	// RecordRefusal keeps a refused ballot attempt for the clerk and the audit trail.
	RecordRefusal(ctx context.Context, r Refusal) error
	// Refusals returns the refused attempts kept for a poll, oldest first.
	Refusals(ctx context.Context, poll int64) ([]Refusal, error)

	// SubmitCount stores a show of hands the clerk counted and logs it, and makes it
	// the poll's count (Poll.RoomCount), in one transaction. Inside it, with the log
	// locked, it checks what a concurrent writer could change: the poll must be open
	// (ErrPollClosed); the same count again (the same bytes) is returned as stored,
	// with dup true; a nonce the recorder used in the poll before fails with
	// ErrReplay; and the hands may not outnumber the members of in.MayVote who have
	// not voted by ballot (ErrOverCount). Once a poll has a count, the store refuses
	// with ErrOverCount a ballot from a member who has not voted before if the hands,
	// the members who have voted by ballot and this one would outnumber the poll's
	// eligible voters.
	SubmitCount(ctx context.Context, in CountSubmission) (c StoredCount, dup bool, err error)
	// CountByHash returns the count whose bytes have the given SHA-256, ErrNotFound
	// if none.
	CountByHash(ctx context.Context, hash [32]byte) (StoredCount, error)
	// Counts returns a poll's counts in log order.
	Counts(ctx context.Context, poll int64) ([]StoredCount, error)

	// Log returns the log store of a meeting, for reading (tree heads, proofs, leaves).
	Log(meeting int64) LogStore
	// LogOrigin returns the name a meeting's log was created with, which it keeps for
	// good; ErrNotFound if the meeting has no log yet.
	LogOrigin(ctx context.Context, meeting int64) (string, error)
	// SaveCheckpoint keeps a signed checkpoint of a meeting's log at size.
	SaveCheckpoint(ctx context.Context, meeting, size int64, signed []byte, at time.Time) error
	// LatestCheckpoint returns the signed checkpoint of the largest size kept,
	// ErrNotFound if none.
	LatestCheckpoint(ctx context.Context, meeting int64) ([]byte, error)

	// JournalSeqAndKey returns, in one read as each ballot needs both, the sequence
	// number of the meeting's journal (the number of its last event, which every
	// change to the meeting's roll or polls moves on) and a key, as Key does: ok is
	// false when no such key is enrolled. ErrNotFound if there is no such meeting
	// (and then the key is not read).
	JournalSeqAndKey(ctx context.Context, meeting int64, key KeyID) (seq int64, k Key, ok bool, err error)
	// RecalledSeqAndKey answers what JournalSeqAndKey would, without reading: the
	// sequence number of the meeting's journal as the store last read or committed it,
	// and the key if it keeps it, approved and not revoked when read; ok is false when
	// it knows either not. A ballot checked against a recalled number is submitted with
	// it (BallotSubmission.Seq), and is stored only if the journal has not moved on
	// since (else ErrStale).
	RecalledSeqAndKey(meeting int64, key KeyID) (seq int64, k Key, ok bool)
}

// Decide decides a poll as it closes, from the poll and every ballot it holds in log
// order: the closing to log, the final result (nil while a casting vote is awaited)
// and the journal events that report them. It runs inside the store's transaction
// and must not call the store.
type Decide func(p Poll, ballots []StoredBallot) (PollClosing, *Result, []VoteEvent, error)

// DecideDeclined decides a poll in which no casting vote will come, from the poll
// and every ballot it holds in log order: the declaration to log, the final result
// and the journal events that report them. It runs inside the store's transaction and
// must not call the store.
type DecideDeclined func(p Poll, ballots []StoredBallot) (CastingDeclined, Result, []VoteEvent, error)

// BallotSubmission is a checked ballot ready to store.
type BallotSubmission struct {
	Signed     SignedBallot
	Ballot     Ballot // Signed, parsed
	Key        KeyID
	ReceivedAt time.Time
	// Credential is how the sender signed in, if the ballot is to be stored only if
	// that still stands (see Credential); zero, nothing to check.
	Credential Credential
	// Seq is the sequence number of the meeting's journal the ballot was checked at,
	// if it was recalled rather than read (Store.RecalledSeqAndKey): the ballot is
	// stored only if the journal is still there as it commits, else it is refused with
	// ErrStale. Zero, nothing to check: the number was read afresh for the ballot.
	Seq int64
	// Result is, for a casting vote, the poll's final result with it; Events report it
	// in the journal. Both are written in the ballot's transaction.
	Result *Result
	Events []VoteEvent
}

// StoredBallot is a ballot as stored: where it is in the log, and when it arrived.
type StoredBallot struct {
	ID         int64
	Signed     SignedBallot
	Ballot     Ballot
	Key        KeyID
	Index      int64 // in the meeting's log
	ReceivedAt time.Time
	// ReceiptSize is the size of the log the ballot's receipt is against: the log as
	// it was when the ballot's transaction committed, which may hold ballots committed
	// with it (more than Index, at most the log's size).
	ReceiptSize int64
	// Events are the journal events written with the ballot, with their Seq; none for
	// a duplicate.
	Events []VoteEvent
}

// Refusal is a ballot (or a count of hands) the server refused, and why: never the
// choice.
type Refusal struct {
	Meeting int64 `json:"meeting"`
	Poll    int64 `json:"poll"`
	// Voter is the member the ballot named; 0 for a count, or when the ballot did not
	// parse or named nobody the server knows.
	Voter int64 `json:"voter,omitempty"`
	// By is who submitted it (0: unknown).
	By int64 `json:"submitted_by,omitempty"`
	// Reason is the reason code: the refusal's kind, such as "replay", "poll_closed"
	// or "not_eligible: absent".
	Reason string    `json:"reason"`
	Hash   [32]byte  `json:"-"` // of the submitted bytes
	At     time.Time `json:"at"`
}

// MarshalJSON adds the hash of the submitted bytes, in hex, as ballot_hash.
func (r Refusal) MarshalJSON() ([]byte, error) {
	type plain Refusal
	return json.Marshal(struct {
		plain
		Hash string `json:"ballot_hash"`
	}{plain(r), hex.EncodeToString(r.Hash[:])})
}
