package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/web"
)

// TestClerkRunsAMeeting follows the spine through the HTTP API: the admin creates a
// council, the clerk (invited, then signed in with a browser session) adds people and a
// committee, schedules a meeting, imports its agenda from CSV, publishes it and runs it
// through start, next (into private session on the exempt item) and close. The public
// reads the published meeting throughout and never sees exempt detail or private events.
func TestClerkRunsAMeeting(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		if _, err := e.svc.CreateAdmin(ctx, "admin@example.org", "Ada Admin", "admin password 1"); err != nil {
			t.Fatal(err)
		}
		public := e.public()

		// The admin signs in for a bearer token, as the command line does.
		var lr web.LoginResponse
		public.do("POST", "/api/v1/auth/login", map[string]any{"email": "admin@example.org", "password": "admin password 1",
			"mode": "token", "token_name": "cli"}).want(http.StatusOK).into(&lr)
		if !strings.HasPrefix(lr.Token, agenda.APITokenPrefix) || lr.APIToken == nil || lr.APIToken.Name != "cli" || lr.CSRFToken != "" {
			t.Fatalf("token login: %+v", lr)
		}
		admin := e.bearer(lr.Token)
		var council agenda.Council
		admin.do("POST", "/api/v1/councils", map[string]string{"name": "North Shire Council"}).want(http.StatusCreated).into(&council)
		if council.Slug != "north-shire-council" {
			t.Errorf("council slug %q", council.Slug)
		}

		// The clerk is invited, sets a password and signs in with a browser session.
		var clerkP web.PersonResponse
		admin.do("POST", path("/api/v1/councils/%d/people", council.ID), map[string]string{"name": "Cleo Clerk", "email": "clerk@north.example", "role": "clerk"}).
			want(http.StatusCreated).into(&clerkP)
		token, ok := strings.CutPrefix(clerkP.InvitationURL, publicURL+"/invite/")
		if !ok || token == "" {
			t.Fatalf("invitation URL %q", clerkP.InvitationURL)
		}
		var inv web.InvitationResponse
		public.get("/api/v1/invitations/" + token).want(http.StatusOK).into(&inv)
		if inv.Name != "Cleo Clerk" || inv.Email != "clerk@north.example" {
			t.Errorf("invitation %+v", inv)
		}
		public.do("POST", "/api/v1/invitations/"+token+"/accept", map[string]string{"password": "clerk password"}).want(http.StatusOK)
		clerk := e.login("clerk@north.example", "clerk password")
		var me web.MeResponse
		clerk.get("/api/v1/me").want(http.StatusOK).into(&me)
		if me.Name != "Cleo Clerk" || me.Councils[council.ID] != agenda.RoleClerk || me.CSRFToken != clerk.csrf {
			t.Errorf("me: %+v", me)
		}

		// People and a committee.
		ids := map[string]int64{}
		for _, p := range []struct{ name, email, role string }{
			{"Cllr Chair", "chair@north.example", "councillor"},
			{"Cllr Member", "member@north.example", "councillor"},
			{"Olive Officer", "officer@north.example", "officer"},
		} {
			var pr web.PersonResponse
			clerk.do("POST", path("/api/v1/councils/%d/people", council.ID), map[string]string{"name": p.name, "email": p.email, "role": p.role}).
				want(http.StatusCreated).into(&pr)
			if !strings.HasPrefix(pr.InvitationURL, publicURL+"/invite/chl_") {
				t.Errorf("%s: invitation URL %q", p.name, pr.InvitationURL)
			}
			ids[p.name] = pr.UserID
		}
		var people []agenda.Person
		public.get(path("/api/v1/councils/%d/people", council.ID)).want(http.StatusOK).into(&people)
		if len(people) != 2 {
			t.Errorf("the public sees %d people, want the 2 councillors", len(people))
		}
		for _, p := range people {
			if p.Email != "" {
				t.Errorf("the public sees %s's email address", p.Name)
			}
		}
		var profiles []agenda.Profile
		public.get("/api/v1/profiles").want(http.StatusOK).into(&profiles)
		if len(profiles) < 5 {
			t.Errorf("%d profiles", len(profiles))
		}
		var cm agenda.Committee
		clerk.do("POST", path("/api/v1/councils/%d/committees", council.ID), map[string]string{"name": "Planning Committee", "profile": "wales"}).
			want(http.StatusCreated).into(&cm)
		if !cm.Profile.RemoteMayVote {
			t.Errorf("wales profile: remote members may not vote: %+v", cm.Profile)
		}
		clerk.do("PUT", path("/api/v1/committees/%d/members/%d", cm.ID, ids["Cllr Chair"]), map[string]string{"role": "chair"}).want(http.StatusOK)
		clerk.do("PUT", path("/api/v1/committees/%d/members/%d", cm.ID, ids["Cllr Member"]), map[string]string{"role": "member"}).want(http.StatusOK)
		var members []agenda.Membership
		public.get(path("/api/v1/committees/%d/members", cm.ID)).want(http.StatusOK).into(&members)
		if len(members) != 2 {
			t.Errorf("%d members, want 2", len(members))
		}

		// A meeting, not yet published: the public cannot see it.
		var m agenda.Meeting
		clerk.do("POST", "/api/v1/meetings", map[string]any{"committee_id": cm.ID, "title": "Planning Committee",
			"starts_at": "2026-06-10T18:30:00Z", "location": "Council Chamber"}).want(http.StatusCreated).into(&m)
		var page agenda.Page[agenda.Meeting]
		public.get("/api/v1/meetings").want(http.StatusOK).into(&page)
		if len(page.Items) != 0 {
			t.Errorf("the public sees %d unpublished meetings", len(page.Items))
		}
		public.get(path("/api/v1/meetings/%d", m.ID)).problem(http.StatusNotFound, "not-found")

		// The agenda, from CSV.
		var imp agenda.ImportResult
		clerk.send(request{method: "POST", path: path("/api/v1/meetings/%d/agenda/import", m.ID), body: []byte(agendaCSV), contentType: "text/csv; charset=utf-8"}).
			want(http.StatusOK).into(&imp)
		if len(imp.Items) != 3 || imp.Items[2].Kind != agenda.Exempt || imp.Items[2].ExemptParagraph != 3 || !imp.Items[1].WholeItemPresence {
			t.Fatalf("import: %+v", imp.Items)
		}
		exempt := imp.Items[2]
		// A JSON import that is wrong names each row and field, and adds nothing.
		for _, tc := range []struct {
			body     string
			wantRows map[int]string
		}{
			{`{"items":[{"title":"Fine"},{"title":""},{"title":"Secret","kind":"exempt"}]}`, map[int]string{2: "title", 3: "exempt_paragraph"}},
			{`[{"title":"Fine"},{"title":3},{"title":"x","colour":"red"}]`, map[int]string{2: "title", 3: "colour"}},
		} {
			p := clerk.send(request{method: "POST", path: path("/api/v1/meetings/%d/agenda/import", m.ID), body: []byte(tc.body), contentType: "application/json"}).
				problem(http.StatusUnprocessableEntity, "validation")
			for _, fe := range p.Errors {
				if tc.wantRows[fe.Row] != fe.Field {
					t.Errorf("import %s: error %+v not expected", tc.body, fe)
				}
				delete(tc.wantRows, fe.Row)
			}
			if len(tc.wantRows) != 0 {
				t.Errorf("import %s: errors %+v: missing rows %v", tc.body, p.Errors, tc.wantRows)
			}
		}
		var items []agenda.Item
		clerk.get(path("/api/v1/meetings/%d/items", m.ID)).want(http.StatusOK).into(&items)
		if len(items) != 3 {
			t.Errorf("after refused imports the agenda has %d items, want 3", len(items))
		}

		clerk.do("PATCH", path("/api/v1/meetings/%d", m.ID), map[string]any{"published": true}).want(http.StatusOK)
		public.get("/api/v1/meetings").want(http.StatusOK).into(&page)
		if len(page.Items) != 1 || page.Items[0].ID != m.ID {
			t.Fatalf("public meetings: %+v", page)
		}

		// Filters and pagination.
		var m2 agenda.Meeting
		clerk.do("POST", "/api/v1/meetings", map[string]any{"committee_id": cm.ID, "title": "Planning Committee (July)",
			"starts_at": "2026-07-08T18:30:00Z", "published": true}).want(http.StatusCreated).into(&m2)
		public.get("/api/v1/meetings?limit=1").want(http.StatusOK).into(&page)
		if len(page.Items) != 1 || page.Items[0].ID != m.ID || page.Next == "" {
			t.Fatalf("first page: %+v", page)
		}
		var page2 agenda.Page[agenda.Meeting]
		public.get("/api/v1/meetings" + query(url.Values{"limit": {"1"}, "cursor": {page.Next}})).want(http.StatusOK).into(&page2)
		if len(page2.Items) != 1 || page2.Items[0].ID != m2.ID || page2.Next != "" {
			t.Fatalf("second page: %+v", page2)
		}
		public.get(path("/api/v1/meetings?committee=%d&council=%d&from=2026-07-01", cm.ID, council.ID)).want(http.StatusOK).into(&page)
		if len(page.Items) != 1 || page.Items[0].ID != m2.ID {
			t.Errorf("from=2026-07-01: %+v", page.Items)
		}
		public.get("/api/v1/meetings?status=in_progress").want(http.StatusOK).into(&page)
		if len(page.Items) != 0 {
			t.Errorf("status=in_progress: %+v", page.Items)
		}
		bad := public.get("/api/v1/meetings?limit=abc&status=dancing&from=yesterday&cursor=zzz").problem(http.StatusUnprocessableEntity, "validation")
		if len(bad.Errors) < 2 {
			t.Errorf("bad query: %+v", bad.Errors)
		}

		// Run it.
		run := func(action string, body any) agenda.Meeting {
			t.Helper()
			var out agenda.Meeting
			clerk.do("POST", path("/api/v1/meetings/%d/%s", m.ID, action), body).want(http.StatusOK).into(&out)
			return out
		}
		if got := run("start", nil); got.Status != agenda.InProgress {
			t.Fatalf("after start: %s", got.Status)
		}
		clerk.do("POST", path("/api/v1/meetings/%d/attendance", m.ID), map[string]any{"user_id": ids["Cllr Chair"], "mode": "in_room"}).want(http.StatusCreated)
		clerk.do("POST", path("/api/v1/meetings/%d/attendance", m.ID), map[string]any{"user_id": ids["Cllr Member"], "mode": "remote_voting"}).want(http.StatusCreated)
		run("next", nil)
		run("next", nil)
		got := run("next", nil)
		if got.CurrentItemID != exempt.ID || got.Session != agenda.PrivateSession || got.PrivateParagraph != 3 {
			t.Fatalf("on the exempt item: %+v", got)
		}
		clerk.do("POST", path("/api/v1/meetings/%d/declarations", m.ID), map[string]any{"user_id": ids["Cllr Member"], "item_id": exempt.ID,
			"kind": "prejudicial", "description": "Related to the buyer", "withdraws": true}).want(http.StatusCreated)
		clerk.do("POST", path("/api/v1/meetings/%d/motions", m.ID), map[string]any{"item_id": exempt.ID, "text": "That the depot be sold to the buyer named in the report.",
			"proposer_id": ids["Cllr Chair"]}).want(http.StatusCreated)

		// While private, the public sees the meeting is private and the exempt item's
		// title only.
		var pub agenda.Meeting
		public.get(path("/api/v1/meetings/%d", m.ID)).want(http.StatusOK).into(&pub)
		if pub.Session != agenda.PrivateSession {
			t.Errorf("public sees session %s", pub.Session)
		}
		var it agenda.Item
		public.get(path("/api/v1/meetings/%d/items/%d", m.ID, exempt.ID)).want(http.StatusOK).into(&it)
		if !it.Redacted || it.Description != "" || it.Title != "Sale of the depot" {
			t.Errorf("public exempt item: %+v", it)
		}
		var motions []agenda.Motion
		public.get(path("/api/v1/meetings/%d/motions", m.ID)).want(http.StatusOK).into(&motions)
		if len(motions) != 0 {
			t.Errorf("the public sees motions on the exempt item: %+v", motions)
		}

		if got := run("close", nil); got.Status != agenda.Closed || got.Session != agenda.PublicSession || got.CurrentItemID != 0 {
			t.Fatalf("after close: %+v", got)
		}
		clerk.do("POST", path("/api/v1/meetings/%d/next", m.ID), nil).problem(http.StatusConflict, "conflict")

		// The journal: the clerk sees every event; the public sees no private one and
		// nothing of the exempt item's description.
		var all, seen []agenda.Event
		clerk.get(path("/api/v1/meetings/%d/events", m.ID)).want(http.StatusOK).into(&all)
		public.get(path("/api/v1/meetings/%d/events", m.ID)).want(http.StatusOK).into(&seen)
		private := 0
		for _, ev := range all {
			if ev.Private {
				private++
			}
		}
		if private == 0 || len(seen) != len(all)-private {
			t.Errorf("clerk sees %d events (%d private), public %d", len(all), private, len(seen))
		}
		for _, ev := range seen {
			if ev.Private || strings.Contains(string(ev.Data), "Terms of the sale") || strings.Contains(string(ev.Data), "buyer") {
				t.Errorf("public event %d %s: %s", ev.Seq, ev.Type, ev.Data)
			}
		}
		var after []agenda.Event
		public.get(path("/api/v1/meetings/%d/events?after=%d&limit=2", m.ID, seen[0].Seq)).want(http.StatusOK).into(&after)
		if len(after) != 2 || after[0].Seq <= seen[0].Seq {
			t.Errorf("events after %d: %+v", seen[0].Seq, after)
		}

		// The pages: the public list and agenda, exempt items title-only.
		home := public.get("/").want(http.StatusOK)
		if !strings.Contains(string(home.body), "Planning Committee (July)") || !strings.HasPrefix(home.header.Get("Content-Type"), "text/html") {
			t.Errorf("home page: %s", home.body)
		}
		mp := public.get(path("/meetings/%d", m.ID)).want(http.StatusOK)
		body := string(mp.body)
		if !strings.Contains(body, "Sale of the depot") || strings.Contains(body, "Terms of the sale") || !strings.Contains(body, "Officer recommends approval") {
			t.Errorf("meeting page shows exempt detail or hides public detail:\n%s", body)
		}
		if cp := clerk.get(path("/meetings/%d", m.ID)).want(http.StatusOK); !strings.Contains(string(cp.body), "Terms of the sale") {
			t.Errorf("the clerk's meeting page lacks the exempt item's detail")
		}

		// Signing out ends the session.
		clerk.do("POST", "/api/v1/auth/logout", nil).want(http.StatusNoContent)
		clerk.get("/api/v1/me").problem(http.StatusUnauthorized, "unauthenticated")
		e.checkLogs("admin password 1", "clerk password", token, lr.Token)
	})
}

// TestAPITokens lists and revokes tokens; a revoked token stops working at once.
func TestAPITokens(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, migrations.SQLite))
	w := newWorld(t, e)
	var tok web.TokenResponse
	w.clerk.do("POST", "/api/v1/me/tokens", map[string]any{"name": "laptop", "ttl_seconds": 3600}).want(http.StatusCreated).into(&tok)
	if tok.APIToken.ExpiresAt == nil {
		t.Errorf("token with ttl has no expiry: %+v", tok.APIToken)
	}
	laptop := e.bearer(tok.Token)
	var list []map[string]any
	laptop.get("/api/v1/me/tokens").want(http.StatusOK).into(&list)
	if len(list) != 3 { // the world's own, "spare" and "laptop"
		t.Errorf("%d tokens, want 3", len(list))
	}
	raw, _ := json.Marshal(list)
	if strings.Contains(string(raw), tok.Token) || strings.Contains(string(raw), "hash") {
		t.Errorf("token list reveals secrets: %s", raw)
	}
	w.clerk.do("DELETE", path("/api/v1/me/tokens/%d", tok.APIToken.ID), nil).want(http.StatusNoContent)
	laptop.get("/api/v1/me").problem(http.StatusUnauthorized, "unauthenticated")
	// A bad token is refused even where the public is welcome.
	laptop.get("/api/v1/meetings").problem(http.StatusUnauthorized, "unauthenticated")
	e.public().send(request{method: "GET", path: "/api/v1/me", header: http.Header{"Authorization": {"Basic eDp5"}}}).problem(http.StatusUnauthorized, "unauthenticated")
}
