package web_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/voting"
	"github.com/chamber/chamber/web"
)

// TestMembersVoteOverHTTP follows a vote through the API: a member enrols a new device
// key and the clerk approves it; the chair opens a recorded poll on the current item;
// members cast signed ballots, one changes their vote, one sends the same ballot
// twice; refusals are answered with their problem types; the clerk follows progress
// and the chair closes the poll; the published record verifies offline, and so do
// each receipt and the proofs that link it to the record's checkpoint.
func TestMembersVoteOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		e := newEnv(t, db)
		w := newWorld(t, e)
		public := e.public()

		// A new key: enrolled, refused until approved, then approved by the clerk.
		priv, k := w.enrol(w.member, "phone")
		if k.User != w.memberID || k.Label != "phone" || !k.ApprovedAt.IsZero() {
			t.Fatalf("enrolled key %+v", k)
		}
		var mine []voting.Key
		w.member.get("/api/v1/me/keys?status=pending").want(http.StatusOK).into(&mine)
		if !slices.ContainsFunc(mine, func(x voting.Key) bool { return x.ID == k.ID }) {
			t.Errorf("pending keys %v lack %s", mine, k.ID)
		}
		var queue []voting.Key
		w.clerk.get(path("/api/v1/councils/%d/keys?status=pending", w.council)).want(http.StatusOK).into(&queue)
		if !slices.ContainsFunc(queue, func(x voting.Key) bool { return x.ID == k.ID }) {
			t.Errorf("the clerk's queue %v lacks %s", queue, k.ID)
		}
		w.outsider.get(path("/api/v1/councils/%d/keys", w.council)).problem(http.StatusForbidden, "forbidden")
		w.outsider.get(path("/api/v1/users/%d/keys", w.memberID)).problem(http.StatusForbidden, "forbidden")
		w.member.do("POST", "/api/v1/keys/"+string(k.ID)+"/approve", nil).problem(http.StatusForbidden, "forbidden")

		var poll voting.PollView
		w.chair.do("POST", path("/api/v1/meetings/%d/polls", w.quietMeeting), map[string]any{"recorded": true}).
			want(http.StatusCreated).into(&poll)
		if poll.Status != voting.PollOpen || len(poll.Eligible) != 3 || poll.Question != "1 Statement of accounts" || !poll.Named {
			t.Fatalf("opened %+v", poll)
		}
		w.keys[w.memberID] = priv
		early := w.ballot(poll, w.memberID, "for", nil)
		w.member.do("POST", w.ballotsPath(poll), early).problem(http.StatusForbidden, "key-not-approved")
		w.clerk.do("POST", "/api/v1/keys/"+string(k.ID)+"/approve", nil).want(http.StatusOK).into(&k)
		if k.ApprovedBy != w.clerkID {
			t.Errorf("approved key %+v", k)
		}

		// Ballots.
		var vkey string
		var lr web.LogResponse
		public.get(path("/api/v1/meetings/%d/log", w.quietMeeting)).want(http.StatusOK).into(&lr)
		vkey = lr.VerifierKey
		if lr.Origin != "chamber.test/meetings/"+itoa(w.quietMeeting) || lr.Size != 1 {
			t.Errorf("log %+v", lr)
		}
		cast := func(c *client, sb voting.SignedBallot, status int) web.ReceiptResponse {
			t.Helper()
			var r web.ReceiptResponse
			c.do("POST", w.ballotsPath(poll), sb).want(status).into(&r)
			leaf, err := voting.EncodeBallotEntry(sb)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := voting.VerifyReceipt(r.Receipt, leaf, vkey); err != nil {
				t.Errorf("receipt %+v does not verify: %v", r, err)
			}
			return r
		}
		first := w.ballot(poll, w.memberID, "for", nil)
		r1 := cast(w.member, first, http.StatusCreated)
		again := cast(w.member, first, http.StatusOK)
		if again.Index != r1.Index || again.Checkpoint != r1.Checkpoint || again.Ballot != r1.Ballot {
			t.Errorf("the same ballot again got %+v, first %+v", again, r1)
		}
		changed := w.ballot(poll, w.memberID, "against", nil)
		rChanged := cast(w.member, changed, http.StatusCreated)
		cast(w.chair, w.ballot(poll, w.chairID, "against", nil), http.StatusCreated)
		// The clerk records the third member's show of hands.
		var inRoom web.InRoomResponse
		hands := w.ballot(poll, w.voterID, "for", func(b *voting.Ballot) { b.Recorder = w.clerkID })
		w.clerk.do("POST", path("/api/v1/meetings/%d/polls/%d/in-room", w.quietMeeting, poll.ID),
			web.InRoomRequest{Ballots: []voting.SignedBallot{hands}}).want(http.StatusCreated).into(&inRoom)
		if len(inRoom.Receipts) != 1 || inRoom.Receipts[0].Index <= rChanged.Index {
			t.Errorf("in-room receipts %+v", inRoom)
		}

		// Refusals.
		replay := w.ballot(poll, w.memberID, "abstain", func(b *voting.Ballot) {
			p, _ := voting.ParseBallot(first.Bytes)
			b.Nonce = p.Nonce
		})
		w.member.do("POST", w.ballotsPath(poll), replay).problem(http.StatusConflict, "replay")
		w.member.do("POST", w.ballotsPath(poll), w.ballot(poll, w.memberID, "maybe", nil)).problem(http.StatusUnprocessableEntity, "invalid-choice")
		w.member.do("POST", w.ballotsPath(poll), w.ballot(poll, w.memberID, "for", func(b *voting.Ballot) { b.Challenge[0] ^= 1 })).
			problem(http.StatusUnprocessableEntity, "wrong-poll")
		w.member.do("POST", w.ballotsPath(w.openPoll), w.ballot(poll, w.memberID, "for", nil)).problem(http.StatusUnprocessableEntity, "wrong-poll")
		w.member.do("POST", w.ballotsPath(poll), badSignature(w.ballot(poll, w.memberID, "for", nil))).problem(http.StatusUnprocessableEntity, "bad-signature")
		trimmed := w.ballot(poll, w.memberID, "for", nil)
		trimmed.Bytes = trimmed.Bytes[:40]
		w.member.do("POST", w.ballotsPath(poll), trimmed).problem(http.StatusBadRequest, "malformed-ballot")
		w.member.do("POST", w.ballotsPath(poll), w.ballot(poll, w.chairID, "for", nil)).problem(http.StatusForbidden, "forbidden")
		w.keys[w.subID], _ = w.enrol(w.sub, "laptop")
		var subKeys []voting.Key
		w.sub.get("/api/v1/me/keys").want(http.StatusOK).into(&subKeys)
		w.clerk.do("POST", "/api/v1/keys/"+string(subKeys[0].ID)+"/approve", nil).want(http.StatusOK)
		p := w.sub.do("POST", w.ballotsPath(poll), w.ballot(poll, w.subID, "for", nil)).problem(http.StatusForbidden, "not-eligible")
		if p.Reason != string(voting.ReasonNotMember) {
			t.Errorf("not-eligible problem %+v: want reason %s", p, voting.ReasonNotMember)
		}
		stolen := w.ballot(poll, w.chairID, "for", nil)
		stolen.PublicKey = w.keys[w.memberID].Public().(ed25519.PublicKey)
		stolen.Signature = ed25519.Sign(w.keys[w.memberID], stolen.Bytes)
		w.chair.do("POST", w.ballotsPath(poll), stolen).problem(http.StatusForbidden, "wrong-key")
		public.do("POST", w.ballotsPath(poll), first).problem(http.StatusUnauthorized, "unauthenticated")

		// Progress: counts for everyone, who is waiting for the clerk.
		var pr voting.Progress
		public.get(path("/api/v1/meetings/%d/polls/%d/progress", w.quietMeeting, poll.ID)).want(http.StatusOK).into(&pr)
		if pr.Eligible != 3 || pr.Voted != 3 || pr.Ballots != 4 || pr.Waiting != nil || pr.Counts != nil {
			t.Errorf("public progress %+v", pr)
		}
		public.get(path("/api/v1/meetings/%d/polls/%d/progress", w.votingMeeting, poll.ID)).problem(http.StatusNotFound, "not-found")
		w.clerk.get(path("/api/v1/meetings/%d/polls/%d/progress", w.votingMeeting, w.openPoll.ID)).want(http.StatusOK).into(&pr)
		if pr.NotVoted != 3 || len(pr.Waiting) != 3 {
			t.Errorf("the clerk's progress of a poll with no votes %+v", pr)
		}

		// The chair closes it: 2 against, 1 for.
		var closed voting.PollView
		w.member.do("POST", path("/api/v1/meetings/%d/polls/%d/close", w.quietMeeting, poll.ID), nil).problem(http.StatusForbidden, "forbidden")
		w.chair.do("POST", path("/api/v1/meetings/%d/polls/%d/close", w.quietMeeting, poll.ID), nil).want(http.StatusOK).into(&closed)
		if closed.Status != voting.PollClosed || closed.Result == nil || closed.Result.Outcome != voting.OutcomeLost {
			t.Fatalf("closed %+v", closed)
		}
		w.chair.do("POST", path("/api/v1/meetings/%d/polls/%d/close", w.quietMeeting, poll.ID), nil).problem(http.StatusConflict, "poll-closed")
		w.member.do("POST", w.ballotsPath(poll), w.ballot(poll, w.memberID, "for", nil)).problem(http.StatusConflict, "poll-closed")
		// Acknowledged ballots keep their receipts after the close.
		if late := cast(w.member, first, http.StatusOK); late.Index != r1.Index {
			t.Errorf("after the close, the first ballot's receipt has index %d, want %d", late.Index, r1.Index)
		}

		var polls []voting.PollView
		public.get(path("/api/v1/meetings/%d/polls", w.quietMeeting)).want(http.StatusOK).into(&polls)
		if len(polls) != 1 || polls[0].ID != poll.ID || polls[0].Result == nil {
			t.Errorf("polls %+v", polls)
		}
		var got voting.PollView
		public.get(path("/api/v1/meetings/%d/polls/%d", w.quietMeeting, poll.ID)).want(http.StatusOK).into(&got)
		if got.Closing == nil || got.Closing.Ballots != 4 {
			t.Errorf("poll %+v", got)
		}

		// The record, as the public gets it, verifies against the published key.
		r := public.get(path("/api/v1/meetings/%d/record", w.quietMeeting)).want(http.StatusOK)
		rec, err := voting.ParseRecord(r.body)
		if err != nil {
			t.Fatal(err)
		}
		var sk web.ServerKeyResponse
		public.get("/api/v1/log-key").want(http.StatusOK).into(&sk)
		if sk.PublicKey != voting.EncodePublicKey(logKey.Public()) {
			t.Errorf("server key %q", sk.PublicKey)
		}
		if problems := voting.VerifyRecord(rec, vkey); len(problems) != 0 {
			t.Errorf("the record does not verify: %v", problems)
		}
		if len(rec.Polls) != 1 || len(rec.Polls[0].Ballots) != 4 {
			t.Fatalf("record polls %+v", rec.Polls)
		}
		for _, b := range rec.Polls[0].Ballots {
			if bytes.Equal(b.Bytes, first.Bytes) && b.Index != r1.Index {
				t.Errorf("the first ballot is at %d in the record, its receipt says %d", b.Index, r1.Index)
			}
		}

		// The receipt's checkpoint is consistent with the record's, and proofs are served.
		cpText := public.get(path("/api/v1/meetings/%d/log/checkpoint", w.quietMeeting)).want(http.StatusOK)
		if string(cpText.body) != rec.Log.Checkpoint || !strings.HasPrefix(cpText.header.Get("Content-Type"), "text/plain") {
			t.Errorf("checkpoint %q, the record's %q", cpText.body, rec.Log.Checkpoint)
		}
		older, err := voting.OpenCheckpoint([]byte(r1.Checkpoint), vkey)
		if err != nil {
			t.Fatal(err)
		}
		newer, err := voting.OpenCheckpoint([]byte(rec.Log.Checkpoint), vkey)
		if err != nil {
			t.Fatal(err)
		}
		var cons web.ConsistencyResponse
		public.get(path("/api/v1/meetings/%d/log/consistency", w.quietMeeting) + query(url.Values{"from": {itoa(older.Size)}})).
			want(http.StatusOK).into(&cons)
		if cons.To != newer.Size {
			t.Errorf("consistency to %d, want %d", cons.To, newer.Size)
		}
		if err := voting.VerifyConsistency(older, newer, cons.Proof); err != nil {
			t.Errorf("consistency proof: %v", err)
		}
		var inc web.InclusionResponse
		public.get(path("/api/v1/meetings/%d/log/inclusion", w.quietMeeting) + query(url.Values{"index": {itoa(r1.Index)}})).
			want(http.StatusOK).into(&inc)
		leaf, _ := voting.EncodeBallotEntry(first)
		if err := voting.VerifyInclusion(newer, r1.Index, leaf, inc.Proof); err != nil {
			t.Errorf("inclusion proof: %v", err)
		}
		public.get(path("/api/v1/meetings/%d/log/inclusion", w.quietMeeting)+query(url.Values{"index": {"99"}})).problem(http.StatusNotFound, "not-found")
		public.get(path("/api/v1/meetings/%d/log/inclusion", w.quietMeeting)+query(url.Values{"index": {"x"}})).problem(http.StatusUnprocessableEntity, "validation")
		public.get(path("/api/v1/meetings/%d/record", w.meeting)).problem(http.StatusNotFound, "not-found")

		// The poll's events are in the meeting's journal.
		var events []struct{ Type string }
		public.get(path("/api/v1/meetings/%d/events", w.quietMeeting)).want(http.StatusOK).into(&events)
		var types []string
		for _, ev := range events {
			if strings.HasPrefix(ev.Type, "poll.") {
				types = append(types, ev.Type)
			}
		}
		if want := []string{voting.EventPollOpened, voting.EventPollClosed, voting.EventPollResult}; !slices.Equal(types, want) {
			t.Errorf("poll events %v, want %v", types, want)
		}
	})
}

// TestCastingVoteOverHTTP: the presiding member decides the equality, once.
func TestCastingVoteOverHTTP(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, migrations.SQLite))
	w := newWorld(t, e)
	casting := path("/api/v1/meetings/%d/polls/%d/casting-vote", w.tiedMeeting, w.tiedPoll.ID)
	casts := func(b *voting.Ballot) { b.Casting = true }
	w.member.do("POST", casting, w.ballot(w.tiedPoll, w.memberID, "for", casts)).problem(http.StatusForbidden, "not-presiding")
	w.chair.do("POST", casting, w.ballot(w.tiedPoll, w.chairID, "abstain", casts)).problem(http.StatusConflict, "no-tie")
	w.chair.do("POST", casting, w.ballot(w.tiedPoll, w.chairID, "for", nil)).problem(http.StatusBadRequest, "malformed-ballot")
	w.chair.do("POST", path("/api/v1/meetings/%d/polls/%d/casting-vote", w.votingMeeting, w.openPoll.ID),
		w.ballot(w.openPoll, w.chairID, "for", casts)).problem(http.StatusConflict, "poll-open")
	vote := w.ballot(w.tiedPoll, w.chairID, "for", casts)
	w.chair.do("POST", casting, vote).want(http.StatusCreated)
	w.chair.do("POST", casting, vote).want(http.StatusOK)
	w.chair.do("POST", casting, w.ballot(w.tiedPoll, w.chairID, "against", casts)).problem(http.StatusConflict, "poll-closed")
	var p voting.PollView
	e.public().get(path("/api/v1/meetings/%d/polls/%d", w.tiedMeeting, w.tiedPoll.ID)).want(http.StatusOK).into(&p)
	if p.Status != voting.PollClosed || p.Result == nil || p.Result.Outcome != voting.OutcomeCarried || p.Result.CastingVote != "for" {
		t.Errorf("after the casting vote: %+v (result %+v)", p, p.Result)
	}
	// A clerk's recorded vote also goes through the ballots route, which then checks
	// the clerk's roles; a member may not record another's vote.
	recorded := w.ballot(w.openPoll, w.voterID, "for", func(b *voting.Ballot) { b.Recorder = w.clerkID })
	w.clerk.do("POST", w.ballotsPath(w.openPoll), recorded).want(http.StatusCreated)
	byMember := w.ballot(w.openPoll, w.voterID, "for", func(b *voting.Ballot) { b.Recorder = w.memberID })
	w.member.do("POST", w.ballotsPath(w.openPoll), byMember).problem(http.StatusForbidden, "forbidden")

	// A poll cannot open while the quorum is absent.
	w.clerk.do("POST", path("/api/v1/meetings/%d/attendance/%d/departure", w.quietMeeting, w.voterID), nil).want(http.StatusOK)
	w.chair.do("POST", path("/api/v1/meetings/%d/polls", w.quietMeeting), map[string]any{}).problem(http.StatusConflict, "inquorate")
}

// TestNoCastingVoteOverHTTP records over the API that the casting vote on the tied
// poll will not come: refusals get their problem types; the chair's declaration
// decides the poll, the equality standing; nothing more is taken; and the public record
// verifies with it.
func TestNoCastingVoteOverHTTP(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, migrations.SQLite))
	w := newWorld(t, e)
	decline := path("/api/v1/meetings/%d/polls/%d/no-casting-vote", w.tiedMeeting, w.tiedPoll.ID)
	reason := map[string]string{"reason": "The chair has left the meeting."}
	e.public().do("POST", decline, reason).problem(http.StatusUnauthorized, "unauthenticated")
	w.member.do("POST", decline, reason).problem(http.StatusForbidden, "forbidden")
	w.voter.do("POST", decline, reason).problem(http.StatusForbidden, "forbidden")
	if p := w.chair.do("POST", decline, map[string]string{"reason": "  "}).problem(http.StatusUnprocessableEntity, "validation"); len(p.Errors) != 1 || p.Errors[0].Field != "reason" {
		t.Errorf("no reason: errors %+v, want one on reason", p.Errors)
	}
	w.chair.do("POST", path("/api/v1/meetings/%d/polls/%d/no-casting-vote", w.votingMeeting, w.openPoll.ID), reason).
		problem(http.StatusConflict, "poll-open")
	w.chair.do("POST", path("/api/v1/meetings/%d/polls/%d/no-casting-vote", w.quietMeeting, w.tiedPoll.ID), reason).
		problem(http.StatusNotFound, "not-found")

	var declared voting.PollView
	w.chair.do("POST", decline, reason).want(http.StatusOK).into(&declared)
	res := declared.Result
	if declared.Status != voting.PollClosed || res == nil || res.Outcome != voting.OutcomeLost || res.Equality == nil ||
		res.Equality.Resolution != voting.CastingVoteNotGiven || declared.Declined == nil || declared.Declined.Reason != reason["reason"] ||
		declared.Declined.DeclaredBy != w.chairID {
		t.Fatalf("declared: %+v (result %+v, declaration %+v)", declared, res, declared.Declined)
	}
	w.chair.do("POST", decline, reason).problem(http.StatusConflict, "poll-closed")
	casts := func(b *voting.Ballot) { b.Casting = true }
	w.chair.do("POST", path("/api/v1/meetings/%d/polls/%d/casting-vote", w.tiedMeeting, w.tiedPoll.ID),
		w.ballot(w.tiedPoll, w.chairID, "for", casts)).problem(http.StatusConflict, "poll-closed")

	var p voting.PollView
	e.public().get(path("/api/v1/meetings/%d/polls/%d", w.tiedMeeting, w.tiedPoll.ID)).want(http.StatusOK).into(&p)
	if p.Status != voting.PollClosed || p.Result == nil || p.Result.Equality.Resolution != voting.CastingVoteNotGiven {
		t.Errorf("the poll as the public sees it: %+v (result %+v)", p, p.Result)
	}
	r := e.public().get(path("/api/v1/meetings/%d/record", w.tiedMeeting)).want(http.StatusOK)
	rec, err := voting.ParseRecord(r.body)
	if err != nil {
		t.Fatal(err)
	}
	if problems := voting.VerifyRecord(rec); len(problems) != 0 || rec.Polls[0].Declined == nil {
		t.Errorf("record: %v, declaration %+v", problems, rec.Polls[0].Declined)
	}

	// A poll decided at its close has no equality to leave standing.
	w.chair.do("POST", w.ballotsPath(w.openPoll), w.ballot(w.openPoll, w.chairID, "for", nil)).want(http.StatusCreated)
	w.chair.do("POST", path("/api/v1/meetings/%d/polls/%d/close", w.votingMeeting, w.openPoll.ID), nil).want(http.StatusOK)
	w.clerk.do("POST", path("/api/v1/meetings/%d/polls/%d/no-casting-vote", w.votingMeeting, w.openPoll.ID), reason).
		problem(http.StatusConflict, "no-tie")
}

// castingWriteCases are the refusal cases of the declaration that no casting vote
// will come.
func (w *world) castingWriteCases() map[string]writeCase {
	decline := path("/api/v1/meetings/%d/polls/%d/no-casting-vote", w.tiedMeeting, w.tiedPoll.ID)
	return map[string]writeCase{
		"declineCastingVote": {path: decline, body: `{"reason":"The chair has left the meeting."}`, forbidden: http.StatusForbidden,
			invalid: `{"reason":""}`,
			conflict: &request{method: "POST", path: path("/api/v1/meetings/%d/polls/%d/no-casting-vote", w.votingMeeting, w.openPoll.ID),
				body: []byte(`{"reason":"The chair has left the meeting."}`)},
			conflictProblem: "poll-open",
			missing: []string{path("/api/v1/meetings/%d/polls/999999/no-casting-vote", w.tiedMeeting),
				path("/api/v1/meetings/%d/polls/%d/no-casting-vote", w.quietMeeting, w.tiedPoll.ID)}},
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// count is the clerk's count of hands in poll p (for, against, abstain), signed with
// the clerk's key.
func (w *world) count(p voting.PollView, hands ...int) voting.SignedCount {
	w.t.Helper()
	c := voting.Count{Meeting: p.Meeting, Item: p.Item, Poll: p.ID, Recorder: w.clerkID, CountedAt: w.clock.Now(), Challenge: p.Challenge}
	rand.Read(c.Nonce[:])
	for i, o := range p.Options {
		c.Counts = append(c.Counts, voting.OptionCount{Option: o, Count: hands[i]})
	}
	sc, err := voting.SignCount(c, w.keys[w.clerkID])
	if err != nil {
		w.t.Fatal(err)
	}
	return sc
}

// countWriteCases are the refusal cases of the clerk's count of hands.
func (w *world) countWriteCases() map[string]writeCase {
	bad := w.count(w.openPoll, 1, 0, 0)
	bad.Signature = bytes.Clone(bad.Signature)
	bad.Signature[0] ^= 1
	return map[string]writeCase{
		"recordRoomCount": {path: path("/api/v1/meetings/%d/polls/%d/room-count", w.votingMeeting, w.openPoll.ID),
			body: jsonBody(w.count(w.openPoll, 1, 0, 0)), forbidden: http.StatusForbidden, clerk: true,
			invalid: jsonBody(bad), invalidProblem: "bad-signature",
			missing: []string{path("/api/v1/meetings/%d/polls/999999/room-count", w.votingMeeting)}},
	}
}

// TestRoomCountOverHTTP records a show of hands over the API beside a ballot, reads
// the refusals kept for the clerk, and checks the record.
func TestRoomCountOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		e := newEnv(t, db)
		w := newWorld(t, e)
		poll := w.openPoll
		countPath := path("/api/v1/meetings/%d/polls/%d/room-count", w.votingMeeting, poll.ID)
		w.member.do("POST", w.ballotsPath(poll), w.ballot(poll, w.memberID, "for", nil)).want(http.StatusCreated)

		// Refused: more hands than those who have not voted, by a member, in a
		// recorded vote.
		w.clerk.do("POST", countPath, w.count(poll, 2, 1, 0)).problem(http.StatusConflict, "over-count")
		w.member.do("POST", countPath, w.count(poll, 1, 0, 0)).problem(http.StatusForbidden, "forbidden")
		w.clerk.do("POST", path("/api/v1/meetings/%d/polls/%d/room-count", w.tiedMeeting, w.tiedPoll.ID), w.count(w.tiedPoll, 1, 0, 0)).
			problem(http.StatusConflict, "named-vote")

		sc := w.count(poll, 1, 1, 0)
		var r web.ReceiptResponse
		w.clerk.do("POST", countPath, sc).want(http.StatusCreated).into(&r)
		var again web.ReceiptResponse
		w.clerk.do("POST", countPath, sc).want(http.StatusOK).into(&again)
		if again.Index != r.Index || again.Checkpoint != r.Checkpoint {
			t.Errorf("the same count again: %+v, first %+v", again, r)
		}
		// Everyone is accounted for: the third member's ballot would be one too many.
		w.voter.do("POST", w.ballotsPath(poll), w.ballot(poll, w.voterID, "for", nil)).problem(http.StatusConflict, "over-count")

		var refs []map[string]any
		w.clerk.get(path("/api/v1/polls/%d/refusals", poll.ID)).want(http.StatusOK).into(&refs)
		var reasons []string
		for _, r := range refs {
			reasons = append(reasons, r["reason"].(string))
			if r["at"] == nil || r["ballot_hash"] == nil || r["submitted_by"] == nil {
				t.Errorf("refusal %v lacks who, when or what", r)
			}
		}
		if !slices.Equal(reasons, []string{"over_count", "over_count"}) {
			t.Errorf("refusals %v", reasons)
		}
		w.member.get(path("/api/v1/polls/%d/refusals", poll.ID)).problem(http.StatusForbidden, "forbidden")
		e.public().get(path("/api/v1/polls/%d/refusals", poll.ID)).problem(http.StatusUnauthorized, "unauthenticated")

		var closed voting.PollView
		w.chair.do("POST", path("/api/v1/meetings/%d/polls/%d/close", w.votingMeeting, poll.ID), nil).want(http.StatusOK).into(&closed)
		if closed.Result == nil || closed.Result.Outcome != voting.OutcomeCarried || closed.Result.VotesCast != 3 {
			t.Fatalf("closed %+v", closed.Result)
		}
		var rec voting.Record
		e.public().get(path("/api/v1/meetings/%d/record", w.votingMeeting)).want(http.StatusOK).into(&rec)
		if problems := voting.VerifyRecord(&rec); len(problems) > 0 || len(rec.Polls[0].Counts) != 1 {
			t.Errorf("record: %v, counts %+v", problems, rec.Polls[0].Counts)
		}
	})
}
