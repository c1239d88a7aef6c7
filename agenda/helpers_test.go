package agenda_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/sqlstore"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
)

// cheap makes password hashing fast enough for tests.
var cheap = agenda.PasswordParams{Memory: 64, Time: 1, Threads: 1}

// start is the fixed clock's first reading.
var start = time.Date(2026, 5, 6, 9, 0, 0, 0, time.UTC)

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

// recorder is a Publisher that keeps what it was given and checks, as each event
// arrives, that the event has already been committed to the journal.
type recorder struct {
	store agenda.Store // the real store, to look at the committed journal

	mu           sync.Mutex // guards events, uncommitted
	events       []agenda.Event
	uncommitted  []string
	publications int
}

func (r *recorder) Publish(ctx context.Context, events ...agenda.Event) {
	var missing []string
	for _, e := range events {
		err := r.store.View(ctx, func(tx agenda.Tx) error {
			got, err := tx.Events(ctx, e.MeetingID, e.Seq-1, 1)
			if err != nil {
				return err
			}
			if len(got) != 1 || got[0].Type != e.Type {
				missing = append(missing, fmt.Sprintf("%s (meeting %d, seq %d)", e.Type, e.MeetingID, e.Seq))
			}
			return nil
		})
		if err != nil {
			missing = append(missing, fmt.Sprintf("%s: %v", e.Type, err))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.publications++
	r.events = append(r.events, events...)
	r.uncommitted = append(r.uncommitted, missing...)
}

// take returns the events published since the last take.
func (r *recorder) take() []agenda.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// errInjected is the failure faultyStore injects.
var errInjected = errors.New("injected failure")

// faultyStore wraps a store so that a test can make one Tx method fail, to check that a
// write that fails part-way leaves nothing behind.
type faultyStore struct {
	agenda.Store

	mu     sync.Mutex // guards failOn, after
	failOn string     // method to fail
	after  int        // calls to let through first
}

// failNext makes the call to method after n successful ones fail, once.
func (f *faultyStore) failNext(method string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failOn, f.after = method, n
}

func (f *faultyStore) fails(method string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failOn != method {
		return false
	}
	if f.after > 0 {
		f.after--
		return false
	}
	f.failOn = ""
	return true
}

func (f *faultyStore) Update(ctx context.Context, fn func(agenda.Tx) error) error {
	return f.Store.Update(ctx, func(tx agenda.Tx) error { return fn(&faultyTx{Tx: tx, s: f}) })
}

type faultyTx struct {
	agenda.Tx
	s *faultyStore
}

func (t *faultyTx) UpdateMeeting(ctx context.Context, m agenda.Meeting) error {
	if t.s.fails("UpdateMeeting") {
		return errInjected
	}
	return t.Tx.UpdateMeeting(ctx, m)
}

func (t *faultyTx) CreateItem(ctx context.Context, it *agenda.Item) error {
	if t.s.fails("CreateItem") {
		return errInjected
	}
	return t.Tx.CreateItem(ctx, it)
}

func (t *faultyTx) CreateUser(ctx context.Context, u *agenda.User, hash string) error {
	if t.s.fails("CreateUser") {
		return errInjected
	}
	return t.Tx.CreateUser(ctx, u, hash)
}

// world is a service over a real database with a council and its people: an admin, the
// council's clerk and an officer, a planning committee with a chair, three members and a
// substitute, and another council with its own clerk.
type world struct {
	t     *testing.T
	ctx   context.Context
	db    *migrations.DB
	svc   *agenda.Service
	store *faultyStore
	clock *fakeClock
	pub   *recorder
	tag   string // makes this world's emails and slugs unique

	council, otherCouncil agenda.Council
	committee             agenda.Committee

	admin, clerk, otherClerk, officer, chair, member, member2, member3, substitute agenda.Actor
}

// public is the anonymous actor.
var public = agenda.Anyone

func newWorld(t *testing.T, db *migrations.DB, profile string) *world {
	t.Helper()
	ctx := context.Background()
	st := sqlstore.New(db)
	w := &world{t: t, ctx: ctx, db: db, store: &faultyStore{Store: st}, clock: &fakeClock{now: start},
		tag: fmt.Sprintf("w%d", worlds.Add(1))}
	w.pub = &recorder{store: st}
	w.svc = agenda.NewService(w.store, agenda.Options{Publisher: w.pub, Now: w.clock.Now, Password: cheap})
	t.Cleanup(func() {
		w.pub.mu.Lock()
		defer w.pub.mu.Unlock()
		if len(w.pub.uncommitted) > 0 {
			t.Errorf("events published before they were committed: %v", w.pub.uncommitted)
		}
	})

	u, err := w.svc.CreateAdmin(ctx, w.mail("admin"), "Ada Admin", "correct horse battery")
	w.must(err)
	w.admin = w.actor(u.ID)
	w.council, err = w.svc.CreateCouncil(ctx, w.admin, agenda.CouncilInput{Name: "Northshire County Council", Slug: "northshire-" + w.tag})
	w.must(err)
	w.otherCouncil, err = w.svc.CreateCouncil(ctx, w.admin, agenda.CouncilInput{Name: "Southshire District Council", Slug: "southshire-" + w.tag})
	w.must(err)
	add := func(council int64, name string, role agenda.CouncilRole) int64 {
		p, err := w.svc.AddPerson(ctx, w.admin, council, agenda.PersonInput{Name: name,
			Email: w.mail(strings.ToLower(strings.ReplaceAll(name, " ", "."))), Role: role})
		w.must(err)
		return p.UserID
	}
	clerk := add(w.council.ID, "Clara Clerk", agenda.RoleClerk)
	officer := add(w.council.ID, "Owen Officer", agenda.RoleOfficer)
	chair := add(w.council.ID, "Chris Chair", agenda.RoleCouncillor)
	member := add(w.council.ID, "Mo Member", agenda.RoleCouncillor)
	member2 := add(w.council.ID, "Mia Member", agenda.RoleCouncillor)
	member3 := add(w.council.ID, "Max Member", agenda.RoleCouncillor)
	substitute := add(w.council.ID, "Sam Substitute", agenda.RoleCouncillor)
	otherClerk := add(w.otherCouncil.ID, "Olga Otherclerk", agenda.RoleClerk)
	w.clerk = w.actor(clerk)
	w.committee, err = w.svc.CreateCommittee(ctx, w.clerk, w.council.ID, agenda.CommitteeInput{Name: "Planning Committee", Profile: profile})
	w.must(err)
	for id, role := range map[int64]agenda.CommitteeRole{chair: agenda.Chair, member: agenda.Member, member2: agenda.Member,
		member3: agenda.Member, substitute: agenda.Substitute} {
		_, err := w.svc.SetMember(ctx, w.clerk, w.committee.ID, id, role)
		w.must(err)
	}
	w.officer, w.chair, w.member, w.member2, w.member3 = w.actor(officer), w.actor(chair), w.actor(member), w.actor(member2), w.actor(member3)
	w.substitute, w.otherClerk = w.actor(substitute), w.actor(otherClerk)
	w.pub.take()
	return w
}

// TestService runs the service's tests on the real store, on one fresh database of
// each dialect. Each test gets a world of its own in the shared database, with the
// committee's rules profile it names.
func TestService(t *testing.T) {
	tests := []struct {
		name    string
		profile string
		fn      func(t *testing.T, w *world)
	}{
		{"MeetingStateMachine", "england", testMeetingStateMachine},
		{"ItemNavigation", "england", testItemNavigation},
		{"CloseEndsItemAttendanceAndPrivateSession", "france", testCloseEndsItemAttendanceAndPrivateSession},
		{"SetSession", "england", testSetSession},
		{"MeetingInputAndUpdate", "england", testMeetingInputAndUpdate},
		{"Permissions", "england", testPermissions},
		{"UnpublishedMeetingsAreNotFound", "england", testUnpublishedMeetingsAreNotFound},
		{"Visibility", "england", testVisibility},
		{"ListMeetingsPages", "england", testListMeetingsPages},
		{"ImportAgenda", "england", testImportAgenda},
		{"AttendanceModesFollowTheProfile", "england", testAttendanceModesFollowTheProfile},
		{"AttendanceChangesAndDepartures", "france", testAttendanceChangesAndDepartures},
		{"Presence", "england", testPresence},
		{"Declarations", "england", testDeclarations},
		{"DeclarationKindsFollowTheProfile", "england", testDeclarationKindsFollowTheProfile},
		{"ProxyLimits", "france", testProxyLimits},
		{"Motions", "england", testMotions},
		{"SubstitutionsApologiesAndSpeakers", "england", testSubstitutionsApologiesAndSpeakers},
		{"AdminAndLogin", "england", testAdminAndLogin},
		{"SessionsAndTokens", "england", testSessionsAndTokens},
		{"InvitationsAndSignInLinks", "england", testInvitationsAndSignInLinks},
		{"FailedWritesLeaveNothing", "france", testFailedWritesLeaveNothing},
		{"JournalRecordsEveryWrite", "wales", testJournalRecordsEveryWrite},
		{"ConcurrentMeetingWrites", "england", testConcurrentMeetingWrites},
		{"TextLimitsInCharacters", "wales", testTextLimitsInCharacters},
	}
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { tt.fn(t, newWorld(t, db, tt.profile)) })
		}
	})
}

// worlds numbers worlds, so that their names do not collide in a shared database.
var worlds atomic.Int64

// mail is an email address in this world.
func (w *world) mail(local string) string { return local + "@" + w.tag + ".example.org" }

func (w *world) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) actor(userID int64) agenda.Actor {
	w.t.Helper()
	a, err := w.svc.Actor(w.ctx, userID)
	w.must(err)
	return a
}

// meeting schedules a meeting of the committee with items, and forgets what that
// published.
func (w *world) meeting(published bool, items ...agenda.ItemInput) (agenda.Meeting, []agenda.Item) {
	w.t.Helper()
	m, err := w.svc.CreateMeeting(w.ctx, w.clerk, agenda.MeetingInput{CommitteeID: w.committee.ID, Title: "Planning Committee",
		StartsAt: w.clock.Now().Add(24 * time.Hour), Location: "Council Chamber", Published: published})
	w.must(err)
	var out []agenda.Item
	for _, in := range items {
		it, err := w.svc.AddItem(w.ctx, w.clerk, m.ID, in)
		w.must(err)
		out = append(out, it)
	}
	w.pub.take()
	return w.get(m.ID), out
}

// standardAgenda is an agenda with an item of each kind.
func standardAgenda() []agenda.ItemInput {
	return []agenda.ItemInput{
		{Title: "Apologies for absence"},
		{Title: "26/00123/FUL Land at Mill Lane", Kind: agenda.Planning, Description: "Erection of 12 dwellings",
			Papers: []agenda.Paper{{Title: "Officer report", URL: "https://example.org/report.pdf"}}},
		{Title: "Staffing restructure", Kind: agenda.Exempt, ExemptParagraph: 1, Description: "Named posts",
			Papers: []agenda.Paper{{Title: "Confidential report", URL: "https://example.org/exempt.pdf"}}},
		{Title: "Any other business"},
	}
}

// get reads a meeting as the admin.
func (w *world) get(id int64) agenda.Meeting {
	w.t.Helper()
	m, err := w.svc.GetMeeting(w.ctx, w.admin, id)
	w.must(err)
	return m
}

// items reads a meeting's agenda as the admin.
func (w *world) items(id int64) []agenda.Item {
	w.t.Helper()
	its, err := w.svc.ListItems(w.ctx, w.admin, id)
	w.must(err)
	return its
}

// journal returns every event of a meeting.
func (w *world) journal(id int64) []agenda.Event {
	w.t.Helper()
	evs, err := w.svc.JournalAfter(w.ctx, id, 0)
	w.must(err)
	return evs
}

// checkPublished checks that what was published since the last check is exactly the
// journal's events after seq, and that their types are want. It returns the meeting's
// last seq.
func (w *world) checkPublished(t *testing.T, meetingID, after int64, want ...string) int64 {
	t.Helper()
	published := w.pub.take()
	evs, err := w.svc.JournalAfter(w.ctx, meetingID, after)
	w.must(err)
	if !reflect.DeepEqual(types(published), types(evs)) {
		t.Errorf("published %v, but the journal gained %v", types(published), types(evs))
	}
	if !reflect.DeepEqual(types(evs), want) && !(len(evs) == 0 && len(want) == 0) {
		t.Errorf("journal: got %v, want %v", types(evs), want)
	}
	for i := range min(len(evs), len(published)) {
		if evs[i].Seq != published[i].Seq {
			t.Errorf("event %s: published with seq %d, journalled with %d", evs[i].Type, published[i].Seq, evs[i].Seq)
		}
	}
	if len(evs) > 0 {
		return evs[len(evs)-1].Seq
	}
	return after
}

func types(evs []agenda.Event) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

// is reports whether err matches want, where a nil want means success.
func is(err, want error) bool {
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}

// fieldErrors returns a validation error's fields as "row:field" (or "field") strings.
func fieldErrors(err error) []string {
	var ve *agenda.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var out []string
	for _, f := range ve.Fields {
		if f.Row > 0 {
			out = append(out, fmt.Sprintf("%d:%s", f.Row, f.Field))
		} else {
			out = append(out, f.Field)
		}
	}
	slices.Sort(out)
	return out
}

func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\ngot  %+v\nwant %+v", what, got, want)
	}
}

// quickMeeting is meeting with the agenda imported in one transaction.
func (w *world) quickMeeting(published bool, items ...agenda.ItemInput) (agenda.Meeting, []agenda.Item) {
	w.t.Helper()
	m, err := w.svc.CreateMeeting(w.ctx, w.clerk, agenda.MeetingInput{CommitteeID: w.committee.ID, Title: "Planning Committee",
		StartsAt: w.clock.Now().Add(24 * time.Hour), Location: "Council Chamber", Published: published})
	w.must(err)
	res, err := w.svc.ImportAgenda(w.ctx, w.clerk, m.ID, agenda.AgendaFile{Items: items}, false)
	w.must(err)
	w.pub.take()
	return w.get(m.ID), res.Items
}

// committeeWith creates another committee of the council under a rules profile, with the
// world's chair and members on it, and reloads their roles.
func (w *world) committeeWith(profile string) agenda.Committee {
	w.t.Helper()
	cm, err := w.svc.CreateCommittee(w.ctx, w.clerk, w.council.ID, agenda.CommitteeInput{Name: "Committee under " + profile, Profile: profile})
	w.must(err)
	for _, a := range []agenda.Actor{w.chair, w.member, w.member2, w.member3} {
		_, err := w.svc.SetMember(w.ctx, w.clerk, cm.ID, a.UserID, agenda.Member)
		w.must(err)
	}
	w.chair, w.member, w.member2, w.member3 = w.actor(w.chair.UserID), w.actor(w.member.UserID), w.actor(w.member2.UserID), w.actor(w.member3.UserID)
	return cm
}

// startedMeetingOf schedules and starts a published meeting of a committee.
func (w *world) startedMeetingOf(committeeID int64, items ...agenda.ItemInput) (agenda.Meeting, []agenda.Item) {
	w.t.Helper()
	m, err := w.svc.CreateMeeting(w.ctx, w.clerk, agenda.MeetingInput{CommitteeID: committeeID, Title: "Meeting",
		StartsAt: w.clock.Now(), Published: true})
	w.must(err)
	var its []agenda.Item
	if len(items) > 0 {
		res, err := w.svc.ImportAgenda(w.ctx, w.clerk, m.ID, agenda.AgendaFile{Items: items}, false)
		w.must(err)
		its = res.Items
	}
	_, err = w.svc.StartMeeting(w.ctx, w.clerk, m.ID)
	w.must(err)
	w.pub.take()
	return w.get(m.ID), its
}
