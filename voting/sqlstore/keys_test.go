package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/voting"
	"github.com/chamber/chamber/voting/sqlstore"
)

// TestKeyRevokedOnAnotherNode revokes keys on one node while another still holds them
// as it read them, approved: each ballot that node then stores under a revoked key,
// in a batch or on its own, is refused as it commits, and the others are stored.
func TestKeyRevokedOnAnotherNode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		a, keys := newStore(t, db)
		b := sqlstore.New(db)
		p := openPoll(t, a, "challenge k")
		revokeOnB := func(voter int64) {
			t.Helper()
			k := keys[voter]
			if _, got, ok, err := a.JournalSeqAndKey(ctx, meeting, k.ID); err != nil || !ok || !got.RevokedAt.IsZero() {
				t.Fatalf("key of %d on a: %+v, %v, %v; want it approved", voter, got, ok, err)
			}
			if _, err := b.RevokeKey(ctx, k.ID, clerk, t0); err != nil {
				t.Fatal(err)
			}
			// a holds the key as it read it: what it stores is checked as it commits.
			if _, got, _, err := a.JournalSeqAndKey(ctx, meeting, k.ID); err != nil || !got.RevokedAt.IsZero() {
				t.Fatalf("key of %d on a after b revoked it: %+v, %v; want it as a read it, approved", voter, got, err)
			}
		}

		revokeOnB(41)
		before := a.BatchesAtOnce()
		subs := []voting.BallotSubmission{
			submission(t, p, 41, 0, "for", false, "41"),
			submission(t, p, 42, 0, "against", false, "42"),
		}
		out, _, errs, err := a.CommitTogether(meeting, subs)
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(errs[0], voting.ErrKeyRevoked) || errs[1] != nil || out[1].Index != 1 {
			t.Fatalf("a batch with a ballot under a key revoked on another node: %v, %v (index %d); want ErrKeyRevoked, stored at 1",
				errs[0], errs[1], out[1].Index)
		}
		if got := a.BatchesAtOnce(); got != before {
			t.Errorf("%d batches in one statement, want still %d: a revoked key must send the batch the careful way", got, before)
		}
		// The refusal drops the key a held: it reads it again, revoked.
		if _, got, _, err := a.JournalSeqAndKey(ctx, meeting, keys[41].ID); err != nil || got.RevokedAt.IsZero() {
			t.Errorf("key of 41 on a after the refusal: %+v, %v; want it revoked", got, err)
		}

		// A casting vote goes on its own, and is checked the same way.
		closeUndecided(t, a, p)
		revokeOnB(chair)
		if _, _, err := a.SubmitBallot(ctx, submission(t, p, chair, 0, "for", true, "casting")); !errors.Is(err, voting.ErrKeyRevoked) {
			t.Errorf("a casting vote under a key revoked on another node: %v, want ErrKeyRevoked", err)
		}
		checkRecord(t, a, keys, 3) // the opening, 42's ballot, the close
	})
}

// TestCredentialEndedAsBallotCommits stores ballots whose senders signed in with an
// API token or a session that a server held as it read them (voting.Credential): a
// ballot is stored only if its sender's token or session is still there as it
// commits, in a batch or on its own.
func TestCredentialEndedAsBallotCommits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		a, keys := newStore(t, db)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, db.Rebind(q), args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		for _, v := range []int64{41, 42, 43, chair} {
			exec(`INSERT INTO api_tokens (id, user_id, name, hash, created_at) VALUES (?, ?, 'device', ?, ?)`, 100+v, v, fmt.Sprint("hash", v), t0)
			exec(`INSERT INTO sessions (id, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, 'csrf', ?, ?)`,
				fmt.Sprint("session", v), v, t0, t0.Add(time.Hour))
		}
		p := openPoll(t, a, "challenge c")
		signedIn := func(voter int64, cred voting.Credential, nonce string) voting.BallotSubmission {
			sub := submission(t, p, voter, 0, "for", false, nonce)
			sub.Credential = cred
			return sub
		}
		token := func(v int64) voting.Credential { return voting.Credential{Token: 100 + v} }
		session := func(v int64) voting.Credential { return voting.Credential{Session: fmt.Sprint("session", v)} }

		// Every credential still there: stored, on PostgreSQL in one statement.
		before := a.BatchesAtOnce()
		_, _, errs, err := a.CommitTogether(meeting, []voting.BallotSubmission{
			signedIn(41, token(41), "41 first"), signedIn(42, session(42), "42 first"), signedIn(43, voting.Credential{}, "43 first")})
		if err != nil {
			t.Fatal(err)
		}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("ballot %d, signed in as before: %v", i, err)
			}
		}
		if got := a.BatchesAtOnce(); db.Dialect == migrations.Postgres && got != before+1 {
			t.Errorf("%d batches in one statement, want %d", got, before+1)
		}

		// 41's token revoked and 42's session ended since, on another node.
		exec(`DELETE FROM api_tokens WHERE id = ?`, 141)
		exec(`DELETE FROM sessions WHERE id = ?`, "session42")
		before = a.BatchesAtOnce()
		out, _, errs, err := a.CommitTogether(meeting, []voting.BallotSubmission{
			signedIn(41, token(41), "41 again"), signedIn(42, session(42), "42 again"),
			signedIn(43, token(43), "43 token"), signedIn(43, session(43), "43 session")})
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(errs[0], voting.ErrUnauthenticated) || !errors.Is(errs[1], voting.ErrUnauthenticated) || errs[2] != nil || errs[3] != nil {
			t.Fatalf("a revoked token, an ended session and two that stand: %v, %v, %v, %v", errs[0], errs[1], errs[2], errs[3])
		}
		if out[2].Index != 4 || out[3].Index != 5 {
			t.Errorf("the ballots that stand went at %d and %d, want 4 and 5", out[2].Index, out[3].Index)
		}
		if got := a.BatchesAtOnce(); got != before {
			t.Errorf("%d batches in one statement, want still %d: an ended credential must send the batch the careful way", got, before)
		}

		// A casting vote goes on its own, and is checked the same way.
		closeUndecided(t, a, p)
		exec(`DELETE FROM sessions WHERE id = ?`, fmt.Sprint("session", chair))
		casting := submission(t, p, chair, 0, "for", true, "casting")
		casting.Credential = session(chair)
		if _, _, err := a.SubmitBallot(ctx, casting); !errors.Is(err, voting.ErrUnauthenticated) {
			t.Errorf("a casting vote from an ended session: %v, want ErrUnauthenticated", err)
		}
		checkRecord(t, a, keys, 7) // the opening, five ballots, the close
	})
}

// closeUndecided closes p with no result yet, as a poll that awaits a casting vote is.
func closeUndecided(t *testing.T, s *sqlstore.Store, p voting.PollOpening) {
	t.Helper()
	ctx := context.Background()
	votes, err := s.Votes(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	closing, err := p.Close(t0.Add(time.Minute), chair, 8, votes)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ClosePoll(ctx, p.ID, decided(closing, nil)); err != nil {
		t.Fatal(err)
	}
}
