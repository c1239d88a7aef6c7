package web_test

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/voting"
)

// TestMeetingPageSaysWhyAnEqualityStood: the public meeting page shows a vote whose
// equality of votes stood as lost, and says why: the member presiding gave no casting
// vote (with the reason recorded), or the committee's rules give none.
func TestMeetingPageSaysWhyAnEqualityStood(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, migrations.SQLite))
	w := newWorld(t, e)
	page := func(meeting int64) string {
		t.Helper()
		return html.UnescapeString(string(w.public().get(path("/meetings/%d", meeting)).want(http.StatusOK).body))
	}
	const why = "there was an equality of votes, and "

	tied := page(w.tiedMeeting)
	if !strings.Contains(tied, "<strong>Tied: awaiting the casting vote of the person presiding</strong> (For 1, Against 1, Abstentions 0).") {
		t.Errorf("the tied vote before the casting vote:\n%s", tied)
	}
	if strings.Contains(tied, why) {
		t.Errorf("the page says the equality stands while the casting vote is awaited")
	}

	w.chair.do("POST", path("/api/v1/meetings/%d/polls/%d/no-casting-vote", w.tiedMeeting, w.tiedPoll.ID),
		map[string]string{"reason": "  The chair has left the meeting...  "}).want(http.StatusOK)
	want := "<strong>Lost</strong> (For 1, Against 1, Abstentions 0): " + why + voting.CastingVoteNotGiven.Text() +
		". Reason given: The chair has left the meeting.</p>"
	if got := page(w.tiedMeeting); !strings.Contains(got, want) {
		t.Errorf("the vote after no casting vote lacks\n%s\nin\n%s", want, got)
	}

	// Under rules that give no casting vote, the equality stands at the close.
	w.clerk.do("PATCH", path("/api/v1/committees/%d", w.finance), map[string]any{"overrides": map[string]any{"casting_vote": false}}).
		want(http.StatusOK)
	var p voting.PollView
	w.chair.do("POST", path("/api/v1/meetings/%d/polls", w.quietMeeting), map[string]any{"question": "That the audit plan be agreed."}).
		want(http.StatusCreated).into(&p)
	w.chair.do("POST", w.ballotsPath(p), w.ballot(p, w.chairID, "for", nil)).want(http.StatusCreated)
	w.member.do("POST", w.ballotsPath(p), w.ballot(p, w.memberID, "against", nil)).want(http.StatusCreated)
	w.chair.do("POST", path("/api/v1/meetings/%d/polls/%d/close", w.quietMeeting, p.ID), nil).want(http.StatusOK).into(&p)
	if p.Result == nil || p.Result.Equality == nil || p.Result.Equality.Resolution != voting.NoCastingVoteInRules {
		t.Fatalf("the poll under rules with no casting vote: %+v (result %+v)", p, p.Result)
	}
	quiet := page(w.quietMeeting)
	want = "<strong>Vote:</strong> That the audit plan be agreed. <strong>Lost</strong> (For 1, Against 1, Abstentions 0): " +
		why + voting.NoCastingVoteInRules.Text() + ".</p>"
	if !strings.Contains(quiet, want) {
		t.Errorf("the vote under rules with no casting vote lacks\n%s\nin\n%s", want, quiet)
	}

	// A vote carried outright says nothing of an equality.
	w.chair.do("POST", w.ballotsPath(w.openPoll), w.ballot(w.openPoll, w.chairID, "for", nil)).want(http.StatusCreated)
	w.chair.do("POST", path("/api/v1/meetings/%d/polls/%d/close", w.votingMeeting, w.openPoll.ID), nil).want(http.StatusOK)
	if got := page(w.votingMeeting); !strings.Contains(got, "<strong>Carried</strong> (For 1, Against 0, Abstentions 0).</p>") || strings.Contains(got, why) {
		t.Errorf("the vote carried outright:\n%s", got)
	}
}
