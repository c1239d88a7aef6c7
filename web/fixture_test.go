package web_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/migrations"
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
	return w
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
	for _, cl := range []**client{&c.admin, &c.clerk, &c.chair, &c.member, &c.sub, &c.outsider} {
		moved := **cl
		moved.e = c.env
		*cl = &moved
	}
	return &c
}
