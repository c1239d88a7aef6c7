package sqlstore_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/voting"
	"github.com/chamber/chamber/voting/sqlstore"
)

var t0 = time.Date(2026, 3, 4, 18, 30, 0, 0, time.UTC)

const (
	meeting = 7
	clerk   = 9
	chair   = 40
	origin  = "chamber.test/meetings/7"
)

func key(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("sqlstore test key: " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func fill(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// seed inserts the users, committee, meeting and items the voting tables refer to.
func seed(t *testing.T, db *migrations.DB) {
	t.Helper()
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, db.Rebind(q), args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, u := range []int64{clerk, 40, 41, 42, 43, 44, 45} {
		exec(`INSERT INTO users (id, email, name, created_at) VALUES (?, ?, ?, ?)`, u, fmt.Sprintf("u%d@example.org", u), fmt.Sprint("User ", u), t0)
	}
	exec(`INSERT INTO councils (id, slug, name, created_at) VALUES (1, 'test', 'Test Council', ?)`, t0)
	exec(`INSERT INTO committees (id, council_id, slug, name, profile_name, profile, created_at) VALUES (1, 1, 'planning', 'Planning', 'england', '{}', ?)`, t0)
	exec(`INSERT INTO meetings (id, committee_id, title, starts_at, created_at, updated_at) VALUES (?, 1, 'Planning', ?, ?, ?)`, meeting, t0, t0, t0)
	exec(`INSERT INTO items (id, meeting_id, position, number, title, created_at) VALUES (31, ?, 1, '5', 'Mill Lane', ?)`, meeting, t0)
	exec(`INSERT INTO items (id, meeting_id, position, number, title, created_at) VALUES (32, ?, 2, '6', 'Trees', ?)`, meeting, t0)
}

func newStore(t *testing.T, db *migrations.DB) (*sqlstore.Store, map[int64]voting.Key) {
	t.Helper()
	seed(t, db)
	s := sqlstore.New(db)
	keys := map[int64]voting.Key{}
	for _, u := range []int64{clerk, 40, 41, 42, 43, 44} {
		k, err := voting.NewKey(u, key(fmt.Sprint(u)).Public().(ed25519.PublicKey), "test", t0.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateKey(context.Background(), k); err != nil {
			t.Fatal(err)
		}
		if k, err = s.ApproveKey(context.Background(), k.ID, clerk, t0.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		keys[u] = k
	}
	return s, keys
}

func opening(item int64, challenge string) voting.PollOpening {
	return voting.PollOpening{
		Meeting: meeting, Item: item, Question: "That the application be approved", Options: voting.DefaultOptions(),
		Method: voting.Majority, Named: true, Challenge: fill(challenge), OpenedAt: t0, ClosesAt: t0.Add(5 * time.Minute),
		OpenedBy: clerk, Membership: 12, QuorumRequired: 3, PresentAtOpen: 8, CastingVote: true, Presiding: chair,
		Eligible:  []int64{40, 41, 42, 43, 44},
		Overrides: []voting.Override{{Voter: 44, By: chair, Reason: "stepped out briefly"}},
	}
}

func submission(t *testing.T, p voting.PollOpening, voter, recorder int64, choice string, casting bool, nonce string) voting.BallotSubmission {
	t.Helper()
	b := voting.Ballot{Meeting: p.Meeting, Item: p.Item, Poll: p.ID, Voter: voter, Recorder: recorder, Casting: casting,
		CastAt: t0.Add(time.Second), Challenge: p.Challenge, Nonce: fill(nonce), Choice: choice}
	sb, err := voting.SignBallot(b, key(fmt.Sprint(b.Signer())))
	if err != nil {
		t.Fatal(err)
	}
	b.CastAt = b.CastAt.UTC()
	return voting.BallotSubmission{Signed: sb, Ballot: b, Key: voting.KeyIDOf(sb.PublicKey), ReceivedAt: t0.Add(2 * time.Second)}
}

func TestKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		seed(t, db)
		s := sqlstore.New(db)
		k, err := voting.NewKey(42, key("42").Public().(ed25519.PublicKey), "laptop", t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateKey(ctx, k); err != nil {
			t.Fatalf("CreateKey: %v", err)
		}
		if err := s.CreateKey(ctx, k); !errors.Is(err, voting.ErrConflict) {
			t.Errorf("CreateKey again: got %v, want ErrConflict", err)
		}
		got, err := s.Key(ctx, k.ID)
		if err != nil || !reflect.DeepEqual(got, k) {
			t.Errorf("Key: got %+v, %v, want %+v", got, err, k)
		}
		if _, err := s.Key(ctx, "missing"); !errors.Is(err, voting.ErrNotFound) {
			t.Errorf("Key(missing): got %v, want ErrNotFound", err)
		}
		approved, err := s.ApproveKey(ctx, k.ID, clerk, t0.Add(time.Minute))
		if err != nil || approved.Status(t0.Add(time.Hour)) != voting.KeyApproved || approved.ApprovedBy != clerk {
			t.Errorf("ApproveKey: got %+v, %v", approved, err)
		}
		revoked, err := s.RevokeKey(ctx, k.ID, 42, t0.Add(2*time.Minute))
		if err != nil || revoked.Status(t0.Add(time.Hour)) != voting.KeyRevoked {
			t.Errorf("RevokeKey: got %+v, %v", revoked, err)
		}
		again, err := s.RevokeKey(ctx, k.ID, clerk, t0.Add(3*time.Minute))
		if err != nil || !again.RevokedAt.Equal(t0.Add(2*time.Minute)) || again.RevokedBy != 42 {
			t.Errorf("RevokeKey again: got %+v, %v, want the first revocation kept", again, err)
		}
		if _, err := s.ApproveKey(ctx, k.ID, clerk, t0.Add(time.Hour)); !errors.Is(err, voting.ErrKeyRevoked) {
			t.Errorf("ApproveKey of a revoked key: got %v, want ErrKeyRevoked", err)
		}
		keys, err := s.UserKeys(ctx, 42)
		if err != nil || len(keys) != 1 || keys[0].ID != k.ID || keys[0].RevokedAt.IsZero() {
			t.Errorf("UserKeys: got %+v, %v", keys, err)
		}
	})
}

// event returns a journal event of the test meeting.
func event(typ string, data string) voting.VoteEvent {
	return voting.VoteEvent{Meeting: meeting, Type: typ, At: t0, Actor: clerk, Data: []byte(data)}
}

// openPoll opens a poll on item 31 with the given challenge, and returns it.
func openPoll(t *testing.T, s *sqlstore.Store, challenge string) voting.PollOpening {
	t.Helper()
	p := opening(31, challenge)
	if _, _, err := s.OpenPoll(context.Background(), origin, &p, opened); err != nil {
		t.Fatal(err)
	}
	return p
}

// opened is the OpenPoll callback of the tests: a poll.opened event naming the poll.
func opened(p *voting.PollOpening) (voting.VoteEvent, error) {
	return event(voting.EventPollOpened, fmt.Sprintf(`{"id":%d}`, p.ID)), nil
}

// decided is a Decide that returns what it is given.
func decided(c voting.PollClosing, final *voting.Result, events ...voting.VoteEvent) voting.Decide {
	return func(voting.Poll, []voting.StoredBallot) (voting.PollClosing, *voting.Result, []voting.VoteEvent, error) {
		return c, final, events, nil
	}
}

// journal returns the test meeting's journal as "seq type data" lines, and its last_seq.
func journal(t *testing.T, db *migrations.DB) ([]string, int64) {
	t.Helper()
	var rows []struct {
		Seq  int64  `db:"seq"`
		Type string `db:"type"`
		Data string `db:"data"`
	}
	if err := db.Select(&rows, db.Rebind(`SELECT seq, type, data FROM events WHERE meeting_id = ? ORDER BY seq`), meeting); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprint(r.Seq, " ", r.Type, " ", r.Data))
	}
	var last int64
	if err := db.Get(&last, db.Rebind(`SELECT last_seq FROM meetings WHERE id = ?`), meeting); err != nil {
		t.Fatal(err)
	}
	return out, last
}

func TestPollsAndBallots(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		s, keys := newStore(t, db)
		p := opening(31, "challenge a")
		idx, ev, err := s.OpenPoll(ctx, origin, &p, opened)
		if err != nil {
			t.Fatalf("OpenPoll: %v", err)
		}
		if idx != 0 || p.ID == 0 {
			t.Fatalf("OpenPoll: got index %d id %d, want index 0 and an id", idx, p.ID)
		}
		if ev.Seq != 1 || string(ev.Data) != fmt.Sprintf(`{"id":%d}`, p.ID) {
			t.Errorf("OpenPoll: journaled %+v, want seq 1 naming the poll", ev)
		}
		other := opening(32, "challenge z")
		if _, _, err := s.OpenPoll(ctx, origin, &other, opened); !errors.Is(err, voting.ErrConflict) {
			t.Errorf("OpenPoll while another is open: got %v, want ErrConflict", err)
		}
		if open, err := s.OpenPolls(ctx); err != nil || len(open) != 1 || open[0].ID != p.ID {
			t.Errorf("OpenPolls: got %d polls, %v, want poll %d", len(open), err, p.ID)
		}
		got, err := s.Poll(ctx, p.ID)
		if err != nil || !reflect.DeepEqual(got.PollOpening, p) || got.Closing != nil {
			t.Errorf("Poll:\ngot  %+v\nwant %+v (%v)", got.PollOpening, p, err)
		}

		first := submission(t, p, 41, 0, "for", false, "n1")
		tests := []struct {
			name    string
			in      voting.BallotSubmission
			wantIdx int64
			wantDup bool
			wantErr error
		}{
			{"first ballot", first, 1, false, nil},
			{"the same ballot again", first, 1, true, nil},
			{"another voter", submission(t, p, 42, 0, "against", false, "n2"), 2, false, nil},
			{"a changed vote", submission(t, p, 41, 0, "abstain", false, "n3"), 3, false, nil},
			{"a nonce used again", submission(t, p, 41, 0, "abstain", false, "n1"), 0, false, voting.ErrReplay},
			{"recorded by the clerk", submission(t, p, 40, clerk, "for", false, "n4"), 4, false, nil},
			{"casting vote while open", submission(t, p, chair, 0, "for", true, "n5"), 0, false, voting.ErrPollOpen},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				sb, dup, err := s.SubmitBallot(ctx, tc.in)
				if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
					t.Fatalf("SubmitBallot: got %v, want %v", err, tc.wantErr)
				}
				if err != nil {
					return
				}
				if sb.Index != tc.wantIdx || dup != tc.wantDup || sb.Ballot != tc.in.Ballot || sb.Key != tc.in.Key {
					t.Errorf("SubmitBallot: got index %d dup %v ballot %+v, want %d %v %+v", sb.Index, dup, sb.Ballot, tc.wantIdx, tc.wantDup, tc.in.Ballot)
				}
			})
		}

		stored, err := s.Ballots(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		var votes []voting.Vote
		var indexes []int64
		for _, b := range stored {
			votes = append(votes, voting.VoteOf(&b.Ballot))
			indexes = append(indexes, b.Index)
		}
		if !slices.Equal(indexes, []int64{1, 2, 3, 4}) {
			t.Errorf("Ballots: indexes %v, want 1 2 3 4", indexes)
		}
		closing, err := p.Close(t0.Add(time.Minute), chair, 8, votes)
		if err != nil {
			t.Fatal(err)
		}
		if closing.Outcome != voting.OutcomeTied {
			t.Fatalf("closing outcome %q, want tied", closing.Outcome)
		}
		if _, _, err := s.ClosePoll(ctx, p.ID, func(voting.Poll, []voting.StoredBallot) (voting.PollClosing, *voting.Result, []voting.VoteEvent, error) {
			return voting.PollClosing{}, nil, nil, errors.New("undecided")
		}); err == nil {
			t.Errorf("ClosePoll failing to decide: got no error")
		}
		other32 := closing
		other32.Item = 32
		if _, _, err := s.ClosePoll(ctx, p.ID, decided(other32, nil)); !errors.Is(err, voting.ErrMalformed) {
			t.Errorf("ClosePoll with another item's closing: got %v, want ErrMalformed", err)
		}
		closedEvents := []voting.VoteEvent{event(voting.EventPollClosed, `{"closed":1}`), event(voting.EventPollCasting, `{"casting":1}`)}
		var seen []voting.Vote
		idx, evs, err := s.ClosePoll(ctx, p.ID, func(got voting.Poll, ballots []voting.StoredBallot) (voting.PollClosing, *voting.Result, []voting.VoteEvent, error) {
			if !reflect.DeepEqual(got.PollOpening, p) || got.Closing != nil {
				t.Errorf("decide: got poll %+v", got)
			}
			for _, b := range ballots {
				seen = append(seen, voting.VoteOf(&b.Ballot))
			}
			return closing, nil, closedEvents, nil
		})
		if err != nil || idx != 5 {
			t.Fatalf("ClosePoll: got %d, %v, want 5", idx, err)
		}
		if !slices.Equal(seen, votes) {
			t.Errorf("decide was given %v, want %v", seen, votes)
		}
		if len(evs) != 2 || evs[0].Seq != 2 || evs[1].Seq != 3 || closedEvents[0].Seq != 0 {
			t.Errorf("ClosePoll: journaled %+v, want seqs 2 and 3 (and the argument untouched)", evs)
		}
		if _, _, err := s.ClosePoll(ctx, p.ID, decided(closing, nil)); !errors.Is(err, voting.ErrPollClosed) {
			t.Errorf("ClosePoll again: got %v, want ErrPollClosed", err)
		}
		if _, _, err := s.ClosePoll(ctx, 999, decided(closing, nil)); !errors.Is(err, voting.ErrNotFound) {
			t.Errorf("ClosePoll of no poll: got %v, want ErrNotFound", err)
		}
		if _, _, err := s.OpenPoll(ctx, origin, &other, opened); !errors.Is(err, voting.ErrConflict) {
			t.Errorf("OpenPoll while a casting vote is awaited: got %v, want ErrConflict", err)
		}
		if _, _, err := s.SubmitBallot(ctx, submission(t, p, 43, 0, "for", false, "n6")); !errors.Is(err, voting.ErrPollClosed) {
			t.Errorf("SubmitBallot after the close: got %v, want ErrPollClosed", err)
		}
		if sb, dup, err := s.SubmitBallot(ctx, first); err != nil || !dup || sb.Index != 1 {
			t.Errorf("resubmitting after the close: got %d %v %v, want the first receipt", sb.Index, dup, err)
		}
		casting := submission(t, p, chair, 0, "for", true, "n7")
		poll, err := s.Poll(ctx, p.ID)
		if err != nil || poll.Closing == nil || !reflect.DeepEqual(*poll.Closing, closing) || poll.Result != nil {
			t.Fatalf("Poll after the close: got %+v, %v, want closing %+v and no result", poll.Closing, err, closing)
		}
		res, err := voting.TallyPoll(&poll, append(votes, voting.VoteOf(&casting.Ballot)))
		if err != nil || res.Outcome != voting.OutcomeCarried {
			t.Fatalf("tally: %+v, %v", res, err)
		}
		casting.Result, casting.Events = &res, []voting.VoteEvent{event(voting.EventPollResult, `{"result":1}`)}
		sb, _, err := s.SubmitBallot(ctx, casting)
		if err != nil || sb.Index != 6 || len(sb.Events) != 1 || sb.Events[0].Seq != 4 {
			t.Fatalf("casting vote: got index %d events %+v, %v", sb.Index, sb.Events, err)
		}
		if again, dup, err := s.SubmitBallot(ctx, casting); err != nil || !dup || len(again.Events) != 0 {
			t.Errorf("the casting vote again: got dup %v events %+v, %v, want the first, journaling nothing", dup, again.Events, err)
		}
		if _, _, err := s.SubmitBallot(ctx, submission(t, p, chair, 0, "against", true, "n8")); !errors.Is(err, voting.ErrPollClosed) {
			t.Errorf("a second casting vote: got %v, want ErrPollClosed", err)
		}
		if poll, err = s.Poll(ctx, p.ID); err != nil || poll.Result == nil || !reflect.DeepEqual(*poll.Result, res) {
			t.Errorf("Poll after the casting vote: got result %+v, %v, want %+v", poll.Result, err, res)
		}
		if got, err := s.BallotByHash(ctx, casting.Signed.Hash()); err != nil || got.Index != 6 {
			t.Errorf("BallotByHash: got %+v, %v", got, err)
		}
		if _, err := s.BallotByHash(ctx, fill("nothing")); !errors.Is(err, voting.ErrNotFound) {
			t.Errorf("BallotByHash of nothing: got %v, want ErrNotFound", err)
		}
		if evs, err := s.SetResult(ctx, p.ID, res, []voting.VoteEvent{event(voting.EventPollResult, `{"again":1}`)}); err != nil || len(evs) != 1 || evs[0].Seq != 5 {
			t.Errorf("SetResult: got %+v, %v", evs, err)
		}

		p2 := opening(32, "challenge b")
		p2.CastingVote, p2.PreponderantVote = false, true
		if idx, _, err := s.OpenPoll(ctx, origin, &p2, opened); err != nil || idx != 7 {
			t.Fatalf("OpenPoll 2: got %d, %v", idx, err)
		}
		if got, err := s.Poll(ctx, p2.ID); err != nil || !reflect.DeepEqual(got.PollOpening, p2) {
			t.Errorf("Poll 2 (a preponderant vote):\ngot  %+v\nwant %+v (%v)", got.PollOpening, p2, err)
		}
		if _, err := s.SetResult(ctx, p2.ID, res, nil); !errors.Is(err, voting.ErrPollOpen) {
			t.Errorf("SetResult of an open poll: got %v, want ErrPollOpen", err)
		}
		if _, err := s.SetResult(ctx, 999, res, nil); !errors.Is(err, voting.ErrNotFound) {
			t.Errorf("SetResult of no poll: got %v, want ErrNotFound", err)
		}
		if _, _, err := s.SubmitBallot(ctx, submission(t, p2, 42, 0, "for", false, "n1")); err != nil {
			t.Errorf("the same nonce in another poll: %v", err)
		}
		if _, _, err := s.OpenPoll(ctx, "chamber.other/meetings/7", &p2, opened); !errors.Is(err, voting.ErrConflict) {
			t.Errorf("OpenPoll with another origin: got %v, want ErrConflict", err)
		}
		lines, last := journal(t, db)
		want := []string{
			fmt.Sprintf(`1 poll.opened {"id":%d}`, p.ID), `2 poll.closed {"closed":1}`, `3 poll.casting {"casting":1}`,
			`4 poll.result {"result":1}`, `5 poll.result {"again":1}`, fmt.Sprintf(`6 poll.opened {"id":%d}`, p2.ID),
		}
		if !slices.Equal(lines, want) || last != 6 {
			t.Errorf("journal (last_seq %d):\ngot  %q\nwant %q", last, lines, want)
		}
		polls, err := s.MeetingPolls(ctx, meeting)
		if err != nil || len(polls) != 2 || polls[0].ID != p.ID || polls[1].ID != p2.ID {
			t.Errorf("MeetingPolls: got %d polls, %v", len(polls), err)
		}
		if err := s.RecordRefusal(ctx, voting.Refusal{Meeting: meeting, Poll: p2.ID, Voter: 45, Reason: "not_member", At: t0}); err != nil {
			t.Errorf("RecordRefusal: %v", err)
		}

		// The log in the database is the log the entries make, and a record built from
		// it verifies.
		checkRecord(t, s, keys, 9)
	})
}

// checkRecord builds the meeting's record from the store's log and verifies it.
func checkRecord(t *testing.T, s *sqlstore.Store, keys map[int64]voting.Key, wantSize int64) {
	t.Helper()
	ctx := context.Background()
	log := voting.NewLog(origin, s.Log(meeting))
	head, err := log.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head.Size != wantSize {
		t.Errorf("log size: got %d, want %d", head.Size, wantSize)
	}
	leaves, err := log.Leaves(ctx, 0, head.Size)
	if err != nil {
		t.Fatal(err)
	}
	if root, err := voting.RootOf(leaves); err != nil || root != head.Hash {
		t.Errorf("root: stored hashes give %s, the leaves %s (%v)", head.Hash, root, err)
	}
	lk, _ := voting.NewLogKey(key("server"))
	signed, err := lk.Sign(head)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCheckpoint(ctx, meeting, head.Size, signed, t0); err != nil {
		t.Fatal(err)
	}
	latest, err := s.LatestCheckpoint(ctx, meeting)
	if err != nil || string(latest) != string(signed) {
		t.Fatalf("LatestCheckpoint: got %q, %v", latest, err)
	}
	vkey, _ := lk.VerifierKey(origin)
	var all []voting.Key
	for _, k := range keys {
		all = append(all, k)
	}
	rec, err := voting.BuildRecord(ctx, voting.RecordInput{
		Meeting: voting.RecordMeeting{ID: meeting}, Items: []voting.RecordItem{{ID: 31}, {ID: 32}},
		Keys: all, Log: log, Checkpoint: latest, VerifierKey: vkey,
	})
	if err != nil {
		t.Fatalf("BuildRecord: %v", err)
	}
	if problems := voting.VerifyRecord(rec, vkey); len(problems) != 0 {
		t.Errorf("VerifyRecord: %v", problems)
	}
}

// TestConcurrentBallots submits every ballot at once: each is acknowledged once, at
// its own index, and the log verifies.
func TestConcurrentBallots(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		s, keys := newStore(t, db)
		p := openPoll(t, s, "challenge c")
		const rounds = 6
		var subs []voting.BallotSubmission
		for r := range rounds {
			for _, v := range p.Eligible {
				subs = append(subs, submission(t, p, v, 0, voting.DefaultOptions()[r%3], false, fmt.Sprint("n", r, v)))
			}
		}
		var wg sync.WaitGroup
		indexes := make([]int64, len(subs))
		errs := make([]error, len(subs))
		for i := range subs {
			wg.Go(func() {
				sb, _, err := s.SubmitBallot(ctx, subs[i])
				indexes[i], errs[i] = sb.Index, err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("ballot %d: %v", i, err)
			}
		}
		slices.Sort(indexes)
		for i, idx := range indexes {
			if idx != int64(i+1) {
				t.Fatalf("indexes: got %v, want 1 to %d", indexes, len(subs))
			}
		}
		checkRecord(t, s, keys, int64(len(subs)+1))
	})
}

// TestJournalFailureRollsBack checks that a poll change and its journal event commit
// together or not at all.
func TestJournalFailureRollsBack(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		s, _ := newStore(t, db)
		p := opening(31, "challenge r")
		failing := func(*voting.PollOpening) (voting.VoteEvent, error) {
			return voting.VoteEvent{}, errors.New("no journal")
		}
		if _, _, err := s.OpenPoll(ctx, origin, &p, failing); err == nil {
			t.Fatal("OpenPoll with a failing journal: got no error")
		}
		// An event for a meeting that does not exist fails inside the transaction.
		orphan := func(*voting.PollOpening) (voting.VoteEvent, error) {
			e := event(voting.EventPollOpened, "{}")
			e.Meeting = 999
			return e, nil
		}
		if _, _, err := s.OpenPoll(ctx, origin, &p, orphan); !errors.Is(err, voting.ErrNotFound) {
			t.Fatalf("OpenPoll journaling to no meeting: got %v, want ErrNotFound", err)
		}
		if polls, err := s.MeetingPolls(ctx, meeting); err != nil || len(polls) != 0 {
			t.Errorf("polls after the failures: got %d, %v", len(polls), err)
		}
		if n, err := s.Log(meeting).Size(ctx); err != nil || n != 0 {
			t.Errorf("log after the failures: %d entries, %v", n, err)
		}
		if lines, last := journal(t, db); len(lines) != 0 || last != 0 {
			t.Errorf("journal after the failures: %q, last_seq %d", lines, last)
		}

		if _, _, err := s.OpenPoll(ctx, origin, &p, opened); err != nil {
			t.Fatal(err)
		}
		closing, err := p.Close(t0.Add(time.Minute), chair, 8, nil)
		if err != nil {
			t.Fatal(err)
		}
		bad := event(voting.EventPollClosed, "{}")
		bad.Meeting = 999
		if _, _, err := s.ClosePoll(ctx, p.ID, decided(closing, nil, bad)); !errors.Is(err, voting.ErrNotFound) {
			t.Fatalf("ClosePoll journaling to no meeting: got %v, want ErrNotFound", err)
		}
		if got, err := s.Poll(ctx, p.ID); err != nil || got.Closing != nil {
			t.Errorf("poll after a failed close: closing %+v, %v", got.Closing, err)
		}
		if n, _ := s.Log(meeting).Size(ctx); n != 1 {
			t.Errorf("log after a failed close: %d entries, want the opening only", n)
		}
	})
}

// TestBallotsSentTogether sends, at once, ballots that share transactions: the same
// ballot several times, two ballots reusing a nonce, a ballot for another meeting's
// poll, and many good ones. Each is answered on its own: the copies with the first
// copy's index (one stored), the second of the two with a nonce refused as a replay,
// the stray ballot not found; the rest are stored at distinct indexes, and the log's
// stored hashes (read through the cache) give the root of its leaves.
func TestBallotsSentTogether(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		s, keys := newStore(t, db)
		p := openPoll(t, s, "challenge t")
		same := submission(t, p, 40, 0, "for", false, "same")
		first := submission(t, p, 41, 0, "for", false, "reused")
		second := submission(t, p, 41, 0, "against", false, "reused")
		stray := submission(t, p, 42, 0, "for", false, "stray")
		stray.Ballot.Poll = 9999
		subs := []voting.BallotSubmission{same, same, same, first, second, stray}
		good := 0
		for r := range 20 {
			for _, v := range []int64{42, 43, 44} {
				subs = append(subs, submission(t, p, v, 0, "abstain", false, fmt.Sprint("good", r, v)))
				good++
			}
		}
		type answer struct {
			sb  voting.StoredBallot
			dup bool
			err error
		}
		answers := make([]answer, len(subs))
		var wg sync.WaitGroup
		for i := range subs {
			wg.Go(func() {
				sb, dup, err := s.SubmitBallot(ctx, subs[i])
				answers[i] = answer{sb, dup, err}
			})
		}
		wg.Wait()
		var sameIdx []int64
		dups := 0
		for _, a := range answers[:3] {
			if a.err != nil {
				t.Fatalf("the same ballot: %v", a.err)
			}
			sameIdx = append(sameIdx, a.sb.Index)
			if a.dup {
				dups++
			}
		}
		if sameIdx[0] != sameIdx[1] || sameIdx[1] != sameIdx[2] || dups != 2 {
			t.Errorf("the same ballot three times: indexes %v, %d answered as sent before, want one index and 2", sameIdx, dups)
		}
		replays := 0
		for _, a := range answers[3:5] {
			if errors.Is(a.err, voting.ErrReplay) {
				replays++
			} else if a.err != nil {
				t.Errorf("a ballot with a reused nonce: %v", a.err)
			}
		}
		if replays != 1 {
			t.Errorf("two ballots with one nonce: %d refused as replays, want 1", replays)
		}
		if !errors.Is(answers[5].err, voting.ErrNotFound) {
			t.Errorf("a ballot for another meeting's poll: got %v, want ErrNotFound", answers[5].err)
		}
		seen := map[int64]bool{sameIdx[0]: true}
		for i, a := range answers[6:] {
			if a.err != nil || a.dup || seen[a.sb.Index] {
				t.Fatalf("good ballot %d: index %d, dup %v, %v", i, a.sb.Index, a.dup, a.err)
			}
			seen[a.sb.Index] = true
		}
		checkRecord(t, s, keys, int64(1+1+1+good))
		stored, err := s.Ballots(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		votes, err := s.Votes(ctx, p.ID)
		if err != nil || len(votes) != len(stored) {
			t.Fatalf("votes: %d (%v), ballots %d", len(votes), err, len(stored))
		}
		for i, v := range votes {
			if v != voting.VoteOf(&stored[i].Ballot) {
				t.Errorf("vote %d: %+v, the ballot says %+v", i, v, voting.VoteOf(&stored[i].Ballot))
			}
		}
		// A fresh store, with nothing cached, reads the same hashes from the database.
		fresh := sqlstore.New(db)
		cached, err := voting.NewLog(origin, s.Log(meeting)).Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		read, err := voting.NewLog(origin, fresh.Log(meeting)).Head(ctx)
		if err != nil || read != cached {
			t.Errorf("tree head from the database %v (%v), from the cache %v", read, err, cached)
		}
	})
}

func TestJournalSeqAndKey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		s, keys := newStore(t, db)
		k := keys[40]
		if _, _, _, err := s.JournalSeqAndKey(ctx, 999, k.ID); !errors.Is(err, voting.ErrNotFound) {
			t.Errorf("no such meeting: got %v, want ErrNotFound", err)
		}
		seq, got, ok, err := s.JournalSeqAndKey(ctx, meeting, k.ID)
		if err != nil || !ok || seq != 0 || !reflect.DeepEqual(got, k) {
			t.Errorf("got seq %d, key %+v, %v, %v; want 0, %+v", seq, got, ok, err, k)
		}
		openPoll(t, s, "challenge s")
		if seq, _, ok, err := s.JournalSeqAndKey(ctx, meeting, "00000000000000000000000000000000"); err != nil || ok || seq != 1 {
			t.Errorf("an unknown key after a poll opened: got seq %d, %v, %v; want 1, false", seq, ok, err)
		}
		// Many at once, as when everyone votes at once: each gets its own key, or
		// none, and the journal as it is; a meeting that does not exist is not found.
		all := slices.Collect(maps.Values(keys))
		var wg sync.WaitGroup
		for i := range 3 * len(all) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k := all[i%len(all)]
				switch i / len(all) {
				case 0:
					seq, got, ok, err := s.JournalSeqAndKey(ctx, meeting, k.ID)
					if err != nil || !ok || seq != 1 || !reflect.DeepEqual(got, k) {
						t.Errorf("key %d at once: seq %d, %+v, %v, %v", i, seq, got, ok, err)
					}
				case 1:
					id := voting.KeyID(fmt.Sprintf("%032d", i))
					if seq, _, ok, err := s.JournalSeqAndKey(ctx, meeting, id); err != nil || ok || seq != 1 {
						t.Errorf("unknown key %s at once: seq %d, %v, %v", id, seq, ok, err)
					}
				default:
					if _, _, _, err := s.JournalSeqAndKey(ctx, 999, k.ID); !errors.Is(err, voting.ErrNotFound) {
						t.Errorf("no such meeting, at once: %v", err)
					}
				}
			}()
		}
		wg.Wait()
		// A revocation through this store shows at once (one on another node, as the
		// ballots under the key commit: TestKeyRevokedOnAnotherNode).
		if _, err := s.RevokeKey(ctx, k.ID, k.User, time.Date(2026, 3, 1, 19, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		if _, got, _, err := s.JournalSeqAndKey(ctx, meeting, k.ID); err != nil || got.RevokedAt.IsZero() {
			t.Errorf("after revocation: %+v, %v; want the key revoked", got, err)
		}
		if got, err := s.Key(ctx, k.ID); err != nil || got.RevokedAt.IsZero() {
			t.Errorf("Key after revocation: %+v, %v; want the key revoked", got, err)
		}
	})
}

// TestDeclineCasting records that no casting vote will come in a tied poll: refused
// while the poll is open or failing to decide, then logged with the result and its
// event in one transaction, after which neither a casting vote nor a second
// declaration is taken, and another poll may open.
func TestDeclineCasting(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		s, keys := newStore(t, db)
		p := openPoll(t, s, "challenge a")
		declaration := voting.CastingDeclined{Meeting: meeting, Item: 31, Poll: p.ID, DeclaredAt: t0.Add(3 * time.Minute),
			DeclaredBy: clerk, Presiding: chair, Reason: "The chair has left the meeting."}
		declare := func(d voting.CastingDeclined, res voting.Result, events ...voting.VoteEvent) voting.DecideDeclined {
			return func(voting.Poll, []voting.StoredBallot) (voting.CastingDeclined, voting.Result, []voting.VoteEvent, error) {
				return d, res, events, nil
			}
		}
		if _, _, err := s.DeclineCasting(ctx, p.ID, declare(declaration, voting.Result{})); !errors.Is(err, voting.ErrPollOpen) {
			t.Errorf("DeclineCasting while open: got %v, want ErrPollOpen", err)
		}
		var votes []voting.Vote
		for i, in := range []voting.BallotSubmission{submission(t, p, 41, 0, "for", false, "n1"), submission(t, p, 42, 0, "against", false, "n2")} {
			if _, _, err := s.SubmitBallot(ctx, in); err != nil {
				t.Fatalf("ballot %d: %v", i, err)
			}
			votes = append(votes, voting.VoteOf(&in.Ballot))
		}
		closing, err := p.Close(t0.Add(time.Minute), chair, 8, votes)
		if err != nil || closing.Outcome != voting.OutcomeTied {
			t.Fatalf("closing: %+v, %v", closing, err)
		}
		if _, _, err := s.ClosePoll(ctx, p.ID, decided(closing, nil, event(voting.EventPollClosed, `{"closed":1}`))); err != nil {
			t.Fatal(err)
		}
		before, _ := journal(t, db)
		if _, _, err := s.DeclineCasting(ctx, p.ID, func(voting.Poll, []voting.StoredBallot) (voting.CastingDeclined, voting.Result, []voting.VoteEvent, error) {
			return voting.CastingDeclined{}, voting.Result{}, nil, errors.New("undecided")
		}); err == nil {
			t.Errorf("DeclineCasting failing to decide: got no error")
		}
		elsewhere := declaration
		elsewhere.Item = 32
		if _, _, err := s.DeclineCasting(ctx, p.ID, declare(elsewhere, voting.Result{})); !errors.Is(err, voting.ErrMalformed) {
			t.Errorf("DeclineCasting with another item's declaration: got %v, want ErrMalformed", err)
		}
		unreasoned := declaration
		unreasoned.Reason = ""
		if _, _, err := s.DeclineCasting(ctx, p.ID, declare(unreasoned, voting.Result{})); !errors.Is(err, voting.ErrMalformed) {
			t.Errorf("DeclineCasting without a reason: got %v, want ErrMalformed", err)
		}
		if after, _ := journal(t, db); !slices.Equal(after, before) {
			t.Errorf("refused declarations journaled %q", after[len(before):])
		}

		poll, err := s.Poll(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		declared := poll
		declared.Declined = &declaration
		res, err := voting.TallyPoll(&declared, votes)
		if err != nil || res.Outcome != voting.OutcomeLost || res.Equality.Resolution != voting.CastingVoteNotGiven {
			t.Fatalf("tally: %+v, %v", res, err)
		}
		var seen []voting.Vote
		idx, evs, err := s.DeclineCasting(ctx, p.ID, func(got voting.Poll, ballots []voting.StoredBallot) (voting.CastingDeclined, voting.Result, []voting.VoteEvent, error) {
			if got.Closing == nil || got.Result != nil || got.Declined != nil {
				t.Errorf("decide: got poll %+v", got)
			}
			for _, b := range ballots {
				seen = append(seen, voting.VoteOf(&b.Ballot))
			}
			return declaration, res, []voting.VoteEvent{event(voting.EventPollResult, `{"result":1}`)}, nil
		})
		if err != nil || idx != 4 || len(evs) != 1 || evs[0].Seq != 3 {
			t.Fatalf("DeclineCasting: got index %d events %+v, %v, want index 4 and seq 3", idx, evs, err)
		}
		if !slices.Equal(seen, votes) {
			t.Errorf("decide was given %v, want %v", seen, votes)
		}
		got, err := s.Poll(ctx, p.ID)
		if err != nil || got.Declined == nil || !reflect.DeepEqual(*got.Declined, declaration) || got.Result == nil || !reflect.DeepEqual(*got.Result, res) {
			t.Errorf("Poll after the declaration: declared %+v result %+v, %v", got.Declined, got.Result, err)
		}
		leaves, err := voting.NewLog(origin, s.Log(meeting)).Leaves(ctx, idx, idx+1)
		if err != nil {
			t.Fatal(err)
		}
		if e, err := voting.ParseEntry(leaves[0]); err != nil || e.Declined == nil || !reflect.DeepEqual(*e.Declined, declaration) {
			t.Errorf("log entry %d: got %+v, %v, want the declaration", idx, e, err)
		}

		if _, _, err := s.DeclineCasting(ctx, p.ID, declare(declaration, res)); !errors.Is(err, voting.ErrPollClosed) {
			t.Errorf("a second declaration: got %v, want ErrPollClosed", err)
		}
		if _, _, err := s.DeclineCasting(ctx, 999, declare(declaration, res)); !errors.Is(err, voting.ErrNotFound) {
			t.Errorf("DeclineCasting of no poll: got %v, want ErrNotFound", err)
		}
		casting := submission(t, p, chair, 0, "for", true, "n3")
		casting.Result, casting.Events = &res, []voting.VoteEvent{event(voting.EventPollResult, `{"casting":1}`)}
		if _, _, err := s.SubmitBallot(ctx, casting); !errors.Is(err, voting.ErrPollClosed) {
			t.Errorf("a casting vote after the declaration: got %v, want ErrPollClosed", err)
		}
		if open, all, err := s.PollsOn(ctx, meeting, 0); err != nil || open != 0 || all != 1 {
			t.Errorf("PollsOn: got %d undecided of %d, %v, want none of 1", open, all, err)
		}
		p2 := opening(32, "challenge b")
		if _, _, err := s.OpenPoll(ctx, origin, &p2, opened); err != nil {
			t.Errorf("OpenPoll once the equality stands: %v", err)
		}
		lines, last := journal(t, db)
		want := []string{fmt.Sprintf(`1 poll.opened {"id":%d}`, p.ID), `2 poll.closed {"closed":1}`, `3 poll.result {"result":1}`,
			fmt.Sprintf(`4 poll.opened {"id":%d}`, p2.ID)}
		if !slices.Equal(lines, want) || last != 4 {
			t.Errorf("journal (last_seq %d):\ngot  %q\nwant %q", last, lines, want)
		}
		checkRecord(t, s, keys, 6)
	})
}

// TestPollsAtOnce reads polls as the first ballots of a poll do, all at once: each
// gets its poll as stored, and a poll that does not exist is not found.
func TestPollsAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		s, _ := newStore(t, db)
		p := openPoll(t, s, "challenge p")
		want, err := s.Poll(ctx, p.ID)
		if err != nil || want.ID != p.ID || want.Question != p.Question || len(want.Eligible) != len(p.Eligible) {
			t.Fatalf("poll %d: %+v, %v", p.ID, want, err)
		}
		var wg sync.WaitGroup
		for i := range 80 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%4 == 3 {
					if _, err := s.Poll(ctx, 99999); !errors.Is(err, voting.ErrNotFound) {
						t.Errorf("a poll that does not exist: %v", err)
					}
					return
				}
				got, err := s.Poll(ctx, p.ID)
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("poll read at once: %+v, %v; want %+v", got, err, want)
				}
			}()
		}
		wg.Wait()
	})
}
