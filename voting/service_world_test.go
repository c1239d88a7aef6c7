package voting_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	agendasql "github.com/chamber/chamber/agenda/sqlstore"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/voting"
	votingsql "github.com/chamber/chamber/voting/sqlstore"
)

// start is the fixed clock's first reading.
var start = time.Date(2026, 5, 6, 18, 30, 0, 0, time.UTC)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// publisher keeps what the Service publishes and checks, as each event arrives, that
// what it reports has committed: a journal event is in the journal at its seq; a
// progress event counts no more ballots than the store holds.
type publisher struct {
	agenda *agenda.Service
	store  voting.Store

	mu          sync.Mutex // guards events, uncommitted
	events      []voting.VoteEvent
	uncommitted []string
}

func (p *publisher) PublishVote(ctx context.Context, e voting.VoteEvent) {
	// The check reads what has committed, whatever has become of the request that
	// made the change (Run's context may be cancelled as a poll it closed is published).
	ctx = context.WithoutCancel(ctx)
	var problem string
	if e.Seq > 0 {
		evs, err := p.agenda.JournalAfter(ctx, e.Meeting, e.Seq-1)
		switch {
		case err != nil:
			problem = err.Error()
		case len(evs) == 0 || evs[0].Seq != e.Seq || evs[0].Type != e.Type || string(evs[0].Data) != string(e.Data):
			problem = fmt.Sprintf("%s (seq %d) is not in the journal", e.Type, e.Seq)
		}
	} else {
		var pr voting.Progress
		if err := json.Unmarshal(e.Data, &pr); err != nil {
			problem = err.Error()
		} else if stored, err := p.store.Ballots(ctx, pr.Poll); err != nil || len(stored) < pr.Ballots {
			problem = fmt.Sprintf("progress of poll %d counts %d ballots, the store holds %d (%v)", pr.Poll, pr.Ballots, len(stored), err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, e)
	if problem != "" {
		p.uncommitted = append(p.uncommitted, problem)
	}
}

// take returns the events published since the last take.
func (p *publisher) take() []voting.VoteEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.events
	p.events = nil
	return out
}

func eventTypes(evs []voting.VoteEvent) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

// world is a voting Service over a real database and a real agenda: a council with
// its clerk, a committee for each rules profile with the same people (a chair, a
// vice-chair, four members and a substitute), a councillor on no committee, and
// another council's clerk. Everyone has an approved key.
type world struct {
	t      testing.TB
	ctx    context.Context
	db     *migrations.DB
	agenda *agenda.Service
	store  *votingsql.Store
	svc    *voting.Service
	clock  *fakeClock
	pub    *publisher
	logKey *voting.LogKey

	council    agenda.Council
	committees map[string]agenda.Committee

	admin, clerk, otherClerk, chair, vice, m1, m2, m3, m4, sub, outsider agenda.Actor

	privs  map[int64]ed25519.PrivateKey
	nonces int
}

// profiles are the committees each world has.
var profiles = []string{"england", "wales", "france"}

// quietService is a voting service of the world on store, publishing nothing: no
// progress either, which would read the poll and the ballots of its own.
func (w *world) quietService(store voting.Store) *voting.Service {
	return voting.NewService(store, w.agenda, voting.Options{Now: w.clock.Now, LogKey: w.logKey, Origin: "chamber.example.gov.uk"})
}

// eachWorld runs fn once per dialect, on a fresh world.
func eachWorld(t *testing.T, fn func(t *testing.T, w *world)) {
	t.Helper()
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		fn(t, newWorld(t, db))
	})
}

func newWorld(t testing.TB, db *migrations.DB) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, ctx: ctx, db: db, clock: &fakeClock{now: start}, committees: map[string]agenda.Committee{},
		privs: map[int64]ed25519.PrivateKey{}}
	w.store = votingsql.New(db)
	w.agenda = agenda.NewService(agendasql.New(db), agenda.Options{Now: w.clock.Now, Polls: w.store,
		Password: agenda.PasswordParams{Memory: 64, Time: 1, Threads: 1}})
	w.pub = &publisher{agenda: w.agenda, store: w.store}
	lk, err := voting.NewLogKey(key("server"))
	w.must(err)
	w.logKey = lk
	w.svc = voting.NewService(w.store, w.agenda, voting.Options{Publisher: w.pub, Now: w.clock.Now, LogKey: lk,
		Origin: "https://chamber.example.gov.uk/", ProgressEvery: -1, Random: &counterReader{}, RunEvery: 5 * time.Millisecond})
	t.Cleanup(func() {
		w.pub.mu.Lock()
		defer w.pub.mu.Unlock()
		if len(w.pub.uncommitted) > 0 {
			t.Errorf("published before it committed: %v", w.pub.uncommitted)
		}
	})

	u, err := w.agenda.CreateAdmin(ctx, "admin@example.org", "Ada Admin", "correct horse battery")
	w.must(err)
	w.admin = w.actor(u.ID)
	w.council, err = w.agenda.CreateCouncil(ctx, w.admin, agenda.CouncilInput{Name: "Northshire County Council"})
	w.must(err)
	other, err := w.agenda.CreateCouncil(ctx, w.admin, agenda.CouncilInput{Name: "Southshire District Council"})
	w.must(err)
	add := func(council int64, name string, role agenda.CouncilRole) int64 {
		p, err := w.agenda.AddPerson(ctx, w.admin, council, agenda.PersonInput{Name: name,
			Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org", Role: role})
		w.must(err)
		return p.UserID
	}
	clerk := add(w.council.ID, "Clara Clerk", agenda.RoleClerk)
	ids := map[string]int64{}
	for _, name := range []string{"Chris Chair", "Val Vice", "Mo Member", "Mia Member", "Max Member", "Meg Member", "Sam Substitute", "Otto Outsider"} {
		ids[name] = add(w.council.ID, name, agenda.RoleCouncillor)
	}
	otherClerk := add(other.ID, "Olga Otherclerk", agenda.RoleClerk)
	w.clerk = w.actor(clerk)
	for _, profile := range profiles {
		cm, err := w.agenda.CreateCommittee(ctx, w.clerk, w.council.ID, agenda.CommitteeInput{Name: "Planning Committee " + profile, Profile: profile})
		w.must(err)
		for name, role := range map[string]agenda.CommitteeRole{"Chris Chair": agenda.Chair, "Val Vice": agenda.ViceChair,
			"Mo Member": agenda.Member, "Mia Member": agenda.Member, "Max Member": agenda.Member, "Meg Member": agenda.Member,
			"Sam Substitute": agenda.Substitute} {
			_, err := w.agenda.SetMember(ctx, w.clerk, cm.ID, ids[name], role)
			w.must(err)
		}
		w.committees[profile] = cm
	}
	w.clerk, w.otherClerk = w.actor(clerk), w.actor(otherClerk)
	w.chair, w.vice = w.actor(ids["Chris Chair"]), w.actor(ids["Val Vice"])
	w.m1, w.m2, w.m3, w.m4 = w.actor(ids["Mo Member"]), w.actor(ids["Mia Member"]), w.actor(ids["Max Member"]), w.actor(ids["Meg Member"])
	w.sub, w.outsider = w.actor(ids["Sam Substitute"]), w.actor(ids["Otto Outsider"])

	// Everyone enrols a key; the clerk approves the members', the admin the clerk's.
	for _, a := range []agenda.Actor{w.clerk, w.otherClerk, w.chair, w.vice, w.m1, w.m2, w.m3, w.m4, w.sub, w.outsider} {
		priv := key(fmt.Sprint("user ", a.UserID))
		w.privs[a.UserID] = priv
		k, err := w.svc.EnrolKey(ctx, a, priv.Public().(ed25519.PublicKey), "laptop")
		w.must(err)
		approver := w.clerk
		if a.UserID == w.clerk.UserID || a.UserID == w.otherClerk.UserID {
			approver = w.admin
		}
		_, err = w.svc.ApproveKey(ctx, approver, k.ID)
		w.must(err)
	}
	w.clock.Advance(time.Minute)
	return w
}

// key returns a fixed Ed25519 key derived from name.
func key(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("service test key: " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// counterReader is deterministic "randomness": successive SHA-256 blocks of a counter.
type counterReader struct {
	mu sync.Mutex // guards n
	n  int
}

func (r *counterReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := 0; i < len(p); i += 32 {
		r.n++
		sum := sha256.Sum256([]byte(fmt.Sprint("random ", r.n)))
		copy(p[i:], sum[:])
	}
	return len(p), nil
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

// fixture is one meeting of a committee, in progress, with a standard, a planning and
// an exempt item.
type fixture struct {
	w         *world
	meeting   agenda.Meeting
	committee agenda.Committee
	items     []agenda.Item
}

// Items of a fixture's agenda.
const (
	standardItem = 0
	planningItem = 1
	exemptItem   = 2
)

// meeting creates and starts a meeting of the committee following profile.
func (w *world) meeting(profile string) *fixture {
	w.t.Helper()
	cm := w.committees[profile]
	m, err := w.agenda.CreateMeeting(w.ctx, w.clerk, agenda.MeetingInput{CommitteeID: cm.ID, Title: cm.Name,
		StartsAt: w.clock.Now(), Location: "Council Chamber", Published: true})
	w.must(err)
	res, err := w.agenda.ImportAgenda(w.ctx, w.clerk, m.ID, agenda.AgendaFile{Items: []agenda.ItemInput{
		{Title: "Minutes of the last meeting"},
		{Title: "26/00123/FUL Land at Mill Lane", Kind: agenda.Planning},
		{Title: "Staffing restructure", Kind: agenda.Exempt, ExemptParagraph: 1},
	}}, false)
	w.must(err)
	m, err = w.agenda.StartMeeting(w.ctx, w.clerk, m.ID)
	w.must(err)
	return &fixture{w: w, meeting: m, committee: cm, items: res.Items}
}

// pollIn starts a meeting of the profile's committee with present in the room, takes
// its standard item and opens a poll on it as the clerk.
func (w *world) pollIn(profile string, present ...agenda.Actor) (*fixture, voting.PollView) {
	w.t.Helper()
	f := w.meeting(profile)
	f.arrive(agenda.InRoom, present...)
	f.take(standardItem)
	return f, f.open(f.input(standardItem))
}

// take makes item i the current item.
func (f *fixture) take(i int) {
	f.w.t.Helper()
	_, err := f.w.agenda.SetCurrentItem(f.w.ctx, f.w.clerk, f.meeting.ID, f.items[i].ID)
	f.w.must(err)
}

// arrive records people as present in mode.
func (f *fixture) arrive(mode agenda.AttendanceMode, people ...agenda.Actor) {
	f.w.t.Helper()
	for _, a := range people {
		_, err := f.w.agenda.RecordArrival(f.w.ctx, f.w.clerk, f.meeting.ID, agenda.AttendanceInput{UserID: a.UserID, Mode: mode})
		f.w.must(err)
	}
}

// proxy records that holder holds member's proxy.
func (f *fixture) proxy(member, holder agenda.Actor) {
	f.w.t.Helper()
	_, err := f.w.agenda.RecordArrival(f.w.ctx, f.w.clerk, f.meeting.ID, agenda.AttendanceInput{UserID: member.UserID, Mode: agenda.ByProxy, ProxyHolderID: holder.UserID})
	f.w.must(err)
}

// leave records people as leaving.
func (f *fixture) leave(people ...agenda.Actor) {
	f.w.t.Helper()
	for _, a := range people {
		_, err := f.w.agenda.RecordDeparture(f.w.ctx, f.w.clerk, f.meeting.ID, a.UserID)
		f.w.must(err)
	}
}

// declare records an interest of a member in the current item.
func (f *fixture) declare(a agenda.Actor, item int, kind agenda.DeclarationKind, withdraws bool, dispensation string) {
	f.w.t.Helper()
	_, err := f.w.agenda.Declare(f.w.ctx, f.w.clerk, f.meeting.ID, agenda.DeclarationInput{UserID: a.UserID, ItemID: f.items[item].ID,
		Kind: kind, Description: "owns land next to the site", Withdraws: withdraws, Dispensation: dispensation})
	f.w.must(err)
}

// input returns the input of a poll on item i.
func (f *fixture) input(i int) voting.PollInput {
	return voting.PollInput{MeetingID: f.meeting.ID, ItemID: f.items[i].ID}
}

// open opens a poll as the clerk.
func (f *fixture) open(in voting.PollInput) voting.PollView {
	f.w.t.Helper()
	p, err := f.w.svc.OpenPoll(f.w.ctx, f.w.clerk, in)
	f.w.must(err)
	return p
}

// ballot returns a ballot of voter in poll p for choice, edited by edits, signed by
// its signer's key.
func (w *world) ballot(p voting.PollView, voter agenda.Actor, choice string, edits ...func(*voting.Ballot)) voting.SignedBallot {
	w.t.Helper()
	w.nonces++
	b := voting.Ballot{Meeting: p.Meeting, Item: p.Item, Poll: p.ID, Voter: voter.UserID, CastAt: w.clock.Now(),
		Challenge: p.Challenge, Nonce: sha256.Sum256([]byte(fmt.Sprint("nonce ", w.nonces))), Choice: choice}
	for _, edit := range edits {
		edit(&b)
	}
	sb, err := voting.SignBallot(b, w.privs[b.Signer()])
	w.must(err)
	return sb
}

// recordedBy makes a ballot one recorded by a clerk.
func recordedBy(a agenda.Actor) func(*voting.Ballot) {
	return func(b *voting.Ballot) { b.Recorder = a.UserID }
}

// casting marks the casting vote.
func casting(b *voting.Ballot) { b.Casting = true }

// vote casts a ballot of voter for choice, by voter, and fails the test if refused.
func (w *world) vote(p voting.PollView, voter agenda.Actor, choice string) voting.Receipt {
	w.t.Helper()
	r, err := w.svc.Cast(w.ctx, voter, w.ballot(p, voter, choice))
	if err != nil {
		w.t.Fatalf("ballot of user %d: %v", voter.UserID, err)
	}
	return r
}

// poll reads a poll as the clerk.
func (w *world) poll(id int64) voting.PollView {
	w.t.Helper()
	p, err := w.svc.Poll(w.ctx, w.clerk, id)
	w.must(err)
	return p
}

// refusals returns the reasons kept for refused ballots in a poll.
func (w *world) refusals(poll int64) []string {
	w.t.Helper()
	var out []string
	w.must(w.db.Select(&out, w.db.Rebind(`SELECT reason FROM ballot_refusals WHERE poll_id = ? ORDER BY id`), poll))
	return out
}

// reason returns the reason of an ineligibility error, "" for nil, or the error.
func reason(err error) string {
	if err == nil {
		return ""
	}
	var ie *voting.IneligibleError
	if errors.As(err, &ie) {
		return string(ie.Reason)
	}
	return err.Error()
}

// is reports whether err matches want, where a nil want means success.
func is(err, want error) bool {
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}
