package web_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/voting"
	"github.com/chamber/chamber/web"
)

// world is a council set up through the API: a clerk, a planning committee with a
// chair, a member and a substitute, a published meeting with an agenda and some
// records, a second meeting in progress, and an outsider from another council.
type world struct {
	*env
	admin, clerk, chair, member, sub, outsider *client

	council, council2                               int64
	clerkID, chairID, memberID, subID, outsiderID   int64
	committee                                       int64
	meeting                                         int64 // published, scheduled
	standardItem, planningItem, exemptItem, speaker int64
	live, liveItem, liveItem2, liveItem3, motion    int64 // live is in progress at liveItem2
	adjourned                                       int64
	closed, closedSpeaker                           int64 // a closed meeting and a speaker registered on it
	inviteToken                                     string
	clerkTokenID                                    int64

	// Signed votes: a finance committee of three voting members (the chair, the member
	// and a third councillor, the voter), each with an approved device key, as has the
	// clerk; the member also has a key awaiting approval. Three of its meetings are in
	// progress with everyone in the room: one with a poll open, one whose poll closed
	// on an equality and awaits the chair's casting vote, one with no poll.
	voter                                    *client
	voterID, finance                         int64
	votingMeeting, tiedMeeting, quietMeeting int64
	openPoll, tiedPoll                       voting.PollView
	keys                                     map[int64]ed25519.PrivateKey // by user
	pendingKey                               voting.KeyID

	// Minutes: the closed meeting's are a draft; two earlier closed meetings of the
	// planning committee have minutes approved (at the adjourned meeting), and
	// published.
	closedItem                        int64
	approvedMeeting, publishedMeeting int64
	publishedItem                     int64
	// Webhooks of the council: an active one and an inactive one, each with
	// deliveries, all failed.
	hook, idleHook         int64
	delivery, idleDelivery string
}

type idOnly struct {
	ID int64 `json:"id"`
}

func (c *client) create(path string, body any) int64 {
	c.e.t.Helper()
	var v idOnly
	c.do("POST", path, body).want(http.StatusCreated).into(&v)
	return v.ID
}

// addPerson adds a person and returns their id and invitation token.
func (w *world) addPerson(council int64, name, email, role string) (int64, string) {
	w.t.Helper()
	var p web.PersonResponse
	w.clerkOrAdmin(council).do("POST", path("/api/v1/councils/%d/people", council),
		map[string]string{"name": name, "email": email, "role": role}).want(http.StatusCreated).into(&p)
	_, token, _ := strings.Cut(p.InvitationURL, "/invite/")
	return p.UserID, token
}

func (w *world) clerkOrAdmin(council int64) *client {
	if w.clerk != nil && council == w.council {
		return w.clerk
	}
	return w.admin
}

const agendaCSV = `number,title,description,kind,exempt_paragraph,papers
1,Apologies for absence,,,,
2,"24/0001/FUL Land at Mill Lane: 40 homes",Officer recommends approval,planning,,Report <https://example.org/report.pdf>
3,Sale of the depot,Terms of the sale,exempt,3,
`

func newWorld(t *testing.T, e *env) *world {
	t.Helper()
	w := &world{env: e}
	ctx := context.Background()
	admin, err := e.svc.CreateAdmin(ctx, "admin@example.org", "Ada Admin", "admin password 1")
	if err != nil {
		t.Fatalf("create admin: %v", err)
	}
	w.admin = e.tokenFor(admin.ID)
	w.council = w.admin.create("/api/v1/councils", map[string]string{"name": "North Shire Council"})
	w.council2 = w.admin.create("/api/v1/councils", map[string]string{"name": "South Shire Council"})

	w.clerkID, _ = w.addPerson(w.council, "Cleo Clerk", "clerk@north.example", "clerk")
	w.clerk = e.tokenFor(w.clerkID)
	w.chairID, _ = w.addPerson(w.council, "Cllr Chair", "chair@north.example", "councillor")
	var memberToken string
	w.memberID, memberToken = w.addPerson(w.council, "Cllr Member", "member@north.example", "councillor")
	w.subID, _ = w.addPerson(w.council, "Cllr Sub", "sub@north.example", "councillor")
	_, w.inviteToken = w.addPerson(w.council, "Cllr Pending", "pending@north.example", "councillor")
	w.outsiderID, _ = w.addPerson(w.council2, "Cllr Outsider", "out@south.example", "councillor")
	e.public().do("POST", "/api/v1/invitations/"+memberToken+"/accept", map[string]string{"password": "member password"}).want(http.StatusOK)

	w.committee = w.clerk.create(path("/api/v1/councils/%d/committees", w.council), map[string]string{"name": "Planning Committee", "profile": "wales"})
	for id, role := range map[int64]string{w.chairID: "chair", w.memberID: "member", w.subID: "substitute"} {
		w.clerk.do("PUT", path("/api/v1/committees/%d/members/%d", w.committee, id), map[string]string{"role": role}).want(http.StatusOK)
	}
	w.chair, w.member, w.sub, w.outsider = e.tokenFor(w.chairID), e.tokenFor(w.memberID), e.tokenFor(w.subID), e.tokenFor(w.outsiderID)

	w.meeting = w.clerk.create("/api/v1/meetings", map[string]any{"committee_id": w.committee, "title": "Planning Committee",
		"starts_at": "2026-06-10T18:30:00Z", "location": "Council Chamber", "published": true})
	var imp agenda.ImportResult
	w.clerk.send(request{method: "POST", path: path("/api/v1/meetings/%d/agenda/import", w.meeting), body: []byte(agendaCSV), contentType: "text/csv"}).
		want(http.StatusOK).into(&imp)
	if len(imp.Items) != 3 {
		t.Fatalf("import: %d items, want 3", len(imp.Items))
	}
	w.standardItem, w.planningItem, w.exemptItem = imp.Items[0].ID, imp.Items[1].ID, imp.Items[2].ID
	w.clerk.do("POST", path("/api/v1/meetings/%d/apologies", w.meeting), map[string]any{"user_id": w.memberID, "reason": "On holiday"}).want(http.StatusCreated)
	w.clerk.do("POST", path("/api/v1/meetings/%d/substitutions", w.meeting), map[string]any{"substitute_id": w.subID, "member_id": w.memberID}).want(http.StatusCreated)
	w.speaker = w.clerk.create(path("/api/v1/meetings/%d/speakers", w.meeting), map[string]any{"item_id": w.planningItem, "name": "Olive Objector", "capacity": "objector"})

	w.live = w.clerk.create("/api/v1/meetings", map[string]any{"committee_id": w.committee, "title": "Extraordinary meeting",
		"starts_at": "2026-06-01T09:00:00Z", "published": true})
	w.liveItem = w.clerk.create(path("/api/v1/meetings/%d/items", w.live), map[string]any{"title": "Urgent business"})
	w.liveItem2 = w.clerk.create(path("/api/v1/meetings/%d/items", w.live), map[string]any{"title": "Highways report"})
	w.liveItem3 = w.clerk.create(path("/api/v1/meetings/%d/items", w.live), map[string]any{"title": "Any other business"})
	w.chair.do("POST", path("/api/v1/meetings/%d/start", w.live), nil).want(http.StatusOK)
	w.chair.do("POST", path("/api/v1/meetings/%d/next", w.live), nil).want(http.StatusOK)
	w.chair.do("POST", path("/api/v1/meetings/%d/next", w.live), nil).want(http.StatusOK)
	w.clerk.do("POST", path("/api/v1/meetings/%d/attendance", w.live), map[string]any{"user_id": w.chairID, "mode": "in_room"}).want(http.StatusCreated)
	w.motion = w.chair.create(path("/api/v1/meetings/%d/motions", w.live), map[string]any{"item_id": w.liveItem, "text": "That the urgent business be noted.", "proposer_id": w.chairID})

	w.adjourned = w.clerk.create("/api/v1/meetings", map[string]any{"committee_id": w.committee, "title": "Adjourned meeting",
		"starts_at": "2026-05-20T18:00:00Z", "published": true})
	w.chair.do("POST", path("/api/v1/meetings/%d/start", w.adjourned), nil).want(http.StatusOK)
	w.chair.do("POST", path("/api/v1/meetings/%d/adjourn", w.adjourned), nil).want(http.StatusOK)

	w.closed = w.clerk.create("/api/v1/meetings", map[string]any{"committee_id": w.committee, "title": "Last month's meeting",
		"starts_at": "2026-05-01T18:00:00Z", "published": true})
	closedItem := w.clerk.create(path("/api/v1/meetings/%d/items", w.closed), map[string]any{"title": "Land at Mill Lane", "kind": "planning"})
	w.closedSpeaker = w.clerk.create(path("/api/v1/meetings/%d/speakers", w.closed), map[string]any{"item_id": closedItem, "name": "Ann Applicant", "capacity": "applicant"})
	w.chair.do("POST", path("/api/v1/meetings/%d/start", w.closed), nil).want(http.StatusOK)
	w.chair.do("POST", path("/api/v1/meetings/%d/close", w.closed), nil).want(http.StatusOK)

	var tok web.TokenResponse
	w.clerk.do("POST", "/api/v1/me/tokens", map[string]any{"name": "spare"}).want(http.StatusCreated).into(&tok)
	w.clerkTokenID = tok.APIToken.ID

	w.setUpVotes()
	w.setUpMinutes()
	w.setUpWebhooks()
	return w
}

// setUpVotes builds the world's signed votes through the API.
func (w *world) setUpVotes() {
	w.t.Helper()
	w.voterID, _ = w.addPerson(w.council, "Cllr Voter", "voter@north.example", "councillor")
	w.voter = w.tokenFor(w.voterID)
	w.finance = w.clerk.create(path("/api/v1/councils/%d/committees", w.council), map[string]string{"name": "Finance Committee", "profile": "wales"})
	for id, role := range map[int64]string{w.chairID: "chair", w.memberID: "member", w.voterID: "member"} {
		w.clerk.do("PUT", path("/api/v1/committees/%d/members/%d", w.finance, id), map[string]string{"role": role}).want(http.StatusOK)
	}
	// Roles changed since the tokens were made: the clients are fine, as roles are read
	// on every request.
	w.keys = map[int64]ed25519.PrivateKey{}
	for _, p := range []struct {
		id      int64
		c       *client
		byClerk bool
	}{{w.chairID, w.chair, true}, {w.memberID, w.member, true}, {w.voterID, w.voter, true}, {w.clerkID, w.clerk, false}} {
		priv, k := w.enrol(p.c, "laptop")
		approver := w.clerk
		if !p.byClerk {
			approver = w.admin // a clerk's own key is approved by someone else
		}
		approver.do("POST", "/api/v1/keys/"+string(k.ID)+"/approve", nil).want(http.StatusOK)
		w.keys[p.id] = priv
	}
	_, pending := w.enrol(w.member, "phone")
	w.pendingKey = pending.ID

	w.votingMeeting = w.financeMeeting("Finance Committee")
	w.tiedMeeting = w.financeMeeting("Finance Committee (budget)")
	w.quietMeeting = w.financeMeeting("Finance Committee (audit)")
	w.chair.do("POST", path("/api/v1/meetings/%d/polls", w.votingMeeting), map[string]any{"question": "That the accounts be approved."}).
		want(http.StatusCreated).into(&w.openPoll)
	w.chair.do("POST", path("/api/v1/meetings/%d/polls", w.tiedMeeting), map[string]any{"recorded": true}).
		want(http.StatusCreated).into(&w.tiedPoll)
	w.chair.do("POST", w.ballotsPath(w.tiedPoll), w.ballot(w.tiedPoll, w.chairID, "for", nil)).want(http.StatusCreated)
	w.member.do("POST", w.ballotsPath(w.tiedPoll), w.ballot(w.tiedPoll, w.memberID, "against", nil)).want(http.StatusCreated)
	w.chair.do("POST", path("/api/v1/meetings/%d/polls/%d/close", w.tiedMeeting, w.tiedPoll.ID), nil).want(http.StatusOK).into(&w.tiedPoll)
	if w.tiedPoll.Status != voting.PollAwaitingCastingVote {
		w.t.Fatalf("the tied poll is %s, want %s", w.tiedPoll.Status, voting.PollAwaitingCastingVote)
	}
}

// enrol makes a device key and enrols it for the client's user.
func (w *world) enrol(c *client, label string) (ed25519.PrivateKey, voting.Key) {
	w.t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		w.t.Fatal(err)
	}
	var k voting.Key
	c.do("POST", "/api/v1/me/keys", map[string]string{"public_key": voting.EncodePublicKey(pub), "label": label}).
		want(http.StatusCreated).into(&k)
	return priv, k
}

// financeMeeting schedules a published meeting of the finance committee with one
// item, starts it at that item and records the three members in the room.
func (w *world) financeMeeting(title string) int64 {
	w.t.Helper()
	id := w.clerk.create("/api/v1/meetings", map[string]any{"committee_id": w.finance, "title": title,
		"starts_at": "2026-06-01T09:30:00Z", "published": true})
	w.clerk.create(path("/api/v1/meetings/%d/items", id), map[string]any{"number": "1", "title": "Statement of accounts"})
	w.chair.do("POST", path("/api/v1/meetings/%d/start", id), nil).want(http.StatusOK)
	w.chair.do("POST", path("/api/v1/meetings/%d/next", id), nil).want(http.StatusOK)
	for _, u := range []int64{w.chairID, w.memberID, w.voterID} {
		w.clerk.do("POST", path("/api/v1/meetings/%d/attendance", id), map[string]any{"user_id": u, "mode": "in_room"}).want(http.StatusCreated)
	}
	return id
}

func (w *world) ballotsPath(p voting.PollView) string {
	return path("/api/v1/meetings/%d/polls/%d/ballots", p.Meeting, p.ID)
}

// ballot is a ballot in poll p for voter, signed with the key of its signer (the
// voter, or the recorder when edit sets one). edit may change the ballot first.
func (w *world) ballot(p voting.PollView, voter int64, choice string, edit func(*voting.Ballot)) voting.SignedBallot {
	w.t.Helper()
	b := voting.Ballot{Meeting: p.Meeting, Item: p.Item, Poll: p.ID, Voter: voter, Choice: choice,
		CastAt: w.clock.Now(), Challenge: p.Challenge}
	rand.Read(b.Nonce[:])
	if edit != nil {
		edit(&b)
	}
	priv := w.keys[b.Signer()]
	if priv == nil {
		_, priv, _ = ed25519.GenerateKey(rand.Reader)
	}
	sb, err := voting.SignBallot(b, priv)
	if err != nil {
		w.t.Fatal(err)
	}
	return sb
}

// jsonBody encodes v for a write case.
func jsonBody(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// clone copies a world on SQLite into a fresh database and server, with the same ids
// and credentials: cheaper than building it again.
func (w *world) clone(t *testing.T) *world {
	t.Helper()
	if w.db.Dialect != migrations.SQLite {
		t.Fatalf("clone: only SQLite worlds can be cloned")
	}
	dst := filepath.Join(t.TempDir(), "chamber.db")
	if _, err := w.db.Exec(`VACUUM INTO ?`, dst); err != nil {
		t.Fatalf("clone database: %v", err)
	}
	db, err := migrations.Open(context.Background(), migrations.Config{SQLitePath: dst})
	if err != nil {
		t.Fatalf("open cloned database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	c := *w
	c.env = newEnv(t, db)
	for _, cl := range []**client{&c.admin, &c.clerk, &c.chair, &c.member, &c.sub, &c.outsider, &c.voter} {
		moved := **cl
		moved.e = c.env
		*cl = &moved
	}
	return &c
}
