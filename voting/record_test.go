package voting

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// meeting is a small meeting logged from start to finish, for record tests.
type meeting struct {
	log     *Log
	logKey  *LogKey
	keys    []Key
	privs   map[int64]ed25519.PrivateKey
	entries int
}

const (
	testChair = 40
	testClerk = 9
)

func memberKey(user int64) ed25519.PrivateKey { return testKey(fmt.Sprintf("member-%d", user)) }

func newMeeting(t *testing.T) *meeting {
	t.Helper()
	lk, err := NewLogKey(testKey("server"))
	if err != nil {
		t.Fatal(err)
	}
	m := &meeting{log: NewLog(MeetingOrigin("chamber.example.gov.uk", 7), NewMemLogStore()), logKey: lk, privs: map[int64]ed25519.PrivateKey{}}
	for _, u := range []int64{testClerk, 40, 41, 42, 43, 44, 45} {
		priv := memberKey(u)
		k, err := NewKey(u, priv.Public().(ed25519.PublicKey), "test", t0.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		k.ApprovedAt, k.ApprovedBy = t0.Add(-time.Hour), testClerk
		m.keys = append(m.keys, k)
		m.privs[u] = priv
	}
	return m
}

func (m *meeting) append(t *testing.T, e Entry) {
	t.Helper()
	leaf, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.log.Append(context.Background(), leaf); err != nil {
		t.Fatal(err)
	}
	m.entries++
}

func (m *meeting) open(t *testing.T, op PollOpening) {
	t.Helper()
	m.append(t, Entry{Opening: &op})
}

// cast logs a ballot by voter (signed by recorder's key when recorder is not 0).
func (m *meeting) cast(t *testing.T, op PollOpening, voter, recorder int64, choice string, casting bool) Vote {
	t.Helper()
	m.entries++ // distinct nonces and times
	b := Ballot{Meeting: op.Meeting, Item: op.Item, Poll: op.ID, Voter: voter, Recorder: recorder, Casting: casting,
		CastAt: op.OpenedAt.Add(time.Duration(m.entries) * time.Second), Challenge: op.Challenge,
		Nonce: fill(fmt.Sprintf("nonce %d %d", op.ID, m.entries)), Choice: choice}
	sb, err := SignBallot(b, m.privs[b.Signer()])
	if err != nil {
		t.Fatal(err)
	}
	m.entries--
	m.append(t, Entry{Ballot: &sb})
	return VoteOf(&b)
}

func (m *meeting) close(t *testing.T, op PollOpening, present int, vs []Vote) {
	t.Helper()
	c, err := op.Close(op.OpenedAt.Add(time.Minute), testChair, present, vs)
	if err != nil {
		t.Fatal(err)
	}
	m.append(t, Entry{Closing: &c})
}

func (m *meeting) checkpoint(t *testing.T) []byte {
	t.Helper()
	head, err := m.log.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	signed, err := m.logKey.Sign(head)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func (m *meeting) record(t *testing.T, checkpoint []byte) *Record {
	t.Helper()
	vkey, err := m.logKey.VerifierKey(m.log.Origin())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := BuildRecord(context.Background(), RecordInput{
		Meeting: RecordMeeting{ID: 7, Title: "Planning Committee", Committee: "planning", StartsAt: t0.Add(-time.Hour)},
		Items:   []RecordItem{{ID: 31, Number: "5", Title: "24/01234/FUL Land at Mill Lane"}, {ID: 32, Number: "6", Title: "Tree preservation order"}},
		Members: []RecordMember{{User: 40, Name: "Cllr Ada Chair", Role: "chair"}},
		Keys:    m.keys, Log: m.log, Checkpoint: checkpoint, VerifierKey: vkey,
	})
	if err != nil {
		t.Fatalf("BuildRecord: %v", err)
	}
	return rec
}

// buildMeeting logs three polls: poll 3 on item 31, tied and decided by the chair's
// casting vote, with a changed vote and a vote recorded by the clerk; poll 4 on item
// 32, carried; poll 5 on item 32, still open. If extra is not nil it runs after poll
// 3 opens, to log something a misbehaving server might.
func buildMeeting(t *testing.T, extra func(m *meeting, op PollOpening) []Vote) (*meeting, []byte) {
	m := newMeeting(t)
	p3 := testOpening() // eligible 40–44, casting vote to 40
	m.open(t, p3)
	var vs []Vote
	vs = append(vs, m.cast(t, p3, 41, 0, "for", false))
	vs = append(vs, m.cast(t, p3, 42, 0, "against", false))
	vs = append(vs, m.cast(t, p3, 43, 0, "for", false))
	vs = append(vs, m.cast(t, p3, 41, 0, "against", false)) // changes their vote
	vs = append(vs, m.cast(t, p3, 44, 0, "abstain", false))
	vs = append(vs, m.cast(t, p3, 40, testClerk, "for", false)) // in the room, recorded by the clerk
	if extra != nil {
		vs = append(vs, extra(m, p3)...)
	}
	m.close(t, p3, 9, vs) // 2 for, 2 against: tied
	m.cast(t, p3, testChair, 0, "for", true)

	p4 := testOpening()
	p4.ID, p4.Item, p4.Motion, p4.Question, p4.Challenge, p4.OpenedAt, p4.ClosesAt = 4, 32, 0, "That the order be confirmed", fill("challenge p4"), t0.Add(10*time.Minute), time.Time{}
	p4.Overrides = nil
	m.open(t, p4)
	vs = nil
	for _, u := range []int64{40, 41, 42} {
		vs = append(vs, m.cast(t, p4, u, 0, "for", false))
	}
	vs = append(vs, m.cast(t, p4, 43, 0, "against", false))
	m.close(t, p4, 9, vs)

	p5 := p4
	p5.ID, p5.Challenge, p5.OpenedAt, p5.Named = 5, fill("challenge p5"), t0.Add(20*time.Minute), false
	m.open(t, p5)
	m.cast(t, p5, 42, 0, "against", false)
	return m, m.checkpoint(t)
}

func TestRecordGenuine(t *testing.T) {
	m, cp := buildMeeting(t, nil)
	rec := m.record(t, cp)
	if problems := VerifyRecord(rec); len(problems) != 0 {
		t.Fatalf("VerifyRecord of a genuine record: %v", problems)
	}
	if got := len(rec.Polls); got != 3 {
		t.Fatalf("polls: got %d, want 3", got)
	}
	p3 := rec.Polls[0]
	if p3.Result == nil || p3.Result.Outcome != OutcomeCarried || p3.Result.CastingVote != "for" || p3.Closing.Outcome != OutcomeTied {
		t.Errorf("poll 3: got result %+v closing %+v, want tied at the close, carried on the casting vote", p3.Result, p3.Closing)
	}
	if got := p3.Ballots[5]; got.Recorder != testClerk || got.Voter != 40 {
		t.Errorf("clerk-recorded ballot: got recorder %d voter %d", got.Recorder, got.Voter)
	}
	if rec.Polls[1].Result.Outcome != OutcomeCarried || rec.Polls[2].Result != nil {
		t.Errorf("polls 4 and 5: got %+v and %+v", rec.Polls[1].Result, rec.Polls[2].Result)
	}
	var users []int64
	for _, k := range rec.Keys {
		users = append(users, k.User)
	}
	slices.Sort(users)
	if want := []int64{testClerk, 40, 41, 42, 43, 44}; !slices.Equal(users, want) {
		t.Errorf("keys of users %v, want %v (those that signed)", users, want)
	}
	genuineKey, _ := m.logKey.VerifierKey(m.log.Origin())
	if problems := VerifyRecord(rec, genuineKey); len(problems) != 0 {
		t.Errorf("VerifyRecord with the trusted key: %v", problems)
	}
	otherKey, _ := m.logKey.VerifierKey(MeetingOrigin("chamber.example.gov.uk", 8))
	if problems := VerifyRecord(rec, otherKey); !slices.Equal(kinds(problems), []ProblemKind{ProblemCheckpoint}) {
		t.Errorf("VerifyRecord trusting another key: got %v, want a checkpoint problem", problems)
	}

	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "record.json", append(data, '\n'))
	again, err := ParseRecord(data)
	if err != nil {
		t.Fatalf("ParseRecord: %v", err)
	}
	if problems := VerifyRecord(again); len(problems) != 0 {
		t.Errorf("VerifyRecord after a JSON round trip: %v", problems)
	}
}

func TestParseRecordRefuses(t *testing.T) {
	m, cp := buildMeeting(t, nil)
	data, _ := json.Marshal(m.record(t, cp))
	tests := []struct {
		name string
		data string
	}{
		{"not JSON", "{"},
		{"unknown field", strings.Replace(string(data), `"version":1`, `"version":1,"surprise":true`, 1)},
		{"other version", strings.Replace(string(data), `"version":1`, `"version":2`, 1)},
		{"two records", string(data) + string(data)},
		{"bad challenge", strings.Replace(string(data), `"challenge":"`, `"challenge":"!`, 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseRecord([]byte(tc.data)); err == nil {
				t.Errorf("ParseRecord: got no error")
			}
		})
	}
}

// kinds returns the distinct kinds of problems.
func kinds(ps []Problem) []ProblemKind {
	var out []ProblemKind
	for _, p := range ps {
		if !slices.Contains(out, p.Kind) {
			out = append(out, p.Kind)
		}
	}
	slices.Sort(out)
	return out
}

func TestVerifyRecordRejects(t *testing.T) {
	m, cp := buildMeeting(t, nil)
	ctx := context.Background()
	otherServer, _ := NewLogKey(testKey("another server"))
	head, _ := m.log.Head(ctx)
	older, _ := m.log.TreeHead(ctx, head.Size-3)
	signedOlder, _ := m.logKey.Sign(older)
	forgedHead := head
	forgedHead.Hash[0] ^= 1
	signedForged, _ := m.logKey.Sign(forgedHead)
	signedByOther, _ := otherServer.Sign(head)
	otherServerKey, _ := otherServer.VerifierKey(head.Origin)
	otherMeetingKey, _ := m.logKey.VerifierKey(MeetingOrigin("chamber.example.gov.uk", 8))
	genuineKey, _ := m.logKey.VerifierKey(head.Origin)

	// p3 ballots: 0 41 for, 1 42 against, 2 43 for, 3 41 against, 4 44 abstain, 5 40 for (clerk), 6 casting.
	resign := func(rb *RecordBallot, edit func(*Ballot), priv ed25519.PrivateKey) {
		b, err := ParseBallot(rb.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		edit(&b)
		sb, err := SignBallot(b, priv)
		if err != nil {
			t.Fatal(err)
		}
		rb.SignedBallot = sb
		rb.Choice, rb.Voter = b.Choice, b.Voter
	}
	tests := []struct {
		name string
		edit func(r *Record)
		want []ProblemKind
	}{
		{"changed vote in the signed bytes", func(r *Record) {
			rb := &r.Polls[0].Ballots[1]
			rb.Bytes = bytes.Replace(rb.Bytes, []byte("\x07against"), []byte("\x03for"), 1)
			rb.Choice = "for"
		}, []ProblemKind{ProblemSignature, ProblemLog, ProblemCount}},
		{"changed vote, re-signed by a substituted key", func(r *Record) {
			rogue := testKey("rogue")
			resign(&r.Polls[0].Ballots[1], func(b *Ballot) { b.Choice = "for" }, rogue)
			for i := range r.Keys {
				if r.Keys[i].User == 42 {
					r.Keys[i].PublicKey = rogue.Public().(ed25519.PublicKey)
					r.Keys[i].ID = KeyIDOf(r.Keys[i].PublicKey)
				}
			}
		}, []ProblemKind{ProblemCount, ProblemLog}},
		{"changed vote in what the record says", func(r *Record) { r.Polls[0].Ballots[1].Choice = "for" },
			[]ProblemKind{ProblemBallot}},
		{"changed voter in what the record says", func(r *Record) { r.Polls[1].Ballots[0].Voter = 45 },
			[]ProblemKind{ProblemBallot}},
		{"removed ballot", func(r *Record) {
			r.Polls[0].Ballots = slices.Delete(r.Polls[0].Ballots, 2, 3)
		}, []ProblemKind{ProblemCount, ProblemLog}},
		{"removed ballot and counts adjusted", func(r *Record) {
			p := &r.Polls[1]
			p.Ballots = slices.Delete(p.Ballots, 3, 4) // the vote against
			p.Closing.Ballots, p.Closing.Counts[1].Count = 3, 0
			p.Result.Ballots, p.Result.Counts[1].Count, p.Result.VotesCast, p.Result.NotVoting = 3, 0, 3, 2
			p.Result.Votes = p.Result.Votes[:3]
		}, []ProblemKind{ProblemLog}},
		{"removed casting vote", func(r *Record) {
			r.Polls[0].Ballots = r.Polls[0].Ballots[:6]
		}, []ProblemKind{ProblemLog, ProblemResult}},
		{"forged signature", func(r *Record) { r.Polls[1].Ballots[2].Signature[5] ^= 0x20 },
			[]ProblemKind{ProblemLog, ProblemSignature}},
		{"ballot signed by another member's key", func(r *Record) {
			resign(&r.Polls[1].Ballots[2], func(*Ballot) {}, m.privs[43])
		}, []ProblemKind{ProblemKey, ProblemLog}},
		{"key listed for another user", func(r *Record) {
			for i := range r.Keys {
				if r.Keys[i].User == 43 {
					r.Keys[i].User = 41
				}
			}
		}, []ProblemKind{ProblemKey}},
		{"key id that is not the key's", func(r *Record) { r.Keys[0].ID = "00000000000000000000000000000000" },
			[]ProblemKind{ProblemKey}},
		{"wrong count in the result", func(r *Record) { r.Polls[1].Result.Counts[0].Count = 4 },
			[]ProblemKind{ProblemCount}},
		{"wrong count of votes cast", func(r *Record) { r.Polls[1].Result.VotesCast = 5 },
			[]ProblemKind{ProblemCount}},
		{"wrong count at the close", func(r *Record) { r.Polls[1].Closing.Counts[1].Count = 0 },
			[]ProblemKind{ProblemCount, ProblemLog}},
		{"wrong outcome", func(r *Record) { r.Polls[1].Result.Outcome = OutcomeLost },
			[]ProblemKind{ProblemResult}},
		{"casting vote claimed the other way", func(r *Record) { r.Polls[0].Result.Outcome = OutcomeLost },
			[]ProblemKind{ProblemResult}},
		{"result for an open poll", func(r *Record) { r.Polls[2].Result = &Result{Outcome: OutcomeCarried} },
			[]ProblemKind{ProblemResult}},
		{"result missing", func(r *Record) { r.Polls[1].Result = nil }, []ProblemKind{ProblemResult}},
		{"eligible voters changed", func(r *Record) { r.Polls[1].Opening.Eligible = []int64{40, 41, 42} },
			[]ProblemKind{ProblemCount, ProblemEligible, ProblemLog}},
		{"quorum changed", func(r *Record) { r.Polls[1].Opening.QuorumRequired = 10 },
			[]ProblemKind{ProblemLog, ProblemResult}},
		{"ballot moved to another poll", func(r *Record) {
			rb := r.Polls[1].Ballots[0]
			r.Polls[1].Ballots = r.Polls[1].Ballots[1:]
			r.Polls[2].Ballots = append(r.Polls[2].Ballots, rb)
		}, []ProblemKind{ProblemBallot, ProblemCount}},
		{"ballot given twice", func(r *Record) { r.Polls[1].Ballots = append(r.Polls[1].Ballots, r.Polls[1].Ballots[0]) },
			[]ProblemKind{ProblemLog}},
		{"checkpoint signed by another key, with its verifier key", func(r *Record) {
			r.Log.Checkpoint, r.Log.VerifierKey = string(signedByOther), otherServerKey
		}, []ProblemKind{ProblemCheckpoint}},
		{"checkpoint not signed by the record's key", func(r *Record) { r.Log.Checkpoint = string(signedByOther) },
			[]ProblemKind{ProblemCheckpoint}},
		{"checkpoint of another tree", func(r *Record) { r.Log.Checkpoint = string(signedForged) },
			[]ProblemKind{ProblemLog}},
		{"an older checkpoint", func(r *Record) { r.Log.Checkpoint = string(signedOlder) },
			[]ProblemKind{ProblemLog}},
		{"checkpoint edited", func(r *Record) {
			r.Log.Checkpoint = strings.Replace(r.Log.Checkpoint, fmt.Sprintf("\n%d\n", head.Size), fmt.Sprintf("\n%d\n", head.Size-1), 1)
		}, []ProblemKind{ProblemCheckpoint}},
		{"another meeting's verifier key", func(r *Record) { r.Log.VerifierKey = otherMeetingKey },
			[]ProblemKind{ProblemCheckpoint}},
		{"another meeting's record", func(r *Record) { r.Meeting.ID = 8 },
			[]ProblemKind{ProblemCheckpoint, ProblemRecord}},
		{"item missing", func(r *Record) { r.Items = r.Items[:1] }, []ProblemKind{ProblemRecord}},
		{"version", func(r *Record) { r.Version = 2 }, []ProblemKind{ProblemRecord}},
		{"inclusion proof cut", func(r *Record) { r.Polls[1].Ballots[0].Proof = r.Polls[1].Ballots[0].Proof[1:] },
			[]ProblemKind{ProblemLog}},
		{"index changed", func(r *Record) { r.Polls[1].Ballots[0].Index = 1000 },
			[]ProblemKind{ProblemLog}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := m.record(t, cp)
			tc.edit(rec)
			got := VerifyRecord(rec, genuineKey)
			if len(got) == 0 || !includes(kinds(got), tc.want) {
				t.Errorf("problems: got kinds %v, want at least %v:\n%s", kinds(got), tc.want, problemsText(got))
			}
		})
	}
}

// includes reports whether every kind in want is in got.
func includes(got, want []ProblemKind) bool {
	for _, k := range want {
		if !slices.Contains(got, k) {
			return false
		}
	}
	return true
}

func problemsText(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("\t" + p.String() + "\n")
	}
	return b.String()
}

// TestVerifyRecordServerMisbehaves logs, with the genuine server key, things the
// server should have refused: the record verifies as a log but not as a vote.
func TestVerifyRecordServerMisbehaves(t *testing.T) {
	tests := []struct {
		name  string
		extra func(m *meeting, op PollOpening) []Vote
		want  []ProblemKind
	}{
		{"ballot from someone not eligible", func(m *meeting, op PollOpening) []Vote {
			m.cast(t, op, 45, 0, "against", false)
			return nil // the server left it out of its count, too
		}, []ProblemKind{ProblemEligible}},
		{"ballot for another poll", func(m *meeting, op PollOpening) []Vote {
			other := op
			other.ID = 99
			m.cast(t, other, 42, 0, "for", false)
			return nil
		}, []ProblemKind{ProblemRecord}},
		{"ballot with another poll's challenge", func(m *meeting, op PollOpening) []Vote {
			other := op
			other.Challenge = fill("stale")
			m.cast(t, other, 42, 0, "for", false)
			return nil
		}, []ProblemKind{ProblemBallot}},
		{"ballot signed by an unknown key", func(m *meeting, op PollOpening) []Vote {
			m.privs[41] = testKey("unenrolled")
			return []Vote{m.cast(t, op, 41, 0, "for", false)}
		}, []ProblemKind{ProblemRecord}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, cp := buildMeeting(t, tc.extra)
			vkey, _ := m.logKey.VerifierKey(m.log.Origin())
			rec, err := BuildRecord(context.Background(), RecordInput{
				Meeting: RecordMeeting{ID: 7}, Items: []RecordItem{{ID: 31}, {ID: 32}},
				Keys: m.keys, Log: m.log, Checkpoint: cp, VerifierKey: vkey,
			})
			if err != nil {
				// BuildRecord refuses logs it cannot make a record of.
				if slices.Equal(tc.want, []ProblemKind{ProblemRecord}) {
					return
				}
				t.Fatalf("BuildRecord: %v", err)
			}
			got := VerifyRecord(rec)
			if !slices.Equal(kinds(got), tc.want) {
				t.Errorf("problems: got kinds %v, want %v:\n%s", kinds(got), tc.want, problemsText(got))
			}
		})
	}
}

// TestRecordWithhold checks that a record with a poll withheld still verifies, and
// that a withheld entry cannot be changed, moved or passed off as a disclosed poll's.
func TestRecordWithhold(t *testing.T) {
	m, cp := buildMeeting(t, nil)
	withhold := func() *Record {
		rec := m.record(t, cp)
		if err := rec.Withhold(func(rp *RecordPoll) bool { return rp.Opening.ID == 4 }); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	rec := withhold()
	if len(rec.Polls) != 2 || len(rec.Withheld) != 6 {
		t.Fatalf("withheld poll 4: %d polls left, %d entries withheld, want 2 and 6", len(rec.Polls), len(rec.Withheld))
	}
	for i, w := range rec.Withheld {
		if w.Poll != 4 || w.Item != 32 || i > 0 && rec.Withheld[i-1].Index >= w.Index {
			t.Errorf("withheld entry %d: %+v", i, w)
		}
	}
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseRecord(data)
	if err != nil {
		t.Fatal(err)
	}
	if problems := VerifyRecord(again); len(problems) != 0 {
		t.Errorf("VerifyRecord with poll 4 withheld: %v", problems)
	}
	for _, rp := range again.Polls {
		if rp.Opening.ID == 4 {
			t.Errorf("the withheld poll is in the record")
		}
	}

	tests := []struct {
		name string
		edit func(r *Record)
		want ProblemKind
	}{
		{"a withheld entry changed", func(r *Record) { r.Withheld[2].Hash[5] ^= 1 }, ProblemLog},
		{"a withheld entry removed", func(r *Record) { r.Withheld = r.Withheld[1:] }, ProblemLog},
		{"a withheld entry moved", func(r *Record) { r.Withheld[0].Index = r.Polls[0].OpeningLog.Index }, ProblemLog},
		{"a disclosed poll's entry withheld", func(r *Record) { r.Withheld[0].Poll = 3 }, ProblemRecord},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := withhold()
			tc.edit(r)
			problems := VerifyRecord(r)
			if !slices.Contains(kinds(problems), tc.want) {
				t.Errorf("got %v, want a %s problem", problems, tc.want)
			}
		})
	}
}

// declare logs that the chair, presiding, will give no casting vote in poll op, as
// the clerk records it.
func (m *meeting) declare(t *testing.T, op PollOpening) {
	t.Helper()
	d := CastingDeclined{Meeting: op.Meeting, Item: op.Item, Poll: op.ID, DeclaredAt: op.OpenedAt.Add(3 * time.Minute),
		DeclaredBy: testClerk, Presiding: op.Presiding, Reason: "The chair has left the meeting."}
	m.append(t, Entry{Declined: &d})
}

// buildDeclined logs poll 3 on item 31, closed on an equality (or, if tie is false,
// carried), then the clerk's declaration that the chair gives no casting vote, then
// whatever after logs (as a misbehaving server might), then poll 4 on item 32, carried.
func buildDeclined(t *testing.T, tie bool, after func(m *meeting, op PollOpening)) (*meeting, []byte) {
	m := newMeeting(t)
	p3 := testOpening() // eligible 40–44, casting vote to 40
	m.open(t, p3)
	var vs []Vote
	vs = append(vs, m.cast(t, p3, 41, 0, "for", false))
	vs = append(vs, m.cast(t, p3, 42, 0, "against", false))
	vs = append(vs, m.cast(t, p3, 43, 0, "abstain", false))
	if !tie {
		vs = append(vs, m.cast(t, p3, 44, 0, "for", false))
	}
	m.close(t, p3, 9, vs)
	m.declare(t, p3)
	if after != nil {
		after(m, p3)
	}
	p4 := testOpening()
	p4.ID, p4.Item, p4.Motion, p4.Challenge, p4.OpenedAt, p4.Overrides = 4, 32, 0, fill("challenge p4"), t0.Add(10*time.Minute), nil
	m.open(t, p4)
	vs = nil
	for _, u := range []int64{40, 41} {
		vs = append(vs, m.cast(t, p4, u, 0, "for", false))
	}
	m.close(t, p4, 9, vs)
	return m, m.checkpoint(t)
}

// TestRecordCastingDeclined checks the record of a poll whose equality stood because
// the member presiding gave no casting vote: it verifies whole, withheld or not, and
// every way of passing it off as something else is found.
func TestRecordCastingDeclined(t *testing.T) {
	m, cp := buildDeclined(t, true, nil)
	rec := m.record(t, cp)
	if problems := VerifyRecord(rec); len(problems) != 0 {
		t.Fatalf("VerifyRecord of a genuine record: %v", problems)
	}
	p3 := rec.Polls[0]
	if p3.Declined == nil || p3.DeclinedLog == nil || p3.DeclinedLog.Index != p3.ClosingLog.Index+1 || p3.Declined.DeclaredBy != testClerk {
		t.Fatalf("poll 3: declaration %+v at %+v, want the clerk's after the closing at %d", p3.Declined, p3.DeclinedLog, p3.ClosingLog.Index)
	}
	want := Equality{Options: []string{OptionFor, OptionAgainst}, Resolution: CastingVoteNotGiven}
	if r := p3.Result; r == nil || r.Outcome != OutcomeLost || r.Equality == nil || !reflect.DeepEqual(*r.Equality, want) || p3.Closing.Outcome != OutcomeTied {
		t.Fatalf("poll 3: result %+v, closing %+v, want tied at the close and lost, the equality standing", r, p3.Closing)
	}
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseRecord(data)
	if err != nil {
		t.Fatalf("ParseRecord: %v", err)
	}
	if problems := VerifyRecord(again); len(problems) != 0 {
		t.Errorf("VerifyRecord after a JSON round trip: %v", problems)
	}
	withheld := m.record(t, cp)
	if err := withheld.Withhold(func(rp *RecordPoll) bool { return rp.Opening.ID == 3 }); err != nil {
		t.Fatal(err)
	}
	if problems := VerifyRecord(withheld); len(problems) != 0 || len(withheld.Withheld) != 6 {
		t.Errorf("poll 3 withheld: %d entries withheld, problems %v; want its 6 entries withheld and none", len(withheld.Withheld), problems)
	}

	tests := []struct {
		name string
		edit func(r *Record)
		want []ProblemKind
	}{
		{"resolution changed to the casting vote", func(r *Record) { r.Polls[0].Result.Equality.Resolution = ResolvedByCastingVote },
			[]ProblemKind{ProblemResult}},
		{"outcome changed to carried", func(r *Record) { r.Polls[0].Result.Outcome = OutcomeCarried },
			[]ProblemKind{ProblemResult}},
		{"outcome and resolution changed as a casting vote would have them", func(r *Record) {
			r.Polls[0].Result.Outcome, r.Polls[0].Result.CastingVote = OutcomeCarried, OptionFor
			r.Polls[0].Result.Equality.Resolution = ResolvedByCastingVote
		}, []ProblemKind{ProblemResult}},
		{"declaration removed", func(r *Record) { r.Polls[0].Declined, r.Polls[0].DeclinedLog = nil, nil },
			[]ProblemKind{ProblemLog, ProblemResult}},
		{"declaration without its log entry", func(r *Record) { r.Polls[0].DeclinedLog = nil },
			[]ProblemKind{ProblemLog, ProblemRecord}},
		{"reason changed", func(r *Record) { r.Polls[0].Declined.Reason = "The chair declined." },
			[]ProblemKind{ProblemLog}},
		{"presiding member changed", func(r *Record) { r.Polls[0].Declined.Presiding = 41 },
			[]ProblemKind{ProblemLog, ProblemResult}},
		{"declaration moved to another poll", func(r *Record) {
			r.Polls[1].Declined, r.Polls[1].DeclinedLog = r.Polls[0].Declined, r.Polls[0].DeclinedLog
			r.Polls[0].Declined, r.Polls[0].DeclinedLog = nil, nil
		}, []ProblemKind{ProblemRecord, ProblemResult}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := m.record(t, cp)
			tc.edit(rec)
			got := VerifyRecord(rec)
			if len(got) == 0 || !includes(kinds(got), tc.want) {
				t.Errorf("problems: got kinds %v, want at least %v:\n%s", kinds(got), tc.want, problemsText(got))
			}
		})
	}

	// Logs a misbehaving server might keep, signed with the genuine key: they hold as
	// logs, not as votes.
	for _, tc := range []struct {
		name  string
		tie   bool
		after func(m *meeting, op PollOpening)
		want  []ProblemKind
	}{
		{"a casting vote after the declaration", true, func(m *meeting, op PollOpening) { m.cast(t, op, testChair, 0, OptionFor, true) },
			[]ProblemKind{ProblemLog, ProblemResult}},
		{"a declaration on a poll that did not tie", false, nil, []ProblemKind{ProblemResult}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, cp := buildDeclined(t, tc.tie, tc.after)
			got := VerifyRecord(m.record(t, cp))
			if !slices.Equal(kinds(got), tc.want) {
				t.Errorf("problems: got kinds %v, want %v:\n%s", kinds(got), tc.want, problemsText(got))
			}
		})
	}
}
