// Package voting holds Chamber's electronic votes: polls, signed ballots, who may vote,
// how a poll is decided, the tamper-evident log every ballot is appended to, receipts,
// and the offline verification of a published meeting record.
//
// A ballot is a canonical byte string (see BALLOT.md) signed with Ed25519 by the voter's
// own device key; the server never holds a member's private key. Where members vote by
// a show of hands in a poll that is not a recorded vote, the clerk may record the count
// instead (Count), signed with the clerk's key. Accepted ballots and counts, and every
// poll's opening and closing, are leaves of a per-meeting Merkle log hashed as in
// RFC 6962, whose tree heads are published as signed checkpoints (C2SP tlog-checkpoint in
// the signed-note format).
//
// The rules are pure: eligibility, quorum and tallies are functions of explicit
// inputs, so the same code decides a poll on the server and checks it in `chamber
// verify`. Service applies them to live meetings: it reads the roll from the agenda
// (RollReader), keeps keys, polls, ballots and the log through Store, in the same
// transaction as the meeting's journal entries, and tells the live room through
// Publisher once a change has committed.
package voting
