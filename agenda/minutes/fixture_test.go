package minutes_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/minutes"
	minutessql "github.com/chamber/chamber/agenda/minutes/sqlstore"
	agendasql "github.com/chamber/chamber/agenda/sqlstore"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/voting"
	votingsql "github.com/chamber/chamber/voting/sqlstore"
)

// secret is planted in every part of the exempt item: it must never reach the public.
const secret = "Operation Blue Heron"

// zone is the time zone the minutes are shown in.
const zone = "Europe/London"

// world is the minutes Service over the real agenda and voting services on one
// database: a Welsh council with its clerk and Head of Planning, and its Planning
// Committee (Welsh rules: remote members count and vote) of a chair, a vice-chair,
// five members and a substitute, every one of them with an approved voting key.
type world struct {
	t      *testing.T
	ctx    context.Context
	db     *migrations.DB
	clock  *fakeClock
	agenda *agenda.Service
	votes  *voting.Service
	svc    *minutes.Service
	pub    *recorder

	council   agenda.Council
	committee agenda.Committee

	admin, clerk, officer                                agenda.Actor
	chair, vice, dafydd, anwen, huw, mair, owain, bethan agenda.Actor

	privs  map[int64]ed25519.PrivateKey
	nonces int
}

func (w *world) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) actor(id int64) agenda.Actor {
	w.t.Helper()
	a, err := w.agenda.Actor(w.ctx, id)
	w.must(err)
	return a
}

func newWorld(t *testing.T, db *migrations.DB) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, ctx: ctx, db: db, clock: &fakeClock{now: time.Date(2026, 4, 20, 9, 0, 0, 0, time.UTC)},
		privs: map[int64]ed25519.PrivateKey{}}
	vstore := votingsql.New(db)
	w.agenda = agenda.NewService(agendasql.New(db), agenda.Options{Now: w.clock.Now, Polls: vstore,
		Password: agenda.PasswordParams{Memory: 64, Time: 1, Threads: 1}})
	lk, err := voting.NewLogKey(key("server"))
	w.must(err)
	w.votes = voting.NewService(vstore, w.agenda, voting.Options{Now: w.clock.Now, LogKey: lk,
		Origin: "https://meetings.cwmderwen.example/", ProgressEvery: -1, Random: &counterReader{}, MotionDecider: w.agenda})
	w.pub = &recorder{agenda: w.agenda}
	w.svc = minutes.NewService(minutessql.New(db), w.agenda, w.votes, minutes.Options{Publisher: w.pub, Now: w.clock.Now, Zone: zone})
	t.Cleanup(func() {
		w.pub.mu.Lock()
		defer w.pub.mu.Unlock()
		if len(w.pub.uncommitted) > 0 {
			t.Errorf("published before it committed: %v", w.pub.uncommitted)
		}
	})

	u, err := w.agenda.CreateAdmin(ctx, "admin@cwmderwen.example", "Ada Admin", "correct horse battery")
	w.must(err)
	w.admin = w.actor(u.ID)
	w.council, err = w.agenda.CreateCouncil(ctx, w.admin, agenda.CouncilInput{Name: "Cwm Derwen County Borough Council"})
	w.must(err)
	add := func(name string, role agenda.CouncilRole, title, party string) int64 {
		p, err := w.agenda.AddPerson(ctx, w.admin, w.council.ID, agenda.PersonInput{Name: name, Role: role, Title: title, Party: party,
			Email: strings.ToLower(strings.NewReplacer(" ", ".", "ŷ", "y").Replace(name)) + "@cwmderwen.example"})
		w.must(err)
		return p.UserID
	}
	w.clerk = w.actor(add("Rhian Pritchard", agenda.RoleClerk, "Democratic Services Officer", ""))
	w.officer = w.actor(add("Gareth Hughes", agenda.RoleOfficer, "Head of Planning", ""))
	ids := map[string]int64{}
	for _, c := range []struct{ name, party string }{
		{"Eleri Morgan", "Plaid Cymru"}, {"Tom Bevan", "Labour"}, {"Dafydd ap Gwŷn", "Plaid Cymru"},
		{"Anwen Davies", "Independent"}, {"Huw Roberts", "Welsh Conservatives"}, {"Mair Lewis", "Labour"},
		{"Owain Price", "Welsh Liberal Democrats"}, {"Bethan Rees", "Labour"},
	} {
		ids[c.name] = add(c.name, agenda.RoleCouncillor, "Cllr", c.party)
	}
	w.committee, err = w.agenda.CreateCommittee(ctx, w.clerk, w.council.ID, agenda.CommitteeInput{Name: "Planning Committee", Profile: "wales"})
	w.must(err)
	for name, role := range map[string]agenda.CommitteeRole{
		"Eleri Morgan": agenda.Chair, "Tom Bevan": agenda.ViceChair, "Dafydd ap Gwŷn": agenda.Member, "Anwen Davies": agenda.Member,
		"Huw Roberts": agenda.Member, "Mair Lewis": agenda.Member, "Owain Price": agenda.Member, "Bethan Rees": agenda.Substitute,
	} {
		_, err := w.agenda.SetMember(ctx, w.clerk, w.committee.ID, ids[name], role)
		w.must(err)
	}
	w.clerk = w.actor(w.clerk.UserID)
	w.chair, w.vice, w.dafydd = w.actor(ids["Eleri Morgan"]), w.actor(ids["Tom Bevan"]), w.actor(ids["Dafydd ap Gwŷn"])
	w.anwen, w.huw, w.mair = w.actor(ids["Anwen Davies"]), w.actor(ids["Huw Roberts"]), w.actor(ids["Mair Lewis"])
	w.owain, w.bethan = w.actor(ids["Owain Price"]), w.actor(ids["Bethan Rees"])

	for _, a := range []agenda.Actor{w.clerk, w.chair, w.vice, w.dafydd, w.anwen, w.huw, w.mair, w.owain, w.bethan} {
		priv := key(fmt.Sprint("user ", a.UserID))
		w.privs[a.UserID] = priv
		k, err := w.votes.EnrolKey(ctx, a, priv.Public().(ed25519.PublicKey), "laptop")
		w.must(err)
		approver := w.clerk
		if a.UserID == w.clerk.UserID {
			approver = w.admin
		}
		_, err = w.votes.ApproveKey(ctx, approver, k.ID)
		w.must(err)
	}
	return w
}

// meeting is the fixture's meeting and its agenda.
type meeting struct {
	agenda.Meeting
	items []agenda.Item // by agenda position: [0] is item 1
}

// at sets the clock to a time of the meeting's day, given as UK local time (BST).
func (w *world) at(hhmm string) {
	w.t.Helper()
	t, err := time.Parse("2006-01-02 15:04 -0700", "2026-05-06 "+hhmm+" +0100")
	w.must(err)
	w.clock.Set(t.UTC())
}

// ballot signs a ballot of voter in poll p for choice; recorder, if not zero, is the
// clerk who records it and signs it.
func (w *world) ballot(p voting.PollView, voter, recorder agenda.Actor, choice string, casting bool) voting.SignedBallot {
	w.t.Helper()
	w.nonces++
	b := voting.Ballot{Meeting: p.Meeting, Item: p.Item, Poll: p.ID, Voter: voter.UserID, Recorder: recorder.UserID,
		Casting: casting, CastAt: w.clock.Now(), Challenge: p.Challenge,
		Nonce: sha256.Sum256([]byte(fmt.Sprint("nonce ", w.nonces))), Choice: choice}
	sb, err := voting.SignBallot(b, w.privs[b.Signer()])
	w.must(err)
	return sb
}

// vote casts ballots on members' own devices, a few seconds apart.
func (w *world) vote(p voting.PollView, choices map[*agenda.Actor]string, order ...*agenda.Actor) {
	w.t.Helper()
	for _, a := range order {
		w.clock.Advance(3 * time.Second)
		if _, err := w.votes.Cast(w.ctx, *a, w.ballot(p, *a, agenda.Actor{}, choices[a], false)); err != nil {
			w.t.Fatalf("vote of %s: %v", a.Name, err)
		}
	}
}

// inRoom has the clerk record votes given in the room.
func (w *world) inRoom(p voting.PollView, choices map[*agenda.Actor]string, order ...*agenda.Actor) {
	w.t.Helper()
	var ballots []voting.SignedBallot
	w.clock.Advance(5 * time.Second)
	for _, a := range order {
		ballots = append(ballots, w.ballot(p, *a, w.clerk, choices[a], false))
	}
	if _, err := w.votes.RecordInRoom(w.ctx, w.clerk, ballots); err != nil {
		w.t.Fatalf("votes recorded in the room: %v", err)
	}
}

// holdMeeting schedules and holds the fixture's meeting, from the roll call to the
// close: apologies and a substitute; members in the room, remote with a vote and
// remote without one; declarations, one with a withdrawal; a planning application
// with public speakers, an amendment and a recorded vote; a policy carried on the
// chair's casting vote with the votes in the room recorded by the clerk; and exempt
// business in private session.
func (w *world) holdMeeting() meeting {
	w.t.Helper()
	ctx, clerk := w.ctx, w.clerk
	w.clock.Set(time.Date(2026, 4, 22, 10, 0, 0, 0, time.UTC))
	m, err := w.agenda.CreateMeeting(ctx, clerk, agenda.MeetingInput{CommitteeID: w.committee.ID, Title: "Planning Committee",
		StartsAt: time.Date(2026, 5, 6, 17, 30, 0, 0, time.UTC), Location: "Council Chamber, Civic Centre, Cwm Derwen", Published: true})
	w.must(err)
	res, err := w.agenda.ImportAgenda(ctx, clerk, m.ID, agenda.AgendaFile{Items: []agenda.ItemInput{
		{Title: "Apologies for absence"},
		{Title: "Declarations of interest"},
		{Title: "Minutes of the meeting held on 1 April 2026"},
		{Number: "4", Title: "25/0412/FUL — Land at Heol y Felin", Kind: agenda.Planning,
			Description: "Erection of 14 dwellings with access, parking and landscaping.\nRecommendation: grant, subject to conditions.",
			Papers:      []agenda.Paper{{Title: "Officer report", URL: "https://cwmderwen.example/papers/25-0412-report.pdf"}}},
		{Title: "Planning Enforcement Policy review", Description: "Report of the Head of Planning on the revised policy."},
		{Title: "Enforcement: Pen-y-bryn Farm", Kind: agenda.Exempt, ExemptParagraph: 16,
			Description: "Legal advice on enforcement under " + secret + "."},
	}}, false)
	w.must(err)
	mt := meeting{Meeting: m, items: res.Items}
	item := func(n int) agenda.Item { return mt.items[n-1] }

	w.clock.Set(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	_, err = w.agenda.RecordApology(ctx, clerk, m.ID, w.mair.UserID, "Family commitment")
	w.must(err)
	_, err = w.agenda.RecordSubstitution(ctx, clerk, m.ID, w.bethan.UserID, w.mair.UserID)
	w.must(err)
	for _, sp := range []agenda.SpeakerInput{
		{ItemID: item(4).ID, Name: "Mrs Glenys Parry", Capacity: agenda.Objector, Organisation: "Heol y Felin Residents' Association", Email: "glenys@example.org"},
		{ItemID: item(4).ID, Name: "Mr Rhodri Evans", Capacity: agenda.Agent, Organisation: "Evans Planning Ltd"},
	} {
		_, err := w.agenda.RegisterSpeaker(ctx, clerk, m.ID, sp)
		w.must(err)
	}

	// The roll call.
	w.at("18:31")
	_, err = w.agenda.StartMeeting(ctx, clerk, m.ID)
	w.must(err)
	for _, a := range []struct {
		who  agenda.Actor
		mode agenda.AttendanceMode
	}{
		{w.chair, agenda.InRoom}, {w.vice, agenda.InRoom}, {w.dafydd, agenda.RemoteVoting}, {w.anwen, agenda.InRoom},
		{w.huw, agenda.RemoteVoting}, {w.bethan, agenda.InRoom}, {w.owain, agenda.RemoteNonVoting},
		{w.clerk, agenda.InRoom}, {w.officer, agenda.InRoom},
	} {
		_, err := w.agenda.RecordArrival(ctx, clerk, m.ID, agenda.AttendanceInput{UserID: a.who.UserID, Mode: a.mode})
		w.must(err)
	}
	next := func(hhmm string) {
		w.t.Helper()
		w.at(hhmm)
		_, err := w.agenda.NextItem(ctx, clerk, m.ID)
		w.must(err)
	}
	text := func(it agenda.Item, notes, decision string) {
		w.t.Helper()
		_, err := w.agenda.UpdateItem(ctx, clerk, m.ID, it.ID, agenda.ItemPatch{Notes: &notes, Decision: &decision})
		w.must(err)
	}
	declare := func(who agenda.Actor, itemID int64, kind agenda.DeclarationKind, what string, withdraws bool) {
		w.t.Helper()
		_, err := w.agenda.Declare(ctx, clerk, m.ID, agenda.DeclarationInput{UserID: who.UserID, ItemID: itemID, Kind: kind,
			Description: what, Withdraws: withdraws})
		w.must(err)
	}
	motion := func(it agenda.Item, amends int64, text string, proposer, seconder agenda.Actor) agenda.Motion {
		w.t.Helper()
		mo, err := w.agenda.ProposeMotion(ctx, clerk, m.ID, agenda.MotionInput{ItemID: it.ID, AmendsID: amends, Text: text,
			ProposerID: proposer.UserID, SeconderID: seconder.UserID})
		w.must(err)
		return mo
	}
	open := func(in voting.PollInput) voting.PollView {
		w.t.Helper()
		in.MeetingID = m.ID
		p, err := w.votes.OpenPoll(ctx, clerk, in)
		w.must(err)
		return p
	}
	closePoll := func(p voting.PollView) voting.PollView {
		w.t.Helper()
		w.clock.Advance(30 * time.Second)
		v, err := w.votes.Close(ctx, clerk, p.ID)
		w.must(err)
		return v
	}

	next("18:33") // 1. Apologies
	text(item(1), "", "Apologies for absence were received from Cllr Mair Lewis. Cllr Bethan Rees attended as her substitute.")
	next("18:35") // 2. Declarations
	w.at("18:36")
	declare(w.vice, 0, agenda.Personal, "Member of the board of Cwm Derwen Housing Association.", false)
	declare(w.anwen, item(4).ID, agenda.Prejudicial, "Owns land adjoining the application site.", true)
	declare(w.huw, item(4).ID, agenda.Personal, "Member of Llanfair Community Council, which commented on the application; has not expressed a view.", false)
	declare(w.dafydd, item(6).ID, agenda.Personal, "Knows the owners of Pen-y-bryn Farm named in "+secret+".", false)
	next("18:40") // 3. Minutes of the last meeting
	text(item(3), "", "RESOLVED that the minutes of the meeting held on 1 April 2026 be approved as a correct record and signed by the Chair.")

	// 4. The planning application. Cllr Price comes into the chamber first, and Cllr
	// Davies leaves for the item, having declared a prejudicial interest.
	w.at("18:42")
	_, err = w.agenda.RecordArrival(ctx, clerk, m.ID, agenda.AttendanceInput{UserID: w.owain.UserID, Mode: agenda.InRoom})
	w.must(err)
	_, err = w.agenda.RecordDeparture(ctx, clerk, m.ID, w.anwen.UserID)
	w.must(err)
	next("18:43")
	w.at("19:05")
	m1 := motion(item(4), 0, "That planning permission be granted subject to the conditions in the officer's report.", w.vice, w.owain)
	w.at("19:10")
	a1 := motion(item(4), m1.ID, "That an additional condition limit construction working hours to 08:00–18:00 on weekdays and 08:00–13:00 on Saturdays.", w.dafydd, w.huw)
	w.at("19:15")
	p := open(voting.PollInput{ItemID: item(4).ID, MotionID: a1.ID, Question: "Amendment: limit construction working hours"})
	w.vote(p, map[*agenda.Actor]string{&w.chair: "for", &w.vice: "for", &w.dafydd: "for", &w.huw: "for", &w.owain: "against", &w.bethan: "abstain"},
		&w.chair, &w.vice, &w.dafydd, &w.huw, &w.owain, &w.bethan)
	closePoll(p)
	w.at("19:20")
	p = open(voting.PollInput{ItemID: item(4).ID, MotionID: m1.ID, Recorded: true,
		Question: "That planning permission be granted subject to the conditions in the officer's report, as amended."})
	w.vote(p, map[*agenda.Actor]string{&w.chair: "for", &w.vice: "for", &w.dafydd: "for", &w.huw: "against", &w.owain: "for"},
		&w.chair, &w.vice, &w.dafydd, &w.huw, &w.owain)
	w.inRoom(p, map[*agenda.Actor]string{&w.bethan: "for"}, &w.bethan) // her tablet would not connect
	closePoll(p)
	text(item(4), "The Head of Planning presented the report and recommended approval subject to conditions.\n\n"+
		"Mrs Parry spoke in objection, raising traffic on Heol y Felin and flooding downstream. Mr Evans spoke for the applicant.\n\n"+
		"Members debated the access arrangements and construction traffic.",
		"RESOLVED that planning permission be granted subject to the conditions in the officer's report and an additional condition limiting construction working hours.")

	// 5. The enforcement policy: an equality of votes, decided by the chair's casting
	// vote; the clerk records the votes given in the room.
	next("19:30")
	w.at("19:31")
	_, err = w.agenda.RecordArrival(ctx, clerk, m.ID, agenda.AttendanceInput{UserID: w.anwen.UserID, Mode: agenda.InRoom})
	w.must(err)
	w.at("19:40")
	m2 := motion(item(5), 0, "That the revised Planning Enforcement Policy be adopted.", w.huw, w.anwen)
	w.at("19:45")
	p = open(voting.PollInput{ItemID: item(5).ID, MotionID: m2.ID})
	w.inRoom(p, map[*agenda.Actor]string{&w.chair: "for", &w.anwen: "for", &w.vice: "against", &w.owain: "against", &w.bethan: "abstain"},
		&w.chair, &w.anwen, &w.vice, &w.owain, &w.bethan)
	w.vote(p, map[*agenda.Actor]string{&w.huw: "for", &w.dafydd: "against"}, &w.huw, &w.dafydd)
	if v := closePoll(p); v.Status != voting.PollAwaitingCastingVote {
		w.t.Fatalf("the policy vote is %s, want an equality awaiting the casting vote", v.Status)
	}
	w.clock.Advance(20 * time.Second)
	_, err = w.votes.CastCasting(ctx, w.chair, w.ballot(p, w.chair, agenda.Actor{}, "for", true))
	w.must(err)
	text(item(5), "The Head of Planning presented the revised policy.",
		"RESOLVED that the revised Planning Enforcement Policy be adopted.")

	// 6. Exempt business, in private session.
	next("19:55")
	w.at("20:05")
	m3 := motion(item(6), 0, "That the Head of Legal Services be authorised to serve an enforcement notice arising from "+secret+".", w.chair, w.vice)
	w.at("20:10")
	p = open(voting.PollInput{ItemID: item(6).ID, MotionID: m3.ID, Question: m3.Text})
	w.vote(p, map[*agenda.Actor]string{&w.chair: "for", &w.vice: "for", &w.dafydd: "for", &w.anwen: "for", &w.huw: "for", &w.owain: "for", &w.bethan: "abstain"},
		&w.chair, &w.vice, &w.dafydd, &w.anwen, &w.huw, &w.owain, &w.bethan)
	closePoll(p)
	text(item(6), "The Solicitor advised on the evidence gathered under "+secret+".",
		"RESOLVED that the Head of Legal Services be authorised to serve an enforcement notice arising from "+secret+".")

	w.at("20:20")
	closed, err := w.agenda.CloseMeeting(ctx, clerk, m.ID)
	w.must(err)
	mt.Meeting = closed
	return mt
}

// nextMeeting schedules and starts the committee's next meeting, at which the
// minutes are approved.
func (w *world) nextMeeting() agenda.Meeting {
	w.t.Helper()
	w.clock.Set(time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC))
	m, err := w.agenda.CreateMeeting(w.ctx, w.clerk, agenda.MeetingInput{CommitteeID: w.committee.ID, Title: "Planning Committee",
		StartsAt: time.Date(2026, 6, 3, 17, 30, 0, 0, time.UTC), Location: "Council Chamber, Civic Centre, Cwm Derwen", Published: true})
	w.must(err)
	w.clock.Set(time.Date(2026, 6, 3, 17, 31, 0, 0, time.UTC))
	m, err = w.agenda.StartMeeting(w.ctx, w.clerk, m.ID)
	w.must(err)
	return m
}

// publishedMinutes holds the meeting, drafts its minutes, edits them, approves them
// at the next meeting and publishes them.
func (w *world) publishedMinutes() (meeting, agenda.Meeting) {
	w.t.Helper()
	mt := w.holdMeeting()
	w.clock.Set(time.Date(2026, 5, 7, 9, 0, 0, 0, time.UTC))
	_, err := w.svc.Draft(w.ctx, w.clerk, mt.ID)
	w.must(err)
	w.clock.Set(time.Date(2026, 5, 7, 11, 0, 0, 0, time.UTC))
	notes := "The Head of Planning presented the report and recommended approval subject to conditions.\n\n" +
		"Mrs Parry spoke in objection, raising traffic on Heol y Felin and flooding downstream. Mr Evans spoke for the applicant.\n\n" +
		"Members debated the access arrangements and construction traffic, and the drainage condition."
	_, err = w.svc.Edit(w.ctx, w.clerk, mt.ID, minutes.ItemEdit{ItemID: mt.items[3].ID, Notes: &notes})
	w.must(err)
	next := w.nextMeeting()
	w.clock.Set(time.Date(2026, 6, 3, 17, 36, 0, 0, time.UTC))
	_, err = w.svc.Approve(w.ctx, w.chair, mt.ID, next.ID)
	w.must(err)
	w.clock.Set(time.Date(2026, 6, 4, 10, 0, 0, 0, time.UTC))
	_, err = w.svc.Publish(w.ctx, w.clerk, mt.ID)
	w.must(err)
	return mt, next
}

// storeOf returns the minutes store on db.
func storeOf(db *migrations.DB) minutes.Store { return minutessql.New(db) }
