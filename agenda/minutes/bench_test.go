package minutes_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/minutes"
	"github.com/chamber/chamber/voting"
)

// Size of the benchmark's meeting.
const (
	benchMembers = 150
	benchItems   = 30 // each with a motion and an amendment, each voted on: 60 votes
)

// bigMeeting makes, in memory, the minutes of a meeting of benchMembers members with
// benchItems items and two votes on each, every member present and voting on every
// vote with a signed ballot in a real Merkle log, and its vote record.
func bigMeeting(tb testing.TB) *minutes.Minutes {
	tb.Helper()
	ctx := context.Background()
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	t0 := time.Date(2026, 3, 4, 18, 0, 0, 0, time.UTC)
	const meetingID = 42
	closed := t0.Add(6 * time.Hour)
	profile, _ := agenda.Preset("wales")
	r := agenda.MeetingRecords{
		Meeting: agenda.Meeting{ID: meetingID, CommitteeID: 3, CouncilID: 1, Title: "Full Council", StartsAt: t0,
			Location: "Council Chamber", Published: true, Status: agenda.Closed, StartedAt: &t0, ClosedAt: &closed},
		Council:   agenda.Council{ID: 1, Slug: "northshire", Name: "Northshire County Council"},
		Committee: agenda.Committee{ID: 3, CouncilID: 1, Slug: "full-council", Name: "Full Council", ProfileName: "wales", Profile: profile},
	}
	parties := []string{"Labour", "Conservative", "Liberal Democrat", "Green", "Independent", "Plaid Cymru"}
	var keys []voting.Key
	privs := map[int64]ed25519.PrivateKey{}
	seq := int64(0)
	event := func(at time.Time, typ string, data string) {
		seq++
		r.Events = append(r.Events, agenda.Event{MeetingID: meetingID, Seq: seq, Type: typ, At: at, Data: []byte(data)})
	}
	event(t0, agenda.EvMeetingStarted, "{}")
	for i := 1; i <= benchMembers; i++ {
		id := int64(100 + i)
		role := agenda.Member
		switch i {
		case 1:
			role = agenda.Chair
		case 2:
			role = agenda.ViceChair
		}
		name := fmt.Sprintf("Member %03d", i)
		r.People = append(r.People, agenda.Person{UserID: id, CouncilID: 1, Name: name, Role: agenda.RoleCouncillor, Title: "Cllr", Party: parties[i%len(parties)]})
		r.Members = append(r.Members, agenda.Membership{CommitteeID: 3, UserID: id, Name: name, Role: role})
		r.Attendance = append(r.Attendance, agenda.Attendance{ID: int64(i), MeetingID: meetingID, UserID: id, Mode: agenda.InRoom,
			Source: agenda.ByClerk, ArrivedAt: t0, LeftAt: &closed})
		seed := sha256.Sum256([]byte(fmt.Sprint("bench key ", id)))
		priv := ed25519.NewKeyFromSeed(seed[:])
		privs[id] = priv
		pub := priv.Public().(ed25519.PublicKey)
		keys = append(keys, voting.Key{ID: voting.KeyIDOf(pub), User: id, PublicKey: pub})
	}
	r.People = append(r.People, agenda.Person{UserID: 2, CouncilID: 1, Name: "Clara Clerk", Role: agenda.RoleClerk, Title: "Democratic Services Officer"})
	r.Attendance = append(r.Attendance, agenda.Attendance{ID: 999, MeetingID: meetingID, UserID: 2, Mode: agenda.InRoom, Source: agenda.ByClerk, ArrivedAt: t0, LeftAt: &closed})

	lk, err := voting.NewLogKey(key("bench server"))
	must(err)
	log := voting.NewLog(voting.MeetingOrigin("chamber.example.gov.uk", meetingID), voting.NewMemLogStore())
	notes := strings.Repeat("The Director presented the report and answered members' questions on the budget, the consultation and the risks. ", 8)
	pollID := int64(0)
	at := t0
	for n := 1; n <= benchItems; n++ {
		itemID := int64(1000 + n)
		kind, para := agenda.Standard, 0
		if n == benchItems {
			kind, para = agenda.Exempt, 3
		}
		start := at
		it := agenda.Item{ID: itemID, MeetingID: meetingID, Position: n, Number: fmt.Sprint(n), Title: fmt.Sprintf("Report %d: the council's plans", n),
			Description: "A report of the Director.", Kind: kind, ExemptParagraph: para, Status: agenda.Done, StartedAt: &start,
			Notes: notes + "\n\n" + notes, Decision: fmt.Sprintf("RESOLVED that the recommendations of report %d be approved.", n)}
		event(at, agenda.EvItemCurrent, fmt.Sprintf(`{"id":%d,"number":"%d","title":"x","kind":"%s"}`, itemID, n, kind))
		if kind == agenda.Exempt {
			event(at, agenda.EvSessionPrivate, fmt.Sprintf(`{"session":"private","paragraph":%d,"item_id":%d}`, para, itemID))
		}
		r.Speakers = append(r.Speakers, agenda.Speaker{ID: itemID, MeetingID: meetingID, ItemID: itemID, Name: "A Resident", Capacity: agenda.OtherSpeaker, Position: 1})
		motion := agenda.Motion{ID: itemID * 10, MeetingID: meetingID, ItemID: itemID, Text: fmt.Sprintf("That the recommendations of report %d be approved.", n),
			ProposerID: 101, SeconderID: 102, Status: agenda.Carried, CreatedAt: at}
		amendment := agenda.Motion{ID: itemID*10 + 1, MeetingID: meetingID, ItemID: itemID, AmendsID: motion.ID, Text: "That the report be noted only.",
			ProposerID: 103, SeconderID: 104, Status: agenda.Lost, CreatedAt: at}
		r.Motions = append(r.Motions, motion, amendment)
		for _, mo := range []agenda.Motion{amendment, motion} {
			pollID++
			at = at.Add(5 * time.Minute)
			op := voting.PollOpening{ID: pollID, Meeting: meetingID, Item: itemID, Motion: mo.ID, Question: mo.Text, Options: voting.DefaultOptions(),
				Method: voting.Majority, Named: true, OpenedAt: at, OpenedBy: 2, Membership: benchMembers, QuorumRequired: 38,
				PresentAtOpen: benchMembers, CastingVote: true, Presiding: 101}
			copy(op.Challenge[:], fmt.Sprint("challenge ", pollID))
			for _, k := range keys {
				op.Eligible = append(op.Eligible, k.User)
			}
			leaf, err := voting.EncodeOpening(&op)
			must(err)
			_, err = log.Append(ctx, leaf)
			must(err)
			var votes []voting.Vote
			for i, k := range keys {
				choice := voting.OptionFor
				switch {
				case mo.AmendsID != 0 && i%2 == 0, i%7 == 0:
					choice = voting.OptionAgainst
				case i%11 == 0:
					choice = voting.OptionAbstain
				}
				b := voting.Ballot{Meeting: meetingID, Item: itemID, Poll: pollID, Voter: k.User, CastAt: at.Add(time.Duration(i) * time.Millisecond),
					Challenge: op.Challenge, Nonce: sha256.Sum256([]byte(fmt.Sprint(pollID, k.User))), Choice: choice}
				sb, err := voting.SignBallot(b, privs[k.User])
				must(err)
				leaf, err := voting.EncodeBallotEntry(sb)
				must(err)
				_, err = log.Append(ctx, leaf)
				must(err)
				votes = append(votes, voting.VoteOf(&b))
			}
			closing, err := op.Close(at.Add(2*time.Minute), 2, benchMembers, votes)
			must(err)
			leaf, err = voting.EncodeClosing(&closing)
			must(err)
			_, err = log.Append(ctx, leaf)
			must(err)
		}
		end := at.Add(5 * time.Minute)
		r.Items = append(r.Items, it)
		r.Items[len(r.Items)-1].EndedAt = &end
		if kind == agenda.Exempt {
			event(end, agenda.EvSessionPublic, `{"session":"public"}`)
		}
		at = end
	}
	head, err := log.Head(ctx)
	must(err)
	signed, err := lk.Sign(head)
	must(err)
	vkey, err := lk.VerifierKey(log.Origin())
	must(err)
	rec, err := voting.BuildRecord(ctx, voting.RecordInput{Meeting: voting.RecordMeeting{ID: meetingID, Title: "Full Council"},
		Keys: keys, Log: log, Checkpoint: signed, VerifierKey: vkey})
	must(err)
	for _, it := range r.Items {
		rec.Items = append(rec.Items, voting.RecordItem{ID: it.ID, Number: it.Number, Title: it.Title})
	}
	doc, err := minutes.Build(minutes.Source{Records: r, Record: rec, Zone: "Europe/London"})
	must(err)
	clerk := minutes.Person{ID: 2, Name: "Clara Clerk"}
	m := &minutes.Minutes{
		Header: minutes.Header{MeetingID: meetingID, Version: 1, Status: minutes.Published,
			Drafted:   minutes.Stamp{By: clerk, At: closed.Add(24 * time.Hour)},
			Approval:  &minutes.Approval{Stamp: minutes.Stamp{By: minutes.Person{ID: 101, Name: "Member 001", Title: "Cllr"}, At: closed.Add(30 * 24 * time.Hour)}, Meeting: minutes.MeetingRef{ID: 43, Title: "Full Council", StartsAt: closed.Add(30 * 24 * time.Hour)}},
			Published: &minutes.Stamp{By: clerk, At: closed.Add(31 * 24 * time.Hour)}},
		View: minutes.FullView, Document: doc, Record: rec,
	}
	if got := len(m.Votes()); got != 2*benchItems {
		tb.Fatalf("%d votes, want %d", got, 2*benchItems)
	}
	return m
}

// TestBigMeeting checks that the benchmark's meeting is what it says, and that its
// record verifies.
func TestBigMeeting(t *testing.T) {
	if testing.Short() {
		t.Skip("signs 9,000 ballots")
	}
	m := bigMeeting(t)
	for _, ref := range m.Votes() {
		if n := len(ref.Vote.Members); n != benchMembers {
			t.Fatalf("vote %d names %d members, want %d", ref.Vote.PollID, n, benchMembers)
		}
	}
	if problems := voting.VerifyRecord(m.Record); len(problems) > 0 {
		t.Fatalf("the record does not verify: %v", problems[:min(3, len(problems))])
	}
}

// BenchmarkExport writes a 150-member, 30-item, 60-vote meeting's minutes in every
// format (All), and in each format alone.
func BenchmarkExport(b *testing.B) {
	m := bigMeeting(b)
	meetings := make([]agenda.Meeting, 100)
	for i := range meetings {
		meetings[i] = agenda.Meeting{ID: int64(i + 1), CommitteeID: 3, Title: "Full Council", Location: "Council Chamber",
			StartsAt: time.Date(2026, 1, 1, 18, 0, 0, 0, time.UTC).AddDate(0, 0, 7*i)}
	}
	council := agenda.Council{ID: 1, Name: "Northshire County Council"}
	committees := []agenda.Committee{{ID: 3, Name: "Full Council"}}
	formats := map[string]func(io.Writer) error{
		"html":     func(w io.Writer) error { return minutes.WriteHTML(w, m) },
		"markdown": func(w io.Writer) error { return minutes.WriteMarkdown(w, m) },
		"pdf":      func(w io.Writer) error { return minutes.WritePDF(w, m) },
		"csv":      func(w io.Writer) error { return minutes.WriteCSV(w, m) },
		"popolo":   func(w io.Writer) error { return minutes.WritePopolo(w, m) },
		"record":   func(w io.Writer) error { return minutes.WriteRecord(w, m) },
		"ical": func(w io.Writer) error {
			return minutes.WriteICal(w, minutes.CalendarOf(council, committees, meetings, minutes.CalendarOptions{BaseURL: "https://example.gov.uk"}))
		},
	}
	names := []string{"html", "markdown", "pdf", "csv", "popolo", "record", "ical"}
	b.Run("All", func(b *testing.B) {
		for b.Loop() {
			for _, name := range names {
				if err := formats[name](io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("Public", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.Public(); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, name := range names {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if err := formats[name](io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
