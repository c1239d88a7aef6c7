package web_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/voting"
	"github.com/chamber/chamber/web"
)

// TestBallotAfterSignInEnds ends members' sign-ins behind the server's back, as another
// node of the deployment would: a browser session ended there, an API token revoked
// there. The server cast each member's first ballot under the credential it read, and
// holds it; their next ballot is refused as it commits, answered 401, recorded as a
// refusal for the clerk, and not stored. A token revoked through this server is
// refused at once.
func TestBallotAfterSignInEnds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		e := newEnv(t, db)
		w := newWorld(t, e)
		ctx := context.Background()
		var poll voting.PollView
		w.chair.do("POST", path("/api/v1/meetings/%d/polls", w.quietMeeting), map[string]any{"recorded": true}).
			want(http.StatusCreated).into(&poll)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, db.Rebind(q), args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		stored := func() int {
			t.Helper()
			var n int
			if err := db.GetContext(ctx, &n, db.Rebind(`SELECT COUNT(*) FROM ballots WHERE poll_id = ?`), poll.ID); err != nil {
				t.Fatal(err)
			}
			return n
		}
		endedAsItCommitted := func(p web.Problem) {
			t.Helper()
			if !strings.Contains(p.Detail, "sign in again") {
				t.Errorf("problem %+v: want the ballot refused as it committed, not its sender at the door", p)
			}
		}

		browser := e.login("member@north.example", "member password")
		browser.do("POST", w.ballotsPath(poll), w.ballot(poll, w.memberID, "for", nil)).want(http.StatusCreated)
		exec(`DELETE FROM sessions WHERE user_id = ?`, w.memberID)
		endedAsItCommitted(browser.do("POST", w.ballotsPath(poll), w.ballot(poll, w.memberID, "against", nil)).
			problem(http.StatusUnauthorized, "unauthenticated"))

		w.voter.do("POST", w.ballotsPath(poll), w.ballot(poll, w.voterID, "for", nil)).want(http.StatusCreated)
		exec(`DELETE FROM api_tokens WHERE user_id = ?`, w.voterID)
		endedAsItCommitted(w.voter.do("POST", w.ballotsPath(poll), w.ballot(poll, w.voterID, "against", nil)).
			problem(http.StatusUnauthorized, "unauthenticated"))
		if n := stored(); n != 2 {
			t.Errorf("%d ballots stored, want the first two", n)
		}
		// Read again, the credentials are gone: refused at the door.
		w.voter.do("POST", w.ballotsPath(poll), w.ballot(poll, w.voterID, "against", nil)).problem(http.StatusUnauthorized, "unauthenticated")
		browser.do("POST", w.ballotsPath(poll), w.ballot(poll, w.memberID, "against", nil)).problem(http.StatusUnauthorized, "unauthenticated")

		var refusals []voting.Refusal
		w.clerk.get(path("/api/v1/polls/%d/refusals", poll.ID)).want(http.StatusOK).into(&refusals)
		for _, voter := range []int64{w.memberID, w.voterID} {
			if !slices.ContainsFunc(refusals, func(r voting.Refusal) bool { return r.Voter == voter && r.Reason == "unauthenticated" }) {
				t.Errorf("refusals %+v: want %d's ballot refused as unauthenticated", refusals, voter)
			}
		}

		// A token revoked through this server is not held a moment longer.
		var tok web.TokenResponse
		w.chair.do("POST", "/api/v1/me/tokens", map[string]any{"name": "tablet"}).want(http.StatusCreated).into(&tok)
		tablet := e.bearer(tok.Token)
		tablet.do("POST", w.ballotsPath(poll), w.ballot(poll, w.chairID, "for", nil)).want(http.StatusCreated)
		w.chair.do("DELETE", path("/api/v1/me/tokens/%d", tok.APIToken.ID), nil).want(http.StatusNoContent)
		p := tablet.do("POST", w.ballotsPath(poll), w.ballot(poll, w.chairID, "against", nil)).problem(http.StatusUnauthorized, "unauthenticated")
		if strings.Contains(p.Detail, "sign in again") {
			t.Errorf("problem %+v: want the revoked token refused at the door", p)
		}
		if n := stored(); n != 3 {
			t.Errorf("%d ballots stored, want 3", n)
		}
	})
}
