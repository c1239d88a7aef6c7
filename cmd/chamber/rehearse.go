package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/sqlstore"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/signaling"
	rtcclient "github.com/chamber/chamber/signaling/client"
	"github.com/chamber/chamber/voting"
	"github.com/pion/webrtc/v4"
)

// runRehearse plays a whole meeting of the demo committee against a server, with
// simulated members who join the live room over real WebSockets and sign their own
// ballots: roll call, declarations, each item, a recorded planning vote, an amendment,
// a tie broken by the chair's casting vote, a vote given in the room and recorded by the
// clerk, a private session, the close; then the minutes are edited, approved at the
// next meeting, published and every export written to --out, the meeting record as
// record.json. Clerks use it to train; the tests and benchmarks use it too.
func runRehearse(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("rehearse", e)
	cf := addClientFlags(fs)
	db := addDBFlags(fs)
	out := fs.String("out", "", "directory to write the exports and record.json to (required)")
	inProcess := fs.Bool("in-process", false, "run a server inside this command on --data-dir or --database-url (the default unless --server is given)")
	media := fs.Bool("media", false, "the chair publishes synthetic audio and video while the meeting runs")
	if err := parse(fs, e, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("rehearse takes no arguments, got %q", fs.Args())
	}
	if *out == "" {
		return usagef("rehearse needs --out DIR")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	r := &rehearsal{out: *out, say: e.stdout, rand: rand.Reader, now: time.Now, media: *media}
	if *cf.server != "" && !*inProcess {
		c, err := cf.client()
		if err != nil {
			return err
		}
		r.admin = c
		return r.run(ctx)
	}
	return rehearseInProcess(ctx, r, db.config(nil), nil)
}

// rehearseInProcess starts a server on a loopback port of its own over the database
// dbc, creates an administrator for the rehearsal, runs it, and stops the server.
// tune, when not nil, adjusts the server's configuration (the tests fix its clock).
func rehearseInProcess(ctx context.Context, r *rehearsal, dbc migrations.Config, tune func(*serveConfig)) error {
	password := r.token(24)
	email := "rehearsal-" + r.token(6) + "@chamber.invalid"
	conn, err := migrations.Open(ctx, dbc)
	if err != nil {
		return err
	}
	_, err = agenda.NewService(sqlstore.New(conn), agenda.Options{}).CreateAdmin(ctx, email, "Rehearsal administrator", password)
	conn.Close()
	if err != nil {
		return fmt.Errorf("create the rehearsal's administrator: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ready := make(chan string, 1)
	cfg := serveConfig{
		db: dbc, logger: slog.New(slog.DiscardHandler), shutdownTimeout: 5 * time.Second,
		rtc:      rtcConfig{udpHost: "127.0.0.1"},
		listener: ln, ready: func(u string) { ready <- u },
	}
	if tune != nil {
		tune(&cfg)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- serve(sctx, cfg, io.Discard) }()
	defer func() {
		stop()
		<-served
	}()
	var base string
	select {
	case base = <-ready:
	case err := <-served:
		served <- nil // for the deferred wait
		return fmt.Errorf("start the rehearsal's server: %w", err)
	}
	c, err := newClient(base, "")
	if err != nil {
		return err
	}
	// Every request goes to this server, whatever the public URL's host (the tests
	// give it one that resolves nowhere, so that the record is the same on each run).
	addr := ln.Addr().String()
	c.http.Transport = &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	r.rtcHost = addr
	token, err := signInPatiently(ctx, c, email, password)
	if err != nil {
		return fmt.Errorf("sign in as the rehearsal's administrator: %w", err)
	}
	r.admin = &client{base: c.base, token: token, http: c.http}
	return r.run(ctx)
}

// signInPatiently signs in for an API token, waiting as long as the server asks when
// too many people sign in from this address at once.
func signInPatiently(ctx context.Context, c *client, email, password string) (string, error) {
	for {
		var login struct {
			Token string `json:"token"`
		}
		err := c.call(ctx, "POST", "/api/v1/auth/login", map[string]string{
			"email": email, "password": password, "mode": "token", "token_name": "rehearsal",
		}, "", &login)
		var ae *apiError
		if !errors.As(err, &ae) || ae.status != http.StatusTooManyRequests {
			return login.Token, err
		}
		wait := max(ae.retryAfter, time.Second)
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(wait):
		}
	}
}

// rehearsal is one rehearsed meeting.
type rehearsal struct {
	admin *client
	out   string
	say   io.Writer
	rand  io.Reader
	now   func() time.Time
	media bool
	// rtcHost, when set, is where the live room's WebSocket is dialled, whatever host
	// the join answer names.
	rtcHost string
	// clock, when set, is the server's clock too, and moves only when the rehearsal
	// moves it (tick): the tests' record is then the same on every run.
	clock *stepClock
	// sequential casts ballots one after another (in a fixed order), not all at once:
	// the tests use it for a record that is the same on every run.
	sequential bool

	run8 string // this run's suffix on slugs and addresses

	council   agenda.Council
	committee agenda.Committee
	meeting   agenda.Meeting
	next      agenda.Meeting
	items     []agenda.Item
	people    map[string]*rehearser // by demo email local part
	clerk     *rehearser
	chair     *rehearser
	speakers  []agenda.Speaker
}

// rehearser is one simulated person: their account, API token, device key and room.
type rehearser struct {
	demoPerson
	id   int64
	api  *client
	key  ed25519.PrivateKey
	room *rtcclient.Client
	mu   sync.Mutex // serialises casts over room
	n    int
}

func (r *rehearsal) token(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(r.rand, b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// stepClock is a clock that stands still until it is moved.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// tick lets d pass on the rehearsal's own clock; with the real clock, time passes by
// itself.
func (r *rehearsal) tick(d time.Duration) {
	if r.clock != nil {
		r.clock.set(r.clock.Now().Add(d))
	}
}

func (r *rehearsal) sayf(format string, args ...any) { fmt.Fprintf(r.say, format+"\n", args...) }

// run plays the meeting, then writes the exports.
func (r *rehearsal) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.run8 = r.token(4)
	defer r.leave()
	steps := []struct {
		what string
		do   func(context.Context) error
	}{
		{"set up the council", r.setUp},
		{"enrol the members' keys", r.enrolKeys},
		{"open the meeting", r.open},
		{"take the agenda", r.agenda},
		{"close the meeting", r.close},
		{"make the minutes", r.minutes},
		{"write the exports", r.export},
	}
	for _, s := range steps {
		if err := s.do(ctx); err != nil {
			return fmt.Errorf("rehearsal: %s: %w", s.what, err)
		}
	}
	return nil
}

func (r *rehearsal) meetingPath(suffix string) string {
	return fmt.Sprintf("/api/v1/meetings/%d%s", r.meeting.ID, suffix)
}

// setUp creates the council, its committee, its people with their accounts, and the
// meeting with its agenda, speakers, apologies and substitutes, and the next meeting,
// at which the minutes are approved.
func (r *rehearsal) setUp(ctx context.Context) error {
	a := r.admin
	if err := a.call(ctx, "POST", "/api/v1/councils", agenda.CouncilInput{
		Name: "Cwm Derwen County Borough Council", Slug: "rehearsal-" + r.run8}, "", &r.council); err != nil {
		return err
	}
	if err := a.call(ctx, "POST", fmt.Sprintf("/api/v1/councils/%d/committees", r.council.ID),
		agenda.CommitteeInput{Name: "Planning Committee", Profile: "wales"}, "", &r.committee); err != nil {
		return err
	}
	r.people = map[string]*rehearser{}
	for _, p := range demoPeople {
		var added struct {
			agenda.Person
			InvitationURL string `json:"invitation_url"`
		}
		email := p.email + "." + r.run8 + "@" + demoDomain
		if err := a.call(ctx, "POST", fmt.Sprintf("/api/v1/councils/%d/people", r.council.ID), agenda.PersonInput{
			Name: p.name, Email: email, Role: p.role, Title: p.title, Party: p.party}, "", &added); err != nil {
			return fmt.Errorf("add %s: %w", p.name, err)
		}
		who := &rehearser{demoPerson: p, id: added.UserID}
		r.people[p.email] = who
		if p.committee != "" {
			if err := a.call(ctx, "PUT", fmt.Sprintf("/api/v1/committees/%d/members/%d", r.committee.ID, who.id),
				map[string]any{"role": p.committee}, "", nil); err != nil {
				return fmt.Errorf("seat %s: %w", p.name, err)
			}
		}
		// Each person accepts their invitation and signs in with a token of their own.
		_, token, ok := strings.Cut(added.InvitationURL, "/invite/")
		if !ok {
			return fmt.Errorf("no invitation for %s", p.name)
		}
		password := r.token(16)
		if err := a.call(ctx, "POST", "/api/v1/invitations/"+token+"/accept", map[string]string{"password": password}, "", nil); err != nil {
			return fmt.Errorf("%s accepts the invitation: %w", p.name, err)
		}
		token, err := signInPatiently(ctx, a, email, password)
		if err != nil {
			return fmt.Errorf("%s signs in: %w", p.name, err)
		}
		who.api = &client{base: a.base, token: token, http: a.http}
	}
	r.clerk, r.chair = r.people["clerk"], r.people["eleri.davies"]

	starts := r.now().Truncate(time.Minute)
	if err := r.clerk.api.call(ctx, "POST", "/api/v1/meetings", agenda.MeetingInput{
		CommitteeID: r.committee.ID, Title: "Planning Committee", StartsAt: starts,
		Location: "Council Chamber, Civic Centre, and online", Published: true}, "", &r.meeting); err != nil {
		return err
	}
	if err := r.clerk.api.call(ctx, "POST", "/api/v1/meetings", agenda.MeetingInput{
		CommitteeID: r.committee.ID, Title: "Planning Committee", StartsAt: starts.Add(28 * 24 * time.Hour),
		Location: "Council Chamber, Civic Centre, and online", Published: true}, "", &r.next); err != nil {
		return err
	}
	for _, in := range demoAgenda {
		var it agenda.Item
		if err := r.clerk.api.call(ctx, "POST", r.meetingPath("/items"), in, "", &it); err != nil {
			return fmt.Errorf("add item %q: %w", in.Title, err)
		}
		r.items = append(r.items, it)
	}
	for _, sp := range []agenda.SpeakerInput{
		{ItemID: r.items[3].ID, Name: "Ann Pritchard", Capacity: agenda.Objector, Organisation: "Heol y Felin Residents' Group"},
		{ItemID: r.items[3].ID, Name: "Huw Bevan", Capacity: agenda.Applicant, Organisation: "Bevan Homes Ltd"},
	} {
		var got agenda.Speaker
		if err := r.clerk.api.call(ctx, "POST", r.meetingPath("/speakers"), sp, "", &got); err != nil {
			return fmt.Errorf("register speaker %s: %w", sp.Name, err)
		}
		r.speakers = append(r.speakers, got)
	}
	david, mair := r.people["david.thomas"], r.people["mair.williams"]
	if err := r.clerk.api.call(ctx, "POST", r.meetingPath("/apologies"),
		map[string]any{"user_id": david.id, "reason": "Another council commitment"}, "", nil); err != nil {
		return err
	}
	if err := r.clerk.api.call(ctx, "POST", r.meetingPath("/substitutions"),
		map[string]any{"substitute_id": mair.id, "member_id": david.id}, "", nil); err != nil {
		return err
	}
	r.sayf("council %q (id %d), committee %d, meeting %d with %d items; %d people", r.council.Name, r.council.ID,
		r.committee.ID, r.meeting.ID, len(r.items), len(r.people))
	return nil
}

// voters are the people who vote at the meeting, in a fixed order.
func (r *rehearsal) voters() []*rehearser {
	var out []*rehearser
	for _, p := range demoPeople {
		if p.committee != "" && p.email != "david.thomas" {
			out = append(out, r.people[p.email])
		}
	}
	return out
}

// enrolKeys has every voter, and the clerk, enrol a device key; the clerk approves the
// members' keys and the administrator the clerk's.
func (r *rehearsal) enrolKeys(ctx context.Context) error {
	for _, who := range append(r.voters(), r.clerk) {
		pub, priv, err := ed25519.GenerateKey(r.rand)
		if err != nil {
			return err
		}
		var k voting.Key
		if err := who.api.call(ctx, "POST", "/api/v1/me/keys", map[string]string{
			"public_key": voting.EncodePublicKey(pub), "label": "rehearsal"}, "", &k); err != nil {
			return fmt.Errorf("%s enrols a key: %w", who.name, err)
		}
		approver := r.clerk.api
		if who == r.clerk {
			approver = r.admin
		}
		if err := approver.call(ctx, "POST", "/api/v1/keys/"+string(k.ID)+"/approve", nil, "", nil); err != nil {
			return fmt.Errorf("approve %s's key: %w", who.name, err)
		}
		who.key = priv
	}
	r.sayf("%d device keys enrolled and approved", len(r.voters())+1)
	return nil
}

// joinAnswer is what the join endpoint answers.
type joinAnswer struct {
	Token string `json:"token"`
	URL   string `json:"url"`
	Role  string `json:"role"`
}

// open starts the meeting and takes the roll: the chair, the vice-chair and the
// substitute are in the chamber (the clerk records them), the others join the live
// room from home and their presence is their attendance.
func (r *rehearsal) open(ctx context.Context) error {
	if err := r.chair.api.call(ctx, "POST", r.meetingPath("/start"), nil, "", nil); err != nil {
		return err
	}
	r.tick(time.Minute)
	inRoom := map[string]bool{"eleri.davies": true, "gareth.jones": true, "mair.williams": true}
	for _, who := range r.voters() {
		if inRoom[who.email] {
			if err := r.clerk.api.call(ctx, "POST", r.meetingPath("/attendance"),
				agenda.AttendanceInput{UserID: who.id, Mode: agenda.InRoom}, "", nil); err != nil {
				return fmt.Errorf("record %s in the room: %w", who.name, err)
			}
		}
	}
	officer := r.people["planning"]
	if err := r.clerk.api.call(ctx, "POST", r.meetingPath("/attendance"),
		agenda.AttendanceInput{UserID: officer.id, Mode: agenda.InRoom}, "", nil); err != nil {
		return fmt.Errorf("record the planning officer: %w", err)
	}
	for _, who := range r.voters() {
		if who.email == "mair.williams" {
			continue // she has no device: the clerk records her votes
		}
		if err := r.enter(ctx, who); err != nil {
			return err
		}
	}
	if err := r.waitPresent(ctx, len(r.voters())); err != nil {
		return err
	}
	r.sayf("meeting %d started: %d members present, %d of them in the live room", r.meeting.ID, len(r.voters()), len(r.voters())-1)
	return nil
}

// enter joins who to the live room; the chair publishes media when asked to.
func (r *rehearsal) enter(ctx context.Context, who *rehearser) error {
	var j joinAnswer
	if err := who.api.call(ctx, "POST", r.meetingPath("/join"), nil, "", &j); err != nil {
		return fmt.Errorf("%s asks to join: %w", who.name, err)
	}
	wsURL, err := url.Parse(j.URL)
	if err != nil {
		return fmt.Errorf("the join answer's URL %q: %w", j.URL, err)
	}
	if r.rtcHost != "" {
		wsURL.Host = r.rtcHost
	}
	origin := r.admin.base.Scheme + "://" + r.admin.base.Host
	conn, err := rtcclient.Dial(ctx, wsURL.String(), http.Header{"Origin": {origin}})
	if err != nil {
		return fmt.Errorf("%s connects: %w", who.name, err)
	}
	room, err := rtcclient.Join(ctx, conn, rtcclient.Options{Token: j.Token})
	if err != nil {
		return fmt.Errorf("%s joins the room: %w", who.name, err)
	}
	who.room = room
	if r.media && who == r.chair {
		if err := publishSynthetic(ctx, room); err != nil {
			return fmt.Errorf("the chair publishes media: %w", err)
		}
	}
	return nil
}

// waitPresent waits until n members of the committee are present.
func (r *rehearsal) waitPresent(ctx context.Context, n int) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		var att []agenda.Attendance
		if err := r.clerk.api.call(ctx, "GET", r.meetingPath("/attendance"), nil, "", &att); err != nil {
			return err
		}
		present := map[int64]bool{}
		for _, a := range att {
			if a.LeftAt == nil {
				present[a.UserID] = true
			}
		}
		got := 0
		for _, who := range r.voters() {
			if present[who.id] {
				got++
			}
		}
		if got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d members present: %w", got, n, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// leave takes everyone out of the room.
func (r *rehearsal) leave() {
	for _, who := range r.people {
		if who.room != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			who.room.Leave(ctx)
			cancel()
			who.room.Close()
			who.room = nil
		}
	}
}

// step moves the meeting to its next item.
func (r *rehearsal) step(ctx context.Context, want int) error {
	r.tick(3 * time.Minute)
	var m agenda.Meeting
	if err := r.chair.api.call(ctx, "POST", r.meetingPath("/next"), nil, "", &m); err != nil {
		return err
	}
	if m.CurrentItemID != r.items[want].ID {
		return fmt.Errorf("the next item is %d, not item %d", m.CurrentItemID, r.items[want].ID)
	}
	r.sayf("item %s: %s", r.items[want].Number, r.items[want].Title)
	return nil
}

func (r *rehearsal) notes(ctx context.Context, item int, notes string) error {
	return r.clerk.api.call(ctx, "PATCH", r.meetingPath(fmt.Sprintf("/items/%d", r.items[item].ID)),
		map[string]any{"notes": notes}, "", nil)
}

// agenda takes each item in turn.
func (r *rehearsal) agenda(ctx context.Context) error {
	p := r.people
	// 1. Apologies.
	if err := r.step(ctx, 0); err != nil {
		return err
	}
	// 2. Declarations of interest.
	if err := r.step(ctx, 1); err != nil {
		return err
	}
	for _, d := range []struct {
		who       string
		item      int
		kind      agenda.DeclarationKind
		what      string
		withdraws bool
	}{
		{"tom.hughes", 3, agenda.Prejudicial, "His brother owns land adjoining the application site.", true},
		{"nia.evans", 4, agenda.Personal, "She is a trustee of a housing association.", false},
	} {
		if err := p[d.who].api.call(ctx, "POST", r.meetingPath("/declarations"), agenda.DeclarationInput{
			UserID: p[d.who].id, ItemID: r.items[d.item].ID, Kind: d.kind, Description: d.what, Withdraws: d.withdraws}, "", nil); err != nil {
			return fmt.Errorf("%s declares an interest: %w", p[d.who].name, err)
		}
	}
	// 3. Minutes of the last meeting: a show of hands, counted, not named.
	if err := r.step(ctx, 2); err != nil {
		return err
	}
	if _, err := r.vote(ctx, plannedVote{item: 2, question: "That the minutes of the meeting held on 15 October be approved as a correct record.",
		choices: all(r.voters(), "for")}); err != nil {
		return err
	}
	// 4. The planning application: public speakers, a motion, a recorded vote; the member
	// with a prejudicial interest withdraws.
	if err := r.step(ctx, 3); err != nil {
		return err
	}
	if err := r.notes(ctx, 3, "The Head of Planning presented the report. Ann Pritchard spoke against the application "+
		"on behalf of the Heol y Felin Residents' Group; Huw Bevan, the applicant, spoke in support."); err != nil {
		return err
	}
	motion, err := r.motion(ctx, 3, 0, "That planning permission be granted subject to the conditions in the officer's report "+
		"and a section 106 agreement securing four affordable dwellings.", "gareth.jones", "sian.roberts")
	if err != nil {
		return err
	}
	if _, err := r.vote(ctx, plannedVote{item: 3, motion: motion.ID, recorded: true, choices: map[string]string{
		"eleri.davies": "for", "gareth.jones": "for", "sian.roberts": "for", "aled.price": "against",
		"nia.evans": "for", "rhys.morgan": "abstain", "catrin.lewis": "for", "mair.williams": "against",
	}}); err != nil {
		return err
	}
	// 5. Supplementary planning guidance: an amendment falls; the motion ties and the
	// chair's casting vote carries it.
	if err := r.step(ctx, 4); err != nil {
		return err
	}
	main, err := r.motion(ctx, 4, 0, "That the supplementary planning guidance on affordable housing be adopted.", "eleri.davies", "catrin.lewis")
	if err != nil {
		return err
	}
	amendment, err := r.motion(ctx, 4, main.ID, "To defer adoption for a further six weeks of consultation.", "tom.hughes", "aled.price")
	if err != nil {
		return err
	}
	if _, err := r.vote(ctx, plannedVote{item: 4, motion: amendment.ID, recorded: true, choices: map[string]string{
		"eleri.davies": "against", "gareth.jones": "against", "sian.roberts": "against", "tom.hughes": "for",
		"aled.price": "for", "nia.evans": "abstain", "rhys.morgan": "for", "catrin.lewis": "against", "mair.williams": "against",
	}}); err != nil {
		return err
	}
	if _, err := r.vote(ctx, plannedVote{item: 4, motion: main.ID, recorded: true, casting: "for", choices: map[string]string{
		"eleri.davies": "for", "gareth.jones": "for", "sian.roberts": "for", "tom.hughes": "against",
		"aled.price": "against", "nia.evans": "abstain", "rhys.morgan": "against", "catrin.lewis": "for", "mair.williams": "against",
	}}); err != nil {
		return err
	}
	// 6. The exempt item: moving onto it excludes the public.
	if err := r.step(ctx, 5); err != nil {
		return err
	}
	var m agenda.Meeting
	if err := r.clerk.api.call(ctx, "GET", r.meetingPath(""), nil, "", &m); err != nil {
		return err
	}
	if m.Session != agenda.PrivateSession {
		return fmt.Errorf("the meeting is in %s session on an exempt item", m.Session)
	}
	if err := r.notes(ctx, 5, "The committee received legal advice on the prospects of enforcement action."); err != nil {
		return err
	}
	enforce, err := r.motion(ctx, 5, 0, "That the Head of Planning be authorised to take enforcement action.", "sian.roberts", "rhys.morgan")
	if err != nil {
		return err
	}
	if _, err := r.vote(ctx, plannedVote{item: 5, motion: enforce.ID, choices: all(r.voters(), "for")}); err != nil {
		return err
	}
	return nil
}

func all(voters []*rehearser, choice string) map[string]string {
	out := map[string]string{}
	for _, v := range voters {
		out[v.email] = choice
	}
	return out
}

// motion moves a motion (or an amendment of amends) on an item.
func (r *rehearsal) motion(ctx context.Context, item int, amends int64, text, proposer, seconder string) (agenda.Motion, error) {
	var mo agenda.Motion
	err := r.clerk.api.call(ctx, "POST", r.meetingPath("/motions"), agenda.MotionInput{
		ItemID: r.items[item].ID, AmendsID: amends, Text: text,
		ProposerID: r.people[proposer].id, SeconderID: r.people[seconder].id}, "", &mo)
	return mo, err
}

// plannedVote is one poll and how each member votes in it.
type plannedVote struct {
	item     int
	motion   int64
	question string
	recorded bool
	choices  map[string]string // by email local part; those missing do not vote
	casting  string            // the chair's casting vote, if the poll ties
}

// vote opens a poll, has every member cast (over the live room, or by the clerk for a
// member in the room without a device), closes it and, on a tie, has the chair give
// the casting vote.
func (r *rehearsal) vote(ctx context.Context, v plannedVote) (voting.PollView, error) {
	var poll voting.PollView
	if err := r.chair.api.call(ctx, "POST", r.meetingPath("/polls"), map[string]any{
		"item_id": r.items[v.item].ID, "motion_id": v.motion, "question": v.question, "recorded": v.recorded,
	}, "", &poll); err != nil {
		return poll, fmt.Errorf("open a poll: %w", err)
	}
	pollPath := r.meetingPath(fmt.Sprintf("/polls/%d", poll.ID))
	r.tick(30 * time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, len(v.choices))
	for _, who := range r.voters() {
		choice, ok := v.choices[who.email]
		if !ok {
			continue
		}
		cast := func() {
			if err := r.cast(ctx, who, poll, choice, false); err != nil {
				errs <- fmt.Errorf("%s votes %s: %w", who.name, choice, err)
			}
		}
		if r.sequential || who.room == nil {
			cast()
			continue
		}
		wg.Go(cast)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return poll, err
	}
	r.tick(time.Minute)
	if err := r.chair.api.call(ctx, "POST", pollPath+"/close", nil, "", &poll); err != nil {
		return poll, fmt.Errorf("close the poll: %w", err)
	}
	r.tick(30 * time.Second)
	if poll.Status == voting.PollAwaitingCastingVote {
		if v.casting == "" {
			return poll, errors.New("the poll tied and no casting vote was planned")
		}
		if err := r.cast(ctx, r.chair, poll, v.casting, true); err != nil {
			return poll, fmt.Errorf("the chair's casting vote: %w", err)
		}
		if err := r.chair.api.call(ctx, "GET", pollPath, nil, "", &poll); err != nil {
			return poll, err
		}
	}
	if poll.Result == nil {
		return poll, fmt.Errorf("poll %d closed without a result", poll.ID)
	}
	res := poll.Result
	var counts []string
	for _, c := range res.Counts {
		counts = append(counts, fmt.Sprintf("%s %d", c.Option, c.Count))
	}
	extra := ""
	if res.CastingVote != "" {
		extra = ", the chair's casting vote " + res.CastingVote
	}
	r.sayf("  poll %d: %s (%s%s)", poll.ID, res.Outcome, strings.Join(counts, ", "), extra)
	return poll, nil
}

// cast signs who's ballot and sends it: over the live room when they are in it,
// otherwise the clerk records it as a vote given in the room, signed with the clerk's
// key. A casting vote goes over REST.
func (r *rehearsal) cast(ctx context.Context, who *rehearser, poll voting.PollView, choice string, casting bool) error {
	b := voting.Ballot{Meeting: poll.Meeting, Item: poll.Item, Poll: poll.ID, Voter: who.id, Choice: choice,
		Casting: casting, CastAt: r.now(), Challenge: poll.Challenge}
	if _, err := io.ReadFull(r.rand, b.Nonce[:]); err != nil {
		return err
	}
	pollPath := r.meetingPath(fmt.Sprintf("/polls/%d", poll.ID))
	switch {
	case casting:
		sb, err := voting.SignBallot(b, who.key)
		if err != nil {
			return err
		}
		return who.api.call(ctx, "POST", pollPath+"/casting-vote", sb, "", nil)
	case who.room == nil:
		b.Recorder = r.clerk.id
		sb, err := voting.SignBallot(b, r.clerk.key)
		if err != nil {
			return err
		}
		return r.clerk.api.call(ctx, "POST", pollPath+"/in-room", map[string]any{"ballots": []voting.SignedBallot{sb}}, "", nil)
	}
	sb, err := voting.SignBallot(b, who.key)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(sb)
	if err != nil {
		return err
	}
	who.mu.Lock()
	defer who.mu.Unlock()
	who.n++
	id := fmt.Sprintf("cast-%d", who.n)
	mark := who.room.Mark()
	if err := who.room.Send(signaling.ClientMessage{Type: signaling.MsgCast, ID: id, Ballot: raw}); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	m, _, err := who.room.Wait(wctx, mark, func(m signaling.ServerMessage) bool { return m.Ref == id })
	if err != nil {
		return fmt.Errorf("no receipt: %w", err)
	}
	if m.Type != signaling.MsgReceipt {
		return fmt.Errorf("refused: %s: %s", m.Code, m.Message)
	}
	return nil
}

// close closes the meeting and everyone leaves the room.
func (r *rehearsal) close(ctx context.Context) error {
	r.tick(5 * time.Minute)
	if err := r.chair.api.call(ctx, "POST", r.meetingPath("/close"), nil, "", nil); err != nil {
		return err
	}
	r.leave()
	r.sayf("meeting %d closed", r.meeting.ID)
	return nil
}

// minutes drafts the minutes, writes the clerk's decisions, has the chair approve
// them at the next meeting and the clerk publish them.
func (r *rehearsal) minutes(ctx context.Context) error {
	mp := r.meetingPath("/minutes")
	r.tick(time.Hour)
	if err := r.clerk.api.call(ctx, "POST", mp+"/draft", nil, "", nil); err != nil {
		return fmt.Errorf("draft: %w", err)
	}
	for item, decision := range map[int]string{
		0: "Apologies were received from Councillor David Thomas, for whom Councillor Mair Williams substituted.",
		3: "Planning permission granted subject to the conditions in the officer's report and a section 106 agreement.",
		4: "The supplementary planning guidance on affordable housing was adopted.",
		5: "The Head of Planning was authorised to take enforcement action.",
	} {
		if err := r.clerk.api.call(ctx, "PATCH", fmt.Sprintf("%s/items/%d", mp, r.items[item].ID),
			map[string]any{"decision": decision}, "", nil); err != nil {
			return fmt.Errorf("edit item %s: %w", r.items[item].Number, err)
		}
	}
	// Four weeks on, the chair signs them at the next meeting.
	if r.clock != nil {
		r.clock.set(r.next.StartsAt)
	}
	if err := r.chair.api.call(ctx, "POST", fmt.Sprintf("/api/v1/meetings/%d/start", r.next.ID), nil, "", nil); err != nil {
		return fmt.Errorf("start the next meeting: %w", err)
	}
	if err := r.chair.api.call(ctx, "POST", mp+"/approve", map[string]any{"at_meeting": r.next.ID}, "", nil); err != nil {
		return fmt.Errorf("approve: %w", err)
	}
	r.tick(24 * time.Hour)
	if err := r.clerk.api.call(ctx, "POST", mp+"/publish", nil, "", nil); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	r.sayf("minutes approved at meeting %d and published", r.next.ID)
	return nil
}

// exportFiles are the exports written to --out: the file's name and where it comes
// from. The public's versions are the ones published; the record is the full one.
var exportFiles = []struct{ name, path string }{
	{"minutes.html", "/minutes.html"},
	{"minutes.md", "/minutes.md"},
	{"minutes.pdf", "/minutes.pdf"},
	{"votes.csv", "/minutes.csv"},
	{"votes.popolo.json", "/minutes.popolo.json"},
	{"record.json", "/minutes.record.json"},
}

// export writes every export of the published minutes to the output directory, as
// the clerk has them (exempt business in full), and in public/ as the public has
// them.
func (r *rehearsal) export(ctx context.Context) error {
	public := &client{base: r.clerk.api.base, http: r.clerk.api.http}
	if err := os.MkdirAll(filepath.Join(r.out, "public"), 0o755); err != nil {
		return err
	}
	for _, f := range exportFiles {
		for _, as := range []struct {
			c   *client
			dir string
		}{{r.clerk.api, r.out}, {public, filepath.Join(r.out, "public")}} {
			data, err := as.c.get(ctx, r.meetingPath(f.path))
			if err != nil {
				return fmt.Errorf("%s: %w", f.name, err)
			}
			if err := os.WriteFile(filepath.Join(as.dir, f.name), data, 0o644); err != nil {
				return err
			}
		}
	}
	ics, err := r.clerk.api.get(ctx, fmt.Sprintf("/api/v1/councils/%d/meetings.ics", r.council.ID))
	if err != nil {
		return fmt.Errorf("meetings.ics: %w", err)
	}
	if err := os.WriteFile(filepath.Join(r.out, "meetings.ics"), ics, 0o644); err != nil {
		return err
	}
	r.sayf("meeting %d: exports written to %s; check the record with: chamber verify %s", r.meeting.ID, r.out,
		filepath.Join(r.out, "record.json"))
	return nil
}

// publishSynthetic publishes synthetic audio and video on room until ctx ends.
func publishSynthetic(ctx context.Context, room *rtcclient.Client) error {
	audio, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "chair")
	if err != nil {
		return err
	}
	video, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", "chair")
	if err != nil {
		return err
	}
	if _, err := room.Publish(ctx, audio, video); err != nil {
		return err
	}
	go rtcclient.Synth{Kind: webrtc.RTPCodecTypeAudio}.Run(ctx, audio)
	go rtcclient.Synth{Kind: webrtc.RTPCodecTypeVideo, Bitrate: 500_000}.Run(ctx, video)
	return nil
}
