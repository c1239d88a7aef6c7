package minutes_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/minutes"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/voting"
)

// TestMinutesNoCastingVote drafts the minutes of a meeting whose only vote ended in an
// equality that stood, the chair having left before giving the casting vote: they say
// the motion was lost, that the equality stood, who recorded it and why, in every
// format.
func TestMinutesNoCastingVote(t *testing.T) {
	w := newWorld(t, dbtest.Open(t, migrations.SQLite))
	ctx, clerk := w.ctx, w.clerk
	w.clock.Set(time.Date(2026, 5, 20, 17, 0, 0, 0, time.UTC))
	m, err := w.agenda.CreateMeeting(ctx, clerk, agenda.MeetingInput{CommitteeID: w.committee.ID, Title: "Planning Committee",
		StartsAt: time.Date(2026, 5, 20, 17, 30, 0, 0, time.UTC), Location: "Council Chamber", Published: true})
	w.must(err)
	res, err := w.agenda.ImportAgenda(ctx, clerk, m.ID, agenda.AgendaFile{Items: []agenda.ItemInput{{Title: "Street naming: Heol y Felin"}}}, false)
	w.must(err)
	w.at("18:30")
	_, err = w.agenda.StartMeeting(ctx, clerk, m.ID)
	w.must(err)
	for _, a := range []agenda.Actor{w.chair, w.vice, w.dafydd, w.anwen, w.huw, w.mair} {
		_, err := w.agenda.RecordArrival(ctx, clerk, m.ID, agenda.AttendanceInput{UserID: a.UserID, Mode: agenda.InRoom})
		w.must(err)
	}
	_, err = w.agenda.NextItem(ctx, clerk, m.ID)
	w.must(err)
	mo, err := w.agenda.ProposeMotion(ctx, clerk, m.ID, agenda.MotionInput{ItemID: res.Items[0].ID,
		Text: "That the new street be named Heol y Felin.", ProposerID: w.dafydd.UserID, SeconderID: w.anwen.UserID})
	w.must(err)
	w.at("18:40")
	p, err := w.votes.OpenPoll(ctx, clerk, voting.PollInput{MeetingID: m.ID, ItemID: res.Items[0].ID, MotionID: mo.ID})
	w.must(err)
	w.vote(p, map[*agenda.Actor]string{&w.chair: "for", &w.vice: "against", &w.dafydd: "for", &w.anwen: "against"},
		&w.chair, &w.vice, &w.dafydd, &w.anwen)
	w.at("18:42")
	if v, err := w.votes.Close(ctx, clerk, p.ID); err != nil || v.Status != voting.PollAwaitingCastingVote {
		t.Fatalf("close: %+v, %v; want an equality awaiting the casting vote", v.Status, err)
	}
	w.at("18:44")
	_, err = w.agenda.RecordDeparture(ctx, clerk, m.ID, w.chair.UserID)
	w.must(err)
	_, err = w.votes.DeclineCasting(ctx, clerk, p.ID, "The Chair left the meeting before giving a casting vote")
	w.must(err)
	w.at("18:50")
	_, err = w.agenda.CloseMeeting(ctx, clerk, m.ID)
	w.must(err)

	mins, err := w.svc.Draft(ctx, clerk, m.ID)
	w.must(err)
	var vote *minutes.Vote
	for _, it := range mins.Document.Items {
		for i := range it.Motions {
			for j := range it.Motions[i].Votes {
				vote = &it.Motions[i].Votes[j]
			}
		}
	}
	if vote == nil {
		t.Fatalf("no vote in the minutes")
	}
	if vote.Outcome != voting.OutcomeLost || vote.Equality == nil || vote.Equality.Resolution != voting.CastingVoteNotGiven ||
		vote.NoCasting == nil || vote.NoCasting.Name != "Rhian Pritchard" || vote.Casting != nil {
		t.Fatalf("vote: outcome %q equality %+v no casting vote %+v casting %+v", vote.Outcome, vote.Equality, vote.NoCasting, vote.Casting)
	}
	want := "There being an equality of votes, the member presiding gave no casting vote, so the equality stands. " +
		"Recorded by Rhian Pritchard: The Chair left the meeting before giving a casting vote."
	for _, f := range []minutes.Format{minutes.FormatHTML, minutes.FormatMarkdown} {
		var b bytes.Buffer
		if err := minutes.Export(&b, mins, f); err != nil {
			t.Fatalf("export %s: %v", f, err)
		}
		text := strings.Join(strings.Fields(b.String()), " ")
		if !strings.Contains(text, "Lost.") || !strings.Contains(text, want) {
			t.Errorf("%s does not say the motion was lost and %q:\n%s", f, want, b.String())
		}
	}
}
