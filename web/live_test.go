package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/web"
)

// speakerPass asks, as the clerk, for the pass of the published meeting's speaker.
func (w *world) speakerPass() string {
	var p web.SpeakerPassResponse
	w.clerk.do("POST", path("/api/v1/meetings/%d/speakers/%d/pass", w.meeting, w.speaker), nil).want(http.StatusCreated).into(&p)
	return p.Pass
}

// observerToken joins the live meeting as the public and returns the join token.
func (w *world) observerToken() string {
	var j web.JoinResponse
	w.public().do("POST", path("/api/v1/meetings/%d/join", w.live), nil).want(http.StatusOK).into(&j)
	return j.Token
}

// TestJoinRoom: each person gets the grants their role in the meeting gives, and only
// for meetings they may see that have not closed.
func TestJoinRoom(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		e := newEnv(t, db)
		w := newWorld(t, e)
		officerID, _ := w.addPerson(w.council, "Owen Officer", "owen@north.example", "officer")
		officer := e.tokenFor(officerID)
		join := path("/api/v1/meetings/%d/join", w.live)
		for _, tc := range []struct {
			name                   string
			c                      *client
			role                   string
			publish, admin, hidden bool
			userID                 int64
		}{
			{"clerk", w.clerk, signaling.RoleClerk, true, true, false, w.clerkID},
			{"chair", w.chair, signaling.RoleChair, true, true, false, w.chairID},
			{"member", w.member, signaling.RoleMember, true, false, false, w.memberID},
			{"substitute", w.sub, signaling.RoleMember, true, false, false, w.subID},
			{"officer", officer, signaling.RoleOfficer, true, false, false, officerID},
			{"councillor of another council", w.outsider, signaling.RoleObserver, false, false, true, 0},
			{"public", w.public(), signaling.RoleObserver, false, false, true, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var j web.JoinResponse
				tc.c.do("POST", join, nil).want(http.StatusOK).into(&j)
				g, err := e.tokens.Verify(j.Token)
				if err != nil {
					t.Fatalf("the join token does not verify: %v", err)
				}
				if g.MeetingID != w.live || g.Role != tc.role || g.Role != j.Role || g.CanPublish != tc.publish ||
					g.CanAdmin != tc.admin || g.Hidden != tc.hidden || !g.CanSubscribe || g.UserID != tc.userID || g.Identity != j.Identity {
					t.Errorf("grants: got %+v (response %+v), want role %s publish %v admin %v hidden %v user %d",
						g, j, tc.role, tc.publish, tc.admin, tc.hidden, tc.userID)
				}
				if j.URL != "ws://chamber.test/api/v1/rtc" {
					t.Errorf("url: got %q", j.URL)
				}
				if !j.ExpiresAt.After(e.clock.Now()) || j.ExpiresAt.After(e.clock.Now().Add(5*time.Minute)) {
					t.Errorf("expires_at %v: want a few minutes from now", j.ExpiresAt)
				}
			})
		}

		// An unpublished meeting is not there for the public; members of its committee
		// may join it.
		draft := w.clerk.create("/api/v1/meetings", map[string]any{"committee_id": w.committee, "title": "Draft",
			"starts_at": "2026-08-01T18:00:00Z"})
		w.public().do("POST", path("/api/v1/meetings/%d/join", draft), nil).problem(http.StatusNotFound, "not-found")
		w.outsider.do("POST", path("/api/v1/meetings/%d/join", draft), nil).problem(http.StatusNotFound, "not-found")
		w.member.do("POST", path("/api/v1/meetings/%d/join", draft), nil).want(http.StatusOK)
		// A closed meeting has no room.
		w.member.do("POST", path("/api/v1/meetings/%d/join", w.closed), nil).problem(http.StatusConflict, "conflict")
	})
}

// TestObserverJoinsAreLimited: one address may only join as the public so often;
// members are not limited.
func TestObserverJoinsAreLimited(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, migrations.SQLite))
	w := newWorld(t, e)
	join := path("/api/v1/meetings/%d/join", w.live)
	limited := 0
	for range 40 {
		r := w.public().do("POST", join, nil)
		if r.status == http.StatusTooManyRequests {
			limited++
			r.problem(http.StatusTooManyRequests, "rate-limited")
			if r.header.Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After")
			}
		}
	}
	if limited == 0 {
		t.Errorf("40 observer joins from one address in an instant: none refused")
	}
	for range 40 {
		w.member.do("POST", join, nil).want(http.StatusOK)
	}
	e.clock.Advance(10 * time.Minute)
	w.public().do("POST", join, nil).want(http.StatusOK)
}

// TestSpeakerPass: the clerk's pass admits a public speaker as a speaker on their item,
// for the meeting it was made for, until it expires.
func TestSpeakerPass(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, migrations.SQLite))
	w := newWorld(t, e)
	var p web.SpeakerPassResponse
	w.clerk.do("POST", path("/api/v1/meetings/%d/speakers/%d/pass", w.meeting, w.speaker), nil).want(http.StatusCreated).into(&p)
	if !strings.HasPrefix(p.URL, publicURL+"/speak/") {
		t.Errorf("url: got %q", p.URL)
	}
	w.member.do("POST", path("/api/v1/meetings/%d/speakers/%d/pass", w.meeting, w.speaker), nil).problem(http.StatusForbidden, "forbidden")

	var j web.JoinResponse
	w.public().do("POST", "/api/v1/rtc/speaker-join", map[string]string{"pass": p.Pass}).want(http.StatusOK).into(&j)
	g, err := e.tokens.Verify(j.Token)
	if err != nil {
		t.Fatal(err)
	}
	if g.Role != signaling.RoleSpeaker || g.CanPublish || g.SpeakerItemID != w.planningItem || g.MeetingID != w.meeting || g.Name != "Olive Objector" {
		t.Errorf("speaker grants: got %+v", g)
	}
	// The pass lasts until a day after the meeting starts.
	e.clock.Set(p.ExpiresAt.Add(time.Minute))
	w.public().do("POST", "/api/v1/rtc/speaker-join", map[string]string{"pass": p.Pass}).problem(http.StatusUnauthorized, "bad-credentials")
}

// TestJoinConsole: the meeting console joins the live room on a connection of its own,
// for those who run the meeting only: hidden, receive-only, with the chair's controls
// and an identity apart from the person's seat in the room, a new one for each console.
func TestJoinConsole(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		e := newEnv(t, db)
		w := newWorld(t, e)
		viceID, _ := w.addPerson(w.council, "Cllr Vice", "vice@north.example", "councillor")
		w.clerk.do("PUT", path("/api/v1/committees/%d/members/%d", w.committee, viceID), map[string]string{"role": "vice_chair"}).want(http.StatusOK)
		officerID, _ := w.addPerson(w.council, "Owen Officer", "owen@north.example", "officer")
		console := path("/api/v1/meetings/%d/console/join", w.live)
		for _, tc := range []struct {
			name   string
			c      *client
			role   string
			userID int64
		}{
			{"clerk", w.clerk, signaling.RoleClerk, w.clerkID},
			{"chair", w.chair, signaling.RoleChair, w.chairID},
			{"vice-chair", e.tokenFor(viceID), signaling.RoleChair, viceID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var seat, first, second web.JoinResponse
				tc.c.do("POST", path("/api/v1/meetings/%d/join", w.live), nil).want(http.StatusOK).into(&seat)
				tc.c.do("POST", console, nil).want(http.StatusOK).into(&first)
				tc.c.do("POST", console, nil).want(http.StatusOK).into(&second)
				for _, j := range []web.JoinResponse{first, second} {
					g, err := e.tokens.Verify(j.Token)
					if err != nil {
						t.Fatalf("the console's token does not verify: %v", err)
					}
					if !g.Console || !g.Hidden || g.CanPublish || !g.CanAdmin || !g.CanSubscribe || g.Role != tc.role ||
						g.UserID != tc.userID || g.MeetingID != w.live || g.Identity != j.Identity || j.Role != tc.role {
						t.Errorf("console grants: got %+v (response %+v), want a hidden, receive-only %s console of user %d",
							g, j, tc.role, tc.userID)
					}
					if want := fmt.Sprintf("user-%d/console-", tc.userID); !strings.HasPrefix(g.Identity, want) {
						t.Errorf("console identity %q, want it to start %q", g.Identity, want)
					}
				}
				if first.Identity == seat.Identity || second.Identity == seat.Identity || first.Identity == second.Identity {
					t.Errorf("identities: seat %q, consoles %q and %q: want three different ones", seat.Identity, first.Identity, second.Identity)
				}
			})
		}

		// Nobody else gets one, not even those with a seat in the room.
		for _, tc := range []struct {
			name string
			c    *client
		}{
			{"member", w.member},
			{"substitute", w.sub},
			{"officer", e.tokenFor(officerID)},
			{"councillor of another council", w.outsider},
		} {
			t.Run(tc.name+" refused", func(t *testing.T) {
				tc.c.do("POST", console, nil).problem(http.StatusForbidden, "forbidden")
			})
		}
		w.public().do("POST", console, nil).problem(http.StatusUnauthorized, "unauthenticated")
		w.clerk.do("POST", path("/api/v1/meetings/%d/console/join", w.closed), nil).problem(http.StatusConflict, "conflict")
	})
}
